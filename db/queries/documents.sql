-- Documents attached to cases. Who may reach a case's documents: the case owner, and a firm
-- with an acknowledged referral of the case in a working status. Which documents it sees: its
-- own uploads, and the public ones of its partner (see DocumentListForCase).

-- DocumentCaseAccess describes the firm's standing on a case: the owner, whether the firm holds
-- an acknowledged referral of it in a working status, and whether it is a party at all (any
-- non-draft referral addressed to it). No row: the case does not exist.
-- name: DocumentCaseAccess :one
SELECT c.owner_firm_id,
       EXISTS (SELECT 1 FROM referrals r
               WHERE r.base_case_id = c.id AND r.referent_firm_id = @firm_id::uuid
                 AND r.acknowledged_at IS NOT NULL
                 AND r.status = ANY(@working_statuses::text[])
       )::bool AS working,
       EXISTS (SELECT 1 FROM referrals r
               WHERE r.base_case_id = c.id AND r.referent_firm_id = @firm_id::uuid AND r.status <> 'draft'
       )::bool AS party
FROM base_cases c
WHERE c.id = @case_id;

-- DocumentListForCase lists what the firm sees of a case's documents: everything it uploaded,
-- and public documents of its partner. The owner's partners are every receiving firm; a
-- receiving firm's partner is the owner only.
-- name: DocumentListForCase :many
SELECT sqlc.embed(d), f.name AS uploaded_by_firm_name
FROM documents d
JOIN firms f ON f.id = d.uploaded_by_firm_id
WHERE d.base_case_id = @case_id
  AND (d.uploaded_by_firm_id = @firm_id
       OR (d.is_public AND (@is_owner::bool OR d.uploaded_by_firm_id = @owner_firm_id)))
ORDER BY d.created_at DESC, d.id DESC;

-- DocumentGetVisible is one document of the case under the same rule as DocumentListForCase.
-- name: DocumentGetVisible :one
SELECT sqlc.embed(d), f.name AS uploaded_by_firm_name
FROM documents d
JOIN firms f ON f.id = d.uploaded_by_firm_id
WHERE d.id = @id AND d.base_case_id = @case_id
  AND (d.uploaded_by_firm_id = @firm_id
       OR (d.is_public AND (@is_owner::bool OR d.uploaded_by_firm_id = @owner_firm_id)));

-- DocumentGetByStorageKey finds the document behind a signed download link.
-- name: DocumentGetByStorageKey :one
SELECT * FROM documents WHERE storage_key = @storage_key;

-- DocumentInsert records an uploaded file; uploaded_by is the user's e-mail address or, for API
-- key uploads, the key's name.
-- name: DocumentInsert :one
INSERT INTO documents (
    id, base_case_id, storage_key, file_name, mime_type, size_bytes, description, is_public,
    uploaded_by_firm_id, uploaded_by_user_id, uploaded_by_key_id, uploaded_by
) VALUES (
    @id, @base_case_id, @storage_key, @file_name, @mime_type, @size_bytes, sqlc.narg(description), @is_public,
    @uploaded_by_firm_id, sqlc.narg(uploaded_by_user_id), sqlc.narg(uploaded_by_key_id),
    COALESCE((SELECT u.email FROM users u WHERE u.id = sqlc.narg(uploaded_by_user_id)),
             (SELECT k.name FROM api_keys k WHERE k.id = sqlc.narg(uploaded_by_key_id)),
             'unknown')
)
RETURNING id;

-- DocumentDelete removes the row and returns its storage key (no row: already gone).
-- name: DocumentDelete :one
DELETE FROM documents WHERE id = @id RETURNING storage_key;

-- DocumentUploaderName is the uploading firm's name, for the upload e-mail.
-- name: DocumentUploaderName :one
SELECT name FROM firms WHERE id = @id;

-- DocumentWorkingReferrals lists the referrals of a case whose receiving firm sees its
-- documents (acknowledged, in a working status): the firms told about the owner's uploads.
-- name: DocumentWorkingReferrals :many
SELECT r.id, r.reference_number, r.referent_firm_id::uuid AS referent_firm_id
FROM referrals r
WHERE r.base_case_id = @case_id AND r.referent_firm_id IS NOT NULL
  AND r.acknowledged_at IS NOT NULL
  AND r.status = ANY(@working_statuses::text[])
ORDER BY r.sequence_number;

-- DocumentReferralOfFirm is the latest referral of the case addressed to the firm.
-- name: DocumentReferralOfFirm :one
SELECT r.id, r.reference_number FROM referrals r
WHERE r.base_case_id = @case_id AND r.referent_firm_id = @firm_id::uuid
ORDER BY r.sequence_number DESC
LIMIT 1;
