DROP INDEX IF EXISTS fee_payments_referring_paid_idx;
DROP INDEX IF EXISTS fee_payments_receiving_paid_idx;
CREATE INDEX IF NOT EXISTS fee_payments_paid_on_idx ON fee_payments (paid_on, entry_id);
DROP TRIGGER IF EXISTS fee_payments_firms ON fee_payments;
DROP FUNCTION IF EXISTS fee_payments_firms_trg();
ALTER TABLE fee_payments DROP COLUMN IF EXISTS referring_firm_id;
ALTER TABLE fee_payments DROP COLUMN IF EXISTS receiving_firm_id;

DROP TRIGGER IF EXISTS fee_ledger_count_ins ON fee_ledger_entries;
DROP TRIGGER IF EXISTS fee_ledger_count_upd ON fee_ledger_entries;
DROP TRIGGER IF EXISTS fee_ledger_count_del ON fee_ledger_entries;
DROP FUNCTION IF EXISTS fee_ledger_count_trg();
DELETE FROM list_counts WHERE list IN ('fee_owed_to_me', 'fee_i_owe');

DROP INDEX IF EXISTS fee_ledger_referring_key_idx;
DROP INDEX IF EXISTS fee_ledger_receiving_key_idx;
DROP INDEX IF EXISTS fee_ledger_referring_status_key_idx;
DROP INDEX IF EXISTS fee_ledger_receiving_status_key_idx;
DROP INDEX IF EXISTS fee_ledger_referring_partner_key_idx;
DROP INDEX IF EXISTS fee_ledger_receiving_partner_key_idx;
DROP INDEX IF EXISTS fee_ledger_referring_open_key_idx;
DROP INDEX IF EXISTS fee_ledger_receiving_open_key_idx;
ALTER TABLE fee_ledger_entries DROP COLUMN IF EXISTS due_key;
CREATE INDEX IF NOT EXISTS fee_ledger_referring_due_idx ON fee_ledger_entries (referring_firm_id, due_date, id);
CREATE INDEX IF NOT EXISTS fee_ledger_receiving_due_idx ON fee_ledger_entries (receiving_firm_id, due_date, id);
CREATE INDEX IF NOT EXISTS fee_ledger_referring_status_due_idx ON fee_ledger_entries (referring_firm_id, status, due_date, id);
CREATE INDEX IF NOT EXISTS fee_ledger_receiving_status_due_idx ON fee_ledger_entries (receiving_firm_id, status, due_date, id);
