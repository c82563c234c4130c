package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/testsummary"
)

func TestMain(m *testing.M) { apitest.Main(m) }

const testSecret = "cli-test-secret-0123456789abcdef0123456789"

// syncBuffer collects output that a running command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// outcome is one run of the command line.
type outcome struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// env is the environment of one run: nothing of the test process leaks in.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func runCLI(t *testing.T, ctx context.Context, e env, args ...string) outcome {
	t.Helper()
	var out, errb syncBuffer
	start := time.Now()
	code := run(ctx, args, &out, &errb, e.lookup)
	return outcome{code: code, stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
}

// sideEffects is a place where a command that does something would leave a trace: an empty
// database, an empty data directory and a reserved, closed port.
type sideEffects struct {
	env  env
	pool *pgxpool.Pool
	dir  string
	addr string
}

func newSideEffects(t *testing.T) *sideEffects {
	t.Helper()
	pool, dsn := pgtest.NewEmptyDB(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	dir := t.TempDir()
	return &sideEffects{pool: pool, dir: dir, addr: addr, env: env{
		"DATABASE_URL": dsn, "CX_DATA_DIR": dir, "CX_HTTP_ADDR": addr, "CX_METRICS_ADDR": addr,
		"CX_JWT_SECRET": testSecret, "CX_DOWNLOAD_LINK_SECRET": testSecret, "CX_SEED": "true",
	}}
}

// requireNone fails when the database has a table, the data directory an entry or the port a
// listener.
func (s *sideEffects) requireNone(t *testing.T, what string) {
	t.Helper()
	var tables int
	require.NoError(t, s.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&tables))
	require.Zero(t, tables, "%s created tables", what)
	entries, err := os.ReadDir(s.dir)
	require.NoError(t, err)
	require.Empty(t, entries, "%s wrote into the data directory", what)
	if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s left a listener on %s", what, s.addr)
	}
}

// commandPaths lists every command of the tree, groups included ("keys", "keys create").
func commandPaths(c *command) [][]string {
	var out [][]string
	for _, s := range c.subs {
		p := strings.Fields(s.name)
		out = append(out, p)
		out = append(out, commandPaths(s)...)
	}
	return out
}

var jsonLine = regexp.MustCompile(`(?m)^\s*\{"`)

