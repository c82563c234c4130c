-- CSV import jobs: large files, or any file the client asks to run in the background,
-- are imported by a worker of the job queue. The upload itself waits in the object store
-- (file_key) until the job finishes.
CREATE TABLE import_jobs (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    firm_id          uuid        NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    -- 'upsert' (POST /import/cases) or 'update' (POST /import/cases/update).
    mode             text        NOT NULL CHECK (mode IN ('upsert', 'update')),
    status           text        NOT NULL DEFAULT 'queued'
                                 CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    -- Who uploaded the file: the rows are written as that caller.
    actor_user_id    uuid,
    actor_key_id     uuid,
    -- Object-store key of the spooled upload; NULL once the job finished and the file is gone.
    file_key         text,
    total_rows       integer     NOT NULL CHECK (total_rows >= 0),
    processed_rows   integer     NOT NULL DEFAULT 0,
    created_count    integer     NOT NULL DEFAULT 0,
    updated_count    integer     NOT NULL DEFAULT 0,
    skipped_count    integer     NOT NULL DEFAULT 0,
    failed_count     integer     NOT NULL DEFAULT 0,
    -- The first row errors ([{row, column, message}], ordered by row) and how many there were.
    errors           jsonb       NOT NULL DEFAULT '[]'::jsonb,
    error_count      integer     NOT NULL DEFAULT 0,
    -- Why a failed job stopped (a problem of the whole file or of the server).
    failure          text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX import_jobs_firm_idx ON import_jobs (firm_id, created_at DESC, id);

-- Rows of a job that wrote a case, recorded in the same transaction as the write: a job run
-- again after a crash skips them, so nothing is created twice and the counts stay exact.
CREATE TABLE import_job_rows (
    job_id  uuid    NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    row_num integer NOT NULL,
    -- 'created' or 'updated'.
    outcome text    NOT NULL CHECK (outcome IN ('created', 'updated')),
    PRIMARY KEY (job_id, row_num)
);
