-- 0001_core: firms, users, login sessions, public API keys and login throttling.
--
-- Conventions: uuid keys from gen_random_uuid() (built in since PostgreSQL 13), timestamptz
-- everywhere, text columns constrained by CHECK instead of enum types so that adding a value is a
-- plain constraint swap in a later migration.

-- Trigram matching backs the case-insensitive partial name search of the firm directory.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE firms (
    id                            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                          text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 255),
    -- Optional stable handle used by seeds and the CLI; never shown by the API contract.
    slug                          text UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    description                   text,
    website                       text,
    phone                         text,
    email                         text,
    -- Postal address: "address" is the street line, as the Public API names it.
    address                       text,
    city                          text,
    state                         text,
    zip                           text,
    country                       text,
    logo_url                      text,
    -- Jurisdiction codes (e.g. 'CA') and case type ids the firm accepts. The reference tables
    -- arrive in a later migration, so these are plain arrays without foreign keys.
    jurisdictions                 text[] NOT NULL DEFAULT '{}',
    case_type_ids                 uuid[] NOT NULL DEFAULT '{}',
    -- Free-form practice areas of the Internal API firm shape.
    specialties                   text[] NOT NULL DEFAULT '{}',
    general_referral_instructions text,
    -- Listed in the public directory (and so offered to firms outside the private network).
    is_public                     boolean NOT NULL DEFAULT false,
    -- Operated by CaseXchange itself rather than by a customer.
    is_internal                   boolean NOT NULL DEFAULT false,
    -- Deactivated firms disappear from the directory and their keys and users stop working.
    is_active                     boolean NOT NULL DEFAULT true,
    can_send_referrals            boolean NOT NULL DEFAULT true,
    -- Human-readable case reference numbers: PREFIX-000123.
    reference_prefix              text CHECK (reference_prefix ~ '^[A-Z0-9_-]{1,10}$'),
    last_case_reference_sequence  integer NOT NULL DEFAULT 0 CHECK (last_case_reference_sequence >= 0),
    created_at                    timestamptz NOT NULL DEFAULT now(),
    updated_at                    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX firms_name_trgm_idx ON firms USING gin (name gin_trgm_ops);
CREATE INDEX firms_directory_idx ON firms (lower(name), id) WHERE is_active AND is_public;

CREATE TABLE users (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    firm_id                    uuid NOT NULL REFERENCES firms (id),
    -- Stored lower-cased, which makes the plain unique constraint case-insensitive.
    email                      text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    first_name                 text NOT NULL DEFAULT '',
    last_name                  text NOT NULL DEFAULT '',
    role                       text NOT NULL DEFAULT 'MEMBER'
        CHECK (role IN ('ADMIN', 'ACCOUNT_MANAGER', 'FIRM_ADMIN', 'MEMBER', 'VIEWER')),
    -- argon2id PHC string; NULL until the invited user chooses a password.
    password_hash              text,
    -- Administrative switch: deactivated users cannot log in and lose their sessions.
    is_active                  boolean NOT NULL DEFAULT false,
    -- 'invited' until the user has set a password for the first time.
    activation_state           text NOT NULL DEFAULT 'invited'
        CHECK (activation_state IN ('invited', 'active')),
    invitation_token_hash      text UNIQUE,
    invitation_expires_at      timestamptz,
    password_reset_token_hash  text UNIQUE,
    password_reset_expires_at  timestamptz,
    password_changed_at        timestamptz,
    last_login_at              timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_active_has_password CHECK (activation_state = 'invited' OR password_hash IS NOT NULL)
);

CREATE INDEX users_firm_idx ON users (firm_id, created_at);

-- One row per refresh token. Rotation marks the presented row rotated and inserts its successor
-- with the same family_id; the first row of a family has id = family_id, so the family id is the
-- stable session id carried by access tokens.
CREATE TABLE auth_sessions (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id           uuid NOT NULL,
    parent_id           uuid REFERENCES auth_sessions (id) ON DELETE SET NULL,
    -- Hex SHA-256 of the opaque refresh token; the token itself is never stored.
    refresh_token_hash  text NOT NULL UNIQUE,
    expires_at          timestamptz NOT NULL,
    rotated_at          timestamptz,
    revoked_at          timestamptz,
    revoke_reason       text CHECK (revoke_reason IN
        ('logout', 'token_reuse', 'password_changed', 'revoked_by_user', 'user_deactivated', 'admin')),
    user_agent          text,
    ip                  text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_used_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT auth_sessions_reason_with_revoke CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);

CREATE INDEX auth_sessions_family_idx ON auth_sessions (family_id);
CREATE INDEX auth_sessions_live_user_idx ON auth_sessions (user_id)
    WHERE rotated_at IS NULL AND revoked_at IS NULL;
CREATE INDEX auth_sessions_expires_idx ON auth_sessions (expires_at);

CREATE TABLE api_keys (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    firm_id        uuid NOT NULL REFERENCES firms (id),
    name           text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    tier           text NOT NULL CHECK (tier IN ('READ_ONLY', 'STANDARD', 'FULL')),
    -- Hex SHA-256 of the whole key. Keys carry ~238 bits of entropy, so an indexed lookup by
    -- hash leaks nothing useful through timing.
    key_hash       text NOT NULL UNIQUE,
    -- First characters of the key, kept so people can tell their keys apart.
    key_prefix     text NOT NULL,
    -- NULL for keys created from the command line.
    created_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    revoked_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    last_used_at   timestamptz,
    revoked_at     timestamptz,
    request_count  bigint NOT NULL DEFAULT 0 CHECK (request_count >= 0)
);

CREATE INDEX api_keys_firm_idx ON api_keys (firm_id, created_at DESC);

CREATE TABLE api_key_usage_daily (
    api_key_id  uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    day         date NOT NULL,
    count       bigint NOT NULL DEFAULT 0 CHECK (count >= 0),
    PRIMARY KEY (api_key_id, day)
);

-- Login attempts, kept for throttling per e-mail and per client address. A successful login
-- resets the e-mail window; the address window only ever slides.
CREATE TABLE login_attempts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL,
    ip            text NOT NULL DEFAULT '',
    succeeded     boolean NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX login_attempts_email_idx ON login_attempts (email, attempted_at);
CREATE INDEX login_attempts_ip_failed_idx ON login_attempts (ip, attempted_at) WHERE NOT succeeded;
CREATE INDEX login_attempts_attempted_idx ON login_attempts (attempted_at);
