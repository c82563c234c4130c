// Package pgtest gives each test its own PostgreSQL database, cloned in milliseconds from a
// template database migrated once per migration set.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		pool, _ := pgtest.NewDB(t)
//		...
//	}
//
// With DATABASE_URL set, databases are created on that server (the role needs CREATEDB).
// Otherwise the first NewDB starts a private throwaway cluster (internal/pgcluster, durability
// off) for this test binary, and Main stops and deletes it after the tests.
//
// The template is named cx_tpl_<hash of the migration files>, so it is rebuilt when a
// migration changes and shared by test binaries running at the same time against one server;
// it is built under an advisory lock and renamed into place only when complete.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/internal/pgcluster"
	"github.com/casexchange/server/internal/postgres"
)

// templateLockKey serializes template builds across test binaries (advisory locks are per
// database: every binary takes it in the server's maintenance database).
const templateLockKey int64 = 0x6358_7465_6d70_6c74 // "cXtemplt"

// AfterMigrate, when set before Main, runs on every template after the SQL migrations: schema
// that another tool owns (the job queue's tables). Name distinguishes such templates.
var AfterMigrate struct {
	Name string
	Fn   func(ctx context.Context, pool *pgxpool.Pool) error
}

// templateVersion changes the template names when the way templates are built changes.
const templateVersion = "1"

// state is per test binary.
var state pkgState

type pkgState struct {
	mu         sync.Mutex
	migrations fs.FS  // set by MainFS; nil means db.Migrations (see NewDB)
	inMain     bool   // MainFS is running: it will stop the cluster and wait for drops
	serverDSN  string // any database on the server, for CREATE/DROP DATABASE
	admin      *pgxpool.Pool
	serverErr  error
	stop       func() // stops the private cluster, if we started one
	templates  map[string]*templateState
	// cloneOptions is appended to CREATE DATABASE ... TEMPLATE.
	cloneOptions string
	drops        sync.WaitGroup
}

type templateState struct {
	once sync.Once
	name string
	err  error
}

// MainFS is Main with an explicit migration set, e.g. a testing/fstest.MapFS fixture. It
// runs the tests, waits for the test databases to be dropped, stops the private cluster if
// one was started, and exits.
func MainFS(m *testing.M, migrations fs.FS) {
	os.Exit(RunFS(m, migrations))
}

// RunFS is MainFS for a TestMain with work of its own: it returns the exit code instead of
// exiting.
func RunFS(m *testing.M, migrations fs.FS) int {
	state.mu.Lock()
	state.migrations = migrations
	state.inMain = true
	state.mu.Unlock()

	code := m.Run()

	state.drops.Wait()
	state.mu.Lock()
	if state.admin != nil {
		state.admin.Close()
	}
	if state.stop != nil {
		state.stop()
	}
	state.mu.Unlock()
	return code
}

// NewDB creates a database cloned from the migrated template and returns a pool for it and
// its DSN. Cleanup closes the pool and drops the database. Any failure fails the test.
func NewDB(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	migrations := state.migrationsOrDefault()
	tpl, err := templateFor(t.Context(), migrations)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return newDB(t, tpl)
}

// NewEmptyDB creates an empty database (cloned from template0: no schema_migrations, no
// tables) and returns a pool for it and its DSN, with the same cleanup as NewDB. It is for
// testing migrations themselves.
func NewEmptyDB(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	if _, err := server(t.Context()); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return newDB(t, "template0")
}

// ServerDSN returns the DSN of the server the test databases live on (starting the private
// cluster if needed), for tests that must create databases of their own.
func ServerDSN(t testing.TB) string {
	t.Helper()
	if _, err := server(t.Context()); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return state.serverDSN
}

func (s *pkgState) migrationsOrDefault() fs.FS {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.migrations == nil {
		return defaultMigrations
	}
	return s.migrations
}

// server returns the admin pool, starting the private cluster on first use when
// DATABASE_URL is unset.
func server(ctx context.Context) (*pgxpool.Pool, error) {
	state.mu.Lock()
	defer state.mu.Unlock()
	if state.admin != nil || state.serverErr != nil {
		return state.admin, state.serverErr
	}
	admin, err := connectServer(ctx)
	// Remember a failure: every test would otherwise try (and wait for) a new cluster.
	state.admin, state.serverErr = admin, err
	return admin, err
}

