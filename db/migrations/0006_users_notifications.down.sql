DROP INDEX IF EXISTS users_firm_admins_idx;
DROP TABLE IF EXISTS notification_emails;
DROP TABLE IF EXISTS notification_preferences;
