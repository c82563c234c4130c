package importer

// Import jobs: a file over HTTPMaxRows data rows (or any file whose uploader asks) is checked
// as a whole at upload, spooled to the object store, and imported by a worker of the job
// queue, which may run in any process of the deployment. The worker writes its progress to the
// job row as it goes. Each row that writes a case is recorded in import_job_rows in the same
// transaction, so a job that is run again after a crash skips the rows already written: no
// case is created twice and the counts stay exact.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/ptr"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/storage"
)

// Job settings.
const (
	// JobMaxErrors is how many row errors a job keeps (those of the lowest rows).
	JobMaxErrors = 1000
	// JobRetention is how long a finished job stays listed.
	JobRetention = 30 * 24 * time.Hour
	// jobProgressEvery is how often (in rows) a running job records its progress.
	jobProgressEvery = 500
	// jobMaxAttempts bounds the runs of one job (a crash or lost connection starts another).
	jobMaxAttempts = 5
)

// JobStatus is the state of an import job.
type JobStatus string

// Job states.
const (
	JobQueued    JobStatus = "queued"
	JobRunning   JobStatus = "running"
	JobSucceeded JobStatus = "succeeded"
	JobFailed    JobStatus = "failed"
)

// Job is an import running (or run) in the background.
type Job struct {
	ID            uuid.UUID
	Mode          Mode
	Status        JobStatus
	TotalRows     int
	ProcessedRows int
	Created       int
	Updated       int
	Skipped       int
	Failed        int
	Errors        []RowError // the first JobMaxErrors, ordered by row
	ErrorCount    int        // all row errors found so far
	Failure       *string    // why a failed job stopped
	CreatedAt     time.Time
	StartedAt     *time.Time
	FinishedAt    *time.Time
}

// Queue is the job queue import jobs are enqueued on (jobs.Client).
type Queue interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// UseJobs lets the service run imports in the background: uploads are spooled to store and
// jobs enqueued on queue. Without it, Submit only imports synchronously.
func (s *Service) UseJobs(queue Queue, store storage.Store) {
	s.queue, s.store = queue, store
}

func (m Mode) String() string {
	if m == UpdateOnly {
		return "update"
	}
	return "upsert"
}

func modeOf(s string) Mode {
	if s == "update" {
		return UpdateOnly
	}
	return Upsert
}

// Submit imports the CSV in r for actor's firm with the HTTP limits. A file of at most
// HTTPMaxRows data rows is imported at once unless async is set, and its Result returned; any
// other file becomes a job, returned instead (nil Result). Whole-file problems are returned as
// by Run (apperr.ErrValidation on body.file, apperr.ErrTooLarge) and create no job;
// apperr.ErrUnavailable when jobs are not configured.
func (s *Service) Submit(ctx context.Context, actor auth.Actor, mode Mode, r io.Reader, async bool) (*Result, *Job, error) {
	sp, err := prepare(r, mode, Options{MaxBytes: HTTPMaxBytes})
	if err != nil {
		return nil, nil, err
	}
	defer sp.close()
	if !async && sp.total <= HTTPMaxRows {
		res, err := s.runSpool(ctx, actor, mode, sp, runConfig{})
		if err != nil {
			return nil, nil, err
		}
		return &res, nil, nil
	}
	if s.queue == nil || s.store == nil {
		return nil, nil, apperr.Unavailable("background imports are not available", nil)
	}
	id := uuid.New()
	key := "imports/" + actor.FirmID.String() + "/" + id.String() + ".csv"
	fi, err := sp.f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("import: stat spool: %w", err)
	}
	if err := s.store.Put(ctx, key, sp.f, fi.Size(), "text/csv"); err != nil {
		return nil, nil, fmt.Errorf("import: spool the file: %w", err)
	}
	var row db.ImportJob
	err = postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.ImportJobsPrune(ctx, db.ImportJobsPruneParams{FirmID: actor.FirmID, Before: ptr.To(time.Now().Add(-JobRetention))}); err != nil {
			return fmt.Errorf("prune jobs: %w", err)
		}
		var err error
		row, err = q.ImportJobInsert(ctx, db.ImportJobInsertParams{
			ID: id, FirmID: actor.FirmID, Mode: mode.String(), ActorUserID: actor.UserID, ActorKeyID: actor.KeyID,
			FileKey: &key, TotalRows: int32(sp.total),
		})
		if err != nil {
			return fmt.Errorf("insert job: %w", err)
		}
		return s.queue.InsertTx(ctx, tx, jobArgs{JobID: id}, &river.InsertOpts{MaxAttempts: jobMaxAttempts})
	})
	if err != nil {
		_ = s.store.Delete(context.WithoutCancel(ctx), key)
		return nil, nil, postgres.InterpretError(err)
	}
	j, err := jobOf(row)
	if err != nil {
		return nil, nil, err
	}
	return nil, &j, nil
}

