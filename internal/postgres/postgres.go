// Package postgres holds the database plumbing shared by the domain packages: the connection
// pool, transactions with retry, the interpretation of PostgreSQL errors as apperr kinds, and
// the migrator.
package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool defaults, for a 2-core server: PostgreSQL does best with few active connections per
// core, and requests mostly wait on the network, not on the database.
const (
	defaultMaxConns          = 20
	defaultMaxConnIdleTime   = 5 * time.Minute
	defaultMaxConnLifetime   = time.Hour
	defaultHealthCheckPeriod = 30 * time.Second
	defaultConnectTimeout    = 5 * time.Second

	// ApplicationName is reported in pg_stat_activity.
	ApplicationName = "casexchange"
	// StatementTimeout caps every statement on pools from Open, so a runaway query cannot
	// hold a connection forever. A DSN may override it (options or statement_timeout).
	StatementTimeout = "30s"
	// idleInTxTimeout ends sessions that leave a transaction open, which would otherwise
	// hold locks and block vacuum.
	idleInTxTimeout = "60s"
)

// Config parses dsn and applies the defaults above wherever the DSN does not set its own
// (pool_max_conns, connect_timeout, application_name, statement_timeout). It returns an error
// for a malformed DSN.
func Config(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DSN: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if !strings.Contains(dsn, "pool_max_conn_idle_time") {
		cfg.MaxConnIdleTime = defaultMaxConnIdleTime
	}
	if !strings.Contains(dsn, "pool_max_conn_lifetime") {
		cfg.MaxConnLifetime = defaultMaxConnLifetime
	}
	if !strings.Contains(dsn, "pool_health_check_period") {
		cfg.HealthCheckPeriod = defaultHealthCheckPeriod
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = defaultConnectTimeout
	}
	params := cc.RuntimeParams
	if params["application_name"] == "" {
		params["application_name"] = ApplicationName
	}
	if params["statement_timeout"] == "" && !strings.Contains(params["options"], "statement_timeout") {
		params["statement_timeout"] = StatementTimeout
	}
	if params["idle_in_transaction_session_timeout"] == "" && !strings.Contains(params["options"], "idle_in_transaction_session_timeout") {
		params["idle_in_transaction_session_timeout"] = idleInTxTimeout
	}
	return cfg, nil
}

// Open returns a pool for dsn (see Config) once the server answers a ping. It returns an
// error wrapping apperr.ErrUnavailable when the server cannot be reached.
func Open(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := Config(dsn)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open for a config from Config, adjusted by the caller.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	after := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		RegisterUUID(conn)
		if after != nil {
			return after(ctx, conn)
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", err)
	}
	if err := Ping(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return pool, nil
}

// Ping checks that a connection can be acquired and the server answers, for readiness
// probes. Without a deadline on ctx it waits at most 5 seconds. Any failure is returned as
// apperr.ErrUnavailable, with the cause kept.
func Ping(ctx context.Context, pool *pgxpool.Pool) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := pool.Ping(ctx); err != nil {
		// Whatever the cause (refused, timed out, shutting down), the database is not
		// serving us.
		return unavailable(err)
	}
	return nil
}
