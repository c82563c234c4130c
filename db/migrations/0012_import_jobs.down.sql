DROP TABLE IF EXISTS import_job_rows;
DROP TABLE IF EXISTS import_jobs;
