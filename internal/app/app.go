// Package app wires the server together: database, domain services and the HTTP layer. The
// binary and the integration tests build the same App, so tests exercise the real stack.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/casexchange/server/internal/analytics"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/documents"
	"github.com/casexchange/server/internal/fees"
	"github.com/casexchange/server/internal/firms"
	"github.com/casexchange/server/internal/httpapi"
	"github.com/casexchange/server/internal/idempotency"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/medical"
	"github.com/casexchange/server/internal/network"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/ratelimit"
	"github.com/casexchange/server/internal/refdata"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/routing"
	"github.com/casexchange/server/internal/storage"
	"github.com/casexchange/server/internal/users"
	"github.com/casexchange/server/internal/webhooks"
)

// App is a fully wired server over one database pool.
type App struct {
	Config  config.Config
	Pool    *pgxpool.Pool
	Log     *slog.Logger
	Echo    *echo.Echo
	Server  *httpapi.Server
	Auth    *auth.Service
	Firms   *firms.Service
	RefData *refdata.Service
	Jobs    *jobs.Client // jobs (issue 5): the background job queue (e-mail delivery)

	limiter   ratelimit.Limiter
	closeOnce sync.Once
}

// Options adjust an App for tests and tools.
type Options struct {
	Limiter      ratelimit.Limiter   // nil: by Config.RateStore
	PasswordCost auth.PasswordParams // zero: production cost
	Registry     *prometheus.Registry
	AuthOptions  []auth.Option // extra options of the auth service (tests: key listener dial)
}

