package postgres_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

// fixture is the schema of these tests, independent of the project's migrations.
var fixture = fstest.MapFS{
	"0001_init.up.sql": {Data: []byte(`
CREATE TABLE owners (id bigint PRIMARY KEY);
CREATE TABLE widgets (
	id       bigserial PRIMARY KEY,
	name     text NOT NULL UNIQUE,
	qty      int NOT NULL DEFAULT 0 CHECK (qty >= 0),
	code     varchar(5),
	owner_id bigint REFERENCES owners (id),
	ref      uuid
);`)},
	"0001_init.down.sql":    {Data: []byte(`DROP TABLE widgets; DROP TABLE owners;`)},
	"0002_counter.up.sql":   {Data: []byte(`CREATE TABLE counters (name text PRIMARY KEY, n int NOT NULL); INSERT INTO counters VALUES ('c', 0);`)},
	"0002_counter.down.sql": {Data: []byte(`DROP TABLE counters;`)},
}

func TestMain(m *testing.M) { pgtest.MainFS(m, fixture) }

// deadDSN points at a port nothing listens on.
func deadDSN(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/x?sslmode=disable&connect_timeout=2"
}

func TestOpen(t *testing.T) {
	t.Parallel()

	t.Run("AppliesSessionDefaults", func(t *testing.T) {
		t.Parallel()
		_, dsn := pgtest.NewDB(t)
		pool, err := postgres.Open(t.Context(), dsn)
		require.NoError(t, err)
		t.Cleanup(pool.Close)

		var appName, stmtTimeout, idleTimeout string
		require.NoError(t, pool.QueryRow(t.Context(),
			"SELECT current_setting('application_name'), current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')").
			Scan(&appName, &stmtTimeout, &idleTimeout))
		require.Equal(t, postgres.ApplicationName, appName)
		require.Equal(t, postgres.StatementTimeout, stmtTimeout)
		require.Equal(t, "1min", idleTimeout)
		require.EqualValues(t, 20, pool.Config().MaxConns)
	})

	t.Run("DSNOverridesDefaults", func(t *testing.T) {
		t.Parallel()
		cfg, err := postgres.Config("postgres://u@127.0.0.1:5432/db?pool_max_conns=3&application_name=other&statement_timeout=5s")
		require.NoError(t, err)
		require.EqualValues(t, 3, cfg.MaxConns)
		require.Equal(t, "other", cfg.ConnConfig.RuntimeParams["application_name"])
		require.Equal(t, "5s", cfg.ConnConfig.RuntimeParams["statement_timeout"])
	})

	t.Run("StatementTimeoutCancelsRunawayQuery", func(t *testing.T) {
		t.Parallel()
		_, dsn := pgtest.NewDB(t)
		cfg, err := postgres.Config(dsn)
		require.NoError(t, err)
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = "50ms"
		pool, err := postgres.OpenConfig(t.Context(), cfg)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		_, err = pool.Exec(t.Context(), "SELECT pg_sleep(5)")
		require.ErrorContains(t, err, "57014")
	})

	t.Run("UnreachableServerIsUnavailable", func(t *testing.T) {
		t.Parallel()
		_, err := postgres.Open(t.Context(), deadDSN(t))
		require.ErrorIs(t, err, apperr.ErrUnavailable)
	})

	t.Run("MalformedDSN", func(t *testing.T) {
		t.Parallel()
		_, err := postgres.Open(t.Context(), "postgres://%zz")
		require.Error(t, err)
		require.NotErrorIs(t, err, apperr.ErrUnavailable)
	})
}

func TestPing(t *testing.T) {
	t.Parallel()

	t.Run("Healthy", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewDB(t)
		require.NoError(t, postgres.Ping(t.Context(), pool))
	})

	t.Run("ServerGone", func(t *testing.T) {
		t.Parallel()
		cfg, err := pgxpool.ParseConfig(deadDSN(t))
		require.NoError(t, err)
		pool, err := pgxpool.NewWithConfig(t.Context(), cfg) // lazy: does not connect
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		require.ErrorIs(t, postgres.Ping(ctx, pool), apperr.ErrUnavailable)
	})
}