// connectServer opens the admin pool on DATABASE_URL or on a new private cluster. The
// caller holds state.mu.
func connectServer(ctx context.Context) (*pgxpool.Pool, error) {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		if !state.inMain {
			return nil, errors.New("DATABASE_URL is unset and the package has no TestMain calling pgtest.Main: " +
				"add one so the private cluster is stopped after the tests")
		}
		scratch := pgcluster.ScratchDir()
		removeAbandonedClusters(scratch)
		tmp, err := os.MkdirTemp(scratch, tmpPrefix)
		if err != nil {
			return nil, err
		}
		// Traversable by the unprivileged user PostgreSQL runs as when we are root.
		if err := os.Chmod(tmp, 0o755); err != nil {
			return nil, err
		}
		c, err := pgcluster.Start(context.WithoutCancel(ctx), pgcluster.Options{
			DataDir:  filepath.Join(tmp, "data"),
			TestMode: true,
		})
		if err != nil {
			_ = os.RemoveAll(tmp)
			return nil, fmt.Errorf("start private PostgreSQL: %w", err)
		}
		state.stop = func() {
			if err := c.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "pgtest: stop private PostgreSQL: %v\n", err)
				return
			}
			_ = os.RemoveAll(tmp)
		}
		dsn = c.DSN("postgres")
	}
	cfg, err := postgres.Config(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 8
	cfg.ConnConfig.RuntimeParams["application_name"] = "casexchange-pgtest"
	admin, err := postgres.OpenConfig(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return nil, err
	}
	// FILE_COPY (PostgreSQL 15+, where WAL_LOG became the default) copies the template's
	// files after a checkpoint: several times faster than WAL-logging every page of a small
	// database.
	var version int
	if err := admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		admin.Close()
		return nil, err
	}
	if version >= 150000 {
		state.cloneOptions = " STRATEGY FILE_COPY"
	}
	state.serverDSN = dsn
	return admin, nil
}

// tmpPrefix names the directories of private test clusters.
const tmpPrefix = "casexchange-pgtest-"

// removeAbandonedClusters deletes private test clusters left by killed test binaries (their
// server quit with them, see pgcluster): in /dev/shm they would hold memory until reboot.
func removeAbandonedClusters(scratch string) {
	dirs, _ := filepath.Glob(filepath.Join(scratch, tmpPrefix+"*"))
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		// Young directories may belong to a binary that is still starting its server.
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < 5*time.Minute {
			continue
		}
		if pgcluster.Running(filepath.Join(dir, "data")) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

// templateFor returns the name of the template for migrations, building it on first use.
func templateFor(ctx context.Context, migrations fs.FS) (string, error) {
	admin, err := server(ctx)
	if err != nil {
		return "", err
	}
	hash, err := hashFS(migrations)
	if err != nil {
		return "", err
	}
	state.mu.Lock()
	if state.templates == nil {
		state.templates = map[string]*templateState{}
	}
	ts := state.templates[hash]
	if ts == nil {
		ts = &templateState{name: "cx_tpl_" + hash}
		state.templates[hash] = ts
	}
	state.mu.Unlock()
	ts.once.Do(func() {
		// Not the test's context: the template outlives the test that happened to build it.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		ts.err = buildTemplate(bctx, admin, ts.name, migrations)
	})
	return ts.name, ts.err
}

// buildTemplate creates and migrates the template unless another process already did. It
// builds under a temporary name and renames at the end, so a crash never leaves a
// half-migrated template behind.
func buildTemplate(ctx context.Context, admin *pgxpool.Pool, name string, migrations fs.FS) error {
	conn, err := admin.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return fmt.Errorf("template lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLockKey)
	}()
	if exists, err := databaseExists(ctx, conn, name); err != nil || exists {
		return err
	}
	start := time.Now()
	building := strings.Replace(name, "cx_tpl_", "cx_tplb_", 1)
	ident := pgx.Identifier{building}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop leftover %s: %w", building, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"); err != nil {
		return fmt.Errorf("create %s: %w", building, err)
	}
	pool, err := postgres.Open(ctx, withDatabase(state.serverDSN, building))
	if err != nil {
		return err
	}
	err = postgres.Migrate(ctx, pool, migrations)
	if err == nil && AfterMigrate.Fn != nil {
		err = AfterMigrate.Fn(ctx, pool)
	}
	pool.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	// The migrations' DDL invalidated the relation cache init file (pg_internal.init). A
	// fresh session writes it again, and clones copy it: their first connection then skips
	// rebuilding the cache from the catalogs.
	if err := warmRelcache(ctx, withDatabase(state.serverDSN, building)); err != nil {
		return err
	}
	// The pool's backends may take a moment to exit after Close.
	err = retryInUse(ctx, func() error {
		_, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" RENAME TO "+pgx.Identifier{name}.Sanitize())
		return err
	})
	if err != nil {
		return fmt.Errorf("rename template: %w", err)
	}
	// Nobody may connect to the template: a connection would make every clone fail with
	// "source database is being accessed by other users".
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("seal template: %w", err)
	}
	fmt.Fprintf(os.Stderr, "pgtest: built template %s in %v\n", name, time.Since(start).Round(time.Millisecond))
	return nil
}