// New builds an App over an open, migrated pool.
func New(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger, opts Options) (*App, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg = withLimitDefaults(cfg)
	authSvc, err := auth.New(pool, auth.Config{
		JWTSecret:  cfg.JWTSecret,
		AccessTTL:  cfg.AccessTokenTTL,
		RefreshTTL: cfg.RefreshTokenTTL,
		Password:   opts.PasswordCost,

		MaxActiveKeys: cfg.MaxActiveKeys,
	}, append([]auth.Option{auth.WithErrorHandler(func(err error) { log.Warn("auth background task failed", "error", err.Error()) })},
		opts.AuthOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	a := &App{Config: cfg, Pool: pool, Log: log, Auth: authSvc, Firms: firms.New(pool), RefData: refdata.NewService(pool)}

	limiter := opts.Limiter
	if limiter == nil {
		if cfg.RateStore == "postgres" {
			limiter = ratelimit.NewPostgres(pool, nil)
		} else {
			limiter = ratelimit.NewMemory(nil)
		}
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg.MustRegister(newPoolCollector(pool))
		reg.MustRegister(newKeyCacheCollector(authSvc))
	}

	// jobs (issue 5): River's schema (idempotent), the job client with the e-mail worker, and
	// the notification service that enqueues e-mail.
	if err := jobs.Migrate(ctx, pool); err != nil {
		return nil, err
	}
	mailCfg, err := notify.ConfigFromEnv(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	mailer, err := notify.NewMailer(mailCfg)
	if err != nil {
		return nil, err
	}
	// webhooks (issue 9): the delivery workers run on the same job queue.
	hookCfg, err := webhooks.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	if hookCfg.AllowPrivate {
		log.Warn("UNSAFE: " + webhooks.EnvAllowPrivate + " is on: webhooks may reach private addresses and plain http")
	}
	hookCfg.BaseURL = func() string { return a.Config.PublicBaseURL }
	hooks := webhooks.New(pool, hookCfg)
	importJobs := &importer.Worker{} // import jobs (issue 5): bound to the importer below
	if a.Jobs, err = jobs.New(pool, log, jobs.Config{RetryDelay: cfg.JobRetryDelay, PollInterval: cfg.JobPollInterval}, notify.Workers(mailer), hooks.Workers(), importJobs.Register); err != nil {
		return nil, err
	}
	hooks.UseQueue(a.Jobs) // webhooks (issue 9)
	notifier := notify.New(pool, a.Jobs, mailer)

	// storage and documents (issue 5)
	store, err := storage.FromEnv(cfg.DataDir, func() string { return a.Config.PublicBaseURL })
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	// The importer writes cases through a referrals service of its own (same rules; ideally
	// the one in Services.Referrals once that is hoisted into a variable).
	feeSvc := fees.New(pool, hooks, fees.Config{NetDays: cfg.FeeNetDays}) // issue 19: fee agreements and ledger
	referralSvc := referrals.New(pool, referrals.WithNotifier(notifier), referrals.WithWebhooks(hooks), referrals.WithFeeLedger(feeSvc))

	// Import jobs (issue 5): large uploads wait in the document store for a queue worker.
	imp := importer.New(pool, a.RefData, referralSvc, log)
	imp.UseJobs(a.Jobs, store)
	importJobs.Use(imp)

	services := httpapi.Services{
		// domain services
		Auth:      a.Auth,
		Firms:     a.Firms,
		RefData:   a.RefData,
		Network:   network.New(pool, a.RefData),
		Routing:   routing.New(pool, a.RefData),
		Referrals: referralSvc,
		Users:     users.New(pool, notifier, a.Auth.Hasher(), users.Config{BaseURL: cfg.PublicBaseURL, Keys: a.Auth}),
		Notify:    notifier,
		// issue 5: documents, medical referrals, import
		Documents: documents.New(pool, store, log, notifier, documents.WithWebhooks(hooks)),
		Medical:   medical.New(pool),
		Importer:  imp,

		Idempotency: idempotency.New(pool), // issue 9: idempotent writes
		Webhooks:    hooks,                 // issue 9: firm webhooks

		Analytics: analytics.New(pool, a.RefData), // issue 6: analytics and exports

		Fees: feeSvc, // issue 19: fee agreements, consent, ledger
	}
	a.limiter = limiter
	e, srv, err := httpapi.New(httpapi.Deps{
		Log:     log,
		Limiter: limiter,
		RateLimits: httpapi.RateLimits{
			Window: cfg.RateWindow, ReadOnly: cfg.RateReadOnly, Standard: cfg.RateStandard, Full: cfg.RateFull,
			Firm: cfg.RateFirm, Session: cfg.RateSession, IP: cfg.RateIP,
		},
		Timeouts: httpapi.Timeouts{
			BodyRead: cfg.BodyReadTimeout, UploadRead: cfg.UploadReadTimeout,
			Write: cfg.WriteTimeout, StreamIdle: cfg.StreamWriteTimeout,
		},
		Registry: reg,
		Ready:    func(ctx context.Context) error { return postgres.Ping(ctx, pool) },
		Auth:     a.authenticators(),
		Services: services,
		Cookies:  httpapi.CookieOptions{Secure: cfg.SecureCookies, RefreshTTL: cfg.RefreshTokenTTL, AccessTTL: cfg.AccessTokenTTL},
	})
	if err != nil {
		return nil, err
	}
	a.Echo, a.Server = e, srv
	return a, nil
}

// withLimitDefaults gives the budgets added by issue 15 (finding 10) their defaults when a
// Config was built by hand (tests, tools) rather than by config.Load: zero is not "unlimited".
func withLimitDefaults(cfg config.Config) config.Config {
	if cfg.RateFirm <= 0 {
		cfg.RateFirm = 2 * cfg.RateFull
	}
	if cfg.RateSession <= 0 {
		cfg.RateSession = config.DefaultRateSession
	}
	if cfg.RateIP <= 0 {
		cfg.RateIP = config.DefaultRateIP
	}
	return cfg
}

func (a *App) authenticators() httpapi.Authenticators {
	return httpapi.Authenticators{
		APIKey: func(ctx context.Context, key string) (*httpapi.Principal, error) {
			kp, err := a.Auth.AuthenticateKey(ctx, key)
			if err != nil {
				return nil, err
			}
			return &httpapi.Principal{FirmID: kp.FirmID, KeyID: kp.KeyID, KeyPrefix: kp.Prefix, Tier: httpapi.ParseTier(string(kp.Tier))}, nil
		},
		Token: func(ctx context.Context, token string) (*httpapi.Principal, error) {
			up, err := a.Auth.AuthenticateBearer(ctx, token)
			if err != nil {
				return nil, err
			}
			return &httpapi.Principal{FirmID: up.FirmID, UserID: up.UserID, SessionID: up.SessionID, Role: string(up.Role)}, nil
		},
	}
}

// HTTPServer returns the http.Server the binary serves a with. Only the headers have a
// server-wide deadline: body reads and response writes get theirs per request from the HTTP
// layer (Config.BodyReadTimeout and the rest), since uploads and exports need longer ones.
func (a *App) HTTPServer() *http.Server {
	return &http.Server{Handler: a.Echo, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
}

// Close releases background resources (not the pool, which the caller owns). Calling it again
// does nothing.
func (a *App) Close() {
	a.closeOnce.Do(func() {
		// Idempotency claims still being finished in the background stop first (issue 15,
		// finding 12c): they use the pool.
		if a.Server != nil {
			a.Server.Close()
		}
		// jobs (issue 5): let running jobs finish (bounded) before the caller closes the pool.
		if a.Jobs != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := a.Jobs.Stop(ctx); err != nil {
				a.Log.Warn("job queue did not stop cleanly", "error", err.Error())
			}
		}
	})
}

// poolCollector exposes pgxpool statistics as Prometheus gauges.
type poolCollector struct {
	pool                          *pgxpool.Pool
	total, idle, acquired, max    *prometheus.Desc
	acquireCount, acquireDuration *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("casexchange_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{
		pool:            pool,
		total:           d("connections", "Open connections."),
		idle:            d("idle_connections", "Idle connections."),
		acquired:        d("acquired_connections", "Connections in use."),
		max:             d("max_connections", "Pool size limit."),
		acquireCount:    d("acquires_total", "Connection acquisitions."),
		acquireDuration: d("acquire_seconds_total", "Time spent acquiring connections."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.max, c.acquireCount, c.acquireDuration} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquireCount, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.acquireDuration, prometheus.CounterValue, s.AcquireDuration().Seconds())
}

// Start runs the background work of this process until ctx ends: flushing API key usage
// counters, listening for API key invalidations (the key cache) and pruning expired sessions
// and login attempts.
func (a *App) Start(ctx context.Context) {
	// jobs (issue 5): work queued jobs (e-mail) until ctx ends.
	if err := a.Jobs.Start(ctx); err != nil {
		a.Log.Error("job queue did not start", "error", err.Error())
	}
	go a.Auth.RunUsageFlusher(ctx, 0)
	// The API key cache is used only while its listener runs (invalidations from every
	// process arrive on it).
	go a.Auth.RunKeyListener(ctx)
	// Referrals left unacknowledged past their deadline are withdrawn by the system. Every
	// process may run this: each withdrawal is a compare-and-set, so none happens twice.
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for {
					n, err := a.Server.Referrals.ExpireOverdue(ctx, 100)
					if err != nil {
						a.Log.Warn("expiring overdue referrals failed", "error", err.Error())
					}
					if err != nil || n < 100 {
						break
					}
				}
			}
		}
	}()
	go func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := a.Auth.Cleanup(ctx, 24*time.Hour); err != nil {
					a.Log.Warn("session cleanup failed", "error", err.Error())
				}
				if p, ok := a.limiter.(*ratelimit.Postgres); ok {
					_, _ = p.Purge(ctx, time.Now().Add(-time.Hour))
				}
			}
		}
	}()
}