// Job returns a job of firm; apperr.ErrNotFound when the firm has none with this id.
func (s *Service) Job(ctx context.Context, firm, id uuid.UUID) (Job, error) {
	row, err := db.New(s.pool).ImportJobGet(ctx, db.ImportJobGetParams{ID: id, FirmID: firm})
	if errors.Is(err, pgx.ErrNoRows) {
		return Job{}, apperr.NotFound("import job")
	}
	if err != nil {
		return Job{}, postgres.InterpretError(err)
	}
	return jobOf(row)
}

// Jobs lists one page of firm's jobs, newest first, and how many there are.
func (s *Service) Jobs(ctx context.Context, firm uuid.UUID, page, limit int) ([]Job, int64, error) {
	q := db.New(s.pool)
	total, err := q.ImportJobCount(ctx, firm)
	if err != nil {
		return nil, 0, postgres.InterpretError(err)
	}
	rows, err := q.ImportJobList(ctx, db.ImportJobListParams{FirmID: firm, Lim: int32(limit), Off: int32((page - 1) * limit)})
	if err != nil {
		return nil, 0, postgres.InterpretError(err)
	}
	out := make([]Job, 0, len(rows))
	for _, r := range rows {
		j, err := jobOf(r)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, j)
	}
	return out, total, nil
}

type jsonRowError struct {
	Row     int     `json:"row"`
	Column  *string `json:"column"`
	Message string  `json:"message"`
}

func jobOf(r db.ImportJob) (Job, error) {
	j := Job{
		ID: r.ID, Mode: modeOf(r.Mode), Status: JobStatus(r.Status), TotalRows: int(r.TotalRows),
		ProcessedRows: int(r.ProcessedRows), Created: int(r.CreatedCount), Updated: int(r.UpdatedCount),
		Skipped: int(r.SkippedCount), Failed: int(r.FailedCount), ErrorCount: int(r.ErrorCount),
		Failure: r.Failure, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Errors: []RowError{},
	}
	var errs []jsonRowError
	if err := json.Unmarshal(r.Errors, &errs); err != nil {
		return Job{}, fmt.Errorf("import job %s: errors: %w", r.ID, err)
	}
	for _, e := range errs {
		j.Errors = append(j.Errors, RowError(e))
	}
	return j, nil
}

func errorsJSON(errs []RowError) []byte {
	out := make([]jsonRowError, len(errs))
	for i, e := range errs {
		out[i] = jsonRowError(e)
	}
	b, _ := json.Marshal(out)
	return b
}

// ---- the worker -----------------------------------------------------------------------------

type jobArgs struct {
	JobID uuid.UUID `json:"jobId"`
}

func (jobArgs) Kind() string { return "import_cases" }

// Worker works import jobs on the job queue. It is registered with the queue (Register) before
// the Service exists, and serves the Service given to Use.
type Worker struct {
	mu  sync.Mutex
	svc *Service
}

// Register adds the worker to a job queue's workers (a jobs.Register).
func (w *Worker) Register(ws *river.Workers) { river.AddWorker(ws, &jobWorker{w: w}) }

// Use sets the service whose jobs the worker runs.
func (w *Worker) Use(s *Service) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.svc = s
}

type jobWorker struct {
	river.WorkerDefaults[jobArgs]
	w *Worker
}

// Timeout lets a job take as long as a 20 MB file needs (the queue's default is a minute; a
// 20 MB file takes a minute or two), staying under River's rescue of stuck jobs (an hour), so
// a job is never rescued while it still runs.
func (*jobWorker) Timeout(*river.Job[jobArgs]) time.Duration { return 30 * time.Minute }

func (jw *jobWorker) Work(ctx context.Context, job *river.Job[jobArgs]) error {
	jw.w.mu.Lock()
	s := jw.w.svc
	jw.w.mu.Unlock()
	if s == nil {
		return errors.New("import worker: no import service yet")
	}
	return s.work(ctx, job.Args.JobID, job.Attempt >= job.MaxAttempts)
}

