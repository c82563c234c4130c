package postgres_test

import (
	"errors"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

// steps is a migration set whose migrations fail if applied twice (plain CREATE TABLE, a
// unique insert) and take long enough for concurrent runs to overlap.
var steps = fstest.MapFS{
	"0001_a.up.sql":   {Data: []byte(`CREATE TABLE a (id int PRIMARY KEY); SELECT pg_sleep(0.1);`)},
	"0001_a.down.sql": {Data: []byte(`DROP TABLE a;`)},
	"0002_b.up.sql":   {Data: []byte(`CREATE TABLE b (id int PRIMARY KEY); INSERT INTO a VALUES (1);`)},
	"0002_b.down.sql": {Data: []byte(`DROP TABLE b; DELETE FROM a;`)},
	"0010_c.up.sql":   {Data: []byte(`CREATE TABLE c (id int PRIMARY KEY);`)},
	"0010_c.down.sql": {Data: []byte(`DROP TABLE c;`)},
	"README.txt":      {Data: []byte(`not a migration`)},
}

func applied(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	require.NoError(t, err)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return versions
}

func tableExists(t *testing.T, pool *pgxpool.Pool, name string) bool {
	t.Helper()
	var ok bool
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT to_regclass($1) IS NOT NULL", name).Scan(&ok))
	return ok
}

func TestMigrate(t *testing.T) {
	t.Parallel()

	t.Run("AppliesInOrderOnce", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewEmptyDB(t)
		require.NoError(t, postgres.Migrate(t.Context(), pool, steps))
		require.Equal(t, []string{"0001_a", "0002_b", "0010_c"}, applied(t, pool))

		require.NoError(t, postgres.Migrate(t.Context(), pool, steps), "second run is a no-op")
		require.Equal(t, []string{"0001_a", "0002_b", "0010_c"}, applied(t, pool))
	})

	t.Run("AppliesOnlyNewMigrations", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewEmptyDB(t)
		first := fstest.MapFS{"0001_a.up.sql": steps["0001_a.up.sql"]}
		require.NoError(t, postgres.Migrate(t.Context(), pool, first))
		require.NoError(t, postgres.Migrate(t.Context(), pool, steps))
		require.Equal(t, []string{"0001_a", "0002_b", "0010_c"}, applied(t, pool))
	})

	t.Run("ConcurrentRunsApplyEachOnce", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewEmptyDB(t)
		var (
			wg   sync.WaitGroup
			errs [3]error
		)
		for i := range errs {
			wg.Go(func() { errs[i] = postgres.Migrate(t.Context(), pool, steps) })
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs[:]...))
		require.Equal(t, []string{"0001_a", "0002_b", "0010_c"}, applied(t, pool))
		var n int
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM a").Scan(&n))
		require.Equal(t, 1, n)
	})

	t.Run("StopsAtFailureAndRollsItBack", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewEmptyDB(t)
		bad := fstest.MapFS{
			"0001_a.up.sql":     steps["0001_a.up.sql"],
			"0002_bad.up.sql":   {Data: []byte(`CREATE TABLE half (id int); SELECT no_such_function();`)},
			"0003_never.up.sql": {Data: []byte(`CREATE TABLE never (id int);`)},
		}
		err := postgres.Migrate(t.Context(), pool, bad)
		require.ErrorContains(t, err, "0002_bad.up.sql")
		require.Equal(t, []string{"0001_a"}, applied(t, pool))
		require.False(t, tableExists(t, pool, "half"), "the failed migration's transaction was rolled back")
		require.False(t, tableExists(t, pool, "never"))
	})

	t.Run("ReadsMigrationsDirectory", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewEmptyDB(t)
		nested := fstest.MapFS{"migrations/0001_a.up.sql": steps["0001_a.up.sql"]}
		require.NoError(t, postgres.Migrate(t.Context(), pool, nested))
		require.Equal(t, []string{"0001_a"}, applied(t, pool))
	})

	t.Run("ResetsStatementTimeoutOnPooledConnection", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewEmptyDB(t)
		require.NoError(t, postgres.Migrate(t.Context(), pool, steps))
		var timeout string
		require.NoError(t, pool.QueryRow(t.Context(), "SHOW statement_timeout").Scan(&timeout))
		require.Equal(t, postgres.StatementTimeout, timeout)
	})
}

func TestMigrateDown(t *testing.T) {
	t.Parallel()

	t.Run("RevertsNewestFirst", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewEmptyDB(t)
		require.NoError(t, postgres.Migrate(t.Context(), pool, steps))

		require.NoError(t, postgres.MigrateDown(t.Context(), pool, steps, 2))
		require.Equal(t, []string{"0001_a"}, applied(t, pool))
		require.False(t, tableExists(t, pool, "c"))
		require.False(t, tableExists(t, pool, "b"))
		require.True(t, tableExists(t, pool, "a"))

		require.NoError(t, postgres.Migrate(t.Context(), pool, steps), "up again after down")
		require.Equal(t, []string{"0001_a", "0002_b", "0010_c"}, applied(t, pool))

		require.NoError(t, postgres.MigrateDown(t.Context(), pool, steps, 99), "more steps than applied")
		require.Empty(t, applied(t, pool))
		require.False(t, tableExists(t, pool, "a"))
	})

	t.Run("RefusesWithoutDownFile", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewEmptyDB(t)
		noDown := fstest.MapFS{
			"0001_a.up.sql":   steps["0001_a.up.sql"],
			"0001_a.down.sql": steps["0001_a.down.sql"],
			"0002_x.up.sql":   {Data: []byte(`CREATE TABLE x (id int);`)},
		}
		require.NoError(t, postgres.Migrate(t.Context(), pool, noDown))
		err := postgres.MigrateDown(t.Context(), pool, noDown, 2)
		require.ErrorContains(t, err, "0002_x")
		require.Equal(t, []string{"0001_a", "0002_x"}, applied(t, pool), "nothing reverted")
	})
}

func TestMigrations(t *testing.T) {
	t.Parallel()

	t.Run("Lists", func(t *testing.T) {
		t.Parallel()
		migs, err := postgres.Migrations(steps)
		require.NoError(t, err)
		var versions []string
		for _, m := range migs {
			versions = append(versions, m.Version)
		}
		require.Equal(t, []string{"0001_a", "0002_b", "0010_c"}, versions)
	})

	for name, fsys := range map[string]fstest.MapFS{
		"RejectsBadName": {"1-init.up.sql": {}},
		"RejectsDuplicateNumber": {
			"0003_mine.up.sql":   {},
			"0003_theirs.up.sql": {},
		},
		"RejectsDownWithoutUp": {"0001_a.down.sql": {}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := postgres.Migrations(fsys)
			require.Error(t, err)
		})
	}
}
