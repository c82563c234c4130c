-- 0013_login_throttle: sign-in hardening. Login throttling itself needs no schema
-- change (attempts are reserved in login_attempts under advisory locks); this migration keeps
-- inviting from revealing which addresses are registered at other firms.
--
-- An invitation to an address that already belongs to a user of another firm is stored as an
-- undeliverable invitation: an invited user of the inviting firm, shown like any other, whose
-- invitation e-mail is never sent and who can never sign in or accept. Addresses stay unique
-- among deliverable users (the ones that can sign in), and unique within a firm.
ALTER TABLE users ADD COLUMN undeliverable boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD CONSTRAINT users_undeliverable_invited
    CHECK (NOT undeliverable OR (activation_state = 'invited' AND password_hash IS NULL AND NOT is_active));

ALTER TABLE users DROP CONSTRAINT users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE NOT undeliverable;
CREATE UNIQUE INDEX users_firm_email_key ON users (firm_id, email);
