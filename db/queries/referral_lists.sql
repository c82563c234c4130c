-- Referral lists: one static query per sort key and direction, each read by an index
-- range scan of row_limit rows (offset pages) or from a keyset position (cursor pages). Totals come
-- from list_counts (migration 0016). The Go side (internal/referrals/referral_lists.go) picks the query.

-- ReceivedListUpdatedDesc: received referrals by updated desc.
-- name: ReceivedListUpdatedDesc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
ORDER BY r.updated_at DESC, r.id DESC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedListUpdatedDescKey: received referrals by updated desc, after a keyset position.
-- name: ReceivedListUpdatedDescKey :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (r.updated_at, r.id) < (@k_ts::timestamptz, @k_id::uuid)
ORDER BY r.updated_at DESC, r.id DESC
LIMIT @row_limit;

-- ReceivedListUpdatedAsc: received referrals by updated asc.
-- name: ReceivedListUpdatedAsc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
ORDER BY r.updated_at ASC, r.id ASC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedListUpdatedAscKey: received referrals by updated asc, after a keyset position.
-- name: ReceivedListUpdatedAscKey :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (r.updated_at, r.id) > (@k_ts::timestamptz, @k_id::uuid)
ORDER BY r.updated_at ASC, r.id ASC
LIMIT @row_limit;

-- ReceivedListStatusDesc: received referrals by status desc.
-- name: ReceivedListStatusDesc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
ORDER BY r.status DESC, r.updated_at DESC, r.id DESC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedListStatusDescKey: received referrals by status desc, after a keyset position.
-- name: ReceivedListStatusDescKey :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (r.status, r.updated_at, r.id) < (@k_text::text, @k_ts::timestamptz, @k_id::uuid)
ORDER BY r.status DESC, r.updated_at DESC, r.id DESC
LIMIT @row_limit;

-- ReceivedListStatusAsc: received referrals by status asc.
-- name: ReceivedListStatusAsc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
ORDER BY r.status ASC, r.updated_at ASC, r.id ASC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedListStatusAscKey: received referrals by status asc, after a keyset position.
-- name: ReceivedListStatusAscKey :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (r.status, r.updated_at, r.id) > (@k_text::text, @k_ts::timestamptz, @k_id::uuid)
ORDER BY r.status ASC, r.updated_at ASC, r.id ASC
LIMIT @row_limit;

-- ReceivedListReferenceDesc: received referrals by reference desc.
-- name: ReceivedListReferenceDesc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
ORDER BY r.reference_number DESC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedListReferenceDescKey: received referrals by reference desc, after a keyset position.
-- name: ReceivedListReferenceDescKey :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND r.reference_number < @k_text::text
ORDER BY r.reference_number DESC
LIMIT @row_limit;

-- ReceivedListReferenceAsc: received referrals by reference asc.
-- name: ReceivedListReferenceAsc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
ORDER BY r.reference_number ASC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedListReferenceAscKey: received referrals by reference asc, after a keyset position.
-- name: ReceivedListReferenceAscKey :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND r.reference_number > @k_text::text
ORDER BY r.reference_number ASC
LIMIT @row_limit;

-- ReceivedListStatusUpdatedDesc: received referrals of one status by updated desc.
-- name: ReceivedListStatusUpdatedDesc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
ORDER BY r.updated_at DESC, r.id DESC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedListStatusUpdatedDescKey: received referrals of one status by updated desc, after a keyset position.
-- name: ReceivedListStatusUpdatedDescKey :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND (r.updated_at, r.id) < (@k_ts::timestamptz, @k_id::uuid)
ORDER BY r.updated_at DESC, r.id DESC
LIMIT @row_limit;

-- ReceivedListStatusUpdatedAsc: received referrals of one status by updated asc.
-- name: ReceivedListStatusUpdatedAsc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
ORDER BY r.updated_at ASC, r.id ASC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedListStatusUpdatedAscKey: received referrals of one status by updated asc, after a keyset position.
-- name: ReceivedListStatusUpdatedAscKey :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND (r.updated_at, r.id) > (@k_ts::timestamptz, @k_id::uuid)
ORDER BY r.updated_at ASC, r.id ASC
LIMIT @row_limit;

-- ReceivedListStatusReferenceDesc: received referrals of one status by reference desc.
-- name: ReceivedListStatusReferenceDesc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
ORDER BY r.reference_number DESC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedListStatusReferenceDescKey: received referrals of one status by reference desc, after a keyset position.
-- name: ReceivedListStatusReferenceDescKey :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND r.reference_number < @k_text::text
ORDER BY r.reference_number DESC
LIMIT @row_limit;

