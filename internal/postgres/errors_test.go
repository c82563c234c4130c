package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

func TestInterpretError(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		pool *pgxpool.Pool
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		pool, _ := pgtest.NewDB(t)
		_, err := pool.Exec(t.Context(), "INSERT INTO owners VALUES (1); INSERT INTO widgets (name, owner_id) VALUES ('taken', 1)")
		require.NoError(t, err)
		return &testBundle{pool: pool}
	}
	// fromDB runs sql and returns the interpreted error, which must keep the PgError.
	fromDB := func(t *testing.T, bundle *testBundle, sql, wantCode string) error {
		t.Helper()
		_, err := bundle.pool.Exec(t.Context(), sql)
		require.Error(t, err)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr)
		require.Equal(t, wantCode, pgErr.Code)
		ierr := postgres.InterpretError(fmt.Errorf("store: %w", err))
		require.ErrorAs(t, ierr, &pgErr, "the cause stays reachable")
		return ierr
	}

	// Run the database cases on one database: they only read or fail.
	bundle := setup(t)

	t.Run("NoRowsIsNotFound", func(t *testing.T) {
		t.Parallel()
		var id int64
		err := bundle.pool.QueryRow(t.Context(), "SELECT id FROM widgets WHERE name = 'missing'").Scan(&id)
		ierr := postgres.InterpretError(err)
		require.ErrorIs(t, ierr, apperr.ErrNotFound)
		require.ErrorIs(t, ierr, pgx.ErrNoRows)
	})

	cases := []struct {
		name, sql, code string
		kind            error
	}{
		{"UniqueViolationIsConflict", "INSERT INTO widgets (name) VALUES ('taken')", "23505", apperr.ErrConflict},
		{"ForeignKeyViolationIsValidation", "INSERT INTO widgets (name, owner_id) VALUES ('x', 999)", "23503", apperr.ErrValidation},
		{"CheckViolationIsValidation", "INSERT INTO widgets (name, qty) VALUES ('x', -1)", "23514", apperr.ErrValidation},
		{"NotNullViolationIsValidation", "INSERT INTO widgets (name) VALUES (NULL)", "23502", apperr.ErrValidation},
		{"InvalidTextIsValidation", "INSERT INTO widgets (name, ref) VALUES ('x', 'not-a-uuid')", "22P02", apperr.ErrValidation},
		{"TooLongIsValidation", "INSERT INTO widgets (name, code) VALUES ('x', 'toolong')", "22001", apperr.ErrValidation},
		{"OutOfRangeIsValidation", "INSERT INTO widgets (name, qty) VALUES ('x', 99999999999)", "22003", apperr.ErrValidation},
		{"SerializationFailureIsConflict", "DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '40001'; END $$", "40001", apperr.ErrConflict},
		{"DeadlockIsConflict", "DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '40P01'; END $$", "40P01", apperr.ErrConflict},
		{"CannotConnectNowIsUnavailable", "DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '57P03'; END $$", "57P03", apperr.ErrUnavailable},
		{"ConnectionClassIsUnavailable", "DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '08006'; END $$", "08006", apperr.ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ierr := fromDB(t, bundle, tc.sql, tc.code)
			require.ErrorIs(t, ierr, tc.kind)
			appErr, ok := apperr.As(ierr)
			require.True(t, ok)
			require.NotContains(t, appErr.Message, "widgets", "public text does not leak schema names")
		})
	}

	t.Run("OtherDatabaseErrorsUnchanged", func(t *testing.T) {
		t.Parallel()
		_, err := bundle.pool.Exec(t.Context(), "SELECT * FROM no_such_table")
		require.Error(t, err)
		require.Equal(t, err, postgres.InterpretError(err))
	})

	t.Run("TerminatedSessionIsUnavailable", func(t *testing.T) {
		t.Parallel()
		conn, err := bundle.pool.Acquire(t.Context())
		require.NoError(t, err)
		defer conn.Release()
		var pid int
		require.NoError(t, conn.QueryRow(t.Context(), "SELECT pg_backend_pid()").Scan(&pid))
		_, err = bundle.pool.Exec(t.Context(), "SELECT pg_terminate_backend($1)", pid)
		require.NoError(t, err)
		_, err = conn.Exec(t.Context(), "SELECT 1")
		require.Error(t, err)
		require.ErrorIs(t, postgres.InterpretError(err), apperr.ErrUnavailable, "%v", err)
	})

	t.Run("ConnectFailureIsUnavailable", func(t *testing.T) {
		t.Parallel()
		_, err := pgx.Connect(t.Context(), deadDSN(t))
		require.Error(t, err)
		require.ErrorIs(t, postgres.InterpretError(err), apperr.ErrUnavailable)
	})

	t.Run("ConnectDeadlineIsUnavailable", func(t *testing.T) {
		t.Parallel()
		// A server that accepts TCP connections and never answers the startup message.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		accepted := make(chan net.Conn, 8)
		t.Cleanup(func() {
			_ = l.Close()
			for len(accepted) > 0 {
				_ = (<-accepted).Close()
			}
		})
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				select {
				case accepted <- c:
				default:
					_ = c.Close()
				}
			}
		}()
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, err = pgx.Connect(ctx, "postgres://u@"+l.Addr().String()+"/x?sslmode=disable")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, postgres.InterpretError(err), apperr.ErrUnavailable)
	})

	t.Run("PassesThroughOthers", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, postgres.InterpretError(nil))
		appErr := apperr.Conflict("already accepted")
		require.Same(t, appErr, postgres.InterpretError(appErr))
		wrapped := fmt.Errorf("x: %w", apperr.NotFound("referral"))
		require.Equal(t, wrapped, postgres.InterpretError(wrapped))
		plain := errors.New("boom")
		require.Equal(t, plain, postgres.InterpretError(plain))
		require.Equal(t, context.Canceled, postgres.InterpretError(context.Canceled))
		require.Equal(t, context.DeadlineExceeded, postgres.InterpretError(context.DeadlineExceeded))
	})
}
