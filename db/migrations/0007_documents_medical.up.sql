-- 0007_documents_medical: files attached to cases and medical provider referrals of a case's
-- client.

-- The bytes live in the object store (internal/storage) under storage_key; this row is the only
-- way to reach them. The id is chosen by the server before the upload so the object can be
-- written first and the row only once it is complete: no row ever points at a partial object.
CREATE TABLE documents (
    id                   uuid PRIMARY KEY,
    base_case_id         uuid NOT NULL REFERENCES base_cases (id) ON DELETE CASCADE,
    storage_key          text NOT NULL UNIQUE CHECK (length(storage_key) BETWEEN 1 AND 512),
    file_name            text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    -- Detected from the content at upload, never taken from the client.
    mime_type            text NOT NULL CHECK (length(mime_type) BETWEEN 1 AND 200),
    size_bytes           bigint NOT NULL CHECK (size_bytes > 0),
    description          text CHECK (length(description) <= 1000),
    -- Shared with the partner firm on the case.
    is_public            boolean NOT NULL DEFAULT true,
    -- The only firm that may delete the document.
    uploaded_by_firm_id  uuid NOT NULL REFERENCES firms (id),
    uploaded_by_user_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    uploaded_by_key_id   uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    -- Snapshot of who uploaded: the user's e-mail address or the API key's name.
    uploaded_by          text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- A case's documents, newest first.
CREATE INDEX documents_case_idx ON documents (base_case_id, created_at DESC, id DESC);

CREATE TABLE medical_referrals (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The firm that created the referral; only it sees the referral.
    firm_id              uuid NOT NULL REFERENCES firms (id),
    base_case_id         uuid NOT NULL REFERENCES base_cases (id) ON DELETE CASCADE,
    -- A provider firm from the directory, when one was named.
    provider_firm_id     uuid REFERENCES firms (id) ON DELETE SET NULL,
    provider_name        text NOT NULL CHECK (length(btrim(provider_name)) BETWEEN 1 AND 200),
    referral_type        text NOT NULL DEFAULT 'general' CHECK (length(btrim(referral_type)) BETWEEN 1 AND 100),
    status               text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'scheduled', 'completed', 'cancelled')),
    appointment_date     date,
    client_first_name    text CHECK (length(client_first_name) <= 100),
    client_last_name     text CHECK (length(client_last_name) <= 100),
    client_email         text CHECK (length(client_email) <= 254),
    client_phone         text CHECK (length(client_phone) <= 50),
    date_of_injury       date,
    injury_description   text CHECK (length(injury_description) <= 5000),
    notes                text CHECK (length(notes) <= 5000),
    created_by_user_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_by_key_id    uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- The firm's list, newest first (filters by case and status run on top of it).
CREATE INDEX medical_referrals_firm_idx ON medical_referrals (firm_id, created_at DESC, id DESC);
CREATE INDEX medical_referrals_case_idx ON medical_referrals (base_case_id);
