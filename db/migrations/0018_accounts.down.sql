DROP INDEX api_keys_firm_kind_idx;
DELETE FROM api_key_usage_daily WHERE api_key_id IN (SELECT id FROM api_keys WHERE kind = 'salesforce');
DELETE FROM api_keys WHERE kind = 'salesforce';
ALTER TABLE api_keys DROP COLUMN rotated_at;
ALTER TABLE api_keys DROP COLUMN salesforce_connection_id;
ALTER TABLE api_keys DROP COLUMN kind;
DROP TABLE password_reset_requests;
ALTER TABLE users DROP COLUMN invitation_accepted_token_hash;
ALTER TABLE users DROP COLUMN phone;
