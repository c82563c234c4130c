-- The CSV import (internal/importer): lookups done once per file and the import jobs. Cases are
-- written by internal/referrals (CreateCasesTx, UpdateCaseTx), never from here.

-- ImportCasesByExternalIDs preloads the firm's active cases carrying any of the external ids
-- of a file (one query instead of one per row), newest first.
-- name: ImportCasesByExternalIDs :many
SELECT c.id, c.salesforce_id, c.cms_id
FROM base_cases c
WHERE c.owner_firm_id = @firm_id
  AND (c.salesforce_id = ANY(@exts::text[]) OR c.cms_id = ANY(@exts::text[]))
  AND COALESCE((SELECT r.status FROM referrals r WHERE r.base_case_id = c.id
                ORDER BY r.sequence_number DESC LIMIT 1), 'draft')
      NOT IN ('rejected', 'withdrawn', 'closed')
ORDER BY c.created_at DESC, c.id;

-- ImportCasesByReferences preloads the cases the firm may see named by any of the reference
-- numbers of a file (the case's own or one of its referrals').
-- name: ImportCasesByReferences :many
SELECT c.reference_number AS ref, c.id
FROM base_cases c
WHERE c.reference_number = ANY(@refs::text[])
  AND (c.owner_firm_id = @firm_id
       OR EXISTS (SELECT 1 FROM referrals r
                  WHERE r.base_case_id = c.id AND r.referent_firm_id = @firm_id AND r.status <> 'draft'))
UNION ALL
SELECT r.reference_number AS ref, c.id
FROM referrals r
JOIN base_cases c ON c.id = r.base_case_id
WHERE r.reference_number = ANY(@refs::text[])
  AND (c.owner_firm_id = @firm_id
       OR EXISTS (SELECT 1 FROM referrals r2
                  WHERE r2.base_case_id = c.id AND r2.referent_firm_id = @firm_id AND r2.status <> 'draft'));

-- ImportCaseSnapshot reads what an import row is compared with, for the firm that owns the case
-- (other firms read the case through the referrals service, which masks it for them).
-- referred: the case has been sent to another firm at least once.
-- name: ImportCaseSnapshot :one
SELECT c.owner_firm_id, c.title, c.description, c.case_type_id, c.jurisdiction_code, c.county,
       c.client_first_name, c.client_last_name, c.client_email, c.client_phone,
       c.client_date_of_birth, c.incident_date, c.notes, c.tier, c.source,
       c.salesforce_id, c.salesforce_object_type, c.cms_id,
       EXISTS (SELECT 1 FROM referrals r WHERE r.base_case_id = c.id AND r.status <> 'draft')::bool AS referred
FROM base_cases c
WHERE c.id = @id;

-- ---- Import jobs (files imported in the background) ----------------------------------------

-- name: ImportJobInsert :one
INSERT INTO import_jobs (id, firm_id, mode, actor_user_id, actor_key_id, file_key, total_rows)
VALUES (@id, @firm_id, @mode, sqlc.narg(actor_user_id), sqlc.narg(actor_key_id), @file_key, @total_rows)
RETURNING *;

-- ImportJobGet reads a job of a firm (another firm's job is no row). Jobs finished more than
-- 30 days ago (importer.JobRetention) are gone for the API, even before ImportJobsPrune runs.
-- name: ImportJobGet :one
SELECT * FROM import_jobs WHERE id = @id AND firm_id = @firm_id
  AND (finished_at IS NULL OR finished_at >= now() - interval '30 days');

-- ImportJobGetByID reads a job for its worker.
-- name: ImportJobGetByID :one
SELECT * FROM import_jobs WHERE id = @id;

-- name: ImportJobList :many
SELECT * FROM import_jobs WHERE firm_id = @firm_id
  AND (finished_at IS NULL OR finished_at >= now() - interval '30 days')
ORDER BY created_at DESC, id DESC
LIMIT @lim OFFSET @off;

-- name: ImportJobCount :one
SELECT count(*) FROM import_jobs WHERE firm_id = @firm_id
  AND (finished_at IS NULL OR finished_at >= now() - interval '30 days');

-- ImportJobStart marks a job running (again, after a crash); no row when it already finished.
-- name: ImportJobStart :one
UPDATE import_jobs SET status = 'running', started_at = COALESCE(started_at, now())
WHERE id = @id AND status IN ('queued', 'running')
RETURNING *;

-- ImportJobProgress records how far a running job got.
-- name: ImportJobProgress :exec
UPDATE import_jobs SET processed_rows = @processed_rows, created_count = @created_count,
    updated_count = @updated_count, skipped_count = @skipped_count, failed_count = @failed_count,
    errors = @errors, error_count = @error_count
WHERE id = @id AND status = 'running';

-- ImportJobFinish records the outcome of a job and forgets its file.
-- name: ImportJobFinish :exec
UPDATE import_jobs SET status = @status, processed_rows = @processed_rows, created_count = @created_count,
    updated_count = @updated_count, skipped_count = @skipped_count, failed_count = @failed_count,
    errors = @errors, error_count = @error_count, failure = sqlc.narg(failure),
    finished_at = now(), file_key = NULL
WHERE id = @id AND status IN ('queued', 'running');

-- ImportJobRowsDone lists the rows of a job that already wrote their case.
-- name: ImportJobRowsDone :many
SELECT row_num, outcome FROM import_job_rows WHERE job_id = @job_id;

-- ImportJobRowsMark records rows of a job that wrote their case, in the transaction of the write.
-- name: ImportJobRowsMark :exec
INSERT INTO import_job_rows (job_id, row_num, outcome)
SELECT @job_id::uuid, unnest(@row_nums::int[]), unnest(@outcomes::text[]);

-- name: ImportJobRowsDelete :exec
DELETE FROM import_job_rows WHERE job_id = @job_id;

-- ImportJobsPrune deletes a firm's jobs that finished before the cutoff.
-- name: ImportJobsPrune :exec
DELETE FROM import_jobs WHERE firm_id = @firm_id AND finished_at < @before;
