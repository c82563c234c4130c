// Package jobstest helps tests wait for the job queue instead of sleeping.
package jobstest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier is what the waits read through (a *pgxpool.Pool).
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Pending returns how many jobs of the given kinds are not finalized (neither completed,
// discarded nor cancelled).
func Pending(t testing.TB, db Querier, kinds ...string) int {
	t.Helper()
	var n int
	err := db.QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = ANY($1) AND state NOT IN ('completed', 'discarded', 'cancelled')`,
		kinds).Scan(&n)
	if err != nil {
		t.Fatalf("jobstest: count pending jobs: %v", err)
	}
	return n
}

// WaitDone waits until every job of the given kinds is finalized, failing the test after
// timeout. Whatever those jobs do has then been done, so a test can assert that nothing more
// happened without sleeping.
func WaitDone(t testing.TB, db Querier, timeout time.Duration, kinds ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := Pending(t, db, kinds...)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobstest: %d jobs of %v still pending after %s", n, kinds, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
