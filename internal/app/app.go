// Package app wires the server together: database, domain services and the HTTP layer. The
// binary and the integration tests build the same App, so tests exercise the real stack.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"

	dbfs "github.com/casexchange/server/db"
	"github.com/casexchange/server/internal/analytics"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/buildinfo"
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
	Jobs    *jobs.Client // the background job queue (e-mail, webhooks, imports)
	// Registry holds the process's metrics, served by MetricsHandler (never on the API port).
	Registry *prometheus.Registry

	limiter   ratelimit.Limiter
	draining  atomic.Bool
	closeOnce sync.Once
}

// Options adjust an App for tests and tools.
type Options struct {
	Limiter      ratelimit.Limiter    // nil: by Config.RateStore
	PasswordCost auth.PasswordParams  // zero: production cost
	Registry     *prometheus.Registry // nil: a fresh one with the process collectors
	AuthOptions  []auth.Option        // extra options of the auth service (tests: key listener dial)
}

// New builds an App over an open, migrated pool.
func New(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger, opts Options) (*App, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
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
		reg.MustRegister(newBuildInfoCollector())
	}
	a.Registry = reg

	// River's schema (idempotent), the job client with the e-mail worker, and the
	// notification service that enqueues e-mail.
	if err := jobs.Migrate(ctx, pool); err != nil {
		return nil, err
	}
	mailer, err := notify.NewMailer(cfg.Mail)
	if err != nil {
		return nil, err
	}
	// Webhook deliveries run on the same job queue.
	if cfg.WebhooksAllowPrivate {
		log.Warn("UNSAFE: CX_WEBHOOKS_ALLOW_PRIVATE is on: webhooks may reach private addresses and plain http")
	}
	hooks := webhooks.New(pool, webhooks.Config{
		AllowPrivate: cfg.WebhooksAllowPrivate,
		BaseURL:      func() string { return a.Config.PublicBaseURL },
	})
	importJobs := &importer.Worker{}  // registered with the queue now, bound to the importer below
	resetJobs := &users.ResetWorker{} // password resets: bound to the users service below
	// Folds the list counters' dead slots (see referrals.CompactCounters).
	counterJobs, compactCounters := referrals.CounterMaintenance(pool)
	if a.Jobs, err = jobs.New(pool, log, jobs.Config{
		RetryDelay: cfg.JobRetryDelay, PollInterval: cfg.JobPollInterval, Periodic: []*river.PeriodicJob{compactCounters},
	}, notify.Workers(mailer), hooks.Workers(), importJobs.Register, resetJobs.Register, counterJobs); err != nil {
		return nil, err
	}
	hooks.UseQueue(a.Jobs)
	notifier := notify.New(pool, a.Jobs, mailer)

	store, err := storage.Open(cfg.Storage, func() string { return a.Config.PublicBaseURL })
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	// One referrals service serves the API and the importer, so imported cases pass the same
	// rules and record the same events.
	feeSvc := fees.New(pool, hooks, fees.Config{NetDays: cfg.FeeNetDays})
	referralSvc := referrals.New(pool, referrals.WithNotifier(notifier), referrals.WithWebhooks(hooks), referrals.WithFeeLedger(feeSvc))

	// Large imports wait in the document store for a queue worker.
	imp := importer.New(pool, a.RefData, referralSvc, log)
	imp.UseJobs(a.Jobs, store)
	importJobs.Use(imp)

	// Accounts: links lead to CX_APP_URL when set, else to this server's own pages.
	usersSvc := users.New(pool, notifier, a.Auth.Hasher(), users.Config{
		BaseURLFunc: func() string { return a.Config.PublicBaseURL }, AppURL: cfg.AppURL,
		InvitationTTL: cfg.InvitationTTL, ResetPerIP: cfg.ResetRequestsPerIP, Keys: a.Auth, Sessions: a.Auth, Queue: a.Jobs,
	})
	resetJobs.Use(usersSvc)

	services := httpapi.Services{
		// domain services
		Auth:      a.Auth,
		Firms:     a.Firms,
		RefData:   a.RefData,
		Network:   network.New(pool, a.RefData),
		Routing:   routing.New(pool, a.RefData),
		Referrals: referralSvc,
		Users:     usersSvc,
		Notify:    notifier,
		Documents: documents.New(pool, store, log, notifier, documents.WithWebhooks(hooks)),
		Medical:   medical.New(pool),
		Importer:  imp,

		Idempotency: idempotency.New(pool),
		Webhooks:    hooks,

		Analytics: analytics.New(pool, a.RefData),
		Fees:      feeSvc,
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
		ReadyChecks: []httpapi.ReadyCheck{
			{Name: "database", Check: func(ctx context.Context) error { return postgres.Ping(ctx, pool) }},
			{Name: "migrations", Check: func(ctx context.Context) error {
				pending, err := postgres.Pending(ctx, pool, dbfs.Migrations)
				if err == nil && len(pending) > 0 {
					err = fmt.Errorf("%d pending: %s", len(pending), strings.Join(pending, ", "))
				}
				return err
			}},
			{Name: "draining", Check: func(context.Context) error {
				if a.draining.Load() {
					return errors.New("shutting down")
				}
				return nil
			}},
		},
		TrustedProxies: cfg.TrustedProxies,
		ClientIPHeader: cfg.ClientIPHeader,
		Auth:           a.authenticators(),
		Services:       services,
		Cookies:        httpapi.CookieOptions{Secure: cfg.SecureCookies, RefreshTTL: cfg.RefreshTokenTTL, AccessTTL: cfg.AccessTokenTTL},
	})
	if err != nil {
		return nil, err
	}
	a.Echo, a.Server = e, srv
	return a, nil
}

