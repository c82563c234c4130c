// Package jobs runs background work on a PostgreSQL-backed queue (River). Domain code enqueues
// jobs inside its own transaction with InsertTx, so a job exists if and only if the change that
// caused it committed; the workers of this process pick jobs up after the commit, and River
// retries failed ones with exponential backoff (attempt^4 seconds: 1 s, 16 s, 81 s, ...).
//
// River keeps its own tables (river_job, river_leader, ...), created by Migrate with River's
// migrator rather than by our SQL migrations: River versions its schema itself, and its
// migrator knows how to move between its versions.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// fetchCooldown is the least time between two fetches of the producer. River's default, 100 ms,
// caps a process at about MaxWorkers jobs per 100 ms however short the jobs are: a fetch takes
// only the slots free at that moment, and the slots freed after it wait for the next one. With 4
// workers that was 25-35 webhook deliveries per second, before and after a failover alike, and
// the failover drill's load (150-200 deliveries per second) left a backlog of ~3,000 that took
// over 100 s to drain (docs/ha-drills.md). At 10 ms the slots are refilled as they free, and
// the fetch (one indexed UPDATE ... SKIP LOCKED) runs only while jobs are due.
const fetchCooldown = 10 * time.Millisecond

// Config tunes the client. Every field has a default.
type Config struct {
	// MaxWorkers is how many jobs this process works at once (default 4).
	MaxWorkers int
	// MaxAttempts is the default number of attempts of a job before River discards it
	// (default 10: with River's backoff, retries span about four hours). Job kinds may set
	// their own through InsertOpts.
	MaxAttempts int
	// PollInterval is how often workers look for jobs when no notification arrives (default
	// 1 s). New jobs normally start at once through LISTEN/NOTIFY.
	PollInterval time.Duration
	// RetryPolicy decides when a failed job runs again; nil means River's default
	// exponential backoff.
	RetryPolicy river.ClientRetryPolicy
	// RetryDelay, when positive and RetryPolicy is nil, runs every retry this long after the
	// failure (tests; see FixedRetry).
	RetryDelay time.Duration
	// TestOnly makes starting and stopping fast (no jittered start of maintenance services).
	TestOnly bool
	// Periodic are jobs enqueued on a schedule. Only the elected leader among the processes
	// sharing the queue enqueues them, so each runs once per period however many replicas run.
	Periodic []*river.PeriodicJob
}

func (c *Config) setDefaults() {
	if c.MaxWorkers <= 0 {
		c.MaxWorkers = 4
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.RetryPolicy == nil && c.RetryDelay > 0 {
		c.RetryPolicy = FixedRetry(c.RetryDelay)
	}
}

// FixedRetry is a retry policy that runs a failed job again d after its failure, whatever the
// attempt. Meant for tests, where River's backoff (16 s before the third attempt) is too slow.
type FixedRetry time.Duration

// NextRetry implements river.ClientRetryPolicy.
func (d FixedRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Duration(d)) }

// Register adds workers to the bundle a Client works. Domains provide one, e.g.
// notify.Workers(mailer).
type Register func(*river.Workers)

// Client enqueues and works jobs.
type Client struct {
	rc   *river.Client[pgx.Tx]
	resc *rescuer // puts back jobs left running by a dead process or a lost outcome (rescue.go)

	stopResc func()        // ends the rescuer and the watchdog started by Start
	rescDone chan struct{} // closed when the rescuer has ended (its connection closed)
	wd       *watchdog     // restarts a stalled River client (watchdog.go)
	wdDone   chan struct{} // closed when the watchdog has ended
	log      *slog.Logger
}

