package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/postgres/pgtest"
)

type orphanArgs struct {
	Name string `json:"name"`
}

func (orphanArgs) Kind() string { return "test_orphan" }

type orphanWorker struct {
	river.WorkerDefaults[orphanArgs]
	ran chan string
}

func (w *orphanWorker) Work(_ context.Context, job *river.Job[orphanArgs]) error {
	w.ran <- job.Args.Name
	return nil
}

// TestOrphanRescue leaves jobs "running" as a killed process (a client without its lock) and a
// lost outcome (this process's own client, not working them) would, next to a job of a live
// process (its lock held): the first two run again within seconds, the third is left alone.
func TestOrphanRescue(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, _ := pgtest.NewDB(t)
	require.NoError(t, Migrate(ctx, pool))
	w := &orphanWorker{ran: make(chan string, 8)}
	c, err := New(pool, nil, Config{PollInterval: 50 * time.Millisecond, TestOnly: true},
		func(ws *river.Workers) { river.AddWorker(ws, w) })
	require.NoError(t, err)
	c.resc.every, c.resc.grace, c.resc.settle = 100*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond

	// A live process: its lock is held on a connection of its own.
	live := clientIDPrefix + "live_process"
	lockConn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer lockConn.Release()
	_, err = lockConn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey(live))
	require.NoError(t, err)

	running := func(name, client string) int64 {
		t.Helper()
		res, err := c.rc.Insert(ctx, orphanArgs{Name: name}, nil)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '1 minute',
			attempted_by = ARRAY[$2] WHERE id = $1`, res.Job.ID, client)
		require.NoError(t, err)
		return res.Job.ID
	}
	running("killed process", clientIDPrefix+"killed_process")
	running("lost outcome", c.resc.id)
	liveJob := running("live process", live)
	running("older binary", "vm_2026_12_07T19_05_53_889642") // no lock protocol: left to River

	require.NoError(t, c.Start(context.WithoutCancel(ctx)))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, c.Stop(sctx))
	})
	var got []string
	for len(got) < 2 {
		select {
		case name := <-w.ran:
			got = append(got, name)
		case <-time.After(15 * time.Second):
			t.Fatalf("orphaned jobs not run again; ran %v", got)
		}
	}
	require.ElementsMatch(t, []string{"killed process", "lost outcome"}, got)
	// River records a finished job's outcome asynchronously: wait until both are completed.
	require.Eventually(t, func() bool {
		var done int
		_ = pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE state = 'completed'").Scan(&done)
		return done == 2
	}, 15*time.Second, 20*time.Millisecond, "the two jobs run again are recorded completed")

	// Three more sweeps that judged other clients: the live process's job stays its own.
	after := c.resc.judged.Load() + 3
	require.Eventually(t, func() bool { return c.resc.judged.Load() >= after }, 15*time.Second, 20*time.Millisecond)
	var state string
	require.NoError(t, pool.QueryRow(ctx, "SELECT state::text FROM river_job WHERE id = $1", liveJob).Scan(&state))
	require.Equal(t, "running", state)
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*)::text FROM river_job WHERE state = 'running'").Scan(&state))
	require.Equal(t, "2", state, "the live process's job and the older binary's stay running")
	select {
	case name := <-w.ran:
		t.Fatalf("%s ran again", name)
	default:
	}
}