// withDefaults fills in what config.Load always sets when a Config was built by hand (tests,
// tools): the budgets (zero is not "unlimited"), the mail sender and folder, the object
// directory and, as config.ResolveSecrets does for the private cluster, a link secret kept in
// the data directory.
func withDefaults(cfg config.Config) (config.Config, error) {
	if cfg.Mail.From == "" {
		cfg.Mail.From = notify.DefaultFrom
	}
	if cfg.Mail.MailDir == "" {
		cfg.Mail.MailDir = filepath.Join(cfg.DataDir, "mail")
	}
	if cfg.Storage.Backend == "" {
		cfg.Storage.Backend = storage.BackendLocal
	}
	if cfg.Storage.LocalDir == "" {
		cfg.Storage.LocalDir = filepath.Join(cfg.DataDir, "objects")
	}
	if cfg.Storage.Backend == storage.BackendLocal && len(cfg.Storage.LinkSecret) == 0 {
		secret, err := config.PersistentSecret(filepath.Join(cfg.DataDir, "download-secret"))
		if err != nil {
			return cfg, fmt.Errorf("storage: %w", err)
		}
		cfg.Storage.LinkSecret = secret
	}
	if cfg.RateFirm <= 0 {
		cfg.RateFirm = 2 * cfg.RateFull
	}
	if cfg.RateSession <= 0 {
		cfg.RateSession = config.DefaultRateSession
	}
	if cfg.RateIP <= 0 {
		cfg.RateIP = config.DefaultRateIP
	}
	return cfg, nil
}

func (a *App) authenticators() httpapi.Authenticators {
	return httpapi.Authenticators{
		APIKey: func(ctx context.Context, key string) (*httpapi.Principal, error) {
			kp, err := a.Auth.AuthenticateKey(ctx, key)
			if err != nil {
				return nil, err
			}
			return &httpapi.Principal{FirmID: kp.FirmID, KeyID: kp.KeyID, KeyPrefix: kp.Prefix, Tier: kp.Tier}, nil
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

// MetricsHandler serves the Prometheus metrics of this process (the binary puts it on its own
// listener, CX_METRICS_ADDR).
func (a *App) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{})
}

// Drain marks the process as shutting down: /readyz answers 503 from now on, so that load
// balancers stop sending requests, while everything else is still served.
func (a *App) Drain() { a.draining.Store(true) }

// Close releases background resources (not the pool, which the caller owns). Calling it again
// does nothing.
func (a *App) Close() {
	a.closeOnce.Do(func() {
		// Idempotency claims still being finished in the background stop first: they use
		// the pool.
		if a.Server != nil {
			a.Server.Close()
		}
		// Let running jobs finish (bounded) before the caller closes the pool.
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
	// Work queued jobs (e-mail, webhooks, imports) until ctx ends.
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

// newBuildInfoCollector is cx_build_info{version,revision,goversion} 1: which build runs where.
func newBuildInfoCollector() prometheus.Collector {
	bi := buildinfo.Get()
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "cx_build_info",
		Help:        "Always 1; the labels say which build of the server this process runs.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion},
	}, func() float64 { return 1 })
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
