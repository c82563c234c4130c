-- The status-update feed: one row per referral transition and per message.

-- ListingsRefreshNow brings the transaction's pending list rows up to date now rather than at
-- commit (the deferred trigger of migration 0020). A writer runs it right before taking
-- StatusUpdateLock, so that the refresh is not done while every other writer waits.
-- name: ListingsRefreshNow :exec
SET CONSTRAINTS ALL IMMEDIATE;

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

-- The x.status-update feed of every referral the firm is party to: the referring side's and the
-- receiving side's index ranges ((firm, x.created_at, x.id)), each cut at offset+limit rows, merged.
-- lo/hi bound x.created_at inclusively (the widest of dateFrom/updatedSince/the cursor and of
-- dateTo/updatedBefore, so the range is an index condition); the exclusive bounds and the other
-- filters are applied inside each range. StatusUpdateFeedAsc is the polling order (oldest first,
-- after the exclusive cursor position after_at/after_id), StatusUpdateFeedDesc the browsing order.
-- name: StatusUpdateFeedAsc :many
SELECT sqlc.embed(s), r.reference_number AS referral_reference_number
FROM (
    SELECT u.id, u.created_at FROM (
        (SELECT x.id, x.created_at FROM status_updates x
            WHERE x.referring_firm_id = @firm_id AND x.created_at >= @lo::timestamptz AND x.created_at <= @hi::timestamptz
              AND (sqlc.narg(status)::text IS NULL OR x.status = sqlc.narg(status)::text)
              AND (sqlc.narg(source)::text IS NULL OR x.source = sqlc.narg(source)::text)
              AND (sqlc.narg(since)::timestamptz IS NULL OR x.created_at > sqlc.narg(since)::timestamptz)
              AND (sqlc.narg(before)::timestamptz IS NULL OR x.created_at < sqlc.narg(before)::timestamptz)
              AND (x.created_at, x.id) > (@after_at::timestamptz, @after_id::uuid)
            ORDER BY x.created_at ASC, x.id ASC LIMIT sqlc.arg(row_window)::int)
        UNION ALL
        (SELECT x.id, x.created_at FROM status_updates x
            WHERE x.referent_firm_id = @firm_id AND x.created_at >= @lo::timestamptz AND x.created_at <= @hi::timestamptz
              AND (sqlc.narg(status)::text IS NULL OR x.status = sqlc.narg(status)::text)
              AND (sqlc.narg(source)::text IS NULL OR x.source = sqlc.narg(source)::text)
              AND (sqlc.narg(since)::timestamptz IS NULL OR x.created_at > sqlc.narg(since)::timestamptz)
              AND (sqlc.narg(before)::timestamptz IS NULL OR x.created_at < sqlc.narg(before)::timestamptz)
              AND (x.created_at, x.id) > (@after_at::timestamptz, @after_id::uuid)
            ORDER BY x.created_at ASC, x.id ASC LIMIT sqlc.arg(row_window)::int)
    ) u
    ORDER BY u.created_at ASC, u.id ASC
    LIMIT @row_limit OFFSET @row_offset
) p
JOIN status_updates s ON s.id = p.id
JOIN referrals r ON r.id = s.referral_id
ORDER BY s.created_at ASC, s.id ASC;

-- StatusUpdatePoll is a poll of the feed (StatusUpdateFeedAsc at offset 0, with no status or
-- source filter) and its total (StatusUpdateFeedCountRange) in one statement: every row carries
-- the total, and an empty page means a total of 0 (the page is the first rows of the counted
-- set). Its bounds are the two that index scans take directly: the position after which to
-- read ((created_at, id) > (after_at, after_id), where the caller has folded in updatedSince and
-- dateFrom) and an exclusive end (created_at < until: dateTo and updatedBefore). The count then
-- checks nothing per entry beyond them. The sides' ranges are limited by a literal (a page holds
-- at most 100 entries): with a parameter there, PostgreSQL's generic plan would assume a tenth
-- of the firm's history and every poll would be planned again.
-- name: StatusUpdatePoll :many
SELECT sqlc.embed(s), r.reference_number AS referral_reference_number, t.total
FROM (
    SELECT u.id, u.created_at FROM (
        (SELECT x.id, x.created_at FROM status_updates x
            WHERE x.referring_firm_id = @firm_id
              AND (x.created_at, x.id) > (@after_at::timestamptz, @after_id::uuid) AND x.created_at < @until::timestamptz
            ORDER BY x.created_at ASC, x.id ASC LIMIT 100)
        UNION ALL
        (SELECT x.id, x.created_at FROM status_updates x
            WHERE x.referent_firm_id = @firm_id
              AND (x.created_at, x.id) > (@after_at::timestamptz, @after_id::uuid) AND x.created_at < @until::timestamptz
            ORDER BY x.created_at ASC, x.id ASC LIMIT 100)
    ) u
    ORDER BY u.created_at ASC, u.id ASC
    LIMIT @row_limit
) p
JOIN status_updates s ON s.id = p.id
JOIN referrals r ON r.id = s.referral_id
CROSS JOIN (
    SELECT ((SELECT count(*) FROM status_updates x
             WHERE x.referring_firm_id = @firm_id
               AND (x.created_at, x.id) > (@after_at::timestamptz, @after_id::uuid) AND x.created_at < @until::timestamptz)
          + (SELECT count(*) FROM status_updates x
             WHERE x.referent_firm_id = @firm_id
               AND (x.created_at, x.id) > (@after_at::timestamptz, @after_id::uuid) AND x.created_at < @until::timestamptz))::bigint AS total
) t
ORDER BY s.created_at ASC, s.id ASC;

