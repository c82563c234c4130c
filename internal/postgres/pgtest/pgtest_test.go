package pgtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

var fixture = fstest.MapFS{
	"0001_items.up.sql":   {Data: []byte(`CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL UNIQUE);`)},
	"0001_items.down.sql": {Data: []byte(`DROP TABLE items;`)},
	"0002_seed.up.sql":    {Data: []byte(`INSERT INTO items (name) VALUES ('seeded');`)},
}

func TestMain(m *testing.M) { MainFS(m, fixture) }

func databaseGone(t *testing.T, name string) bool {
	t.Helper()
	var exists bool
	require.NoError(t, state.admin.QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	return !exists
}

func TestNewDB(t *testing.T) {
	t.Parallel()

	t.Run("IsMigrated", func(t *testing.T) {
		t.Parallel()
		pool, _ := NewDB(t)
		var name string
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT name FROM items").Scan(&name))
		require.Equal(t, "seeded", name)
		var versions int
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&versions))
		require.Equal(t, 2, versions)
	})

	t.Run("DatabasesAreIsolated", func(t *testing.T) {
		t.Parallel()
		pool1, dsn1 := NewDB(t)
		pool2, dsn2 := NewDB(t)
		require.NotEqual(t, dsn1, dsn2)
		_, err := pool1.Exec(t.Context(), "INSERT INTO items (name) VALUES ('only-in-1')")
		require.NoError(t, err)
		var n int
		require.NoError(t, pool2.QueryRow(t.Context(), "SELECT count(*) FROM items").Scan(&n))
		require.Equal(t, 1, n)
		require.NoError(t, pool1.QueryRow(t.Context(), "SELECT count(*) FROM items").Scan(&n))
		require.Equal(t, 2, n)
	})

	t.Run("DSNConnectsToSameDatabase", func(t *testing.T) {
		t.Parallel()
		pool, dsn := NewDB(t)
		conn, err := pgx.Connect(t.Context(), dsn)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		var viaDSN, viaPool string
		require.NoError(t, conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&viaDSN))
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&viaPool))
		require.Equal(t, viaPool, viaDSN)
	})

	t.Run("CleanupDropsDatabase", func(t *testing.T) {
		t.Parallel()
		var name string
		t.Run("Inner", func(t *testing.T) {
			pool, _ := NewDB(t)
			require.NoError(t, pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&name))
		})
		require.Eventually(t, func() bool { return databaseGone(t, name) }, 10*time.Second, 10*time.Millisecond)
	})

	t.Run("TemplateIsSealed", func(t *testing.T) {
		t.Parallel()
		NewDB(t)
		tpl, err := templateFor(t.Context(), fixture)
		require.NoError(t, err)
		var isTemplate, allowConn bool
		require.NoError(t, state.admin.QueryRow(t.Context(),
			"SELECT datistemplate, datallowconn FROM pg_database WHERE datname = $1", tpl).Scan(&isTemplate, &allowConn))
		require.True(t, isTemplate)
		require.False(t, allowConn)
	})

	t.Run("ManyInParallel", func(t *testing.T) {
		t.Parallel()
		for range 8 {
			t.Run("DB", func(t *testing.T) {
				t.Parallel()
				pool, _ := NewDB(t)
				_, err := pool.Exec(t.Context(), "INSERT INTO items (name) VALUES ('x')")
				require.NoError(t, err)
			})
		}
	})

	t.Run("EmptyDBHasNoSchema", func(t *testing.T) {
		t.Parallel()
		pool, _ := NewEmptyDB(t)
		var n int
		require.NoError(t, pool.QueryRow(t.Context(),
			"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n))
		require.Zero(t, n)
	})
}

// TestNewDBSpeed measures what a test pays for its database.
func TestNewDBSpeed(t *testing.T) {
	t.Parallel()
	NewDB(t) // template built
	const n = 10
	start := time.Now()
	for range n {
		t.Run("DB", func(t *testing.T) {
			pool, _ := NewDB(t)
			_, err := pool.Exec(t.Context(), "SELECT 1")
			require.NoError(t, err)
		})
	}
	t.Logf("NewDB + first query + cleanup: %v per database", (time.Since(start) / n).Round(time.Millisecond))
}

func TestBuildTemplate(t *testing.T) {
	t.Parallel()

	t.Run("ConcurrentBuildersBuildOnce", func(t *testing.T) {
		t.Parallel()
		admin, err := server(t.Context())
		require.NoError(t, err)
		// A migration set of its own, with a marker that counts how often it ran.
		fsys := fstest.MapFS{"0001_x.up.sql": {Data: []byte(`CREATE TABLE x (id int); SELECT pg_sleep(0.2);`)}}
		fsys["0001_x.up.sql"].Data = append(fsys["0001_x.up.sql"].Data, []byte("-- "+t.Name()+time.Now().String())...)
		hash, err := hashFS(fsys)
		require.NoError(t, err)
		name := "cx_tpl_" + hash
		t.Cleanup(func() { dropTemplate(t, admin, name) })

		// Separate connections behave like separate test binaries.
		var (
			wg   sync.WaitGroup
			errs [3]error
		)
		for i := range errs {
			wg.Go(func() { errs[i] = buildTemplate(t.Context(), admin, name, fsys) })
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs[:]...))
		var n int
		require.NoError(t, admin.QueryRow(t.Context(),
			"SELECT count(*) FROM pg_database WHERE datname IN ($1, $2)", name, "cx_tplb_"+hash).Scan(&n))
		require.Equal(t, 1, n, "one template, no build leftovers")
	})

	t.Run("ReplacesLeftoverFromCrashedBuild", func(t *testing.T) {
		t.Parallel()
		admin, err := server(t.Context())
		require.NoError(t, err)
		fsys := fstest.MapFS{"0001_y.up.sql": {Data: []byte(`CREATE TABLE y (id int); -- ` + t.Name() + time.Now().String())}}
		hash, err := hashFS(fsys)
		require.NoError(t, err)
		name := "cx_tpl_" + hash
		t.Cleanup(func() { dropTemplate(t, admin, name) })
		_, err = admin.Exec(t.Context(), "CREATE DATABASE "+pgx.Identifier{"cx_tplb_" + hash}.Sanitize())
		require.NoError(t, err)

		require.NoError(t, buildTemplate(t.Context(), admin, name, fsys))
		require.True(t, databaseGone(t, "cx_tplb_"+hash))
		require.False(t, databaseGone(t, name))
	})
}

