package referrals

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// The list totals come from list_counts (migration 0016), where every writing backend adds its
// deltas to a slot of its own (slot = its pid). A reader sums a key's slots, so the cost of a
// total grows with the number of backends that ever wrote to it: connections come and go (pool
// lifetimes, restarts, replicas), and without folding, a firm's total would read hundreds of
// dead slots (805 for one firm of the benchmark's dataset, 0.44 ms of each list request).
// CompactCounters folds them into slot 0; the queue runs it every CounterCompactInterval.

// CounterCompactInterval is how often the queue folds the dead counter slots.
const CounterCompactInterval = time.Minute

// CompactCounters folds the counter slots of backends that no longer run into slot 0 and
// returns how many keys it folded. The totals are unchanged; it is safe at any time and on any
// process.
func CompactCounters(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var n int64
	if err := pool.QueryRow(ctx, `SELECT list_counts_compact()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("compact list counters: %w", err)
	}
	return n, nil
}

// CompactCountersArgs is the job that runs CompactCounters.
type CompactCountersArgs struct{}

// Kind implements river.JobArgs.
func (CompactCountersArgs) Kind() string { return "list_counts_compact" }

// CounterMaintenance returns the queue's worker registration (a jobs.Register) and the
// periodic job (for jobs.Config.Periodic) that fold the counters of pool every
// CounterCompactInterval, and once when the queue's leader starts.
func CounterMaintenance(pool *pgxpool.Pool) (func(*river.Workers), *river.PeriodicJob) {
	register := func(ws *river.Workers) { river.AddWorker(ws, &compactWorker{pool: pool}) }
	job := river.NewPeriodicJob(river.PeriodicInterval(CounterCompactInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			// One attempt: a failed run is simply replaced by the next period's.
			return CompactCountersArgs{}, &river.InsertOpts{MaxAttempts: 1}
		}, &river.PeriodicJobOpts{ID: "list_counts_compact", RunOnStart: true})
	return register, job
}

type compactWorker struct {
	river.WorkerDefaults[CompactCountersArgs]
	pool *pgxpool.Pool
}

func (w *compactWorker) Work(ctx context.Context, _ *river.Job[CompactCountersArgs]) error {
	_, err := CompactCounters(ctx, w.pool)
	return err
}
