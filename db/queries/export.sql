-- CaseExportList pages through the rows of the case export: one per case the firm owns (with its
-- latest referral) and one per referral addressed to the firm (drafts excluded), so a case
-- referred to the firm twice gives two received rows. Filters, search and sort are those of
-- CaseList, applied to each row's own referral; client names are searched only where the firm
-- may see them: its own cases and acknowledged referrals.
-- name: CaseExportList :many
WITH visible AS (
    SELECT c.id AS case_id, lr.id AS referral_id, true AS is_owner
    FROM base_cases c
    LEFT JOIN LATERAL (
        SELECT r.id FROM referrals r WHERE r.base_case_id = c.id
        ORDER BY r.sequence_number DESC LIMIT 1
    ) lr ON true
    WHERE @include_sent::bool AND c.owner_firm_id = @firm_id
    UNION ALL
    SELECT r.base_case_id AS case_id, r.id AS referral_id, false AS is_owner
    FROM referrals r
    WHERE @include_received::bool AND r.referent_firm_id = @firm_id AND r.status <> 'draft'
)
-- A case without referrals has the nil UUID as referral_id.
SELECT v.case_id, COALESCE(v.referral_id, '00000000-0000-0000-0000-000000000000'::uuid)::uuid AS referral_id, v.is_owner,
       count(*) OVER () AS total
FROM visible v
JOIN base_cases c ON c.id = v.case_id
LEFT JOIN referrals r ON r.id = v.referral_id
LEFT JOIN firms pf ON pf.id = CASE WHEN v.is_owner THEN r.referent_firm_id ELSE c.owner_firm_id END
WHERE (sqlc.narg(status)::text IS NULL OR COALESCE(r.status, 'draft') = sqlc.narg(status)::text)
  AND (sqlc.narg(closing_status)::text IS NULL OR r.closing_status = sqlc.narg(closing_status)::text)
  AND (sqlc.narg(created_from)::timestamptz IS NULL OR c.created_at >= sqlc.narg(created_from)::timestamptz)
  AND (sqlc.narg(created_before)::timestamptz IS NULL OR c.created_at < sqlc.narg(created_before)::timestamptz)
  AND (sqlc.narg(search)::text IS NULL
       OR c.title ILIKE sqlc.narg(search)::text
       OR c.reference_number ILIKE sqlc.narg(search)::text
       OR r.reference_number ILIKE sqlc.narg(search)::text
       OR pf.name ILIKE sqlc.narg(search)::text
       OR ((v.is_owner OR r.acknowledged_at IS NOT NULL)
           AND (c.client_first_name ILIKE sqlc.narg(search)::text
                OR c.client_last_name ILIKE sqlc.narg(search)::text
                OR (c.client_first_name || ' ' || c.client_last_name) ILIKE sqlc.narg(search)::text)))
ORDER BY
    CASE WHEN @sort::text = 'createdAt' AND @descending::bool THEN c.created_at END DESC,
    CASE WHEN @sort::text = 'createdAt' AND NOT @descending::bool THEN c.created_at END ASC,
    CASE WHEN @sort::text = 'updatedAt' AND @descending::bool THEN c.updated_at END DESC,
    CASE WHEN @sort::text = 'updatedAt' AND NOT @descending::bool THEN c.updated_at END ASC,
    CASE WHEN @sort::text = 'title' AND @descending::bool THEN lower(c.title) END DESC,
    CASE WHEN @sort::text = 'title' AND NOT @descending::bool THEN lower(c.title) END ASC,
    CASE WHEN @sort::text = 'referenceNumber' AND @descending::bool THEN c.reference_number END DESC,
    CASE WHEN @sort::text = 'referenceNumber' AND NOT @descending::bool THEN c.reference_number END ASC,
    CASE WHEN @sort::text = 'status' AND @descending::bool THEN COALESCE(r.status, 'draft') END DESC,
    CASE WHEN @sort::text = 'status' AND NOT @descending::bool THEN COALESCE(r.status, 'draft') END ASC,
    CASE WHEN @descending::bool THEN c.id END DESC,
    CASE WHEN NOT @descending::bool THEN c.id END ASC,
    CASE WHEN @descending::bool THEN r.sequence_number END DESC,
    CASE WHEN NOT @descending::bool THEN r.sequence_number END ASC
LIMIT @row_limit OFFSET @row_offset;
