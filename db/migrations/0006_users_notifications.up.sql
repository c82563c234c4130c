-- 0006_users_notifications: per-firm notification switches and recipient addresses.
--
-- Users themselves live in 0001_core. The job queue that delivers e-mail (River) keeps its own
-- tables, created by River's migrator at startup (internal/jobs.Migrate), not here.

-- One row per firm that ever changed its switches. A firm without a row gets every switch on,
-- which is why the defaults are true and why updated_at only exists once a row does.
CREATE TABLE notification_preferences (
    firm_id                   uuid PRIMARY KEY REFERENCES firms (id) ON DELETE CASCADE,
    email_on_new_referral     boolean NOT NULL DEFAULT true,
    email_on_status_change    boolean NOT NULL DEFAULT true,
    email_on_document_upload  boolean NOT NULL DEFAULT true,
    updated_at                timestamptz NOT NULL DEFAULT now()
);

-- The addresses that receive a firm's notification e-mails. While a firm has none, mail goes to
-- its active FIRM_ADMIN users instead. Addresses are stored lower-cased, so the unique
-- constraint de-duplicates them ignoring letter case; it also serves the per-firm lookups.
CREATE TABLE notification_emails (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    firm_id     uuid NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    email       text NOT NULL CHECK (email = lower(email) AND length(email) <= 254 AND email LIKE '%_@_%'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_emails_firm_email_key UNIQUE (firm_id, email)
);

-- The fallback recipients: a firm's active administrators.
CREATE INDEX users_firm_admins_idx ON users (firm_id) WHERE role = 'FIRM_ADMIN' AND is_active;
