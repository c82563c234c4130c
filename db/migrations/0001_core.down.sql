DROP TABLE IF EXISTS login_attempts;
DROP TABLE IF EXISTS api_key_usage_daily;
DROP TABLE IF EXISTS api_keys;
DROP TABLE IF EXISTS auth_sessions;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS firms;
-- pg_trgm stays: it may have been installed before this migration or be used by other objects.
