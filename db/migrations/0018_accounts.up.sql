-- 0018_accounts: the rest of the account life cycle and Salesforce integration tokens.

-- The current user edits a phone number of their own through PUT /api/v1/users/profile.
ALTER TABLE users ADD COLUMN phone text CHECK (phone IS NULL OR length(phone) <= 50);

-- The hash of the invitation token that activated the account, kept after the invitation
-- column is cleared, so that opening the same link again is answered "already active, sign
-- in" (409) rather than "unknown link". It is never a credential: nothing accepts it.
ALTER TABLE users ADD COLUMN invitation_accepted_token_hash text UNIQUE;

-- Password reset requests, kept for throttling per e-mail address and per client address.
-- A row is written for every accepted request, whether or not the address belongs to anyone,
-- so the work (and the time) of a request never depends on it.
CREATE TABLE password_reset_requests (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email)),
    ip            text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_requests_email_idx ON password_reset_requests (email, requested_at);
CREATE INDEX password_reset_requests_ip_idx ON password_reset_requests (ip, requested_at);
CREATE INDEX password_reset_requests_time_idx ON password_reset_requests (requested_at);

-- Salesforce integration tokens are API keys of their own kind: a Salesforce package installed
-- by a firm calls the Public API with one (X-API-Key, standard tier), so authentication, the
-- key cache, rate limits and usage counting treat them exactly like keys. They are managed
-- through their own Internal API operations and rotate in place (same id, new secret).
ALTER TABLE api_keys ADD COLUMN kind text NOT NULL DEFAULT 'public' CHECK (kind IN ('public', 'salesforce'));
ALTER TABLE api_keys ADD COLUMN salesforce_connection_id uuid;
ALTER TABLE api_keys ADD COLUMN rotated_at timestamptz;
CREATE INDEX api_keys_firm_kind_idx ON api_keys (firm_id, kind, created_at DESC);
