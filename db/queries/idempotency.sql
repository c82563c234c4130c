-- name: IdempotencyKeyClaim :one
-- Claims (firm, key) for a new attempt: inserts a pending row, or takes over a row that expired
-- or whose pending attempt was abandoned. Returns no row when a live row holds the key.
INSERT INTO idempotency_keys (firm_id, idem_key, request_hash, lock_id, state, created_at)
VALUES (@firm_id, @idem_key, @request_hash, @lock_id, 'pending', @now)
ON CONFLICT (firm_id, idem_key) DO UPDATE
SET request_hash = EXCLUDED.request_hash,
    lock_id      = EXCLUDED.lock_id,
    state        = 'pending',
    status_code  = NULL,
    content_type = NULL,
    location     = NULL,
    body         = NULL,
    created_at   = EXCLUDED.created_at,
    completed_at = NULL
WHERE idempotency_keys.created_at < @expired_before
   OR (idempotency_keys.state = 'pending' AND idempotency_keys.created_at < @abandoned_before)
RETURNING lock_id;

-- name: IdempotencyKeyGet :one
SELECT * FROM idempotency_keys WHERE firm_id = @firm_id AND idem_key = @idem_key;

-- name: IdempotencyKeyComplete :execrows
UPDATE idempotency_keys
SET state = 'done', status_code = @status_code, content_type = @content_type, location = @location,
    body = @body, completed_at = @now
WHERE firm_id = @firm_id AND idem_key = @idem_key AND lock_id = @lock_id AND state = 'pending';

-- name: IdempotencyKeyRelease :execrows
DELETE FROM idempotency_keys
WHERE firm_id = @firm_id AND idem_key = @idem_key AND lock_id = @lock_id AND state = 'pending';

-- name: IdempotencyKeyPurge :execrows
DELETE FROM idempotency_keys WHERE created_at < @before;
