package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/postgres/pgtest"
)

type watchArgs struct {
	Name string `json:"name"`
}

func (watchArgs) Kind() string { return "test_watch" }

type watchWorker struct {
	river.WorkerDefaults[watchArgs]
	ran     chan string
	started chan string   // every job's name when it starts (dropped when nobody reads)
	release chan struct{} // a job named "long" waits for it to close
	hold    chan struct{} // a job named "hold" waits for one send on it
}

func (w *watchWorker) Work(ctx context.Context, job *river.Job[watchArgs]) error {
	select {
	case w.started <- job.Args.Name:
	default:
	}
	if job.Args.Name == "hold" {
		select {
		case <-w.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if job.Args.Name == "long" {
		select {
		case <-w.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	w.ran <- job.Args.Name
	return nil
}

func newWatchedClient(t *testing.T, maxWorkers int) (*Client, *watchWorker) {
	t.Helper()
	ctx := t.Context()
	pool, _ := pgtest.NewDB(t)
	require.NoError(t, Migrate(ctx, pool))
	w := &watchWorker{ran: make(chan string, 8), release: make(chan struct{}), hold: make(chan struct{}), started: make(chan string, 8)}
	c, err := New(pool, nil, Config{PollInterval: 50 * time.Millisecond, TestOnly: true, MaxWorkers: maxWorkers},
		func(ws *river.Workers) { river.AddWorker(ws, w) })
	require.NoError(t, err)
	c.wd.every, c.wd.stall, c.wd.stopWait = 50*time.Millisecond, 1500*time.Millisecond, 300*time.Millisecond
	require.NoError(t, c.Start(context.WithoutCancel(ctx)))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		require.NoError(t, c.Stop(sctx))
	})
	return c, w
}

// TestWatchdogRestartsStalledProducer stops the River producer behind the client's back (what
// the stall after a failover looks like from the database: due jobs, nobody fetching): the
// watchdog restarts the client and the job runs.
func TestWatchdogRestartsStalledProducer(t *testing.T) {
	t.Parallel()
	c, w := newWatchedClient(t, 2)
	ctx := t.Context()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	require.NoError(t, c.rc.Stop(sctx))
	cancel()
	_, err := c.rc.Insert(ctx, watchArgs{Name: "after the stall"}, nil)
	require.NoError(t, err)
	select {
	case name := <-w.ran:
		require.Equal(t, "after the stall", name)
	case <-time.After(15 * time.Second):
		t.Fatalf("the stalled client was not restarted (%d checks, %d restarts)", c.wd.checks.Load(), c.wd.restarts.Load())
	}
	require.EqualValues(t, 1, c.wd.restarts.Load())
}

// TestWatchdogLeavesBusyClientAlone keeps the only worker slot busy with a long job while
// another job is due: the process is busy, not stalled, and is not restarted (checked over
// many watchdog evaluations past the stall period); the due job runs once the slot frees.
func TestWatchdogLeavesBusyClientAlone(t *testing.T) {
	t.Parallel()
	c, w := newWatchedClient(t, 1)
	ctx := t.Context()
	_, err := c.rc.Insert(ctx, watchArgs{Name: "long"}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return c.resc.running.Load() == 1 }, 10*time.Second, 10*time.Millisecond)
	_, err = c.rc.Insert(ctx, watchArgs{Name: "queued"}, nil)
	require.NoError(t, err)
	// Well past the stall period (1.5 s, 30 evaluations), with the queued job due all along.
	after := c.wd.checks.Load() + 60
	require.Eventually(t, func() bool { return c.wd.checks.Load() >= after }, 15*time.Second, 10*time.Millisecond)
	require.Zero(t, c.wd.restarts.Load(), "a busy client was restarted")
	close(w.release)
	got := map[string]bool{}
	for len(got) < 2 {
		select {
		case name := <-w.ran:
			got[name] = true
		case <-time.After(15 * time.Second):
			t.Fatalf("jobs did not finish: %v", got)
		}
	}
	require.Zero(t, c.wd.restarts.Load())
}

// TestWatchdogRestartsProducerStalledBesideBusySlot has one of the two worker slots held by a
// long job while a due job is not fetched by the free one. The job is kept from the producer by
// a row lock (its fetch skips locked rows), which from the watchdog's side is what a stalled
// producer looks like: a job due, a slot free, nothing starting. The process still runs a job,
// which the earlier watchdog took for busy; now it restarts the client, cancelling the long job.
// Once the lock goes the due job runs, and the cancelled long job runs again (at least once).
func TestWatchdogRestartsProducerStalledBesideBusySlot(t *testing.T) {
	t.Parallel()
	c, w := newWatchedClient(t, 2)
	ctx := t.Context()
	// Both slots busy, so nothing fetches the due job while it is inserted and locked.
	for _, name := range []string{"long", "hold"} {
		_, err := c.rc.Insert(ctx, watchArgs{Name: name}, nil)
		require.NoError(t, err)
	}
	require.ElementsMatch(t, []string{"long", "hold"}, []string{<-w.started, <-w.started})
	due, err := c.rc.Insert(ctx, watchArgs{Name: "queued"}, nil)
	require.NoError(t, err)
	// Locked by a transaction that stays open; the job stays available and due meanwhile.
	tx, err := c.resc.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var state string
	require.NoError(t, tx.QueryRow(ctx, "SELECT state::text FROM river_job WHERE id = $1 FOR UPDATE", due.Job.ID).Scan(&state))
	require.Equal(t, "available", state)
	w.hold <- struct{}{} // one slot frees; its fetch skips the locked job
	require.Equal(t, "hold", <-w.ran)

	require.Eventually(t, func() bool { return c.wd.restarts.Load() >= 1 }, 15*time.Second, 10*time.Millisecond,
		"a producer stalled beside a busy slot was not restarted (%d checks, %d running)", c.wd.checks.Load(), c.resc.running.Load())
	require.NoError(t, tx.Rollback(ctx))
	select {
	case name := <-w.ran:
		require.Equal(t, "queued", name)
	case <-time.After(15 * time.Second):
		t.Fatal("the due job did not run after the restart")
	}
	// The long job was cancelled by the restart and is retried: it starts again.
	deadline := time.After(40 * time.Second)
	for again := false; !again; {
		select {
		case name := <-w.started:
			again = name == "long"
		case <-deadline:
			t.Fatal("the long job cancelled by the restart did not run again")
		}
	}
	close(w.release)
	select {
	case name := <-w.ran:
		require.Equal(t, "long", name)
	case <-time.After(15 * time.Second):
		t.Fatal("the long job did not finish")
	}
	require.EqualValues(t, 1, c.wd.restarts.Load())
}
