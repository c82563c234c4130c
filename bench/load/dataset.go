package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbfs "github.com/casexchange/server/db"
	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/seed"
)

// scaleDB is one dataset: its database, a pool and an in-process App over it.
type scaleDB struct {
	dsn  string
	pool *pgxpool.Pool
	rec  *recorder // the pool's query recorder (plans.go)
	app  *app.App
	info datasetInfo
}

// datasetInfo describes a dataset in the results.
type datasetInfo struct {
	DB            string
	Scale         int
	Referrals     int64
	StatusUpdates int64
	BaseCases     int64
	SeedTime      time.Duration // 0: it was already there
}

func (s *scaleDB) close() {
	if s.app != nil {
		s.app.Close()
	}
	s.pool.Close()
}

var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// dsnFor returns the cluster DSN (a URL) pointed at database name.
func dsnFor(cluster, name string) (string, error) {
	u, err := url.Parse(cluster)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("DATABASE_URL must be a postgres:// URL to derive the dataset databases from it")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// ensureDatabase creates database name in the cluster of dsn unless it exists; fresh reports
// whether it did.
func ensureDatabase(ctx context.Context, dsn, name string) (fresh bool, err error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return false, err
	}
	if exists {
		return false, nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err == nil, err
}

// dropDatabase removes database name from the cluster of dsn if it exists.
func dropDatabase(ctx context.Context, dsn, name string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// openScale opens (creating, migrating and seeding when needed) the database holding the
// dataset of the given scale.
func openScale(ctx context.Context, o options, name string, scale int) (*scaleDB, error) {
	if _, err := ensureDatabase(ctx, o.dsn, name); err != nil {
		return nil, fmt.Errorf("database %s: %w", name, err)
	}
	dsn, err := dsnFor(o.dsn, name)
	if err != nil {
		return nil, err
	}
	cfg, err := postgres.Config(dsn)
	if err != nil {
		return nil, err
	}
	rec := &recorder{}
	cfg.ConnConfig.Tracer = rec
	pool, err := postgres.OpenConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &scaleDB{dsn: dsn, pool: pool, rec: rec, info: datasetInfo{DB: name, Scale: scale}}
	if err := postgres.Migrate(ctx, pool, dbfs.Migrations); err != nil {
		s.close()
		return nil, fmt.Errorf("migrate %s: %w", name, err)
	}
	if err := jobs.Migrate(ctx, pool); err != nil {
		s.close()
		return nil, fmt.Errorf("migrate the job queue of %s: %w", name, err)
	}
	acfg, err := config.Load()
	if err != nil {
		s.close()
		return nil, err
	}
	acfg.DatabaseURL = dsn
	if err := acfg.ResolveSecrets(false); err != nil {
		s.close()
		return nil, err
	}
	if s.app, err = app.New(ctx, acfg, pool, quiet, app.Options{}); err != nil {
		s.close()
		return nil, err
	}
	var firms int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM firms WHERE slug LIKE 'scale-%'`).Scan(&firms); err != nil {
		s.close()
		return nil, err
	}
	switch {
	case firms == 0:
		fmt.Fprintf(os.Stderr, "seeding %s: %d firms (~%d referrals)\n", name, scale, scale*seed.ScaleReferralsPerFirm)
		t0 := time.Now()
		if err := seed.Scale(ctx, s.app, pool, scale, o.seed, importer.ProgressBar(os.Stderr, 40)); err != nil {
			s.close()
			return nil, fmt.Errorf("seed %s: %w", name, err)
		}
		s.info.SeedTime = time.Since(t0)
		fmt.Fprintf(os.Stderr, "\nseeded %s in %s\n", name, s.info.SeedTime.Round(time.Millisecond))
	case firms != scale:
		s.close()
		return nil, fmt.Errorf("database %s holds %d scale firms, not %d: name another database with -db/-growth-db, or drop it to reseed", name, firms, scale)
	}
	// Statistics, as a long-lived database has them (the seed analyzes what it wrote; a dataset
	// loaded otherwise may never have been analyzed, and test clusters run no autovacuum).
	var analyzed bool
	if err := pool.QueryRow(ctx, `SELECT COALESCE(bool_and(last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL), false)
		FROM pg_stat_user_tables WHERE relname IN ('base_cases', 'referrals', 'status_updates')`).Scan(&analyzed); err != nil {
		s.close()
		return nil, err
	}
	if !analyzed {
		fmt.Fprintf(os.Stderr, "analyzing %s\n", name)
		if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
			s.close()
			return nil, fmt.Errorf("analyze %s: %w", name, err)
		}
	}
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM referrals), (SELECT count(*) FROM status_updates), (SELECT count(*) FROM base_cases)`).
		Scan(&s.info.Referrals, &s.info.StatusUpdates, &s.info.BaseCases); err != nil {
		s.close()
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "dataset %s: %d referrals, %d status updates\n", name, s.info.Referrals, s.info.StatusUpdates)
	return s, nil
}

// fixtures are the ids and parameters the endpoints are called with.
type fixtures struct {
	firm, key              string
	writer, writerKey      string // the firm the write endpoints act as: not firm, so its feed stays still
	sender                 string // a firm that sends to firm
	caseType, jurisdiction string
	oursFresh, baseFresh   chan string // under_evaluation referrals received by firm
	caseID, caseRef        string
	deepPage               int
	since                  time.Time
}

// prepareReads creates a FULL key for the first scale firm and picks the read endpoints'
// parameters. Reads act as the first scale firm; no write of the benchmark touches it, so a
// kept dataset answers them the same way on every run.
func prepareReads(ctx context.Context, s *scaleDB) (fixtures, error) {
	var fx fixtures
	a, pool := s.app, s.pool
	f, err := a.Firms.Lookup(ctx, seed.ScaleSlug(0))
	if err != nil {
		return fx, err
	}
	fx.firm = f.ID.String()
	k, err := a.Auth.CreateKeyForFirm(ctx, f.ID, auth.KeyInput{Name: "bench " + time.Now().Format(time.RFC3339), Tier: auth.TierFull})
	if err != nil {
		return fx, err
	}
	fx.key = k.Key
	var caseID uuid.UUID
	var cases int
	if err := pool.QueryRow(ctx, `
		SELECT c.id, c.reference_number, (SELECT count(*) FROM base_cases WHERE owner_firm_id = $1)
		FROM base_cases c WHERE c.owner_firm_id = $1 ORDER BY c.created_at, c.id LIMIT 1 OFFSET 100`, f.ID).Scan(&caseID, &fx.caseRef, &cases); err != nil {
		return fx, fmt.Errorf("pick a case: %w", err)
	}
	fx.caseID = caseID.String()
	fx.deepPage = max(1, cases/20-1)
	// A poller that last looked two days before the firm's newest entry.
	if err := pool.QueryRow(ctx, `SELECT max(created_at) - interval '2 days' FROM status_updates WHERE referring_firm_id = $1 OR referent_firm_id = $1`, f.ID).Scan(&fx.since); err != nil {
		return fx, err
	}
	return fx, nil
}

// prepareWritesFor picks the write endpoints' parameters and creates, through the referral
// service, o.writePool acknowledged (under_evaluation) referrals sent to writer by from, for
// begin-investigating to consume (fx.oursFresh).
func prepareWritesFor(ctx context.Context, o options, s *scaleDB, writer, from uuid.UUID, fx *fixtures) error {
	a, pool := s.app, s.pool
	firm := writer
	if err := pool.QueryRow(ctx, `
		SELECT ct.name, (SELECT code FROM jurisdictions WHERE kind = 'state' ORDER BY code LIMIT 1)
		FROM case_types ct WHERE ct.is_active AND NOT EXISTS (SELECT 1 FROM case_type_fields f WHERE f.case_type_id = ct.id AND f.is_required)
		ORDER BY ct.sort_order LIMIT 1`).Scan(&fx.caseType, &fx.jurisdiction); err != nil {
		return fmt.Errorf("pick a case type: %w", err)
	}
	fmt.Fprintf(os.Stderr, "preparing %d fresh referrals for begin-investigating\n", o.writePool)
	fx.oursFresh = make(chan string, o.writePool)
	ref := a.Server.Referrals
	work := make(chan chan string)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for dst := range work {
				v, err := ref.CreateCase(ctx, auth.Actor{FirmID: from}, referrals.CreateCaseInput{
					Title: "Bench fresh referral", CaseType: fx.caseType, Jurisdiction: fx.jurisdiction,
					ClientFirstName: "Fresh", ClientLastName: "Client", ReferentFirmID: &firm,
				})
				if err == nil && v.Current == nil {
					err = errors.New("the case has no referral")
				}
				if err == nil {
					_, err = ref.Act(ctx, auth.Actor{FirmID: firm}, referrals.Selector{Key: v.Current.ReferenceNumber, Receiving: true},
						referrals.ActionAcknowledge, referrals.ActionInput{})
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				dst <- v.Current.ReferenceNumber
			}
		}()
	}
	for range o.writePool {
		work <- fx.oursFresh
	}
	close(work)
	wg.Wait()
	close(fx.oursFresh)
	if v := firstErr.Load(); v != nil {
		return fmt.Errorf("prepare fresh referrals: %w", v.(error))
	}
	return nil
}

// pgSettings describes the cluster settings the write figures depend on.
func pgSettings(ctx context.Context, pool *pgxpool.Pool) string {
	var version, fsync, syncCommit, buffers string
	if err := pool.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('synchronous_commit'), current_setting('shared_buffers')`).Scan(&version, &fsync, &syncCommit, &buffers); err != nil {
		return "unknown (" + err.Error() + ")"
	}
	s := fmt.Sprintf("%s, fsync=%s, synchronous_commit=%s, shared_buffers=%s", version, fsync, syncCommit, buffers)
	if fsync == "off" {
		s += " (a throwaway cluster: commits cost no disk flush, which flatters the write paths and the importer)"
	}
	return s
}
