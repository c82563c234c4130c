-- 0005_referrals: base cases, their referrals (one row per hop from the owning firm to a
-- receiving firm) and the status-update feed (one row per transition and per message).

-- Human-friendly case numbers, CX-<year>-<000123>. A sequence never hands out a value twice, even
-- across rolled-back transactions, so reference numbers stay unique without a lock.
CREATE SEQUENCE base_case_reference_seq;

CREATE TABLE base_cases (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The referring firm: it created the case and is the sender of every referral of it.
    owner_firm_id           uuid NOT NULL REFERENCES firms (id),
    reference_number        text NOT NULL UNIQUE DEFAULT
        ('CX-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'
            || lpad(nextval('base_case_reference_seq')::text, 6, '0')),
    title                   text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 500),
    description             text CHECK (length(description) <= 20000),
    case_type_id            uuid NOT NULL REFERENCES case_types (id),
    jurisdiction_code       text NOT NULL REFERENCES jurisdictions (code),
    -- As the client wrote it, after checking that it names a county of the jurisdiction.
    county                  text CHECK (length(county) <= 200),
    client_first_name       text NOT NULL CHECK (length(btrim(client_first_name)) BETWEEN 1 AND 200),
    client_last_name        text NOT NULL CHECK (length(btrim(client_last_name)) BETWEEN 1 AND 200),
    client_email            text CHECK (length(client_email) <= 320),
    client_phone            text CHECK (length(client_phone) <= 50),
    client_date_of_birth    date,
    incident_date           date,
    -- The referring firm's internal notes on the case.
    notes                   text CHECK (length(notes) <= 10000),
    tier                    integer CHECK (tier BETWEEN 1 AND 5),
    source                  text CHECK (length(source) <= 500),
    -- {"<case_type_fields.id>": "<value as text>"}; only fields of the case's type.
    custom_fields           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom_fields) = 'object'),
    salesforce_id           text CHECK (length(salesforce_id) BETWEEN 1 AND 100),
    salesforce_object_type  text CHECK (length(salesforce_object_type) <= 100),
    -- Record id in another case management system (Dear Legal, Neos, Clio, SmartAdvocate), set by
    -- integrations; the API's cmsId is this or, failing it, salesforce_id.
    cms_id                  text CHECK (length(cms_id) BETWEEN 1 AND 100),
    is_test_case            boolean NOT NULL DEFAULT false,
    -- Retainer state given at creation; each referral starts from it.
    is_retainer_signed      boolean NOT NULL DEFAULT false,
    -- The person behind the request: the user, or the user who created the API key.
    created_by_user_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_by_key_id       uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    -- Moves with every change to the case or to any of its referrals.
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- The owner's lists, sorted by activity or creation.
CREATE INDEX base_cases_owner_updated_idx ON base_cases (owner_firm_id, updated_at DESC, id);
CREATE INDEX base_cases_owner_created_idx ON base_cases (owner_firm_id, created_at DESC, id);
-- Flexible id resolution by external record id.
CREATE INDEX base_cases_salesforce_idx ON base_cases (salesforce_id) WHERE salesforce_id IS NOT NULL;
CREATE INDEX base_cases_cms_idx ON base_cases (cms_id) WHERE cms_id IS NOT NULL;

