DELETE FROM users WHERE undeliverable;
DROP INDEX users_firm_email_key;
DROP INDEX users_email_key;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE users DROP CONSTRAINT users_undeliverable_invited;
ALTER TABLE users DROP COLUMN undeliverable;
