-- 0021_fee_ledger_lists: the fee ledger's list, export and analytics reads, each an index range.
-- * due_key is the list's sort key: the due date, with entries that have none yet (waiting for an
--   agreement) after every date. It is a stored column, so a keyset position (due_key, id) is a
--   plain row comparison an index range starts from, and index-only scans can read it.
-- * One index per side and filter shape: the side alone, by status, by partner firm, and the
--   outstanding entries (the aging filter). Each ends with (due_key, id), the list's order.
-- * The totals come from list_counts (0016), kept by triggers in the writing transaction:
--   'fee_owed_to_me' (the referring firm's side) and 'fee_i_owe' (the receiving firm's), per
--   status.
-- * A payment carries the two firms of its entry (filled from the entry on insert), so the
--   monthly fee analytics read one index range per firm and side.

ALTER TABLE fee_ledger_entries
    ADD COLUMN due_key date GENERATED ALWAYS AS (COALESCE(due_date, 'infinity'::date)) STORED;

-- The indexes of 0019 ordered by due_date, whose NULLs a keyset position cannot follow.
DROP INDEX fee_ledger_referring_due_idx;
DROP INDEX fee_ledger_receiving_due_idx;
DROP INDEX fee_ledger_referring_status_due_idx;
DROP INDEX fee_ledger_receiving_status_due_idx;

CREATE INDEX fee_ledger_referring_key_idx ON fee_ledger_entries (referring_firm_id, due_key, id);
CREATE INDEX fee_ledger_receiving_key_idx ON fee_ledger_entries (receiving_firm_id, due_key, id);
CREATE INDEX fee_ledger_referring_status_key_idx ON fee_ledger_entries (referring_firm_id, status, due_key, id);
CREATE INDEX fee_ledger_receiving_status_key_idx ON fee_ledger_entries (receiving_firm_id, status, due_key, id);
-- status trails the key so that a partner and a status filter together are both checked in the
-- index.
CREATE INDEX fee_ledger_referring_partner_key_idx ON fee_ledger_entries (referring_firm_id, receiving_firm_id, due_key, id, status);
CREATE INDEX fee_ledger_receiving_partner_key_idx ON fee_ledger_entries (receiving_firm_id, referring_firm_id, due_key, id, status);
CREATE INDEX fee_ledger_referring_open_key_idx ON fee_ledger_entries (referring_firm_id, due_key, id, receiving_firm_id)
    WHERE status IN ('due', 'partially_paid', 'disputed');
CREATE INDEX fee_ledger_receiving_open_key_idx ON fee_ledger_entries (receiving_firm_id, due_key, id, referring_firm_id)
    WHERE status IN ('due', 'partially_paid', 'disputed');

-- The counters follow the entries: one per firm, side and status.
CREATE FUNCTION fee_ledger_count_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM list_counts_apply(array_agg(f), array_agg(l), array_agg(s), array_agg(''::text), array_agg(d)) FROM (
            SELECT referring_firm_id AS f, 'fee_owed_to_me' AS l, status AS s, 1::bigint AS d FROM new_rows
            UNION ALL
            SELECT receiving_firm_id, 'fee_i_owe', status, 1 FROM new_rows
        ) x;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM list_counts_apply(array_agg(f), array_agg(l), array_agg(s), array_agg(''::text), array_agg(d)) FROM (
            SELECT referring_firm_id AS f, 'fee_owed_to_me' AS l, status AS s, -1::bigint AS d FROM old_rows
            UNION ALL
            SELECT receiving_firm_id, 'fee_i_owe', status, -1 FROM old_rows
        ) x;
    ELSE
        PERFORM list_counts_apply(array_agg(f), array_agg(l), array_agg(s), array_agg(''::text), array_agg(d)) FROM (
            SELECT o.referring_firm_id AS f, 'fee_owed_to_me' AS l, o.status AS s, -1::bigint AS d
            FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.status <> o.status
            UNION ALL
            SELECT o.receiving_firm_id, 'fee_i_owe', o.status, -1
            FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.status <> o.status
            UNION ALL
            SELECT n.referring_firm_id, 'fee_owed_to_me', n.status, 1
            FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.status <> o.status
            UNION ALL
            SELECT n.receiving_firm_id, 'fee_i_owe', n.status, 1
            FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE n.status <> o.status
        ) x;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER fee_ledger_count_ins AFTER INSERT ON fee_ledger_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fee_ledger_count_trg();
CREATE TRIGGER fee_ledger_count_upd AFTER UPDATE ON fee_ledger_entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fee_ledger_count_trg();
CREATE TRIGGER fee_ledger_count_del AFTER DELETE ON fee_ledger_entries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fee_ledger_count_trg();

-- The entries written before this migration.
INSERT INTO list_counts (firm_id, list, status, closing_status, slot, n)
SELECT f, l, s, '', 0, count(*) FROM (
    SELECT referring_firm_id AS f, 'fee_owed_to_me' AS l, status AS s FROM fee_ledger_entries
    UNION ALL
    SELECT receiving_firm_id, 'fee_i_owe', status FROM fee_ledger_entries
) x
GROUP BY f, l, s
ON CONFLICT (firm_id, list, status, closing_status, slot) DO UPDATE SET n = list_counts.n + excluded.n;

-- The two firms of a payment's entry. The entry's firms never change; the trigger fills them on
-- insert, so a writer that does not name them (the previous release) still records them.
ALTER TABLE fee_payments ADD COLUMN referring_firm_id uuid REFERENCES firms (id);
ALTER TABLE fee_payments ADD COLUMN receiving_firm_id uuid REFERENCES firms (id);
UPDATE fee_payments p SET referring_firm_id = e.referring_firm_id, receiving_firm_id = e.receiving_firm_id
FROM fee_ledger_entries e WHERE e.id = p.entry_id;
ALTER TABLE fee_payments ALTER COLUMN referring_firm_id SET NOT NULL;
ALTER TABLE fee_payments ALTER COLUMN receiving_firm_id SET NOT NULL;

CREATE FUNCTION fee_payments_firms_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT e.referring_firm_id, e.receiving_firm_id INTO NEW.referring_firm_id, NEW.receiving_firm_id
    FROM fee_ledger_entries e WHERE e.id = NEW.entry_id;
    RETURN NEW;
END $$;

CREATE TRIGGER fee_payments_firms BEFORE INSERT ON fee_payments
    FOR EACH ROW EXECUTE FUNCTION fee_payments_firms_trg();

-- The fee analytics: a firm's payments received (as referring firm) or made (as receiving firm)
-- in a date range, with the partner and the amount in the index.
DROP INDEX fee_payments_paid_on_idx;
CREATE INDEX fee_payments_referring_paid_idx ON fee_payments (referring_firm_id, paid_on) INCLUDE (receiving_firm_id, amount_cents);
CREATE INDEX fee_payments_receiving_paid_idx ON fee_payments (receiving_firm_id, paid_on) INCLUDE (referring_firm_id, amount_cents);
