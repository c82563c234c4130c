-- name: ApiKeyCreate :one
INSERT INTO api_keys (firm_id, name, tier, key_hash, key_prefix, created_by, expires_at)
VALUES (@firm_id, @name, @tier, @key_hash, @key_prefix, sqlc.narg(created_by), sqlc.narg(expires_at))
RETURNING *;

-- ApiKeyGetByHash authenticates a request: it runs on every Public API call, through the unique
-- index on key_hash.
-- name: ApiKeyGetByHash :one
SELECT k.id, k.firm_id, k.name, k.tier, k.key_prefix, k.expires_at, k.revoked_at,
       f.is_active AS firm_is_active
FROM api_keys k JOIN firms f ON f.id = k.firm_id
WHERE k.key_hash = @key_hash;

-- name: ApiKeyGetForFirm :one
SELECT * FROM api_keys WHERE id = @id AND firm_id = @firm_id;

-- name: ApiKeyListByFirm :many
SELECT * FROM api_keys
WHERE firm_id = @firm_id AND (@include_revoked::bool OR revoked_at IS NULL)
ORDER BY created_at DESC, id;

-- ApiKeyRevoke is scoped by firm so a caller can never revoke another firm's key; no row comes
-- back for a foreign, missing or already revoked key.
-- name: ApiKeyRevoke :one
UPDATE api_keys SET revoked_at = now(), revoked_by = sqlc.narg(revoked_by)
WHERE id = @id AND firm_id = @firm_id AND revoked_at IS NULL
RETURNING *;

-- ApiKeyTouch adds n requests seen at used_at. Callers batch requests in memory and flush them,
-- so one statement updates the key row and the day bucket (UTC) together.
-- name: ApiKeyTouch :exec
WITH k AS (
    UPDATE api_keys
    SET last_used_at = greatest(coalesce(last_used_at, @used_at::timestamptz), @used_at::timestamptz),
        request_count = request_count + @n::bigint
    WHERE id = @id
    RETURNING id
)
INSERT INTO api_key_usage_daily (api_key_id, day, count)
SELECT k.id, timezone('UTC', sqlc.arg(used_at)::timestamptz)::date, sqlc.arg(n)::bigint FROM k
ON CONFLICT (api_key_id, day) DO UPDATE SET count = api_key_usage_daily.count + EXCLUDED.count;

-- ApiKeyUsage returns the daily request counts of a key from since (a UTC date, inclusive),
-- oldest first. Days without requests have no row.
-- name: ApiKeyUsage :many
SELECT day::text AS day, count FROM api_key_usage_daily
WHERE api_key_id = @api_key_id AND day >= timezone('UTC', sqlc.arg(since)::timestamptz)::date
ORDER BY day;

-- ApiKeyLockFirm locks the firm row for the rest of the transaction, so that concurrent key
-- creations of one firm cannot pass the cap on active keys together.
-- name: ApiKeyLockFirm :one
SELECT id FROM firms WHERE id = @firm_id FOR UPDATE;

-- ApiKeyCountActive counts the keys of a firm that still authenticate (not revoked, not expired).
-- name: ApiKeyCountActive :one
SELECT count(*) FROM api_keys
WHERE firm_id = @firm_id AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now());
