package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// River marks a job "running" when a process fetches it and rescues a job left in that state
// only after an hour (RescueStuckJobsAfter; our import jobs may run 30 minutes, so it cannot be
// much shorter). Two things leave a job "running" that nobody works (found by the HA drills,
// docs/ha-drills.md): the process died (SIGKILL, OOM, a lost node), or the database failed over
// while the job finished, so River could not record the outcome. A webhook delivery or an
// e-mail then waited an hour.
//
// The orphan rescuer closes both gaps without touching jobs that still run:
//   - Each process holds a session advisory lock named after its River client ID for as long as
//     it lives; PostgreSQL releases it when the process (its connection) goes. A job "running"
//     under a client whose lock nobody holds, seen so on two sweeps in a row, belongs to a dead
//     process.
//   - Each process knows the jobs it is working (a worker middleware). A job "running" under its
//     own client ID that it neither works nor finished in the last orphanGrace is one whose
//     outcome was lost.
//
// Either way the job is made available again and runs once more: delivery is at least once, as
// it always was for a retried job.
const (
	// clientIDPrefix marks the River client IDs of processes that hold a liveness lock; jobs of
	// other clients (an older binary during a rolling upgrade) are left to River.
	clientIDPrefix = "cxl_"
	sweepInterval  = 5 * time.Second
	// orphanGrace covers the gap between River fetching a job and our middleware seeing it,
	// and between a job ending and River recording it.
	orphanGrace = 15 * time.Second
	// lockSettle is how long a process must have held its own lock before it judges others: after
	// a failover every process needs a moment to take its lock again.
	lockSettle = 20 * time.Second
)

// rescuer is the worker middleware and the background sweep of one process.
type rescuer struct {
	river.MiddlewareDefaults

	pool *pgxpool.Pool
	id   string
	log  *slog.Logger

	// Timing: sweepInterval, orphanGrace and lockSettle; tests shorten them.
	every, grace, settle time.Duration
	judged               atomic.Int64 // sweeps that judged other clients (tests wait on it)

	// What the watchdog (watchdog.go) reads: jobs running in this process and when the last
	// one started (unix nanoseconds).
	running   atomic.Int64
	lastStart atomic.Int64

	mu      sync.Mutex
	working map[int64]time.Time // job id: zero while it runs, its end afterwards (kept grace)
	suspect map[string]bool     // clients seen without their lock on the previous sweep
}

var _ rivertype.WorkerMiddleware = (*rescuer)(nil)

func newRescuer(pool *pgxpool.Pool, log *slog.Logger) *rescuer {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, host)
	if len(host) > 40 {
		host = host[:40]
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &rescuer{
		pool: pool, log: log,
		id:    fmt.Sprintf("%s%s_%d_%s", clientIDPrefix, host, os.Getpid(), hex.EncodeToString(b[:])),
		every: sweepInterval, grace: orphanGrace, settle: lockSettle,
		working: map[int64]time.Time{}, suspect: map[string]bool{},
	}
}

// Work records the job as running in this process while it runs.
func (r *rescuer) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	r.mu.Lock()
	r.working[job.ID] = time.Time{}
	r.mu.Unlock()
	r.running.Add(1)
	r.lastStart.Store(time.Now().UnixNano())
	defer func() {
		r.running.Add(-1)
		r.mu.Lock()
		r.working[job.ID] = time.Now()
		r.mu.Unlock()
	}()
	return doInner(ctx)
}

// busy reports whether this process runs the job or ended it within orphanGrace, and forgets
// jobs that ended before that.
func (r *rescuer) busy(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for k, end := range r.working {
		if !end.IsZero() && now.Sub(end) > r.grace {
			delete(r.working, k)
		}
	}
	_, ok := r.working[id]
	return ok
}

// lockKey is the advisory lock of a client ID.
func lockKey(clientID string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("casexchange river client " + clientID))
	return int64(h.Sum64())
}

// run holds this process's lock and sweeps until ctx ends, reconnecting after a failure.
func (r *rescuer) run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := r.hold(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("jobs: orphan rescuer lost its connection; retrying", "error", err.Error())
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (r *rescuer) hold(ctx context.Context) error {
	pc, err := r.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection of our own for as long as we live: the lock is held by its session.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey(r.id)); err != nil {
		return err
	}
	since := time.Now()
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := r.sweep(ctx, conn, time.Since(since) >= r.settle); err != nil {
			return err
		}
	}
}

// sweep makes available again the orphaned jobs of this process and, when judgeOthers, those
// of clients whose lock was free on this sweep and the previous one.
func (r *rescuer) sweep(ctx context.Context, conn *pgx.Conn, judgeOthers bool) error {
	rows, err := conn.Query(ctx, `SELECT id, attempted_by[array_upper(attempted_by, 1)] FROM river_job
		WHERE state = 'running' AND attempted_at < now() - make_interval(secs => $1)
		AND attempted_by[array_upper(attempted_by, 1)] LIKE $2`, r.grace.Seconds(), clientIDPrefix+"%")
	if err != nil {
		return err
	}
	var own []int64
	others := map[string]bool{}
	for rows.Next() {
		var id int64
		var client string
		if err := rows.Scan(&id, &client); err != nil {
			rows.Close()
			return err
		}
		if client == r.id {
			if !r.busy(id) {
				own = append(own, id)
			}
		} else {
			others[client] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(own) > 0 {
		n, err := r.release(ctx, conn, `id = ANY($1) AND attempted_by[array_upper(attempted_by, 1)] = $2`, own, r.id)
		if err != nil {
			return err
		}
		if n > 0 {
			r.log.Warn("jobs: made available again jobs whose outcome was lost", "jobs", n)
		}
	}
	if !judgeOthers {
		return nil
	}
	suspect := map[string]bool{}
	for client := range others {
		var free bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey(client)).Scan(&free); err != nil {
			return err
		}
		if !free {
			continue
		}
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockKey(client)); err != nil {
			return err
		}
		if !r.suspect[client] {
			suspect[client] = true // judged on the next sweep
			continue
		}
		n, err := r.release(ctx, conn, `attempted_by[array_upper(attempted_by, 1)] = $1 AND attempted_at < now() - make_interval(secs => $2)`,
			client, r.grace.Seconds())
		if err != nil {
			return err
		}
		r.log.Warn("jobs: made available again the jobs of a process that is gone", "client", client, "jobs", n)
	}
	r.mu.Lock()
	r.suspect = suspect
	r.mu.Unlock()
	r.judged.Add(1)
	return nil
}

// release puts the running jobs matching where back in the queue, to run at once.
func (r *rescuer) release(ctx context.Context, conn *pgx.Conn, where string, args ...any) (int64, error) {
	tag, err := conn.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE state = 'running' AND `+where, args...)
	if err != nil {
		return 0, err
	}
	// Workers poll for available jobs every PollInterval: no notification needed.
	return tag.RowsAffected(), nil
}