// keyCacheCollector exposes the API key cache counters of this process.
type keyCacheCollector struct {
	auth                                *auth.Service
	live, entries, hits, lookups, conns *prometheus.Desc
}

func newKeyCacheCollector(a *auth.Service) *keyCacheCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("casexchange_api_key_cache_"+name, help, nil, nil)
	}
	return &keyCacheCollector{
		auth:    a,
		live:    d("listener_up", "1 while the invalidation listener is connected (the cache is in use), else 0."),
		entries: d("entries", "Keys cached."),
		hits:    d("hits_total", "Key authentications answered from the cache."),
		lookups: d("lookups_total", "Key authentications that read the database."),
		conns:   d("listener_connects_total", "Connections made by the invalidation listener."),
	}
}

func (c *keyCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.live, c.entries, c.hits, c.lookups, c.conns} {
		ch <- d
	}
}

func (c *keyCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.auth.KeyCacheStats()
	live := 0.0
	if s.Live {
		live = 1
	}
	ch <- prometheus.MustNewConstMetric(c.live, prometheus.GaugeValue, live)
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries))
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.Hits))
	ch <- prometheus.MustNewConstMetric(c.lookups, prometheus.CounterValue, float64(s.Lookups))
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.CounterValue, float64(s.Connects))
}
