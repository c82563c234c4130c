package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	dbfs "github.com/casexchange/server/db"
	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/buildinfo"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/firms"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/pgcluster"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/seed"
)

type runFunc = func(ctx context.Context, x *cli, args []string) error

func noFlags(fn runFunc) func(*flag.FlagSet) runFunc {
	return func(*flag.FlagSet) runFunc { return fn }
}

// root is the command tree.
func root() *command {
	migrateUp := noFlags(func(ctx context.Context, x *cli, _ []string) error { return x.migrateUp(ctx) })
	r := &command{
		synopsis: "COMMAND [flags]",
		about: "The CaseXchange server and its operator tools. Configuration comes from environment\n" +
			"variables only (docs/configuration.md); without DATABASE_URL a private PostgreSQL\n" +
			"cluster is started under CX_DATA_DIR.",
		subs: []*command{
			{name: "serve", summary: "migrate, seed the demo data (private cluster or CX_SEED=true), serve HTTP",
				about: "Applies pending migrations, seeds the demo data when CX_SEED says so (by default only\n" +
					"into the private cluster), and serves the API on CX_HTTP_ADDR (metrics on CX_METRICS_ADDR\n" +
					"when set) until SIGTERM or SIGINT. With DATABASE_URL set it refuses to start without\n" +
					"CX_JWT_SECRET (and CX_DOWNLOAD_LINK_SECRET with local document storage).",
				setup: noFlags(func(ctx context.Context, x *cli, _ []string) error { return x.serve(ctx) })},
			{name: "migrate", synopsis: "[up | down [N]]", summary: "apply pending migrations, or roll back the last N (default 1)",
				setup: migrateUp,
				subs: []*command{
					{name: "migrate up", summary: "apply every pending migration (the default)", setup: migrateUp},
					{name: "migrate down", synopsis: "[N]", summary: "roll back the last N migrations (default 1)", maxArgs: 1,
						setup: noFlags(func(ctx context.Context, x *cli, args []string) error { return x.migrateDown(ctx, args) })},
				}},
			{name: "seed", synopsis: "[--scale N [--seed S]]", summary: "load the demo data (idempotent), or N synthetic firms",
				about: "Loads the demo network (three firms, password casexchange-demo) into the database, or\n" +
					"with --scale N that many synthetic firms of about 1000 referrals each.",
				setup: seedSetup},
			{name: "keys", synopsis: "COMMAND", summary: "manage Public API keys",
				subs: []*command{
					{name: "keys create", synopsis: "--firm ID|SLUG [--tier read_only|standard|full] [--name NAME]",
						summary: "create a Public API key and print it once",
						about:   "Creates a Public API key for the firm and prints it once on stdout.",
						setup:   keysCreateSetup},
				}},
			{name: "import", synopsis: "COMMAND", summary: "bulk imports",
				subs: []*command{
					{name: "import cases", synopsis: "FILE --firm ID|SLUG [--update] [--workers N]", minArgs: 1, maxArgs: 1,
						summary: "import cases from a CSV file, with a progress bar",
						about:   "Imports cases from a CSV file with the columns of POST /api/public/v1/import/cases.",
						setup:   importCasesSetup},
				}},
			{name: "firms", synopsis: "COMMAND", summary: "inspect firms",
				subs: []*command{
					{name: "firms list", summary: "list every firm: slug, name, id",
						about: "Lists every firm with the slug and id that keys create and import cases take. It\n" +
							"reads the database and changes nothing (it does not migrate).",
						setup: noFlags(func(ctx context.Context, x *cli, _ []string) error { return x.firmsList(ctx) })},
				}},
			{name: "version", summary: "print the version of this build",
				setup: noFlags(func(_ context.Context, x *cli, _ []string) error {
					bi := buildinfo.Get()
					fmt.Fprintf(x.stdout, "casexchange %s (revision %s, %s, %s/%s)\n", bi.Version, bi.Revision, bi.GoVersion, runtime.GOOS, runtime.GOARCH)
					return nil
				})},
		},
	}
	r.subs = append(r.subs, &command{name: "help", synopsis: "[COMMAND...]", summary: "show the usage of a command", maxArgs: -1,
		setup: noFlags(func(_ context.Context, x *cli, args []string) error {
			c := r
			for _, a := range args {
				var next *command
				for _, s := range c.subs {
					if last(s.name) == a {
						next = s
					}
				}
				if next == nil {
					return usagef("unknown command %q", strings.Join(args, " "))
				}
				c = next
			}
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			if c.setup != nil {
				c.setup(fs)
			}
			fmt.Fprint(x.stdout, c.usageWithFlags(fs))
			return nil
		})})
	return r
}

