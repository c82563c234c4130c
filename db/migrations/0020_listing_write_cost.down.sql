-- Back to the functions of 0016: immediate refreshes, SQL functions.
DROP TRIGGER case_listings_pending_flush ON case_listings_pending;
DROP FUNCTION case_listings_pending_trg();
CREATE OR REPLACE FUNCTION case_listings_refresh(p_cases uuid[], p_firms uuid[]) RETURNS void LANGUAGE sql AS $$
    WITH p AS (
        SELECT DISTINCT c, f FROM unnest(p_cases, p_firms) AS x(c, f) WHERE c IS NOT NULL AND f IS NOT NULL
    ), want AS (
        SELECT l.* FROM p, LATERAL case_listing_compute(p.c, p.f) l
    ), gone AS (
        DELETE FROM case_listings cl USING p
        WHERE cl.firm_id = p.f AND cl.base_case_id = p.c
          AND NOT EXISTS (SELECT 1 FROM want w WHERE w.firm_id = p.f AND w.base_case_id = p.c)
    )
    INSERT INTO case_listings SELECT * FROM want ORDER BY firm_id, base_case_id
    ON CONFLICT (firm_id, base_case_id) DO UPDATE SET
        is_owner = excluded.is_owner, referral_id = excluded.referral_id, status = excluded.status,
        closing_status = excluded.closing_status, partner_firm_id = excluded.partner_firm_id,
        case_reference_number = excluded.case_reference_number, title_key = excluded.title_key,
        case_created_at = excluded.case_created_at, case_updated_at = excluded.case_updated_at,
        search_text = excluded.search_text
    WHERE (case_listings.*) IS DISTINCT FROM (excluded.*)
$$;

CREATE OR REPLACE FUNCTION list_counts_apply(p_firms uuid[], p_lists text[], p_statuses text[], p_closings text[], p_deltas bigint[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO list_counts (firm_id, list, status, closing_status, slot, n)
    SELECT f, l, s, COALESCE(c, ''), pg_backend_pid(), sum(d)
    FROM unnest(p_firms, p_lists, p_statuses, p_closings, p_deltas) AS x(f, l, s, c, d)
    WHERE f IS NOT NULL
    GROUP BY f, l, s, COALESCE(c, '')
    HAVING sum(d) <> 0
    ORDER BY f, l, s, COALESCE(c, '')
    ON CONFLICT (firm_id, list, status, closing_status, slot) DO UPDATE SET n = list_counts.n + excluded.n
$$;

CREATE OR REPLACE FUNCTION base_cases_listing_upd_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Every firm's row of each changed case: the owner and each receiver.
    PERFORM case_listings_refresh(array_agg(c), array_agg(f)) FROM (
        SELECT n.id AS c, n.owner_firm_id AS f FROM new_rows n
        UNION ALL
        SELECT o.id, o.owner_firm_id FROM old_rows o
        UNION ALL
        SELECT cl.base_case_id, cl.firm_id FROM case_listings cl WHERE cl.base_case_id IN (SELECT id FROM new_rows)
    ) x;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION referrals_listing_ins_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_listings_refresh(array_agg(c), array_agg(f)) FROM (
        SELECT r.base_case_id AS c, b.owner_firm_id AS f FROM new_rows r JOIN base_cases b ON b.id = r.base_case_id
        UNION ALL
        SELECT r.base_case_id, r.referent_firm_id FROM new_rows r
    ) x;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION referrals_listing_upd_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_listings_refresh(array_agg(c), array_agg(f)) FROM (
        SELECT r.base_case_id AS c, b.owner_firm_id AS f FROM new_rows r JOIN base_cases b ON b.id = r.base_case_id
        UNION ALL
        SELECT r.base_case_id, r.referent_firm_id FROM new_rows r
        UNION ALL
        SELECT r.base_case_id, r.referent_firm_id FROM old_rows r
    ) x;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION referrals_listing_del_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_listings_refresh(array_agg(c), array_agg(f)) FROM (
        SELECT r.base_case_id AS c, b.owner_firm_id AS f FROM old_rows r JOIN base_cases b ON b.id = r.base_case_id
        UNION ALL
        SELECT r.base_case_id, r.referent_firm_id FROM old_rows r JOIN base_cases b ON b.id = r.base_case_id
    ) x;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION firms_listing_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_listings_refresh(array_agg(cl.base_case_id), array_agg(cl.firm_id))
    FROM case_listings cl
    WHERE cl.partner_firm_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                 WHERE n.name IS DISTINCT FROM o.name);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION case_listings_count_ins_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM list_counts_apply(array_agg(firm_id), array_agg(CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END),
                              array_agg(status), array_agg(closing_status), array_agg(1::bigint)) FROM new_rows;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION case_listings_count_del_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM list_counts_apply(array_agg(firm_id), array_agg(CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END),
                              array_agg(status), array_agg(closing_status), array_agg(-1::bigint)) FROM old_rows;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION case_listings_count_upd_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM list_counts_apply(array_agg(f), array_agg(l), array_agg(s), array_agg(c), array_agg(d)) FROM (
        SELECT firm_id AS f, CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END AS l, status AS s,
               closing_status AS c, -1::bigint AS d FROM old_rows
        UNION ALL
        SELECT firm_id, CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END, status, closing_status, 1 FROM new_rows
    ) x;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION referrals_count_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM list_counts_apply(array_agg(f), array_agg(l), array_agg(s), array_agg(c), array_agg(d)) FROM (
            SELECT referring_firm_id AS f, 'referral_sent' AS l, status AS s, closing_status AS c, 1::bigint AS d FROM new_rows
            UNION ALL
            SELECT referent_firm_id, 'referral_received', status, closing_status, 1 FROM new_rows WHERE status <> 'draft'
        ) x;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM list_counts_apply(array_agg(f), array_agg(l), array_agg(s), array_agg(c), array_agg(d)) FROM (
            SELECT referring_firm_id AS f, 'referral_sent' AS l, status AS s, closing_status AS c, -1::bigint AS d FROM old_rows
            UNION ALL
            SELECT referent_firm_id, 'referral_received', status, closing_status, -1 FROM old_rows WHERE status <> 'draft'
        ) x;
    ELSE
        PERFORM list_counts_apply(array_agg(f), array_agg(l), array_agg(s), array_agg(c), array_agg(d)) FROM (
            SELECT referring_firm_id AS f, 'referral_sent' AS l, status AS s, closing_status AS c, -1::bigint AS d FROM old_rows
            UNION ALL
            SELECT referent_firm_id, 'referral_received', status, closing_status, -1 FROM old_rows WHERE status <> 'draft'
            UNION ALL
            SELECT referring_firm_id, 'referral_sent', status, closing_status, 1 FROM new_rows
            UNION ALL
            SELECT referent_firm_id, 'referral_received', status, closing_status, 1 FROM new_rows WHERE status <> 'draft'
        ) x;
    END IF;
    RETURN NULL;
END $$;

DROP FUNCTION case_listings_defer(uuid[], uuid[]);
DROP TABLE case_listings_pending;
