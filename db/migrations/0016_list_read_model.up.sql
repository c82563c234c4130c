-- 0016_list_read_model: the rows the case lists read, and exact per-firm totals without scanning.
--
-- Why triggers: the read model is derived from base_cases and referrals by one SQL function
-- (case_listing_compute, applied by case_listings_refresh) that the triggers below run in the transaction of every write. No
-- writer can skip it: the API's actions, re-referral, routing, deletes, the COPY-based importer,
-- the seeders and an operator's own SQL all keep the lists true, and the property test compares
-- the table with a recomputation from the base tables by the same definition.

-- Which client data a receiving firm may search: only through a referral it acknowledged that
-- has not since ended before signing (rejected or withdrawn): the same rule as the masking of its
-- views (internal/referrals/mask.go).
CREATE FUNCTION case_listing_client_visible(acknowledged_at timestamptz, status text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT acknowledged_at IS NOT NULL AND status NOT IN ('rejected', 'withdrawn')
$$;

-- One row per (viewing firm, case): the owner's row (is_owner) with the case's latest referral,
-- and one row per firm the case was referred to (a non-draft referral addressed to it) with the
-- latest such referral.
CREATE TABLE case_listings (
    firm_id                    uuid NOT NULL REFERENCES firms (id),
    base_case_id               uuid NOT NULL REFERENCES base_cases (id) ON DELETE CASCADE,
    is_owner                   boolean NOT NULL,
    -- The case's current referral from this firm's side; NULL for a case never referred.
    referral_id                uuid,
    -- That referral's status, 'draft' without one.
    status                     text NOT NULL,
    closing_status             text,
    -- The other party: the receiving firm for the owner, the owning firm for a receiver.
    partner_firm_id            uuid,
    case_reference_number      text NOT NULL,
    title_key                  text NOT NULL,
    case_created_at            timestamptz NOT NULL,
    case_updated_at            timestamptz NOT NULL,
    -- Lower-cased text a search matches: title, reference numbers, the partner firm's name and,
    -- where this firm may see them, the client's names. Fields are joined with a newline so a
    -- search never matches across two of them.
    search_text                text NOT NULL,
    PRIMARY KEY (firm_id, base_case_id)
);

-- One index per sort key, each within the firm's side (sent or received); the "all" view merges
-- the two sides' ranges. Ties are broken by the case id.
CREATE INDEX case_listings_created_idx ON case_listings (firm_id, is_owner, case_created_at, base_case_id);
CREATE INDEX case_listings_updated_idx ON case_listings (firm_id, is_owner, case_updated_at, base_case_id);
CREATE INDEX case_listings_title_idx ON case_listings (firm_id, is_owner, title_key, base_case_id);
CREATE INDEX case_listings_reference_idx ON case_listings (firm_id, is_owner, case_reference_number, base_case_id);
CREATE INDEX case_listings_status_idx ON case_listings (firm_id, is_owner, status, base_case_id);
-- A status filter under the default sorts.
CREATE INDEX case_listings_status_created_idx ON case_listings (firm_id, is_owner, status, case_created_at, base_case_id);
CREATE INDEX case_listings_status_updated_idx ON case_listings (firm_id, is_owner, status, case_updated_at, base_case_id);
CREATE INDEX case_listings_search_idx ON case_listings USING gin (search_text gin_trgm_ops);
-- A changed case refreshes every firm's row of it.
CREATE INDEX case_listings_case_idx ON case_listings (base_case_id);
-- Renaming a firm rewrites the search text of the listings naming it.
CREATE INDEX case_listings_partner_idx ON case_listings (partner_firm_id);

-- Exact totals per firm, list, status and closing status. A writer adds its deltas to the row of
-- its own backend (slot = pg_backend_pid()), so concurrent writers never wait on one another's
-- counter rows and can never deadlock on them; a reader sums the few slots of a key.
-- list_counts_compact folds the slots of backends that are gone into slot 0.
CREATE TABLE list_counts (
    firm_id         uuid NOT NULL,
    -- 'case_sent', 'case_received' (case_listings), 'referral_sent', 'referral_received'.
    list            text NOT NULL,
    status          text NOT NULL,
    -- '' when the status has none.
    closing_status  text NOT NULL DEFAULT '',
    slot            integer NOT NULL,
    n               bigint NOT NULL,
    PRIMARY KEY (firm_id, list, status, closing_status, slot)
);

-- Folds the slots of backends that no longer run into slot 0 and drops zero rows. Correct at any
-- time, whoever runs: a slot folded while its backend still writes just starts again.
CREATE FUNCTION list_counts_compact() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
    WITH gone AS (
        DELETE FROM list_counts
        WHERE slot <> 0 AND slot NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
        RETURNING firm_id, list, status, closing_status, n
    ), sums AS (
        SELECT firm_id, list, status, closing_status, sum(n)::bigint AS n FROM gone
        GROUP BY firm_id, list, status, closing_status
    ), ins AS (
        INSERT INTO list_counts (firm_id, list, status, closing_status, slot, n)
        SELECT firm_id, list, status, closing_status, 0, n FROM sums
        ON CONFLICT (firm_id, list, status, closing_status, slot) DO UPDATE SET n = list_counts.n + excluded.n
        RETURNING 1
    )
    SELECT count(*) INTO folded FROM ins;
    DELETE FROM list_counts WHERE slot = 0 AND n = 0;
    RETURN folded;
END $$;

-- The listing row of (case, firm) as the base tables define it; NULL fields when the firm does
-- not see the case. The property test compares case_listings with this.
CREATE FUNCTION case_listing_compute(p_case uuid, p_firm uuid)
RETURNS SETOF case_listings LANGUAGE sql STABLE AS $$
    SELECT p_firm, c.id, c.owner_firm_id = p_firm, r.id, COALESCE(r.status, 'draft'), r.closing_status,
           CASE WHEN c.owner_firm_id = p_firm THEN r.referent_firm_id ELSE c.owner_firm_id END,
           c.reference_number, lower(c.title), c.created_at, c.updated_at,
           lower(concat_ws(E'\n', c.title, c.reference_number, r.reference_number, pf.name,
               CASE WHEN c.owner_firm_id = p_firm
                         OR case_listing_client_visible(r.acknowledged_at, r.status)
                    THEN c.client_first_name || ' ' || c.client_last_name END))
    FROM base_cases c
    LEFT JOIN LATERAL (
        SELECT x.* FROM referrals x
        WHERE x.base_case_id = c.id
          AND (c.owner_firm_id = p_firm OR (x.referent_firm_id = p_firm AND x.status <> 'draft'))
        ORDER BY x.sequence_number DESC LIMIT 1
    ) r ON true
    LEFT JOIN firms pf ON pf.id = CASE WHEN c.owner_firm_id = p_firm THEN r.referent_firm_id ELSE c.owner_firm_id END
    WHERE c.id = p_case AND (c.owner_firm_id = p_firm OR r.id IS NOT NULL)
$$;

-- Brings the listing rows of the (case, firm) pairs in line with the base tables, in one
-- statement: inserts, updates (only rows that differ) and deletes. Pairs with a NULL firm are
-- ignored. Rows are written in key order, so concurrent writers lock them in one order.
CREATE FUNCTION case_listings_refresh(p_cases uuid[], p_firms uuid[]) RETURNS void LANGUAGE sql AS $$
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

-- The triggers are per statement, over the statement's transition tables: a COPY or a bulk
-- UPDATE of many rows refreshes their listings (and moves each counter) once, not row by row.
CREATE FUNCTION base_cases_listing_ins_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A new case has no referrals yet: only its owner sees it.
    PERFORM case_listings_refresh(array_agg(id), array_agg(owner_firm_id)) FROM new_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION base_cases_listing_upd_trg() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER base_cases_listing_ins AFTER INSERT ON base_cases
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION base_cases_listing_ins_trg();
CREATE TRIGGER base_cases_listing_upd AFTER UPDATE ON base_cases
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION base_cases_listing_upd_trg();

-- The (case, firm) pairs a set of referral rows touches: the case's owner and the referral's
-- receiving firm. A case being deleted has no owner row any more: its listings go with it.
CREATE FUNCTION referrals_listing_ins_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_listings_refresh(array_agg(c), array_agg(f)) FROM (
        SELECT r.base_case_id AS c, b.owner_firm_id AS f FROM new_rows r JOIN base_cases b ON b.id = r.base_case_id
        UNION ALL
        SELECT r.base_case_id, r.referent_firm_id FROM new_rows r
    ) x;
    RETURN NULL;
END $$;

CREATE FUNCTION referrals_listing_upd_trg() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE FUNCTION referrals_listing_del_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_listings_refresh(array_agg(c), array_agg(f)) FROM (
        SELECT r.base_case_id AS c, b.owner_firm_id AS f FROM old_rows r JOIN base_cases b ON b.id = r.base_case_id
        UNION ALL
        SELECT r.base_case_id, r.referent_firm_id FROM old_rows r JOIN base_cases b ON b.id = r.base_case_id
    ) x;
    RETURN NULL;
END $$;

CREATE TRIGGER referrals_listing_ins AFTER INSERT ON referrals
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION referrals_listing_ins_trg();
CREATE TRIGGER referrals_listing_upd AFTER UPDATE ON referrals
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION referrals_listing_upd_trg();
CREATE TRIGGER referrals_listing_del AFTER DELETE ON referrals
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION referrals_listing_del_trg();

-- A renamed firm: the search text of every listing naming it as the partner.
CREATE FUNCTION firms_listing_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_listings_refresh(array_agg(cl.base_case_id), array_agg(cl.firm_id))
    FROM case_listings cl
    WHERE cl.partner_firm_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                 WHERE n.name IS DISTINCT FROM o.name);
    RETURN NULL;