// config reads the environment; it has no side effect.
func (x *cli) config() (config.Config, error) {
	cfg, err := config.LoadFrom(x.lookup)
	if err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// logger writes JSON lines to stderr: the server's log, not the command's messages.
func (x *cli) logger(cfg config.Config) *slog.Logger {
	log := slog.New(slog.NewJSONHandler(x.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if x.setDefault {
		slog.SetDefault(log) // packages that log without a logger (migrations, the cluster)
	}
	return log
}

// openDB connects to DATABASE_URL or starts the private cluster and, when migrate is true,
// applies pending migrations.
func openDB(ctx context.Context, cfg config.Config, log *slog.Logger, migrate bool) (*pgxpool.Pool, func(), error) {
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
	closeAll := func() { pool.Close(); stop() }
	if !migrate {
		return pool, closeAll, nil
	}
	if err := postgres.Migrate(ctx, pool, dbfs.Migrations); err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	if err := jobs.Migrate(ctx, pool); err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("migrate job queue: %w", err)
	}
	return pool, closeAll, nil
}

// withApp runs fn with a whole App over a migrated database (the operator commands).
func (x *cli) withApp(ctx context.Context, fn func(*app.App) error) error {
	cfg, err := x.config()
	if err != nil {
		return err
	}
	if err := cfg.ResolveSecrets(false); err != nil {
		return err
	}
	log := x.logger(cfg)
	if cfg.GCPercent > 0 {
		debug.SetGCPercent(cfg.GCPercent)
	}
	pool, closeDB, err := openDB(ctx, cfg, log, true)
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

func (x *cli) serve(ctx context.Context) error {
	cfg, err := x.config()
	if err != nil {
		return err
	}
	// Refuse before anything starts: no cluster, no connection, no listener.
	if err := cfg.ResolveSecrets(true); err != nil {
		return err
	}
	log := x.logger(cfg)
	if cfg.GCPercent > 0 {
		debug.SetGCPercent(cfg.GCPercent)
	}
	pool, closeDB, err := openDB(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer closeDB()
	a, err := app.New(ctx, cfg, pool, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.Seed {
		if _, err := seed.Demo(ctx, a, log); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	var metricsSrv *http.Server
	var metricsURL string
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.MetricsHandler())
		if cfg.MetricsPprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		}
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		metricsURL = "http://" + mln.Addr().String() + "/metrics"
		go func() {
			if err := metricsSrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics listener failed", "error", err.Error())
			}
		}()
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	a.Start(bg)
	srv := a.HTTPServer()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	log.Info("serving", "url", url, "spec", url+"/api/public/v1/openapi.yml", "metrics", metricsURL, "version", buildinfo.Version())
	fmt.Fprintf(x.stderr, "\nCaseXchange %s is serving on %s\n  spec:   %s/api/public/v1/openapi.yml\n  health: %s/api/public/v1/health (probes: %s/livez, %s/readyz)\n",
		buildinfo.Version(), url, url, url, url, url)
	if metricsURL != "" {
		fmt.Fprintf(x.stderr, "  metrics: %s\n", metricsURL)
	}
	if cfg.Seed {
		fmt.Fprintf(x.stderr, "  demo users (password %q):", seed.DemoPassword)
		for _, f := range seed.DemoFirms {
			fmt.Fprintf(x.stderr, " %s", f.AdminEmail)
		}
		fmt.Fprintf(x.stderr, "\n  log in: curl -s %s/api/v1/auth/login -H 'Content-Type: application/json' -d '{\"email\":\"admin@acme.test\",\"password\":\"%s\"}'\n\n", url, seed.DemoPassword)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Drain()
	if cfg.DrainDelay > 0 {
		log.Info("draining: /readyz answers 503, still serving", "for", cfg.DrainDelay.String())
		time.Sleep(cfg.DrainDelay)
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(sctx)
	}
	stopBG()
	if ferr := a.Auth.FlushUsage(sctx); ferr != nil {
		log.Warn("API key usage not recorded at shutdown", "error", ferr.Error())
	}
	return err
}

func (x *cli) migrateUp(ctx context.Context) error {
	cfg, err := x.config()
	if err != nil {
		return err
	}
	log := x.logger(cfg)
	pool, closeDB, err := openDB(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer closeDB()
	pending, err := postgres.Pending(ctx, pool, dbfs.Migrations)
	if err != nil {
		return err
	}
	if err := postgres.Migrate(ctx, pool, dbfs.Migrations); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := jobs.Migrate(ctx, pool); err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	fmt.Fprintf(x.stdout, "applied %d migrations; the schema is current\n", len(pending))
	return nil
}

func (x *cli) migrateDown(ctx context.Context, args []string) error {
	n := 1
	if len(args) == 1 {
		var err error
		if n, err = strconv.Atoi(args[0]); err != nil || n < 1 {
			return usagef("want a positive number of steps, got %q", args[0])
		}
	}
	cfg, err := x.config()
	if err != nil {
		return err
	}
	pool, closeDB, err := openDB(ctx, cfg, x.logger(cfg), false)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := postgres.MigrateDown(ctx, pool, dbfs.Migrations, n); err != nil {
		return err
	}
	fmt.Fprintf(x.stdout, "rolled back %d migrations\n", n)
	return nil
}

func (x *cli) firmsList(ctx context.Context) error {
	cfg, err := x.config()
	if err != nil {
		return err
	}
	pool, closeDB, err := openDB(ctx, cfg, x.logger(cfg), false)
	if err != nil {
		return err
	}
	defer closeDB()
	pending, err := postgres.Pending(ctx, pool, dbfs.Migrations)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("the database has %d pending migrations: run casexchange migrate first", len(pending))
	}
	list, err := firms.New(pool).ListAll(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(x.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SLUG\tNAME\tID")
	for _, f := range list {
		slug, name := f.Slug, f.Name
		if slug == "" {
			slug = "-"
		}
		if !f.IsActive {
			name += " (inactive)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", slug, name, f.ID)
	}
	return w.Flush()
}

func keysCreateSetup(fs *flag.FlagSet) runFunc {
	firm := fs.String("firm", "", "firm id or slug (required; see casexchange firms list)")
	tier := fs.String("tier", "read_only", "read_only, standard or full")
	name := fs.String("name", "CLI key", "key name")
	return func(ctx context.Context, x *cli, _ []string) error {
		t := auth.Tier(strings.ToUpper(*tier))
		if !t.Valid() {
			return usagef("--tier: want read_only, standard or full, got %q", *tier)
		}
		if *firm == "" {
			return usagef("--firm is required")
		}
		return x.withApp(ctx, func(a *app.App) error {
			f, err := a.Firms.Lookup(ctx, *firm)
			if err != nil {
				return fmt.Errorf("firm %q: %w", *firm, err)
			}
			k, err := a.Auth.CreateKeyForFirm(ctx, f.ID, auth.KeyInput{Name: *name, Tier: t})
			if err != nil {
				return err
			}
			fmt.Fprintf(x.stderr, "Created %s key %q for %s (id %s). It is shown once; store it now:\n", strings.ToLower(string(t)), *name, f.Name, k.ID)
			fmt.Fprintln(x.stdout, k.Key)
			return nil
		})
	}
}

func importCasesSetup(fs *flag.FlagSet) runFunc {
	firm := fs.String("firm", "", "firm id or slug (required; see casexchange firms list)")
	update := fs.Bool("update", false, "only update existing cases (like POST /import/cases/update)")
	workers := fs.Int("workers", 0, "rows written at once (0: automatic)")
	return func(ctx context.Context, x *cli, args []string) error {
		if *firm == "" {
			return usagef("--firm is required")
		}
		if *workers < 0 {
			return usagef("--workers: want 0 or more, got %d", *workers)
		}
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close() //nolint:errcheck // read only
		mode := importer.Upsert
		if *update {
			mode = importer.UpdateOnly
		}
		return x.withApp(ctx, func(a *app.App) error {
			fm, err := a.Firms.Lookup(ctx, *firm)
			if err != nil {
				return fmt.Errorf("firm %q: %w", *firm, err)
			}
			res, err := a.Server.Importer.Run(ctx, auth.Actor{FirmID: fm.ID, Source: referrals.SourceSystem},
				mode, f, importer.Options{Workers: *workers}, importer.ProgressBar(x.stderr, 40))
			if err != nil {
				return err
			}
			importer.WriteReport(x.stdout, res)
			if res.Failed > 0 {
				return fmt.Errorf("%d rows failed", res.Failed)
			}
			return nil
		})
	}
}

// seedSetup loads the demo data or, with --scale N, N synthetic firms with about 1000
// referrals each.
func seedSetup(fs *flag.FlagSet) runFunc {
	scale := fs.Int("scale", 0, "load N synthetic firms (~1000 referrals each) instead of the demo data")
	seedValue := fs.Int64("seed", 1, "random seed of --scale: the same seed gives the same rows")
	return func(ctx context.Context, x *cli, _ []string) error {
		if *scale < 0 {
			return usagef("--scale: want 0 or more, got %d", *scale)
		}
		return x.withApp(ctx, func(a *app.App) error {
			if *scale == 0 {
				if _, err := seed.Demo(ctx, a, a.Log); err != nil {
					return err
				}
				fmt.Fprintln(x.stdout, "demo data loaded")
				return nil
			}
			start := time.Now()
			err := seed.Scale(ctx, a, a.Pool, *scale, *seedValue, importer.ProgressBarOf(x.stderr, 40, "firms"))
			fmt.Fprintln(x.stderr)
			if err != nil {
				return err
			}
			fmt.Fprintf(x.stdout, "seeded %d firms in %s\n", *scale, time.Since(start).Round(time.Millisecond))
			return nil
		})
	}
}
