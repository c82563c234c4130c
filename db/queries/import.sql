-- The CSV import (internal/importer): lookups done once per file, and the stand-ins that write
-- the sending firm's rows (one transaction per row) until internal/referrals exports lean
-- functions for them.

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

-- ---- STAND-IN for the referrals service (see internal/importer/create.go) --------------------
-- The importer creates and updates cases with one statement per row instead of
-- referrals.Service.CreateCase / UpdateCase (about ten round trips per row), so that a
-- 10,000-row file finishes within a request. They write exactly what those write for a draft
-- without referral and for the fields an import sets. To be replaced by exported lean
-- functions of internal/referrals.

-- ImportLockExternalID is BaseCaseLockSalesforceID (same key format "<firm id>/<id>" and lock
-- namespace), so imports and the sent-case routes serialize on the same lock.
-- name: ImportLockExternalID :exec
SELECT pg_advisory_xact_lock(hashtextextended(@lock_key::text, 7301));

-- ImportExternalIDInUse is BaseCaseSalesforceIDInUse: another active case of the firm carries
-- the id.
-- name: ImportExternalIDInUse :one
SELECT EXISTS (
    SELECT 1 FROM base_cases c
    WHERE c.owner_firm_id = @firm_id AND c.salesforce_id = @salesforce_id::text
      AND c.id <> @exclude_id::uuid
      AND COALESCE((SELECT r.status FROM referrals r WHERE r.base_case_id = c.id
                    ORDER BY r.sequence_number DESC LIMIT 1), 'draft')
          NOT IN ('rejected', 'withdrawn', 'closed')
)::bool AS in_use;

-- ImportCaseInsert inserts a draft case. With check_ext it inserts nothing (no row) when another
-- active case of the firm carries the external id (run it after ImportLockExternalID in the same
-- transaction). created_by_user_id is the user or, for API keys, the key's creator.
-- name: ImportCaseInsert :one
INSERT INTO base_cases (
    owner_firm_id, title, description, case_type_id, jurisdiction_code, county,
    client_first_name, client_last_name, client_email, client_phone, client_date_of_birth, incident_date,
    notes, tier, source, custom_fields, salesforce_id, salesforce_object_type, is_retainer_signed,
    created_by_user_id, created_by_key_id
)
SELECT @owner_firm_id, @title, sqlc.narg(description), @case_type_id, @jurisdiction_code, sqlc.narg(county),
       @client_first_name, @client_last_name, sqlc.narg(client_email), sqlc.narg(client_phone),
       sqlc.narg(client_date_of_birth), sqlc.narg(incident_date),
       sqlc.narg(notes), sqlc.narg(tier), sqlc.narg(source), '{}'::jsonb, sqlc.narg(salesforce_id),
       sqlc.narg(salesforce_object_type), @is_retainer_signed,
       COALESCE(sqlc.narg(user_id)::uuid, (SELECT k.created_by FROM api_keys k WHERE k.id = sqlc.narg(key_id)::uuid)),
       sqlc.narg(key_id)::uuid
WHERE NOT (@check_ext::bool AND EXISTS (
    SELECT 1 FROM base_cases c
    WHERE c.owner_firm_id = @owner_firm_id AND c.salesforce_id = sqlc.narg(salesforce_id)::text
      AND COALESCE((SELECT r.status FROM referrals r WHERE r.base_case_id = c.id
                    ORDER BY r.sequence_number DESC LIMIT 1), 'draft')
          NOT IN ('rejected', 'withdrawn', 'closed')))
RETURNING id;

-- ImportCaseCopy writes a batch of new draft cases with COPY (the batched import path; run it
-- after ImportLockExternalIDs and ImportExternalIDsInUse in the same transaction).
-- name: ImportCaseCopy :copyfrom
INSERT INTO base_cases (
    id, owner_firm_id, title, description, case_type_id, jurisdiction_code, county,
    client_first_name, client_last_name, client_email, client_phone, client_date_of_birth, incident_date,
    notes, tier, source, salesforce_id, salesforce_object_type, is_retainer_signed,
    created_by_user_id, created_by_key_id
) VALUES (
    @id, @owner_firm_id, @title, @description, @case_type_id, @jurisdiction_code, @county,
    @client_first_name, @client_last_name, @client_email, @client_phone, @client_date_of_birth, @incident_date,
    @notes, @tier, @source, @salesforce_id, @salesforce_object_type, @is_retainer_signed,
    @created_by_user_id, @created_by_key_id
);

-- ImportCaseUpdate writes the changed cells of an import row to a case the firm owns: a NULL
-- parameter keeps the stored value (an import never clears a field). With a salesforce_id,
-- run it after ImportLockExternalID and ImportExternalIDInUse in the same transaction.
-- name: ImportCaseUpdate :execrows
UPDATE base_cases SET
    title = COALESCE(sqlc.narg(title)::text, title),
    description = COALESCE(sqlc.narg(description)::text, description),
    county = COALESCE(sqlc.narg(county)::text, county),
    client_first_name = COALESCE(sqlc.narg(client_first_name)::text, client_first_name),
    client_last_name = COALESCE(sqlc.narg(client_last_name)::text, client_last_name),
    client_email = COALESCE(sqlc.narg(client_email)::text, client_email),
    client_phone = COALESCE(sqlc.narg(client_phone)::text, client_phone),
    client_date_of_birth = COALESCE(sqlc.narg(client_date_of_birth)::date, client_date_of_birth),
    incident_date = COALESCE(sqlc.narg(incident_date)::date, incident_date),
    notes = COALESCE(sqlc.narg(notes)::text, notes),
    tier = COALESCE(sqlc.narg(tier)::integer, tier),
    source = COALESCE(sqlc.narg(source)::text, source),
    salesforce_id = COALESCE(sqlc.narg(salesforce_id)::text, salesforce_id),
    salesforce_object_type = COALESCE(sqlc.narg(salesforce_object_type)::text, salesforce_object_type),
    updated_at = now()
WHERE id = @id AND owner_firm_id = @firm_id;

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

-- ---- Batched creation (internal/importer/batch.go) -----------------------------------------

-- ImportLockExternalIDs takes ImportLockExternalID's lock for each key, in the order given
-- (callers sort the keys, so two batches never wait on each other in a cycle).
-- name: ImportLockExternalIDs :exec
SELECT pg_advisory_xact_lock(hashtextextended(k, 7301)) FROM unnest(@lock_keys::text[]) AS k;

-- ImportExternalIDsInUse returns which of the ids an active case of the firm already carries.
-- name: ImportExternalIDsInUse :many
SELECT DISTINCT c.salesforce_id::text AS ext
FROM base_cases c
WHERE c.owner_firm_id = @firm_id AND c.salesforce_id = ANY(@exts::text[])
  AND COALESCE((SELECT r.status FROM referrals r WHERE r.base_case_id = c.id
                ORDER BY r.sequence_number DESC LIMIT 1), 'draft')
      NOT IN ('rejected', 'withdrawn', 'closed');

-- ImportKeyCreator is the user who created an API key (cases created through the key name them).
-- name: ImportKeyCreator :one
SELECT k.created_by FROM api_keys k WHERE k.id = @id;