func TestCommandLine(t *testing.T) {
	t.Parallel()
	paths := commandPaths(root())
	names := map[string]bool{}
	for _, p := range paths {
		names[strings.Join(p, " ")] = true
	}
	for _, want := range []string{"serve", "migrate", "migrate up", "migrate down", "seed", "keys create", "import cases", "firms list", "version", "help"} {
		require.True(t, names[want], "no command %q", want)
	}

	t.Run("EveryCommandAnswersHelpAndDoesNothingElse", func(t *testing.T) {
		t.Parallel()
		se := newSideEffects(t)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		runs := 0
		for _, p := range append([][]string{{}}, paths...) {
			for _, flag := range []string{"--help", "-h"} {
				args := append(append([]string{}, p...), flag)
				o := runCLI(t, ctx, se.env, args...)
				runs++
				name := strings.TrimSpace("casexchange " + strings.Join(p, " "))
				require.Equal(t, 0, o.code, "%v: exit %d\n%s", args, o.code, o.stderr)
				require.Empty(t, o.stderr, "%v", args)
				require.True(t, strings.HasPrefix(o.stdout, "usage: "+name), "%v:\n%s", args, o.stdout)
				require.Less(t, o.took, 2*time.Second, "%v took %s: did it start something?", args, o.took)
			}
			// help COMMAND prints the same usage.
			if len(p) > 0 && p[0] != "help" {
				o := runCLI(t, ctx, se.env, append([]string{"help"}, p...)...)
				require.Equal(t, 0, o.code, "help %v: %s", p, o.stderr)
				require.True(t, strings.HasPrefix(o.stdout, "usage: casexchange "+strings.Join(p, " ")), "help %v:\n%s", p, o.stdout)
			}
		}
		se.requireNone(t, "--help")
		testsummary.Printf("cli: %d commands, %d help runs: exit 0, usage on stdout, no table, file or listener created\n", len(paths), runs)
	})

	t.Run("UnknownCommandsFlagsAndArgumentsExit2WithUsageOnStderr", func(t *testing.T) {
		t.Parallel()
		se := newSideEffects(t)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cases := [][]string{
			{}, {"bogus"}, {"--bogus"}, {"keys"}, {"keys", "bogus"}, {"import"}, {"import", "bogus"}, {"firms"},
			{"migrate", "sideways"}, {"migrate", "down", "x"}, {"migrate", "down", "1", "2"}, {"migrate", "up", "extra"},
			{"import", "cases"}, {"import", "cases", "a.csv"}, {"import", "cases", "a.csv", "b.csv", "--firm", "x"},
			{"keys", "create"}, {"keys", "create", "--firm", "acme", "--tier", "platinum"}, {"keys", "create", "--firm"},
			{"seed", "--scale", "many"}, {"version", "extra"}, {"serve", "now"}, {"help", "bogus"},
		}
		for _, p := range paths {
			cases = append(cases, append(append([]string{}, p...), "--no-such-flag"))
		}
		for _, args := range cases {
			o := runCLI(t, ctx, se.env, args...)
			require.Equal(t, 2, o.code, "%v: exit %d\nstdout: %s\nstderr: %s", args, o.code, o.stdout, o.stderr)
			require.Empty(t, o.stdout, "%v", args)
			first, rest, _ := strings.Cut(o.stderr, "\n")
			require.True(t, strings.HasPrefix(first, "casexchange"), "%v: %q", args, first)
			require.Contains(t, rest, "usage: casexchange", "%v", args)
			require.NotRegexp(t, jsonLine, o.stderr, "%v", args)
		}
		se.requireNone(t, "a usage error")
	})

	t.Run("VersionPrintsTheBuild", func(t *testing.T) {
		t.Parallel()
		o := runCLI(t, t.Context(), env{}, "version")
		require.Equal(t, 0, o.code, o.stderr)
		require.Regexp(t, `^casexchange \S+ \(revision \S+, go1\.\S+, \w+/\w+\)\n$`, o.stdout)
	})

	t.Run("ServeRefusesADatabaseURLWithoutSecrets", func(t *testing.T) {
		t.Parallel()
		se := newSideEffects(t)
		e := env{"DATABASE_URL": se.env["DATABASE_URL"], "CX_DATA_DIR": se.dir, "CX_HTTP_ADDR": se.addr}
		o := runCLI(t, t.Context(), e, "serve")
		require.Equal(t, 1, o.code, o.stderr)
		require.Equal(t, "casexchange: DATABASE_URL is set, so the secrets must be configured: set CX_JWT_SECRET and CX_DOWNLOAD_LINK_SECRET (at least 32 characters each, the same on every replica)\n", o.stderr)
		require.Empty(t, o.stdout)

		// With documents on S3 only the token secret is missing.
		e["CX_STORAGE"], e["CX_S3_BUCKET"], e["CX_S3_ACCESS_KEY"], e["CX_S3_SECRET_KEY"] = "s3", "b", "a", "s"
		o = runCLI(t, t.Context(), e, "serve")
		require.Equal(t, 1, o.code, o.stderr)
		require.Contains(t, o.stderr, "set CX_JWT_SECRET (")
		require.Equal(t, 1, strings.Count(o.stderr, "\n"))

		// A secret that is too short is a configuration error, one line too.
		e["CX_JWT_SECRET"] = "short"
		o = runCLI(t, t.Context(), e, "serve")
		require.Equal(t, 1, o.code, o.stderr)
		require.Equal(t, "casexchange: configuration: CX_JWT_SECRET: must be at least 32 characters\n", o.stderr)
		se.requireNone(t, "a refused serve")
	})

	t.Run("ErrorsAreOnePlainLine", func(t *testing.T) {
		t.Parallel()
		se := newSideEffects(t)
		e := env{"DATABASE_URL": se.env["DATABASE_URL"], "CX_DATA_DIR": se.dir, "CX_RATE_LIMIT_FULL": "lots", "CX_LOG_LEVEL": "loud"}
		o := runCLI(t, t.Context(), e, "migrate")
		require.Equal(t, 1, o.code)
		require.Equal(t, 1, strings.Count(o.stderr, "\n"), o.stderr)
		require.True(t, strings.HasPrefix(o.stderr, "casexchange: configuration: "), o.stderr)
		require.Contains(t, o.stderr, "CX_RATE_LIMIT_FULL: want a positive integer")
		require.Contains(t, o.stderr, "CX_LOG_LEVEL")

		// firms list reads and never migrates: on an empty database it says what to do.
		delete(e, "CX_RATE_LIMIT_FULL")
		delete(e, "CX_LOG_LEVEL")
		o = runCLI(t, t.Context(), e, "firms", "list")
		require.Equal(t, 1, o.code, o.stderr)
		require.Regexp(t, `^casexchange: the database has \d+ pending migrations: run casexchange migrate first\n$`, o.stderr)
		se.requireNone(t, "firms list on an empty database")

		// A failure inside a command that has a database: still one plain line, no JSON.
		_, dsn := pgtest.NewDB(t)
		o = runCLI(t, t.Context(), env{"DATABASE_URL": dsn, "CX_DATA_DIR": t.TempDir(), "CX_LOG_LEVEL": "warn"}, "keys", "create", "--firm", "no-such-firm")
		require.Equal(t, 1, o.code, o.stderr)
		require.NotRegexp(t, jsonLine, o.stderr)
		require.Regexp(t, `^casexchange: firm "no-such-firm": .+\n$`, o.stderr)
	})

	t.Run("MigrateThenFirmsList", func(t *testing.T) {
		t.Parallel()
		se := newSideEffects(t)
		e := env{"DATABASE_URL": se.env["DATABASE_URL"], "CX_DATA_DIR": se.dir, "CX_LOG_LEVEL": "warn"}
		o := runCLI(t, t.Context(), e, "migrate")
		require.Equal(t, 0, o.code, o.stderr)
		require.Regexp(t, `^applied \d+ migrations; the schema is current\n$`, o.stdout)
		o = runCLI(t, t.Context(), e, "migrate", "up")
		require.Equal(t, "applied 0 migrations; the schema is current\n", o.stdout)

		o = runCLI(t, t.Context(), e, "seed")
		require.Equal(t, 0, o.code, o.stderr)
		o = runCLI(t, t.Context(), e, "firms", "list")
		require.Equal(t, 0, o.code, o.stderr)
		lines := strings.Split(strings.TrimSpace(o.stdout), "\n")
		require.Regexp(t, `^SLUG\s+NAME\s+ID$`, lines[0])
		require.Len(t, lines, 4, o.stdout)
		require.Regexp(t, `^acme-injury-law\s+Acme Injury Law\s+[0-9a-f-]{36}$`, lines[1])

		// The slug from the list is what keys create takes.
		o = runCLI(t, t.Context(), e, "keys", "create", "--firm", "acme-injury-law", "--tier", "standard")
		require.Equal(t, 0, o.code, o.stderr)
		require.Regexp(t, `^\S{20,}\n$`, o.stdout)
	})
}