-- name: StatusUpdateFeedDesc :many
SELECT sqlc.embed(s), r.reference_number AS referral_reference_number
FROM (
    SELECT u.id, u.created_at FROM (
        (SELECT x.id, x.created_at FROM status_updates x
            WHERE x.referring_firm_id = @firm_id AND x.created_at >= @lo::timestamptz AND x.created_at <= @hi::timestamptz
              AND (sqlc.narg(status)::text IS NULL OR x.status = sqlc.narg(status)::text)
              AND (sqlc.narg(source)::text IS NULL OR x.source = sqlc.narg(source)::text)
              AND (sqlc.narg(since)::timestamptz IS NULL OR x.created_at > sqlc.narg(since)::timestamptz)
              AND (sqlc.narg(before)::timestamptz IS NULL OR x.created_at < sqlc.narg(before)::timestamptz)
            ORDER BY x.created_at DESC, x.id DESC LIMIT sqlc.arg(row_window)::int)
        UNION ALL
        (SELECT x.id, x.created_at FROM status_updates x
            WHERE x.referent_firm_id = @firm_id AND x.created_at >= @lo::timestamptz AND x.created_at <= @hi::timestamptz
              AND (sqlc.narg(status)::text IS NULL OR x.status = sqlc.narg(status)::text)
              AND (sqlc.narg(source)::text IS NULL OR x.source = sqlc.narg(source)::text)
              AND (sqlc.narg(since)::timestamptz IS NULL OR x.created_at > sqlc.narg(since)::timestamptz)
              AND (sqlc.narg(before)::timestamptz IS NULL OR x.created_at < sqlc.narg(before)::timestamptz)
            ORDER BY x.created_at DESC, x.id DESC LIMIT sqlc.arg(row_window)::int)
    ) u
    ORDER BY u.created_at DESC, u.id DESC
    LIMIT @row_limit OFFSET @row_offset
) p
JOIN status_updates s ON s.id = p.id
JOIN referrals r ON r.id = s.referral_id
ORDER BY s.created_at DESC, s.id DESC;

-- StatusUpdateFeedCount counts the feed's matches: the two sides' index ranges (its cost follows
-- the entries in the range: small for a poller, the whole feed for an unbounded browse).
-- name: StatusUpdateFeedCount :one
SELECT (SELECT count(*) FROM status_updates x
        WHERE x.referring_firm_id = @firm_id AND x.created_at >= @lo::timestamptz AND x.created_at <= @hi::timestamptz
          AND (sqlc.narg(status)::text IS NULL OR x.status = sqlc.narg(status)::text)
          AND (sqlc.narg(source)::text IS NULL OR x.source = sqlc.narg(source)::text)
          AND (sqlc.narg(since)::timestamptz IS NULL OR x.created_at > sqlc.narg(since)::timestamptz)
          AND (sqlc.narg(before)::timestamptz IS NULL OR x.created_at < sqlc.narg(before)::timestamptz)
          AND (x.created_at, x.id) > (@after_at::timestamptz, @after_id::uuid))
     + (SELECT count(*) FROM status_updates x
        WHERE x.referent_firm_id = @firm_id AND x.created_at >= @lo::timestamptz AND x.created_at <= @hi::timestamptz
          AND (sqlc.narg(status)::text IS NULL OR x.status = sqlc.narg(status)::text)
          AND (sqlc.narg(source)::text IS NULL OR x.source = sqlc.narg(source)::text)
          AND (sqlc.narg(since)::timestamptz IS NULL OR x.created_at > sqlc.narg(since)::timestamptz)
          AND (sqlc.narg(before)::timestamptz IS NULL OR x.created_at < sqlc.narg(before)::timestamptz)
          AND (x.created_at, x.id) > (@after_at::timestamptz, @after_id::uuid)) AS total;

-- StatusUpdateFeedCountRange is StatusUpdateFeedCount without the status and source filters:
-- it reads only the index columns, so both counts are index-only range scans.
-- name: StatusUpdateFeedCountRange :one
SELECT ((SELECT count(*) FROM status_updates x
         WHERE x.referring_firm_id = @firm_id AND x.created_at >= @lo::timestamptz AND x.created_at <= @hi::timestamptz
           AND (sqlc.narg(since)::timestamptz IS NULL OR x.created_at > sqlc.narg(since)::timestamptz)
           AND (sqlc.narg(before)::timestamptz IS NULL OR x.created_at < sqlc.narg(before)::timestamptz)
           AND (x.created_at, x.id) > (@after_at::timestamptz, @after_id::uuid))
      + (SELECT count(*) FROM status_updates x
         WHERE x.referent_firm_id = @firm_id AND x.created_at >= @lo::timestamptz AND x.created_at <= @hi::timestamptz
           AND (sqlc.narg(since)::timestamptz IS NULL OR x.created_at > sqlc.narg(since)::timestamptz)
           AND (sqlc.narg(before)::timestamptz IS NULL OR x.created_at < sqlc.narg(before)::timestamptz)
           AND (x.created_at, x.id) > (@after_at::timestamptz, @after_id::uuid)))::bigint AS total;

-- name: StatusUpdateListByReferrals :many
SELECT sqlc.embed(s), r.reference_number AS referral_reference_number
FROM status_updates s
JOIN referrals r ON r.id = s.referral_id
WHERE s.referral_id = ANY(@referral_ids::uuid[])
ORDER BY s.created_at, s.id;