CREATE TABLE referrals (
    id                                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    base_case_id                       uuid NOT NULL REFERENCES base_cases (id) ON DELETE CASCADE,
    -- 1 for the first referral of the case, one more for each re-referral.
    sequence_number                    integer NOT NULL CHECK (sequence_number >= 1),
    -- The case's reference number with "-R<sequence_number>" appended.
    reference_number                   text NOT NULL UNIQUE,
    referring_firm_id                  uuid NOT NULL REFERENCES firms (id),
    -- NULL only while the referral is an unsent draft.
    referent_firm_id                   uuid REFERENCES firms (id),
    status                             text NOT NULL DEFAULT 'draft' CHECK (status IN
        ('draft', 'sent', 'under_evaluation', 'investigating', 'signed', 'in_litigation',
         'closing', 'rejected', 'withdrawn', 'closed')),
    closing_status                     text CHECK (closing_status IN ('won_settled', 'lost', 'no_longer_pursuing')),
    closure_reason                     text CHECK (length(closure_reason) <= 5000),
    -- The note sent with the referral, then kept up by the receiving firm.
    notes                              text CHECK (length(notes) <= 10000),
    phase                              text CHECK (length(phase) <= 200),
    lead_attorney_name                 text CHECK (length(lead_attorney_name) <= 500),
    rated_tier                         integer CHECK (rated_tier BETWEEN 1 AND 5),
    rating_notes                       text CHECK (length(rating_notes) <= 10000),
    settlement_amount                  double precision CHECK (settlement_amount >= 0),
    attorney_fees                      double precision CHECK (attorney_fees >= 0),
    projected_settlement_amount        double precision CHECK (projected_settlement_amount >= 0),
    -- A fraction (0.33 = 33%).
    client_fee_agreement_percentage    double precision CHECK (client_fee_agreement_percentage BETWEEN 0 AND 1),
    -- A percentage (25 = 25%).
    sending_firm_percentage            double precision CHECK (sending_firm_percentage BETWEEN 0 AND 100),
    statute_of_limitations_expiration  date,
    estimated_date_of_resolution       date,
    estimated_distribution_date        date,
    is_retainer_signed                 boolean NOT NULL DEFAULT false,
    sent_at                            timestamptz,
    -- Acknowledgement deadline from sentExpirationHours.
    expires_at                         timestamptz,
    -- Set once, by acknowledge; the receiving firm sees client data from then on.
    acknowledged_at                    timestamptz,
    -- Last status change or message, for requiresUpdate.
    last_activity_at                   timestamptz NOT NULL DEFAULT now(),
    created_by_user_id                 uuid REFERENCES users (id) ON DELETE SET NULL,
    created_by_key_id                  uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    updated_by_user_id                 uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_by_key_id                  uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    created_at                         timestamptz NOT NULL DEFAULT now(),
    updated_at                         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT referrals_case_sequence_key UNIQUE (base_case_id, sequence_number),
    CONSTRAINT referrals_referent_when_sent CHECK (status = 'draft' OR referent_firm_id IS NOT NULL),
    CONSTRAINT referrals_not_self CHECK (referent_firm_id <> referring_firm_id),
    CONSTRAINT referrals_closing_status_when_closed CHECK (closing_status IS NULL OR status = 'closed')
);

-- A case never has two active referrals to the same firm; concurrent refers of one case to one
-- firm collide here (23505, answered as 409 conflict).
CREATE UNIQUE INDEX referrals_one_active_per_firm_key ON referrals (base_case_id, referent_firm_id)
    WHERE status NOT IN ('draft', 'rejected', 'withdrawn', 'closed');
-- The receiving firm's views (it never sees drafts).
CREATE INDEX referrals_referent_idx ON referrals (referent_firm_id, updated_at DESC, id) WHERE status <> 'draft';
-- The referring firm's referral list.
CREATE INDEX referrals_referring_idx ON referrals (referring_firm_id, created_at DESC, id);
-- Sweeping unacknowledged referrals past their deadline.
CREATE INDEX referrals_expiry_idx ON referrals (expires_at) WHERE status = 'sent' AND expires_at IS NOT NULL;

CREATE TABLE status_updates (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    referral_id        uuid NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    base_case_id       uuid NOT NULL REFERENCES base_cases (id) ON DELETE CASCADE,
    -- Both parties of the referral, copied so the feed filters by firm on its own indexes. A
    -- referral gets its receiving firm when it is sent and keeps it; drafts have no entries.
    referring_firm_id  uuid NOT NULL REFERENCES firms (id),
    referent_firm_id   uuid NOT NULL REFERENCES firms (id),
    -- For a transition, the status it left; NULL for a message.
    from_status        text,
    -- For a transition the status it reached; for a message the referral's status at the time.
    status             text NOT NULL,
    is_message         boolean NOT NULL DEFAULT false,
    message            text CHECK (length(message) <= 10000),
    requested_status   text,
    source             text NOT NULL CHECK (source IN ('manual', 'case_status', 'salesforce', 'system', 'dearlegal', 'api')),
    actor_firm_id      uuid REFERENCES firms (id),
    actor_user_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_key_id       uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    -- 'user', 'api_key' or 'system'; with actor_name, a snapshot of who wrote the entry.
    actor_kind         text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'system')),
    actor_name         text,
    -- Distinct and in commit order: see StatusUpdateInsert.
    created_at         timestamptz NOT NULL,
    CONSTRAINT status_updates_created_at_key UNIQUE (created_at),
    CONSTRAINT status_updates_message_shape CHECK (is_message = (from_status IS NULL))
);

CREATE INDEX status_updates_referral_idx ON status_updates (referral_id, created_at, id);
CREATE INDEX status_updates_referring_idx ON status_updates (referring_firm_id, created_at, id);
CREATE INDEX status_updates_referent_idx ON status_updates (referent_firm_id, created_at, id);