// work runs (or resumes) one job. An error asks the queue to run it again later; on the last
// attempt the job is marked failed instead.
func (s *Service) work(ctx context.Context, id uuid.UUID, last bool) error {
	q := db.New(s.pool)
	row, err := q.ImportJobStart(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // finished (or deleted) already
	}
	if err != nil {
		return fmt.Errorf("import job %s: start: %w", id, err)
	}
	fail := func(msg string) error {
		return s.finishJob(ctx, row, JobFailed, Result{TotalRows: int(row.TotalRows)}, &msg)
	}
	if row.FileKey == nil || s.store == nil {
		return fail("the uploaded file is no longer available")
	}
	rc, _, err := s.store.Get(ctx, *row.FileKey)
	if errors.Is(err, storage.ErrNotExist) {
		return fail("the uploaded file is no longer available")
	}
	if err != nil {
		return s.retryOrFail(ctx, row, last, fmt.Errorf("open file: %w", err))
	}
	sp, err := prepare(rc, modeOf(row.Mode), Options{MaxBytes: HTTPMaxBytes})
	_ = rc.Close()
	if err != nil {
		if ae, ok := apperr.As(err); ok && (errors.Is(err, apperr.ErrValidation) || errors.Is(err, apperr.ErrTooLarge)) {
			msg := ae.Message
			for _, d := range ae.Details {
				msg += ": " + d.Message
			}
			return fail(msg)
		}
		return s.retryOrFail(ctx, row, last, err)
	}
	defer sp.close()

	doneRows, err := q.ImportJobRowsDone(ctx, id)
	if err != nil {
		return s.retryOrFail(ctx, row, last, fmt.Errorf("rows done: %w", err))
	}
	done := make(map[int]outcomeKind, len(doneRows))
	for _, d := range doneRows {
		done[int(d.RowNum)] = outcomeCreated
		if d.Outcome == "updated" {
			done[int(d.RowNum)] = outcomeUpdated
		}
	}
	actor := auth.Actor{FirmID: row.FirmID, UserID: row.ActorUserID, KeyID: row.ActorKeyID, Source: referrals.SourceAPI}
	report := func(res *Result, n int) {
		if n%jobProgressEvery != 0 || n == 0 || n == sp.total {
			return
		}
		if err := q.ImportJobProgress(ctx, db.ImportJobProgressParams{
			ID: id, ProcessedRows: int32(n), CreatedCount: int32(res.Created), UpdatedCount: int32(res.Updated),
			SkippedCount: int32(res.Skipped), FailedCount: int32(res.Failed),
			Errors: errorsJSON(lowestRows(res.Errors, JobMaxErrors)), ErrorCount: int32(res.ErrorCount),
		}); err != nil {
			s.log.Warn("import job: recording progress failed", "job_id", id.String(), "error", err.Error())
		}
		if s.onJobProgress != nil {
			s.onJobProgress(n)
		}
	}
	res, err := s.runSpool(ctx, actor, modeOf(row.Mode), sp, runConfig{report: report, maxErrors: JobMaxErrors, job: &id, done: done})
	if err != nil {
		return s.retryOrFail(ctx, row, last, err)
	}
	return s.finishJob(ctx, row, JobSucceeded, res, nil)
}

func (s *Service) retryOrFail(ctx context.Context, row db.ImportJob, last bool, err error) error {
	s.log.Error("import job failed", "job_id", row.ID.String(), "last_attempt", last, "error", err.Error())
	if !last {
		return err
	}
	msg := "the import stopped because of an internal error"
	res := Result{TotalRows: int(row.TotalRows)}
	// Keep the counts of the rows written so far (they are recorded with the rows).
	if cur, gerr := db.New(s.pool).ImportJobGetByID(ctx, row.ID); gerr == nil {
		res.Created, res.Updated, res.Skipped, res.Failed = int(cur.CreatedCount), int(cur.UpdatedCount), int(cur.SkippedCount), int(cur.FailedCount)
		res.ErrorCount = int(cur.ErrorCount)
		if j, jerr := jobOf(cur); jerr == nil {
			res.Errors = j.Errors
		}
		return s.finishJobAt(ctx, row, JobFailed, res, int(cur.ProcessedRows), &msg)
	}
	return s.finishJob(ctx, row, JobFailed, res, &msg)
}

func (s *Service) finishJob(ctx context.Context, row db.ImportJob, status JobStatus, res Result, failure *string) error {
	processed := res.Created + res.Updated + res.Skipped + res.Failed
	return s.finishJobAt(ctx, row, status, res, processed, failure)
}

// finishJobAt records the outcome, then drops the job's row records and its file.
func (s *Service) finishJobAt(ctx context.Context, row db.ImportJob, status JobStatus, res Result, processed int, failure *string) error {
	ctx = context.WithoutCancel(ctx)
	errs := res.Errors
	if errs == nil {
		errs = []RowError{}
	}
	err := postgres.WithTx(ctx, s.pool, func(q *db.Queries) error {
		if err := q.ImportJobFinish(ctx, db.ImportJobFinishParams{
			ID: row.ID, Status: string(status), ProcessedRows: int32(processed),
			CreatedCount: int32(res.Created), UpdatedCount: int32(res.Updated), SkippedCount: int32(res.Skipped),
			FailedCount: int32(res.Failed), Errors: errorsJSON(errs), ErrorCount: int32(max(res.ErrorCount, len(errs))),
			Failure: failure,
		}); err != nil {
			return err
		}
		return q.ImportJobRowsDelete(ctx, row.ID)
	})
	if err != nil {
		return fmt.Errorf("import job %s: finish: %w", row.ID, err)
	}
	if row.FileKey != nil && s.store != nil {
		if err := s.store.Delete(ctx, *row.FileKey); err != nil && !errors.Is(err, storage.ErrNotExist) {
			s.log.Warn("import job: deleting the spooled file failed", "job_id", row.ID.String(), "key", *row.FileKey, "error", err.Error())
		}
	}
	if status == JobFailed && failure != nil {
		s.log.Warn("import job failed", "job_id", row.ID.String(), "failure", strings.TrimSpace(*failure))
	}
	return nil
}
