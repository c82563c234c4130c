-- ApiKeyCreate inserts a key. A key created by a user is only inserted while that user is an
-- active administrator of the firm (FIRM_ADMIN, or ADMIN: Role.CanManageFirm); the row lock
-- taken on the user serializes the insert with a concurrent demotion or deactivation, which
-- revokes the user's keys (ApiKeyRevokeByCreator), so no key can slip past it. No row comes
-- back when the check fails.
-- name: ApiKeyCreate :one
WITH creator AS (
    SELECT u.id FROM users u
    WHERE u.id = sqlc.narg(created_by)::uuid AND u.firm_id = @firm_id AND u.is_active
      AND u.role IN ('FIRM_ADMIN', 'ADMIN')
    FOR SHARE
)
INSERT INTO api_keys (firm_id, name, tier, key_hash, key_prefix, created_by, expires_at, kind, salesforce_connection_id)
SELECT @firm_id, @name, @tier, @key_hash, @key_prefix, sqlc.narg(created_by), sqlc.narg(expires_at), @kind::text,
       sqlc.narg(salesforce_connection_id)::uuid
WHERE sqlc.narg(created_by)::uuid IS NULL OR EXISTS (SELECT 1 FROM creator)
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

-- ApiKeyListByFirm lists a firm's Public API keys; Salesforce integration tokens have their own
-- list (ApiKeyListSalesforceByFirm).
-- name: ApiKeyListByFirm :many
SELECT * FROM api_keys
WHERE firm_id = @firm_id AND kind = 'public' AND (@include_revoked::bool OR revoked_at IS NULL)
ORDER BY created_at DESC, id;

-- name: ApiKeyListSalesforceByFirm :many
SELECT * FROM api_keys
WHERE firm_id = @firm_id AND kind = 'salesforce'
ORDER BY created_at DESC, id;

-- ApiKeyRotate gives a live Salesforce integration token of the firm a new secret in place (same
-- id); the old hash stops matching when the statement commits. No row for a foreign, missing,
-- revoked or other kind of key.
-- name: ApiKeyRotate :one
UPDATE api_keys SET key_hash = @key_hash, key_prefix = @key_prefix, rotated_at = now()
WHERE id = @id AND firm_id = @firm_id AND kind = 'salesforce' AND revoked_at IS NULL
RETURNING *;

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

-- ApiKeyRevokeByCreator revokes every live key a user created in their firm. Keys belong to the
-- administrator who made them: when that user is deactivated or stops being a FIRM_ADMIN, their
-- keys stop working in the same transaction. Keys created from the command line (no creator)
-- are unaffected.
-- name: ApiKeyRevokeByCreator :execrows
UPDATE api_keys SET revoked_at = now(), revoked_by = sqlc.narg(revoked_by)
WHERE firm_id = @firm_id AND created_by = @created_by AND revoked_at IS NULL;

-- ApiKeyNotify queues a notification on channel with payload. It is sent on commit of the
-- surrounding transaction, so listeners (the API key caches) never hear of a change that did
-- not happen.
-- name: ApiKeyNotify :exec
SELECT pg_notify(@channel::text, @payload::text);

-- ApiKeyCacheListeners returns the backends of this database whose application_name is
-- app_name: the key cache listeners of every server process, which acknowledge invalidations.
-- name: ApiKeyCacheListeners :many
SELECT pid::int AS pid FROM pg_catalog.pg_stat_activity
WHERE datname = current_database() AND application_name = @app_name::text;

-- ApiKeyLockFirm locks the firm row for the rest of the transaction, so that concurrent key
-- creations of one firm cannot pass the cap on active keys together.
-- name: ApiKeyLockFirm :one
SELECT id FROM firms WHERE id = @firm_id FOR UPDATE;

-- ApiKeyCountActive counts the keys of a firm that still authenticate (not revoked, not expired).
-- name: ApiKeyCountActive :one
SELECT count(*) FROM api_keys
WHERE firm_id = @firm_id AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now());
