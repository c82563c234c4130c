// Command casexchange is the CaseXchange server and its operator tools.
//
//	casexchange serve                      migrate, seed demo data (CX_SEED), serve HTTP
//	casexchange migrate [up | down N]      apply or roll back migrations
//	casexchange seed                       load the demo data
//	casexchange keys create --firm F --tier T [--name N]
//	                                       create a Public API key and print it once
//	casexchange import cases FILE --firm F [--update]
//	                                       import cases from CSV with a progress bar
//
// Configuration comes only from environment variables (see the README). Without DATABASE_URL a
// private PostgreSQL cluster is started under CX_DATA_DIR and stopped on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	dbfs "github.com/casexchange/server/db"
	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/pgcluster"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/seed"
)

const usage = `usage: casexchange <command> [flags]

commands:
  serve                                  migrate, seed demo data unless CX_SEED=false, serve HTTP
  migrate [up | down N]                  apply pending migrations, or roll back N
  seed [--scale N [--seed S]]            load the demo data (idempotent), or N synthetic firms
                                         (~1000 referrals each, deterministic per seed)
  keys create --firm ID|SLUG --tier read_only|standard|full [--name NAME]
                                         create a Public API key and print it once
  import cases FILE --firm ID|SLUG [--update] [--workers N]
                                         import cases from a CSV file (the columns of
                                         POST /api/public/v1/import/cases), with a progress bar
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "configuration:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	switch os.Args[1] {
	case "serve":
		err = serve(ctx, cfg, log)
	case "migrate":
		err = migrate(ctx, cfg, log, os.Args[2:])
	case "seed":
		err = seedCmd(ctx, cfg, log, os.Args[2:])
	case "keys":
		err = keys(ctx, cfg, log, os.Args[2:])
	case "import":
		err = importCmd(ctx, cfg, log, os.Args[2:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		log.Error("fatal", "error", err.Error())
		os.Exit(1)
	}
}

// openDB connects to DATABASE_URL or starts the private cluster, and migrates.
func openDB(ctx context.Context, cfg config.Config, log *slog.Logger) (*pgxpool.Pool, func(), error) {
	dsn, stop := cfg.DatabaseURL, func() {}
	if dsn == "" {
		var err error
		dsn, stop, err = pgcluster.EnsureRunning(ctx, pgcluster.Options{
			DataDir: filepath.Join(cfg.DataDir, "postgres"), Database: "casexchange", Logger: log,
		})
		if err != nil {
			return nil, nil, err
		}
	}
	pool, err := postgres.Open(ctx, dsn)
	if err != nil {
		stop()
		return nil, nil, err
	}
	if err := postgres.Migrate(ctx, pool, dbfs.Migrations); err != nil {
		pool.Close()
		stop()
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	if err := jobs.Migrate(ctx, pool); err != nil {
		pool.Close()
		stop()
		return nil, nil, fmt.Errorf("migrate job queue: %w", err)
	}
	return pool, func() { pool.Close(); stop() }, nil
}

func withApp(ctx context.Context, cfg config.Config, log *slog.Logger, fn func(*app.App) error) error {
	pool, closeDB, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB()
	a, err := app.New(ctx, cfg, pool, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	return withApp(ctx, cfg, log, func(a *app.App) error {
		if cfg.Seed {
			if _, err := seed.Demo(ctx, a, log); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return err
		}
		bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
		defer stopBG()
		a.Start(bg)
		srv := a.HTTPServer()
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		url := "http://" + ln.Addr().String()
		log.Info("serving", "url", url, "spec", url+"/api/public/v1/openapi.yml")
		fmt.Fprintf(os.Stderr, "\nCaseXchange is serving on %s\n  spec:   %s/api/public/v1/openapi.yml\n  health: %s/api/public/v1/health\n", url, url, url)
		if cfg.Seed {
			fmt.Fprintf(os.Stderr, "  demo users (password %q):", seed.DemoPassword)
			for _, f := range seed.DemoFirms {
				fmt.Fprintf(os.Stderr, " %s", f.AdminEmail)
			}
			fmt.Fprintf(os.Stderr, "\n  log in: curl -s %s/api/v1/auth/login -H 'Content-Type: application/json' -d '{\"email\":\"admin@acme.test\",\"password\":\"%s\"}'\n\n", url, seed.DemoPassword)
		}
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
		}
		log.Info("shutting down: finishing in-flight requests")
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		err = srv.Shutdown(sctx)
		stopBG()
		a.Auth.FlushUsage(sctx)
		return err
	})
}

func migrate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string) error {
	if len(args) >= 1 && args[0] == "down" {
		n := 1
		if len(args) >= 2 {
			var err error
			if n, err = strconv.Atoi(args[1]); err != nil || n < 1 {
				return fmt.Errorf("migrate down: want a positive number of steps, got %q", args[1])
			}
		}
		pool, closeDB, err := openDB(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer closeDB()
		return postgres.MigrateDown(ctx, pool, dbfs.Migrations, n)
	}
	_, closeDB, err := openDB(ctx, cfg, log) // openDB migrates up
	if err != nil {
		return err
	}
	closeDB()
	log.Info("migrations applied")
	return nil
}

func keys(ctx context.Context, cfg config.Config, log *slog.Logger, args []string) error {
	if len(args) < 1 || args[0] != "create" {
		return errors.New("usage: casexchange keys create --firm ID|SLUG --tier read_only|standard|full [--name NAME]")
	}
	fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
	firm := fs.String("firm", "", "firm id or slug")
	tier := fs.String("tier", "read_only", "read_only, standard or full")
	name := fs.String("name", "CLI key", "key name")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	t := auth.Tier(strings.ToUpper(*tier))
	if !t.Valid() {
		return fmt.Errorf("--tier: want read_only, standard or full, got %q", *tier)
	}
	if *firm == "" {
		return errors.New("--firm is required")
	}
	return withApp(ctx, cfg, log, func(a *app.App) error {
		f, err := a.Firms.Lookup(ctx, *firm)
		if err != nil {
			return fmt.Errorf("firm %q: %w", *firm, err)
		}
		k, err := a.Auth.CreateKeyForFirm(ctx, f.ID, auth.KeyInput{Name: *name, Tier: t})
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "Created %s key %q for %s (id %s). It is shown once; store it now:\n", strings.ToLower(string(t)), *name, f.Name, k.ID)
		fmt.Println(k.Key)
		return nil
	})
}

func importCmd(ctx context.Context, cfg config.Config, log *slog.Logger, args []string) error {
	if len(args) < 2 || args[0] != "cases" {
		return errors.New("usage: casexchange import cases FILE --firm ID|SLUG [--update] [--workers N]")
	}
	file, fs := args[1], flag.NewFlagSet("import cases", flag.ContinueOnError)
	firm := fs.String("firm", "", "firm id or slug")
	update := fs.Bool("update", false, "only update existing cases (like POST /import/cases/update)")
	workers := fs.Int("workers", 0, "rows written at once (0: automatic)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if *firm == "" {
		return errors.New("--firm is required")
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	mode := importer.Upsert
	if *update {
		mode = importer.UpdateOnly
	}
	return withApp(ctx, cfg, log, func(a *app.App) error {
		fm, err := a.Firms.Lookup(ctx, *firm)
		if err != nil {
			return fmt.Errorf("firm %q: %w", *firm, err)
		}
		res, err := a.Server.Importer.Run(ctx, referrals.Actor{FirmID: fm.ID, Source: referrals.SourceSystem},
			mode, f, importer.Options{Workers: *workers}, importer.ProgressBar(os.Stderr, 40))
		if err != nil {
			return err
		}
		importer.WriteReport(os.Stdout, res)
		if res.Failed > 0 {
			return fmt.Errorf("%d rows failed", res.Failed)
		}
		return nil
	})
}

// seedCmd loads the demo data or, with --scale N, N synthetic firms with about 1000 referrals each.
func seedCmd(ctx context.Context, cfg config.Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	scale := fs.Int("scale", 0, "load N synthetic firms (~1000 referrals each) instead of the demo data")
	seedValue := fs.Int64("seed", 1, "random seed of --scale: the same seed gives the same rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withApp(ctx, cfg, log, func(a *app.App) error {
		if *scale == 0 {
			_, err := seed.Demo(ctx, a, log)
			return err
		}
		start := time.Now()
		err := seed.Scale(ctx, a, a.Pool, *scale, *seedValue, importer.ProgressBarOf(os.Stderr, 40, "firms"))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "seeded %d firms in %s\n", *scale, time.Since(start).Round(time.Millisecond))
		return nil
	})
}
