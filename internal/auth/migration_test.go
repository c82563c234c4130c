package auth_test

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/db"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

// TestCoreMigrationRoundTrip applies 0001_core alone, reverts it and applies it again: the
// down migration must leave nothing behind that the up migration would trip over.
func TestCoreMigrationRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mfs := fstest.MapFS{}
	for _, name := range []string{"0001_core.up.sql", "0001_core.down.sql"} {
		b, err := fs.ReadFile(db.Migrations, "migrations/"+name)
		require.NoError(t, err)
		mfs[name] = &fstest.MapFile{Data: b}
	}
	pool, _ := pgtest.NewEmptyDB(t)
	tables := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'
			AND tablename IN ('firms', 'users', 'auth_sessions', 'api_keys', 'api_key_usage_daily', 'login_attempts')`).Scan(&n))
		return n
	}
	require.NoError(t, postgres.Migrate(ctx, pool, mfs))
	require.Equal(t, 6, tables())
	require.NoError(t, postgres.MigrateDown(ctx, pool, mfs, 1))
	require.Equal(t, 0, tables())
	require.NoError(t, postgres.Migrate(ctx, pool, mfs))
	require.Equal(t, 6, tables())
}
