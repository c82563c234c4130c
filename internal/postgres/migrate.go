package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationLockKey is the pg_advisory_lock key held while migrating, so that processes
// starting together (replicas, parallel test packages) apply each migration once. Advisory
// locks are scoped to the current database.
const migrationLockKey int64 = 0x6358_6d69_6772_6174 // "cXmigrat"

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    text PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrationName matches NNNN_name.up.sql and NNNN_name.down.sql.
var migrationName = regexp.MustCompile(`^(\d+)_([A-Za-z0-9_\-]+)\.(up|down)\.sql$`)

// Migration is one versioned schema change.
type Migration struct {
	// Version is the file name without .up.sql, e.g. "0001_core"; it is what
	// schema_migrations records.
	Version string
	up      string // file names in the FS
	down    string
}

// Migrations lists the migrations in fsys in lexical order. fsys holds the .sql files at its
// root or in a migrations/ directory (as db.Migrations does). It returns an error when a
// file name does not match NNNN_name.(up|down).sql, when two migrations share a number (two
// branches that both added 0007_...), or when a .down.sql has no .up.sql.
func Migrations(fsys fs.FS) ([]Migration, error) {
	fsys, err := migrationRoot(fsys)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	byVersion := map[string]*Migration{}
	numbers := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.up.sql or NNNN_name.down.sql", e.Name())
		}
		version := m[1] + "_" + m[2]
		if other, ok := numbers[m[1]]; ok && other != version {
			return nil, fmt.Errorf("migrations %q and %q share the number %s: renumber one", other, version, m[1])
		}
		numbers[m[1]] = version
		mig := byVersion[version]
		if mig == nil {
			mig = &Migration{Version: version}
			byVersion[version] = mig
		}
		if m[3] == "up" {
			mig.up = e.Name()
		} else {
			mig.down = e.Name()
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		if m.up == "" {
			return nil, fmt.Errorf("migration %s has a .down.sql but no .up.sql", m.Version)
		}
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// migrationRoot returns fsys, or its migrations/ directory when the root has no .sql files.
func migrationRoot(fsys fs.FS) (fs.FS, error) {
	if matches, err := fs.Glob(fsys, "*.sql"); err != nil || len(matches) > 0 {
		return fsys, err
	}
	if fi, err := fs.Stat(fsys, "migrations"); err == nil && fi.IsDir() {
		return fs.Sub(fsys, "migrations")
	}
	return fsys, nil
}

// Migrate applies, in lexical order, every .up.sql migration of fsys (see Migrations) not yet
// recorded in schema_migrations, each in its own transaction together with its record. It
// holds an advisory lock for the whole run, so concurrent callers wait and then find nothing
// left to do. It stops at the first failing migration and returns its error; the ones before
// it stay applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) error {
	migs, err := Migrations(fsys)
	if err != nil {
		return err
	}
	root, _ := migrationRoot(fsys)
	return withMigrationLock(ctx, pool, func(conn *pgxpool.Conn) error {
		applied, err := appliedVersions(ctx, conn)
		if err != nil {
			return err
		}
		known := map[string]bool{}
		var pending []Migration
		for _, m := range migs {
			known[m.Version] = true
			if !applied[m.Version] {
				pending = append(pending, m)
			}
		}
		for v := range applied {
			if !known[v] {
				// A newer binary migrated this database; running older code against it
				// is the operator's call.
				slog.WarnContext(ctx, "postgres: database has a migration this binary does not know", "version", v)
			}
		}
		for _, m := range pending {
			sql, err := fs.ReadFile(root, m.up)
			if err != nil {
				return fmt.Errorf("migration %s: %w", m.Version, err)
			}
			start := time.Now()
			err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, string(sql)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", m.Version)
				return err
			})
			if err != nil {
				return fmt.Errorf("migration %s: %w", m.up, err)
			}
			slog.InfoContext(ctx, "postgres: applied migration", "version", m.Version, "elapsed", time.Since(start).Round(time.Millisecond))
		}
		return nil
	})
}

// MigrateDown reverts the last steps applied migrations, newest first, each with its
// .down.sql in its own transaction that also deletes its record. It returns an error, before
// reverting anything, when an applied migration to revert is missing from fsys or has no
// .down.sql.
func MigrateDown(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, steps int) error {
	if steps <= 0 {
		return nil
	}
	migs, err := Migrations(fsys)
	if err != nil {
		return err
	}
	byVersion := map[string]Migration{}
	for _, m := range migs {
		byVersion[m.Version] = m
	}
	root, _ := migrationRoot(fsys)
	return withMigrationLock(ctx, pool, func(conn *pgxpool.Conn) error {
		applied, err := appliedVersions(ctx, conn)
		if err != nil {
			return err
		}
		versions := make([]string, 0, len(applied))
		for v := range applied {
			versions = append(versions, v)
		}
		sort.Sort(sort.Reverse(sort.StringSlice(versions)))
		versions = versions[:min(steps, len(versions))]
		scripts := make([]string, len(versions))
		for i, v := range versions {
			m, ok := byVersion[v]
			if !ok || m.down == "" {
				return fmt.Errorf("migration %s: no .down.sql to revert it", v)
			}
			b, err := fs.ReadFile(root, m.down)
			if err != nil {
				return fmt.Errorf("migration %s: %w", v, err)
			}
			scripts[i] = string(b)
		}
		for i, v := range versions {
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, scripts[i]); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "DELETE FROM schema_migrations WHERE version = $1", v)
				return err
			})
			if err != nil {
				return fmt.Errorf("revert migration %s: %w", v, err)
			}
			slog.InfoContext(ctx, "postgres: reverted migration", "version", v)
		}
		return nil
	})
}

// withMigrationLock runs fn on one connection holding the migration advisory lock (a
// session lock, held across fn's transactions) and creates schema_migrations if needed.
func withMigrationLock(ctx context.Context, pool *pgxpool.Pool, fn func(conn *pgxpool.Conn) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return InterpretError(fmt.Errorf("migrate: acquire connection: %w", err))
	}
	defer conn.Release()
	// Migrations may legitimately run longer than the pool's statement timeout.
	if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		return fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, uerr := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", migrationLockKey)
		_, rerr := conn.Exec(uctx, "RESET statement_timeout")
		if err := errors.Join(uerr, rerr); err != nil {
			// Do not return a connection in an unknown state (lock held) to the pool.
			_ = conn.Conn().Close(uctx)
		}
	}()
	if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	return fn(conn)
}

func appliedVersions(ctx context.Context, conn *pgxpool.Conn) (map[string]bool, error) {
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	out := make(map[string]bool, len(versions))
	for _, v := range versions {
		out[v] = true
	}
	return out, nil
}

// Pending returns the versions of fsys (see Migrations) that schema_migrations does not record,
// in order; all of them when the table does not exist yet. Versions recorded but absent from
// fsys (applied by a newer release during a rolling upgrade) are not reported. It takes no lock
// and changes nothing.
func Pending(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) ([]string, error) {
	migs, err := Migrations(fsys)
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	applied := map[string]bool{}
	if exists {
		rows, err := pool.Query(ctx, "SELECT version FROM schema_migrations")
		if err != nil {
			return nil, fmt.Errorf("migrations: read schema_migrations: %w", err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("migrations: read schema_migrations: %w", err)
		}
		for _, v := range versions {
			applied[v] = true
		}
	}
	var pending []string
	for _, m := range migs {
		if !applied[m.Version] {
			pending = append(pending, m.Version)
		}
	}
	return pending, nil
}