-- ReceivedListStatusReferenceAsc: received referrals of one status by reference asc.
-- name: ReceivedListStatusReferenceAsc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
ORDER BY r.reference_number ASC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedListStatusReferenceAscKey: received referrals of one status by reference asc, after a keyset position.
-- name: ReceivedListStatusReferenceAscKey :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND r.reference_number > @k_text::text
ORDER BY r.reference_number ASC
LIMIT @row_limit;

-- ReceivedSearchUpdatedDesc: received referrals matching a search (a BitmapOr of the trigram index on the
-- reference number and the referring-firm index), bounded by the matches.
-- name: ReceivedSearchUpdatedDesc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (lower(r.reference_number) LIKE @pattern::text OR r.referring_firm_id = ANY(@firm_ids::uuid[]))
  AND (@status::text = '' OR r.status = @status::text)
  AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND (NOT @after::bool OR (r.updated_at, r.id) < (@k_ts::timestamptz, @k_id::uuid))
ORDER BY r.updated_at DESC, r.id DESC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedSearchUpdatedAsc: received referrals matching a search (a BitmapOr of the trigram index on the
-- reference number and the referring-firm index), bounded by the matches.
-- name: ReceivedSearchUpdatedAsc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (lower(r.reference_number) LIKE @pattern::text OR r.referring_firm_id = ANY(@firm_ids::uuid[]))
  AND (@status::text = '' OR r.status = @status::text)
  AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND (NOT @after::bool OR (r.updated_at, r.id) > (@k_ts::timestamptz, @k_id::uuid))
ORDER BY r.updated_at ASC, r.id ASC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedSearchStatusDesc: received referrals matching a search (a BitmapOr of the trigram index on the
-- reference number and the referring-firm index), bounded by the matches.
-- name: ReceivedSearchStatusDesc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (lower(r.reference_number) LIKE @pattern::text OR r.referring_firm_id = ANY(@firm_ids::uuid[]))
  AND (@status::text = '' OR r.status = @status::text)
  AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND (NOT @after::bool OR (r.status, r.updated_at, r.id) < (@k_text::text, @k_ts::timestamptz, @k_id::uuid))
ORDER BY r.status DESC, r.updated_at DESC, r.id DESC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedSearchStatusAsc: received referrals matching a search (a BitmapOr of the trigram index on the
-- reference number and the referring-firm index), bounded by the matches.
-- name: ReceivedSearchStatusAsc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (lower(r.reference_number) LIKE @pattern::text OR r.referring_firm_id = ANY(@firm_ids::uuid[]))
  AND (@status::text = '' OR r.status = @status::text)
  AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND (NOT @after::bool OR (r.status, r.updated_at, r.id) > (@k_text::text, @k_ts::timestamptz, @k_id::uuid))
ORDER BY r.status ASC, r.updated_at ASC, r.id ASC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedSearchReferenceDesc: received referrals matching a search (a BitmapOr of the trigram index on the
-- reference number and the referring-firm index), bounded by the matches.
-- name: ReceivedSearchReferenceDesc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (lower(r.reference_number) LIKE @pattern::text OR r.referring_firm_id = ANY(@firm_ids::uuid[]))
  AND (@status::text = '' OR r.status = @status::text)
  AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND (NOT @after::bool OR r.reference_number < @k_text::text)
ORDER BY r.reference_number DESC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedSearchReferenceAsc: received referrals matching a search (a BitmapOr of the trigram index on the
-- reference number and the referring-firm index), bounded by the matches.
-- name: ReceivedSearchReferenceAsc :many
SELECT r.id FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (lower(r.reference_number) LIKE @pattern::text OR r.referring_firm_id = ANY(@firm_ids::uuid[]))
  AND (@status::text = '' OR r.status = @status::text)
  AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND (NOT @after::bool OR r.reference_number > @k_text::text)
ORDER BY r.reference_number ASC
LIMIT @row_limit OFFSET @row_offset;

-- ReceivedSearchCount counts the matches of a search, over the same index-backed condition.
-- name: ReceivedSearchCount :one
SELECT count(*) FROM referrals r
WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
  AND (lower(r.reference_number) LIKE @pattern::text OR r.referring_firm_id = ANY(@firm_ids::uuid[]))
  AND (@status::text = '' OR r.status = @status::text)
  AND (@closing::text = '' OR r.closing_status = @closing::text);

-- FirmIDsByName lists the firms whose name matches a search pattern (the firms table is small).
-- name: FirmIDsByName :many
SELECT id FROM firms WHERE name ILIKE @pattern::text;

