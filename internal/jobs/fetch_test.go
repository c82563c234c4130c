package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/postgres/pgtest"
)

type quickArgs struct {
	N int `json:"n"`
}

func (quickArgs) Kind() string { return "test_quick" }

type quickWorker struct {
	river.WorkerDefaults[quickArgs]
	done chan int
}

func (w *quickWorker) Work(_ context.Context, job *river.Job[quickArgs]) error {
	w.done <- job.Args.N
	return nil
}

// TestFreedSlotIsRefilledPromptly works 40 trivial jobs inserted at once through one worker
// slot, with the production poll interval (1 s). A fetch takes only the slots free at that
// moment, and River's default fetch cooldown (100 ms) allowed one fetch per 100 ms, so the 40
// jobs could not finish in less than 3.9 s on any machine: that is the ceiling the failover
// drill measured (25-35 deliveries per second with 4 slots). With the 10 ms cooldown they must
// finish within 3 s, leaving 75 ms per job for a loaded machine.
func TestFreedSlotIsRefilledPromptly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, _ := pgtest.NewDB(t)
	require.NoError(t, Migrate(ctx, pool))
	const n = 40
	w := &quickWorker{done: make(chan int, n)}
	c, err := New(pool, nil, Config{MaxWorkers: 1, TestOnly: true}, func(ws *river.Workers) { river.AddWorker(ws, w) })
	require.NoError(t, err)
	require.NoError(t, c.Start(context.WithoutCancel(ctx)))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		require.NoError(t, c.Stop(sctx))
	})
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: quickArgs{N: i}}
	}
	start := time.Now()
	_, err = c.rc.InsertMany(ctx, params)
	require.NoError(t, err)
	seen := map[int]bool{}
	for len(seen) < n {
		select {
		case i := <-w.done:
			seen[i] = true
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d jobs ran within 30 s", len(seen), n)
		}
	}
	took := time.Since(start)
	t.Logf("%d jobs through one slot in %s (%.0f jobs/s)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	require.Less(t, took, 3*time.Second, "a freed slot waited for the next fetch: %d jobs took %s", n, took)
}