func dropTemplate(t *testing.T, admin *pgxpool.Pool, name string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	ident := pgx.Identifier{name}.Sanitize()
	_, err := admin.Exec(ctx, "ALTER DATABASE "+ident+" WITH IS_TEMPLATE false")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "DROP DATABASE "+ident)
	require.NoError(t, err)
}

func TestHelpers(t *testing.T) {
	t.Parallel()

	t.Run("WithDatabase", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "postgres://u@127.0.0.1:5432/t_x?sslmode=disable",
			withDatabase("postgres://u@127.0.0.1:5432/postgres?sslmode=disable", "t_x"))
		require.Equal(t, "postgresql://h/t_x", withDatabase("postgresql://h", "t_x"))
		require.Equal(t, "host=h dbname=app dbname=t_x", withDatabase("host=h dbname=app", "t_x"))
		cfg, err := pgx.ParseConfig(withDatabase("host=h dbname=app", "t_x"))
		require.NoError(t, err)
		require.Equal(t, "t_x", cfg.Database)
	})

	t.Run("DBNameIsValidAndUnique", func(t *testing.T) {
		t.Parallel()
		long := "TestSomething/With_A-Very Long/Name/" + string(make([]byte, 100))
		a, b := dbName(long), dbName(long)
		require.NotEqual(t, a, b)
		require.LessOrEqual(t, len(a), 63)
		require.Regexp(t, `^t_[a-z0-9_]+$`, a)
	})

	t.Run("HashDependsOnContent", func(t *testing.T) {
		t.Parallel()
		h1, err := hashFS(fstest.MapFS{"0001_a.up.sql": {Data: []byte("a")}})
		require.NoError(t, err)
		h2, err := hashFS(fstest.MapFS{"0001_a.up.sql": {Data: []byte("b")}})
		require.NoError(t, err)
		require.NotEqual(t, h1, h2)
		require.Len(t, h1, 16)
	})
}
