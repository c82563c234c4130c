-- The read model's maintenance, made cheap per write (the functions of 0016, same results):
-- * A write transaction touches a listing several times (a transition updates the referral, then
--   the case's activity time): each touch wrote a new version of the listing row and of every one
--   of its index entries, the trigram index's included. The triggers now note the (case, firm)
--   pairs in case_listings_pending, and one deferred trigger brings those listings up to date at
--   commit: one new version per listing per transaction. A new case's own listing is still
--   written at once (a bulk import writes each listing once either way).
-- * The refresh and counter functions are PL/pgSQL, so their statements are planned once per
--   session and reused; as SQL functions called from a trigger they were planned on every call.
-- * A trigger returns at once when its statement changed nothing the lists read: an update of
--   a referral's notes or activity time, or a counter delta that cancels out.

-- The pairs a transaction still has to refresh. Rows live only inside their transaction (the
-- deferred trigger deletes them before commit), so the table is unlogged.
CREATE UNLOGGED TABLE case_listings_pending (
    xid          xid8 NOT NULL,
    base_case_id uuid NOT NULL,
    firm_id      uuid NOT NULL,
    PRIMARY KEY (xid, base_case_id, firm_id)
);

CREATE FUNCTION case_listings_defer(p_cases uuid[], p_firms uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_cases IS NULL OR cardinality(p_cases) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO case_listings_pending (xid, base_case_id, firm_id)
    SELECT DISTINCT pg_current_xact_id(), c, f FROM unnest(p_cases, p_firms) AS x(c, f)
    WHERE c IS NOT NULL AND f IS NOT NULL
    ON CONFLICT DO NOTHING;
END $$;

-- Fires at commit once per pending row; the first firing of a transaction refreshes all of its
-- pairs in one statement, and the later ones find nothing left.
CREATE FUNCTION case_listings_pending_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cs uuid[];
    fs uuid[];
BEGIN
    WITH d AS (
        DELETE FROM case_listings_pending WHERE xid = NEW.xid RETURNING base_case_id, firm_id
    )
    SELECT array_agg(base_case_id), array_agg(firm_id) INTO cs, fs FROM d;
    PERFORM case_listings_refresh(cs, fs);
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER case_listings_pending_flush AFTER INSERT ON case_listings_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION case_listings_pending_trg();

CREATE OR REPLACE FUNCTION case_listings_refresh(p_cases uuid[], p_firms uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_cases IS NULL OR cardinality(p_cases) = 0 THEN
        RETURN;
    END IF;
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
    WHERE (case_listings.*) IS DISTINCT FROM (excluded.*);
END $$;

CREATE OR REPLACE FUNCTION list_counts_apply(p_firms uuid[], p_lists text[], p_statuses text[], p_closings text[], p_deltas bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_firms IS NULL OR cardinality(p_firms) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO list_counts (firm_id, list, status, closing_status, slot, n)
    SELECT f, l, s, COALESCE(c, ''), pg_backend_pid(), sum(d)
    FROM unnest(p_firms, p_lists, p_statuses, p_closings, p_deltas) AS x(f, l, s, c, d)
    WHERE f IS NOT NULL
    GROUP BY f, l, s, COALESCE(c, '')
    HAVING sum(d) <> 0
    ORDER BY f, l, s, COALESCE(c, '')
    ON CONFLICT (firm_id, list, status, closing_status, slot) DO UPDATE SET n = list_counts.n + excluded.n;
END $$;

-- A case's listings change when a column they show, sort or search by changes.
CREATE OR REPLACE FUNCTION base_cases_listing_upd_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cs uuid[];
    fs uuid[];
BEGIN
    WITH changed AS (
        SELECT n.id, n.owner_firm_id AS new_owner, o.owner_firm_id AS old_owner
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.owner_firm_id, n.reference_number, n.title, n.client_first_name, n.client_last_name, n.created_at, n.updated_at)
              IS DISTINCT FROM
              (o.owner_firm_id, o.reference_number, o.title, o.client_first_name, o.client_last_name, o.created_at, o.updated_at)
    )
    SELECT array_agg(c), array_agg(f) INTO cs, fs FROM (
        SELECT id AS c, new_owner AS f FROM changed
        UNION ALL
        SELECT id, old_owner FROM changed
        UNION ALL
        SELECT cl.base_case_id, cl.firm_id FROM case_listings cl WHERE cl.base_case_id IN (SELECT id FROM changed)
    ) x;
    PERFORM case_listings_defer(cs, fs);
    RETURN NULL;
END $$;

-- A referral's listings change when a column the listing takes from it changes.
CREATE OR REPLACE FUNCTION referrals_listing_upd_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cs uuid[];
    fs uuid[];
BEGIN
    WITH changed AS (
        SELECT n.base_case_id AS new_case, n.referent_firm_id AS new_firm,
               o.base_case_id AS old_case, o.referent_firm_id AS old_firm
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.base_case_id, n.referent_firm_id, n.status, n.closing_status, n.acknowledged_at, n.reference_number, n.sequence_number)
              IS DISTINCT FROM
              (o.base_case_id, o.referent_firm_id, o.status, o.closing_status, o.acknowledged_at, o.reference_number, o.sequence_number)
    )
    SELECT array_agg(c), array_agg(f) INTO cs, fs FROM (
        SELECT x.new_case AS c, b.owner_firm_id AS f FROM changed x JOIN base_cases b ON b.id = x.new_case
        UNION ALL
        SELECT x.old_case, b.owner_firm_id FROM changed x JOIN base_cases b ON b.id = x.old_case WHERE x.old_case <> x.new_case
        UNION ALL
        SELECT new_case, new_firm FROM changed
        UNION ALL
        SELECT old_case, old_firm FROM changed
    ) x;
    PERFORM case_listings_defer(cs, fs);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION referrals_listing_ins_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_listings_defer(array_agg(c), array_agg(f)) FROM (
        SELECT r.base_case_id AS c, b.owner_firm_id AS f FROM new_rows r JOIN base_cases b ON b.id = r.base_case_id
        UNION ALL
        SELECT r.base_case_id, r.referent_firm_id FROM new_rows r
    ) x;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION referrals_listing_del_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_listings_defer(array_agg(c), array_agg(f)) FROM (
        SELECT r.base_case_id AS c, b.owner_firm_id AS f FROM old_rows r JOIN base_cases b ON b.id = r.base_case_id
        UNION ALL
        SELECT r.base_case_id, r.referent_firm_id FROM old_rows r JOIN base_cases b ON b.id = r.base_case_id
    ) x;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION firms_listing_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_listings_defer(array_agg(cl.base_case_id), array_agg(cl.firm_id))
    FROM case_listings cl
    WHERE cl.partner_firm_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                 WHERE n.name IS DISTINCT FROM o.name);
    RETURN NULL;
END $$;

-- Counters move only for listing rows whose list, status or closing status changed.
CREATE OR REPLACE FUNCTION case_listings_count_ins_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fs uuid[]; ls text[]; ss text[]; cs text[];
BEGIN
    SELECT array_agg(firm_id), array_agg(CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END),
           array_agg(status), array_agg(closing_status) INTO fs, ls, ss, cs FROM new_rows;
    IF fs IS NOT NULL THEN
        PERFORM list_counts_apply(fs, ls, ss, cs, array_fill(1::bigint, ARRAY[cardinality(fs)]));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION case_listings_count_del_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fs uuid[]; ls text[]; ss text[]; cs text[];
BEGIN
    SELECT array_agg(firm_id), array_agg(CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END),
           array_agg(status), array_agg(closing_status) INTO fs, ls, ss, cs FROM old_rows;
    IF fs IS NOT NULL THEN
        PERFORM list_counts_apply(fs, ls, ss, cs, array_fill(-1::bigint, ARRAY[cardinality(fs)]));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION case_listings_count_upd_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM list_counts_apply(array_agg(f), array_agg(l), array_agg(s), array_agg(c), array_agg(d)) FROM (
        SELECT o.firm_id AS f, CASE WHEN o.is_owner THEN 'case_sent' ELSE 'case_received' END AS l, o.status AS s,
               o.closing_status AS c, -1::bigint AS d
        FROM old_rows o JOIN new_rows n ON n.firm_id = o.firm_id AND n.base_case_id = o.base_case_id
        WHERE (o.is_owner, o.status, o.closing_status) IS DISTINCT FROM (n.is_owner, n.status, n.closing_status)
        UNION ALL
        SELECT n.firm_id, CASE WHEN n.is_owner THEN 'case_sent' ELSE 'case_received' END, n.status, n.closing_status, 1
        FROM old_rows o JOIN new_rows n ON n.firm_id = o.firm_id AND n.base_case_id = o.base_case_id
        WHERE (o.is_owner, o.status, o.closing_status) IS DISTINCT FROM (n.is_owner, n.status, n.closing_status)
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
            WITH ch AS (
                SELECT o.referring_firm_id AS o_from, o.referent_firm_id AS o_to, o.status AS o_status, o.closing_status AS o_closing,
                       n.referring_firm_id AS n_from, n.referent_firm_id AS n_to, n.status AS n_status, n.closing_status AS n_closing
                FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE (o.referring_firm_id, o.referent_firm_id, o.status, o.closing_status)
                      IS DISTINCT FROM (n.referring_firm_id, n.referent_firm_id, n.status, n.closing_status)
            )
            SELECT o_from AS f, 'referral_sent' AS l, o_status AS s, o_closing AS c, -1::bigint AS d FROM ch
            UNION ALL
            SELECT o_to, 'referral_received', o_status, o_closing, -1 FROM ch WHERE o_status <> 'draft'
            UNION ALL
            SELECT n_from, 'referral_sent', n_status, n_closing, 1 FROM ch
            UNION ALL
            SELECT n_to, 'referral_received', n_status, n_closing, 1 FROM ch WHERE n_status <> 'draft'
        ) x;
    END IF;
    RETURN NULL;
END $$;