END $$;

CREATE TRIGGER firms_listing_rename AFTER UPDATE ON firms
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION firms_listing_trg();

-- Adds the summed deltas of a statement to the counters, one row per key, in key order.
CREATE FUNCTION list_counts_apply(p_firms uuid[], p_lists text[], p_statuses text[], p_closings text[], p_deltas bigint[])
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

-- The counters follow case_listings.
CREATE FUNCTION case_listings_count_ins_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM list_counts_apply(array_agg(firm_id), array_agg(CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END),
                              array_agg(status), array_agg(closing_status), array_agg(1::bigint)) FROM new_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION case_listings_count_del_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM list_counts_apply(array_agg(firm_id), array_agg(CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END),
                              array_agg(status), array_agg(closing_status), array_agg(-1::bigint)) FROM old_rows;
    RETURN NULL;
END $$;

CREATE FUNCTION case_listings_count_upd_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM list_counts_apply(array_agg(f), array_agg(l), array_agg(s), array_agg(c), array_agg(d)) FROM (
        SELECT firm_id AS f, CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END AS l, status AS s,
               closing_status AS c, -1::bigint AS d FROM old_rows
        UNION ALL
        SELECT firm_id, CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END, status, closing_status, 1 FROM new_rows
    ) x;
    RETURN NULL;
