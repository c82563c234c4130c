package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

const raise40001 = "DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$"

func TestRunTx(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		pool *pgxpool.Pool
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		pool, _ := pgtest.NewDB(t)
		return &testBundle{pool: pool}
	}
	count := func(t *testing.T, bundle *testBundle) int {
		t.Helper()
		var n int
		require.NoError(t, bundle.pool.QueryRow(t.Context(), "SELECT count(*) FROM widgets").Scan(&n))
		return n
	}
	insert := func(ctx context.Context, tx pgx.Tx, name string) error {
		_, err := tx.Exec(ctx, "INSERT INTO widgets (name) VALUES ($1)", name)
		return err
	}

	t.Run("CommitsOnSuccess", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		err := postgres.RunTx(t.Context(), bundle.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			return insert(t.Context(), tx, "a")
		})
		require.NoError(t, err)
		require.Equal(t, 1, count(t, bundle))
	})

	t.Run("RollsBackOnError", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		errBoom := errors.New("boom")
		err := postgres.RunTx(t.Context(), bundle.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			require.NoError(t, insert(t.Context(), tx, "a"))
			return errBoom
		})
		require.ErrorIs(t, err, errBoom)
		require.Equal(t, 0, count(t, bundle))
	})

	t.Run("RollsBackOnPanic", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		require.Panics(t, func() {
			_ = postgres.RunTx(t.Context(), bundle.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
				require.NoError(t, insert(t.Context(), tx, "a"))
				panic("boom")
			})
		})
		require.Equal(t, 0, count(t, bundle))
		require.Zero(t, bundle.pool.Stat().AcquiredConns(), "connection went back to the pool")
	})

	t.Run("RollsBackWhenContextCanceled", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		ctx, cancel := context.WithCancel(t.Context())
		err := postgres.RunTx(ctx, bundle.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			require.NoError(t, insert(ctx, tx, "a"))
			cancel()
			return ctx.Err()
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, 0, count(t, bundle))
		require.Zero(t, bundle.pool.Stat().AcquiredConns())
	})

	t.Run("RetriesSerializationFailure", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		var attempts int
		err := postgres.RunTx(t.Context(), bundle.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			attempts++
			if err := insert(t.Context(), tx, "a"); err != nil {
				return err
			}
			if attempts < 3 {
				_, err := tx.Exec(t.Context(), raise40001)
				return err
			}
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, 3, attempts)
		require.Equal(t, 1, count(t, bundle), "failed attempts were rolled back")
	})

	t.Run("RetriesDeadlock", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		var attempts int
		err := postgres.RunTx(t.Context(), bundle.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			attempts++
			if attempts == 1 {
				_, err := tx.Exec(t.Context(), "DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40P01'; END $$")
				return err
			}
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, 2, attempts)
	})

	t.Run("GivesUpAfterThreeRetriesWithConflict", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		var attempts int
		err := postgres.RunTx(t.Context(), bundle.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			attempts++
			_, err := tx.Exec(t.Context(), raise40001)
			return err
		})
		require.ErrorIs(t, err, apperr.ErrConflict)
		require.Equal(t, 4, attempts)
	})

	t.Run("DoesNotRetryOtherErrors", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		var attempts int
		err := postgres.RunTx(t.Context(), bundle.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			attempts++
			if err := insert(t.Context(), tx, "dup"); err != nil {
				return err
			}
			return insert(t.Context(), tx, "dup")
		})
		require.ErrorIs(t, err, apperr.ErrConflict, "23505 is interpreted")
		require.Equal(t, 1, attempts)
	})

	t.Run("RetriesRealSerializableConflict", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)
		// Write skew: each transaction reads the count, then inserts. Under SERIALIZABLE one
		// of two overlapping runs must fail with 40001 and is run again.
		var (
			attempts atomic.Int32
			ready    sync.WaitGroup
			wg       sync.WaitGroup
			errs     [2]error
		)
		ready.Add(2)
		for i := range 2 {
			wg.Go(func() {
				first := true
				errs[i] = postgres.RunTx(t.Context(), bundle.pool, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(tx pgx.Tx) error {
					attempts.Add(1)
					var n int
					if err := tx.QueryRow(t.Context(), "SELECT count(*) FROM widgets").Scan(&n); err != nil {
						return err
					}
					if first { // make the first attempts overlap
						first = false
						ready.Done()
						ready.Wait()
					}
					_, err := tx.Exec(t.Context(), "INSERT INTO widgets (name, qty) VALUES ($1, $2)", []string{"a", "b"}[i], n)
					return err
				})
			})
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs[:]...))
		require.GreaterOrEqual(t, attempts.Load(), int32(3), "one transaction was retried")
		require.Equal(t, 2, count(t, bundle))
		var qtys []int
		rows, err := bundle.pool.Query(t.Context(), "SELECT qty FROM widgets ORDER BY qty")
		require.NoError(t, err)
		qtys, err = pgx.CollectRows(rows, pgx.RowTo[int])
		require.NoError(t, err)
		require.Equal(t, []int{0, 1}, qtys, "the retry saw the other's row")
	})
}

func TestWithTx(t *testing.T) {
	t.Parallel()

	t.Run("PassesQueries", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewDB(t)
		err := postgres.WithTx(t.Context(), pool, func(q *db.Queries) error {
			require.NotNil(t, q)
			return nil
		})
		require.NoError(t, err)
	})

	t.Run("ReturnsFunctionError", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewDB(t)
		err := postgres.WithTx(t.Context(), pool, func(*db.Queries) error {
			return apperr.Transition("already accepted")
		})
		require.ErrorIs(t, err, apperr.ErrInvalidTransition)
	})

	t.Run("WithTxVReturnsValue", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewDB(t)
		v, err := postgres.WithTxV(t.Context(), pool, func(*db.Queries) (string, error) {
			return "ok", nil
		})
		require.NoError(t, err)
		require.Equal(t, "ok", v)

		v, err = postgres.WithTxV(t.Context(), pool, func(*db.Queries) (string, error) {
			return "partial", apperr.NotFound("referral")
		})
		require.ErrorIs(t, err, apperr.ErrNotFound)
		require.Empty(t, v, "zero value on error")
	})
}