func warmRelcache(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "SELECT 1")
	return err
}

func newDB(t testing.TB, template string) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	admin, err := server(ctx)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := dbName(t.Name())
	ident := pgx.Identifier{name}.Sanitize()
	err = retryInUse(ctx, func() error {
		_, err := admin.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE "+pgx.Identifier{template}.Sanitize()+state.cloneOptions)
		return err
	})
	if err != nil {
		t.Fatalf("pgtest: create database from %s: %v", template, err)
	}
	dsn := withDatabase(state.serverDSN, name)
	drop := func() {
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		// The closed pool's sessions exit asynchronously, and DROP ... WITH (FORCE)
		// re-checks for sessions only every 100 ms: waiting for them ourselves is faster.
		for range 200 {
			var sessions int
			err := admin.QueryRow(dctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name).Scan(&sessions)
			if err != nil || sessions == 0 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		if _, err := admin.Exec(dctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: drop %s: %v\n", name, err)
		}
	}
	cfg, err := postgres.Config(dsn)
	if err != nil {
		drop()
		t.Fatalf("pgtest: %v", err)
	}
	cfg.MaxConns = 10
	pool, err := postgres.OpenConfig(ctx, cfg)
	if err != nil {
		drop()
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		if t.Failed() && os.Getenv("PGTEST_KEEP") != "" {
			t.Logf("pgtest: kept database %s (PGTEST_KEEP is set): %s", name, dsn)
			return
		}
		state.mu.Lock()
		async := state.inMain
		state.mu.Unlock()
		if !async {
			drop()
			return
		}
		// Dropping takes a few milliseconds the test need not wait for; MainFS waits.
		state.drops.Add(1)
		go func() {
			defer state.drops.Done()
			drop()
		}()
	})
	return pool, dsn
}

// retryInUse retries fn for up to 10 seconds while PostgreSQL reports 55006 object_in_use
// ("source database is being accessed by other users", also for RENAME).
func retryInUse(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	delay := 5 * time.Millisecond
	for {
		err := fn()
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

func databaseExists(ctx context.Context, conn *pgxpool.Conn, name string) (bool, error) {
	var exists bool
	err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	return exists, err
}

// dbName returns t_<test name>_<random>, within PostgreSQL's 63-byte limit, so a database
// left behind (PGTEST_KEEP) says which test made it.
func dbName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	label := b.String()
	if len(label) > 40 {
		label = label[len(label)-40:]
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return "t_" + label + "_" + hex.EncodeToString(rnd[:])
}

// withDatabase returns dsn pointing at database instead.
func withDatabase(dsn, database string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			u.Path = "/" + database
			u.RawPath = ""
			return u.String()
		}
	}
	// Keyword/value form: a later keyword overrides an earlier one.
	return dsn + " dbname=" + database
}

// hashFS hashes the names and contents of every file in fsys.
func hashFS(fsys fs.FS) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "pgtest template v%s %s\n", templateVersion, AfterMigrate.Name)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