-- ListCountTotal reads an exact total of a list from its counters.
-- name: ListCountTotal :one
SELECT COALESCE(sum(n), 0)::bigint FROM list_counts
WHERE firm_id = @firm_id::uuid AND list = @list::text
  AND (@status::text = '' OR status = @status::text)
  AND (@closing::text = '' OR closing_status = @closing::text);

-- PartyList: the referrals a firm is party to, newest first: the sent side's and the received
-- side's index ranges, each cut at offset+limit rows, merged (without the inner limits the planner
-- sorted the whole firm).
-- name: PartyList :many
SELECT x.id FROM (
    (SELECT r.id, r.created_at FROM referrals r
        WHERE r.referring_firm_id = @firm_id::uuid
     ORDER BY r.created_at DESC, r.id DESC LIMIT sqlc.arg(row_window)::int)
    UNION ALL
    (SELECT r.id, r.created_at FROM referrals r
        WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
     ORDER BY r.created_at DESC, r.id DESC LIMIT sqlc.arg(row_window)::int)
) x
ORDER BY x.created_at DESC, x.id DESC
LIMIT @row_limit OFFSET @row_offset;

-- PartyListKey: the referrals a firm is party to, newest first, after a keyset position: a Merge Append of the
-- sent side's and the received side's index ranges.
-- name: PartyListKey :many
SELECT x.id FROM (
    (SELECT r.id, r.created_at FROM referrals r
        WHERE r.referring_firm_id = @firm_id::uuid
          AND (r.created_at, r.id) < (@k_ts::timestamptz, @k_id::uuid)
     ORDER BY r.created_at DESC, r.id DESC LIMIT @row_limit::int)
    UNION ALL
    (SELECT r.id, r.created_at FROM referrals r
        WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
          AND (r.created_at, r.id) < (@k_ts::timestamptz, @k_id::uuid)
     ORDER BY r.created_at DESC, r.id DESC LIMIT @row_limit::int)
) x
ORDER BY x.created_at DESC, x.id DESC
LIMIT @row_limit;

-- PartyListStatus: the referrals a firm is party to in one status, newest first: a Merge Append of the
-- sent side's and the received side's index ranges.
-- name: PartyListStatus :many
SELECT x.id FROM (
    (SELECT r.id, r.created_at FROM referrals r
        WHERE r.referring_firm_id = @firm_id::uuid
          AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
     ORDER BY r.created_at DESC, r.id DESC LIMIT sqlc.arg(row_window)::int)
    UNION ALL
    (SELECT r.id, r.created_at FROM referrals r
        WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
          AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
     ORDER BY r.created_at DESC, r.id DESC LIMIT sqlc.arg(row_window)::int)
) x
ORDER BY x.created_at DESC, x.id DESC
LIMIT @row_limit OFFSET @row_offset;

-- PartyListStatusKey: the referrals a firm is party to in one status, newest first, after a keyset position: a Merge Append of the
-- sent side's and the received side's index ranges.
-- name: PartyListStatusKey :many
SELECT x.id FROM (
    (SELECT r.id, r.created_at FROM referrals r
        WHERE r.referring_firm_id = @firm_id::uuid
          AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
          AND (r.created_at, r.id) < (@k_ts::timestamptz, @k_id::uuid)
     ORDER BY r.created_at DESC, r.id DESC LIMIT @row_limit::int)
    UNION ALL
    (SELECT r.id, r.created_at FROM referrals r
        WHERE r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
          AND r.status = @status::text AND (@closing::text = '' OR r.closing_status = @closing::text)
          AND (r.created_at, r.id) < (@k_ts::timestamptz, @k_id::uuid)
     ORDER BY r.created_at DESC, r.id DESC LIMIT @row_limit::int)
) x
ORDER BY x.created_at DESC, x.id DESC
LIMIT @row_limit;

-- CaseReferralList: the referrals of one case the firm is party to, by sequence number, after
-- after_sequence (0 from the start). A case has few referrals.
-- name: CaseReferralList :many
SELECT r.id FROM referrals r
WHERE r.base_case_id = @base_case_id
  AND (r.referring_firm_id = @firm_id::uuid OR (r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'))
  AND (@status::text = '' OR r.status = @status::text)
  AND (@closing::text = '' OR r.closing_status = @closing::text)
  AND r.sequence_number > @after_sequence::int
ORDER BY r.sequence_number
LIMIT @row_limit OFFSET @row_offset;

-- CaseReferralCount counts the referrals of one case the firm is party to.
-- name: CaseReferralCount :one
SELECT count(*) FROM referrals r
WHERE r.base_case_id = @base_case_id
  AND (r.referring_firm_id = @firm_id::uuid OR (r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'))
  AND (@status::text = '' OR r.status = @status::text)
  AND (@closing::text = '' OR r.closing_status = @closing::text);
