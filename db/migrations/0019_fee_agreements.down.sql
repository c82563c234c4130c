DROP TABLE IF EXISTS fee_payments;
DROP TABLE IF EXISTS fee_ledger_entries;
DROP TABLE IF EXISTS fee_consents;
DROP TRIGGER IF EXISTS referrals_fee_terms_from_agreement ON referrals;
DROP FUNCTION IF EXISTS referrals_fee_terms_from_agreement();
DROP TABLE IF EXISTS fee_agreement_versions;
DROP FUNCTION IF EXISTS fee_agreement_versions_immutable();
DROP TABLE IF EXISTS fee_rule_profiles;
