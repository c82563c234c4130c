-- Stored outcomes of Public API writes sent with an Idempotency-Key. One row per firm
-- and key: 'pending' while the first request runs, 'done' with the response once it finished.
-- Rows older than 24 hours are ignored (a new request may take the key over) and purged.
CREATE TABLE idempotency_keys (
    firm_id      uuid        NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    idem_key     text        NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 255),
    -- SHA-256 of method, path and body (or Content-Length for multipart bodies).
    request_hash bytea       NOT NULL,
    -- Token of the attempt that owns the row: only it may complete or release it.
    lock_id      uuid        NOT NULL,
    state        text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    status_code  integer     CHECK (status_code BETWEEN 100 AND 599),
    content_type text,
    location     text,
    body         bytea,
    created_at   timestamptz NOT NULL,
    completed_at timestamptz,
    PRIMARY KEY (firm_id, idem_key),
    CHECK (state = 'pending' OR (status_code IS NOT NULL AND body IS NOT NULL AND completed_at IS NOT NULL))
);
-- Backs the purge of expired rows.
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
