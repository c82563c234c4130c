-- The status-update feed: one row per referral transition and per message.

-- StatusUpdateLock takes the transaction-scoped lock that serializes status-update inserts.
-- Callers take it as the last step of their transaction, right before StatusUpdateInsert, so the
-- lock is held only until the commit that follows.
-- name: StatusUpdateLock :exec
SELECT pg_advisory_xact_lock(@lock_key::bigint);

-- StatusUpdateInsert writes an entry. It must run under StatusUpdateLock: the lock makes
-- inserts, and so commits, happen one at a time, and created_at is the later of the clock and
-- one microsecond past the newest committed entry (read by this statement's fresh snapshot,
-- taken after the lock was granted). So created_at is distinct and increases in commit order:
-- a reader never sees an entry appear behind one it has already seen.
-- name: StatusUpdateInsert :one
INSERT INTO status_updates (
    referral_id, base_case_id, referring_firm_id, referent_firm_id, from_status, status, is_message,
    message, requested_status, source, actor_firm_id, actor_user_id, actor_key_id, actor_kind, actor_name,
    created_at
) VALUES (
    @referral_id, @base_case_id, @referring_firm_id, @referent_firm_id, sqlc.narg(from_status), @status,
    @is_message, sqlc.narg(message), sqlc.narg(requested_status), @source, sqlc.narg(actor_firm_id),
    sqlc.narg(actor_user_id), sqlc.narg(actor_key_id), @actor_kind, sqlc.narg(actor_name),
    GREATEST(clock_timestamp(), (SELECT max(s.created_at) + interval '1 microsecond' FROM status_updates s))
)
RETURNING *;

-- StatusUpdateFeed pages through the entries of every referral the firm is party to. ascending
-- selects the polling order (oldest first); the after_* pair is an exclusive cursor position.
-- name: StatusUpdateFeed :many
SELECT sqlc.embed(s), r.reference_number AS referral_reference_number, count(*) OVER () AS total
FROM status_updates s
JOIN referrals r ON r.id = s.referral_id
WHERE (s.referring_firm_id = @firm_id OR s.referent_firm_id = @firm_id)
  AND (sqlc.narg(status)::text IS NULL OR s.status = sqlc.narg(status)::text)
  AND (sqlc.narg(source)::text IS NULL OR s.source = sqlc.narg(source)::text)
  AND (sqlc.narg(date_from)::timestamptz IS NULL OR s.created_at >= sqlc.narg(date_from)::timestamptz)
  AND (sqlc.narg(date_to)::timestamptz IS NULL OR s.created_at <= sqlc.narg(date_to)::timestamptz)
  AND (sqlc.narg(since)::timestamptz IS NULL OR s.created_at > sqlc.narg(since)::timestamptz)
  AND (sqlc.narg(before)::timestamptz IS NULL OR s.created_at < sqlc.narg(before)::timestamptz)
  AND (sqlc.narg(after_at)::timestamptz IS NULL
       OR (s.created_at, s.id) > (sqlc.narg(after_at)::timestamptz, @after_id::uuid))
ORDER BY
    CASE WHEN @ascending::bool THEN s.created_at END ASC,
    CASE WHEN @ascending::bool THEN s.id END ASC,
    CASE WHEN NOT @ascending::bool THEN s.created_at END DESC,
    CASE WHEN NOT @ascending::bool THEN s.id END DESC
LIMIT @row_limit OFFSET @row_offset;

-- name: StatusUpdateListByReferrals :many
SELECT sqlc.embed(s), r.reference_number AS referral_reference_number
FROM status_updates s
JOIN referrals r ON r.id = s.referral_id
WHERE s.referral_id = ANY(@referral_ids::uuid[])
ORDER BY s.created_at, s.id;
