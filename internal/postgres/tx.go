package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
)

// maxTxAttempts is the first run plus three retries.
const maxTxAttempts = 4

// rollbackTimeout bounds the deferred rollback, which runs even after ctx is canceled. If it
// expires, pgx closes the connection instead of returning it to the pool.
const rollbackTimeout = 10 * time.Second

// WithTx runs fn in a read-committed transaction and commits when fn returns nil. fn must be
// safe to run more than once: the whole function is retried (up to 3 times) when PostgreSQL
// reports a serialization failure (40001) or a deadlock (40P01). The returned error is fn's,
// or a begin/commit failure, passed through InterpretError: apperr errors come back
// unchanged, exhausted retries become apperr.ErrConflict, an unreachable database
// apperr.ErrUnavailable.
func WithTx(ctx context.Context, pool *pgxpool.Pool, fn func(q *db.Queries) error) error {
	return RunTx(ctx, pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		return fn(db.New(tx))
	})
}

// WithTxV is WithTx for a function that returns a value. On error it returns the zero value.
func WithTxV[T any](ctx context.Context, pool *pgxpool.Pool, fn func(q *db.Queries) (T, error)) (T, error) {
	var out T
	err := WithTx(ctx, pool, func(q *db.Queries) error {
		v, err := fn(q)
		out = v
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// RunTx is the transaction runner under WithTx, for callers that need other options (e.g.
// pgx.Serializable) or the raw pgx.Tx. Retries and errors are as for WithTx.
func RunTx(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = runTxOnce(ctx, pool, opts, fn)
		if err == nil || !isRetryable(err) || attempt == maxTxAttempts || ctx.Err() != nil {
			break
		}
		// Jittered exponential backoff (about 5, 10, 20 ms) so that the transactions that
		// collided do not collide again.
		d := time.Duration(5<<(attempt-1)) * time.Millisecond
		d = d/2 + rand.N(d)
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return InterpretError(err)
}

func runTxOnce(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		// A no-op after Commit. Runs on errors and panics, and even when ctx is canceled,
		// so the connection goes back to the pool clean.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}
