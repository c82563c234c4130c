package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type pingArgs struct {
	Fail bool `json:"fail"`
}

func (pingArgs) Kind() string { return "test_ping" }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	runs atomic.Int32
	done chan int
}

func (w *pingWorker) Work(_ context.Context, job *river.Job[pingArgs]) error {
	n := w.runs.Add(1)
	if job.Args.Fail && job.Attempt == 1 {
		return errors.New("first attempt fails")
	}
	w.done <- int(n)
	return nil
}

func TestClient(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		pool   *pgxpool.Pool
		client *jobs.Client
		worker *pingWorker
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		pool, _ := pgtest.NewDB(t)
		require.NoError(t, jobs.Migrate(t.Context(), pool))
		w := &pingWorker{done: make(chan int, 4)}
		c, err := jobs.New(pool, nil, jobs.Config{PollInterval: 50 * time.Millisecond, TestOnly: true},
			func(ws *river.Workers) { river.AddWorker(ws, w) })
		require.NoError(t, err)
		return &testBundle{pool: pool, client: c, worker: w}
	}
	start := func(t *testing.T, b *testBundle) {
		t.Helper()
		require.NoError(t, b.client.Start(context.WithoutCancel(t.Context())))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, b.client.Stop(ctx))
		})
	}
	insert := func(t *testing.T, b *testBundle, args pingArgs, commit bool) {
		t.Helper()
		errRollback := errors.New("roll back")
		err := postgres.RunTx(t.Context(), b.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			if err := b.client.InsertTx(t.Context(), tx, args, nil); err != nil {
				return err
			}
			if !commit {
				return errRollback
			}
			return nil
		})
		if commit {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, errRollback)
		}
	}
	countJobs := func(t *testing.T, b *testBundle) int {
		t.Helper()
		var n int
		require.NoError(t, b.pool.QueryRow(t.Context(), "SELECT count(*) FROM river_job").Scan(&n))
		return n
	}

	t.Run("migrate is idempotent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, jobs.Migrate(t.Context(), b.pool))
		require.Equal(t, 0, countJobs(t, b))
	})

	t.Run("a job inserted in a committed transaction is worked", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start(t, b)
		insert(t, b, pingArgs{}, true)
		select {
		case <-b.worker.done:
		case <-time.After(10 * time.Second):
			t.Fatal("job was not worked")
		}
	})

	t.Run("a job inserted in a rolled back transaction does not exist", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		insert(t, b, pingArgs{}, false)
		require.Equal(t, 0, countJobs(t, b))
	})

	t.Run("a failed job is retried", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start(t, b)
		insert(t, b, pingArgs{Fail: true}, true)
		select {
		case n := <-b.worker.done:
			require.Equal(t, 2, n, "second run succeeds")
		case <-time.After(15 * time.Second):
			t.Fatal("job was not retried")
		}
	})

	t.Run("stop without start is a no-op", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.client.Stop(t.Context()))
	})
}