END $$;

CREATE TRIGGER case_listings_count_ins AFTER INSERT ON case_listings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_listings_count_ins_trg();
CREATE TRIGGER case_listings_count_del AFTER DELETE ON case_listings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION case_listings_count_del_trg();
CREATE TRIGGER case_listings_count_upd AFTER UPDATE ON case_listings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION case_listings_count_upd_trg();

-- The referral lists' counters: the referring firm's referrals (drafts included) and the
-- receiving firm's (drafts excluded). sign is 1 for new rows, -1 for old ones.
CREATE FUNCTION referrals_count_trg() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER referrals_count_ins AFTER INSERT ON referrals
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION referrals_count_trg();
CREATE TRIGGER referrals_count_del AFTER DELETE ON referrals
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION referrals_count_trg();
CREATE TRIGGER referrals_count_upd AFTER UPDATE ON referrals
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION referrals_count_trg();

-- Existing data.
INSERT INTO case_listings
SELECT l.* FROM base_cases c, LATERAL case_listing_compute(c.id, c.owner_firm_id) l;
INSERT INTO case_listings
SELECT l.* FROM (SELECT DISTINCT base_case_id, referent_firm_id FROM referrals
                 WHERE status <> 'draft' AND referent_firm_id IS NOT NULL) x,
     LATERAL case_listing_compute(x.base_case_id, x.referent_firm_id) l;
INSERT INTO list_counts (firm_id, list, status, closing_status, slot, n)
SELECT firm_id, list, status, closing_status, 0, sum(n) FROM (
    SELECT referring_firm_id AS firm_id, 'referral_sent' AS list, status, COALESCE(closing_status, '') AS closing_status, 1 AS n
    FROM referrals
    UNION ALL
    SELECT referent_firm_id, 'referral_received', status, COALESCE(closing_status, ''), 1
    FROM referrals WHERE status <> 'draft' AND referent_firm_id IS NOT NULL
) x GROUP BY 1, 2, 3, 4
ON CONFLICT (firm_id, list, status, closing_status, slot) DO UPDATE SET n = list_counts.n + excluded.n;
SELECT list_counts_compact();

-- The referral lists' sort and filter keys (see db/queries/referral_lists.sql).
CREATE INDEX referrals_referent_created_idx ON referrals (referent_firm_id, created_at DESC, id) WHERE status <> 'draft';
CREATE INDEX referrals_referent_status_idx ON referrals (referent_firm_id, status, updated_at, id) WHERE status <> 'draft';
CREATE INDEX referrals_referent_reference_idx ON referrals (referent_firm_id, reference_number) WHERE status <> 'draft';
CREATE INDEX referrals_referring_status_idx ON referrals (referring_firm_id, status, created_at, id);
CREATE INDEX referrals_reference_trgm_idx ON referrals USING gin (lower(reference_number) gin_trgm_ops);