// TestServe runs `serve` in this process against a database that DATABASE_URL names.
func TestServe(t *testing.T) {
	t.Parallel()

	type server struct {
		url, metrics string
		stderr       *syncBuffer
		stop         func() outcome
	}
	start := func(t *testing.T, e env) *server {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		errb := &syncBuffer{}
		done := make(chan int, 1)
		go func() { done <- run(ctx, []string{"serve"}, io.Discard, errb, e.lookup) }()
		stopped := false
		stop := func() outcome {
			if !stopped {
				stopped = true
				cancel()
			}
			select {
			case code := <-done:
				return outcome{code: code, stderr: errb.String()}
			case <-time.After(30 * time.Second):
				t.Fatalf("serve did not stop:\n%s", errb.String())
				return outcome{}
			}
		}
		t.Cleanup(func() {
			if !stopped {
				stop()
			}
		})
		re := regexp.MustCompile(`serving on (http://\S+)`)
		mre := regexp.MustCompile(`metrics: (http://\S+)`)
		s := &server{stderr: errb, stop: stop}
		require.Eventually(t, func() bool {
			select {
			case code := <-done:
				done <- code
				t.Fatalf("serve exited %d:\n%s", code, errb.String())
			default:
			}
			m := re.FindStringSubmatch(errb.String())
			if m == nil {
				return false
			}
			s.url = m[1]
			if mm := mre.FindStringSubmatch(errb.String()); mm != nil {
				s.metrics = mm[1]
			}
			return true
		}, 60*time.Second, 20*time.Millisecond, "serve did not start")
		return s
	}
	get := func(t *testing.T, url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	firmCount := func(t *testing.T, pool *pgxpool.Pool) int {
		t.Helper()
		var n int
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM firms`).Scan(&n))
		return n
	}
	baseEnv := func(t *testing.T, dsn string) env {
		return env{"DATABASE_URL": dsn, "CX_DATA_DIR": t.TempDir(), "CX_HTTP_ADDR": "127.0.0.1:0",
			"CX_JWT_SECRET": testSecret, "CX_DOWNLOAD_LINK_SECRET": testSecret, "CX_LOG_LEVEL": "warn"}
	}

	t.Run("NoDemoDataInADatabaseURLUnlessAsked", func(t *testing.T) {
		t.Parallel()
		pool, dsn := pgtest.NewDB(t)
		s := start(t, baseEnv(t, dsn))
		code, _ := get(t, s.url+"/api/public/v1/health")
		require.Equal(t, http.StatusOK, code)
		require.Zero(t, firmCount(t, pool), "demo data seeded into a database named by DATABASE_URL")
		require.NotContains(t, s.stderr.String(), "demo users")
		require.Equal(t, 0, s.stop().code)

		e := baseEnv(t, dsn)
		e["CX_SEED"] = "true"
		s = start(t, e)
		require.Contains(t, s.stderr.String(), "demo users")
		require.Equal(t, 3, firmCount(t, pool), "CX_SEED=true is explicit")
		require.Equal(t, 0, s.stop().code)
	})

	t.Run("ProfilingOnTheMetricsListenerWhenAsked", func(t *testing.T) {
		t.Parallel()
		_, dsn := pgtest.NewDB(t)
		e := baseEnv(t, dsn)
		e["CX_METRICS_ADDR"] = "127.0.0.1:0"
		e["CX_METRICS_PPROF"] = "true"
		s := start(t, e)
		require.NotEmpty(t, s.metrics, s.stderr.String())
		base := strings.TrimSuffix(s.metrics, "/metrics")
		code, body := get(t, base+"/debug/pprof/")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, "goroutine")
		code, _ = get(t, s.url+"/debug/pprof/")
		require.Equal(t, http.StatusNotFound, code, "profiling served on the API port")
		require.Equal(t, 0, s.stop().code)
	})

	t.Run("MetricsOnTheirOwnListenerProbesOnTheAPI", func(t *testing.T) {
		t.Parallel()
		_, dsn := pgtest.NewDB(t)
		e := baseEnv(t, dsn)
		e["CX_METRICS_ADDR"] = "127.0.0.1:0"
		e["CX_DRAIN_DELAY"] = "3s"
		s := start(t, e)
		require.NotEmpty(t, s.metrics, s.stderr.String())

		code, _ := get(t, s.url+"/metrics")
		require.Equal(t, http.StatusNotFound, code, "metrics served on the API port")
		code, body := get(t, s.metrics)
		require.Equal(t, http.StatusOK, code)
		require.Regexp(t, `cx_build_info\{goversion="go[^"]+",revision="[^"]+",version="[^"]+"\} 1`, body)
		require.Contains(t, body, "casexchange_http_requests_total")
		pprofURL := strings.TrimSuffix(s.metrics, "/metrics") + "/debug/pprof/"
		code, _ = get(t, pprofURL)
		require.Equal(t, http.StatusNotFound, code, "profiling is served only with CX_METRICS_PPROF=true")

		code, body = get(t, s.url+"/livez")
		require.Equal(t, http.StatusOK, code, body)
		code, body = get(t, s.url+"/readyz")
		require.Equal(t, http.StatusOK, code, body)
		require.JSONEq(t, `{"status":"ok","checks":{"database":"ok","migrations":"ok","draining":"ok"}}`, body)

		// SIGTERM (here: the context ends): /readyz turns 503 while requests are still served
		// for CX_DRAIN_DELAY, then the process exits 0.
		stopped := make(chan outcome, 1)
		go func() { stopped <- s.stop() }()
		var drainingBody string
		require.Eventually(t, func() bool {
			code, body := get(t, s.url+"/readyz")
			drainingBody = body
			return code == http.StatusServiceUnavailable
		}, 2*time.Second, 10*time.Millisecond, "readyz never turned 503 while draining")
		require.JSONEq(t, `{"status":"unavailable","checks":{"database":"ok","migrations":"ok","draining":"fail"}}`, drainingBody)
		code, _ = get(t, s.url+"/livez")
		require.Equal(t, http.StatusOK, code, "still serving while draining")
		code, _ = get(t, s.url+"/api/public/v1/health")
		require.Equal(t, http.StatusOK, code)
		o := <-stopped
		require.Equal(t, 0, o.code, o.stderr)
		testsummary.Printf("cli-serve: /metrics 404 on the API port, 200 with cx_build_info on CX_METRICS_ADDR; /readyz 200, then 503 while draining (%s) with requests still served; exit 0\n", e["CX_DRAIN_DELAY"])
	})
}