// New builds a client over pool with the workers that register adds. It neither migrates
// (see Migrate) nor starts working (see Start): a process that only enqueues never calls
// Start.
func New(pool *pgxpool.Pool, log *slog.Logger, cfg Config, register ...Register) (*Client, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg.setDefaults()
	workers := river.NewWorkers()
	for _, r := range register {
		r(workers)
	}
	resc := newRescuer(pool, log)
	rcfg := &river.Config{
		ID:                resc.id,
		Middleware:        []rivertype.Middleware{resc},
		Logger:            log.With("component", "jobs"),
		MaxAttempts:       cfg.MaxAttempts,
		FetchPollInterval: cfg.PollInterval,
		RetryPolicy:       cfg.RetryPolicy,
		TestOnly:          cfg.TestOnly,
		Workers:           workers,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}},
		// A job that still runs after a minute is cancelled and retried.
		JobTimeout:      time.Minute,
		ErrorHandler:    &errorLogger{log: log},
		SoftStopTimeout: 15 * time.Second,
		// Finished jobs are kept only briefly: their arguments hold what the job needed (an
		// invitation link, for one), which should not linger in the database.
		CompletedJobRetentionPeriod: time.Hour,
		PeriodicJobs:                cfg.Periodic,
	}
	rcfg.FetchCooldown = min(fetchCooldown, cfg.PollInterval)
	rc, err := river.NewClient(riverpgxv5.New(pool), rcfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: new client: %w", err)
	}
	return &Client{rc: rc, resc: resc, log: log, wd: &watchdog{every: watchInterval, stall: stallAfter, stopWait: stopWait, slots: cfg.MaxWorkers}}, nil
}

// Start begins working jobs in the background until Stop, or until ctx is cancelled (which
// also cancels running jobs).
func (c *Client) Start(ctx context.Context) error {
	if err := c.rc.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	c.stopResc, c.rescDone, c.wdDone = cancel, make(chan struct{}), make(chan struct{})
	c.resc.lastStart.Store(time.Now().UnixNano())
	go func() { defer close(c.rescDone); c.resc.run(rctx) }()
	go func() { defer close(c.wdDone); c.watch(rctx, ctx) }()
	return nil
}

// Stop stops fetching jobs and waits for running ones to finish, until ctx ends. It is a
// no-op for a client that never started.
func (c *Client) Stop(ctx context.Context) error {
	if c.stopResc != nil {
		c.stopResc()
		<-c.rescDone
		<-c.wdDone
	}
	if err := c.rc.Stop(ctx); err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// InsertTx enqueues one job inside the caller's transaction: it becomes visible to workers
// when tx commits and disappears if tx rolls back. opts may be nil.
func (c *Client) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := c.rc.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// InsertManyTx enqueues several jobs inside the caller's transaction in one statement.
func (c *Client) InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	if _, err := c.rc.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("jobs: insert %d jobs: %w", len(params), err)
	}
	return nil
}

// River returns the underlying River client, for tests and tools (subscribing to job events,
// listing jobs).
func (c *Client) River() *river.Client[pgx.Tx] { return c.rc }

// errorLogger logs job failures. River records the error on the job row and schedules the
// retry itself; this only makes failures visible in the process log.
type errorLogger struct{ log *slog.Logger }

func (e *errorLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	level := slog.LevelWarn
	if job.Attempt >= job.MaxAttempts || errors.Is(err, river.ErrJobCancelledRemotely) {
		level = slog.LevelError
	}
	e.log.Log(ctx, level, "job failed", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt,
		"max_attempts", job.MaxAttempts, "error", err.Error())
	return nil
}

func (e *errorLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	e.log.ErrorContext(ctx, "job panicked", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt,
		"panic", fmt.Sprint(panicVal), "trace", trace)
	return nil
}

// migrateLockKey serializes River migrations across processes starting together (River's
// migrator takes no lock of its own). Advisory locks are per database.
const migrateLockKey int64 = 0x6358_7269_7665_726d // "cXriverm"

// Migrate creates or upgrades River's tables to the version this binary was built with. It is
// idempotent and cheap when nothing is pending, so it runs at every start.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("jobs: migrate lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey)
	}()
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("jobs: migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate river schema: %w", err)
	}
	return nil
}
