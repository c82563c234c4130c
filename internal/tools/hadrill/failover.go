package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/internal/pgcluster"
)

const failoverWorkers = 4

func failover(ctx context.Context, c *common) error {
	began := time.Now()
	duration := c.duration
	if duration == 0 {
		duration = 8 * time.Second // load before the primary is stopped; as long again after writes resume
	}
	// The clusters live in memory when /dev/shm allows (fsync is then cheap; durability across
	// the drill is what matters, not across a reboot).
	scratch, err := os.MkdirTemp(pgcluster.ScratchDir(), "hadrill-failover-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if err := os.Chmod(scratch, 0o755); err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	primary, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: filepath.Join(scratch, "primary"), Logger: quiet})
	if err != nil {
		return err
	}
	defer func() { _ = primary.Stop() }()
	if err := primary.CreateDatabase(ctx, "casexchange"); err != nil {
		return err
	}
	// Let the standby connect for replication (the private cluster trusts loopback only).
	hba, err := os.OpenFile(filepath.Join(primary.DataDir, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = hba.WriteString("host  replication all 127.0.0.1/32 trust\n")
	_ = hba.Close()
	if err != nil {
		return err
	}
	if err := sqlExec(ctx, primary.DSN("postgres"), "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	standbyDir := filepath.Join(scratch, "standby")
	if _, err := runOut(ctx, nil, filepath.Join(primary.BinDir, "pg_basebackup"), "-D", standbyDir, "-R", "-X", "stream",
		"-c", "fast", "-h", "127.0.0.1", "-p", itoa(primary.Port), "-U", "postgres"); err != nil {
		return err
	}
	standby, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: standbyDir, Logger: quiet})
	if err != nil {
		return err
	}
	defer func() { _ = standby.Stop() }()
	// Synchronous only now: set before the base backup, the standby would inherit it and, once
	// promoted without a standby of its own, wait forever on every commit.
	if err := sqlExec(ctx, primary.DSN("postgres"), "ALTER SYSTEM SET synchronous_standby_names = '*'", "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	if err := waitSync(ctx, primary.DSN("postgres"), 30*time.Second); err != nil {
		return err
	}
	c.logf("primary on port %d, synchronous standby on port %d (setup %s)", primary.Port, standby.Port, time.Since(began).Round(time.Millisecond))

	dsn := fmt.Sprintf("host=127.0.0.1,127.0.0.1 port=%d,%d user=postgres dbname=casexchange sslmode=disable target_session_attrs=read-write",
		primary.Port, standby.Port)
	s := newSite(c, dsn, nil)
	keys, err := s.demo(ctx, "acme=acme-injury-law:full", "bay=bay-legal-group:full")
	if err != nil {
		return err
	}
	srv := &replica{name: "server"}
	if err := s.startReplica(ctx, srv); err != nil {
		return err
	}
	acme, err := loadFirm(ctx, srv.url, "acme", keys["acme"])
	if err != nil {
		return err
	}
	bay, err := loadFirm(ctx, srv.url, "bay", keys["bay"])
	if err != nil {
		return err
	}
	// Webhook deliveries are River jobs: they show that the queue works after the failover.
	recv, err := startReceiver()
	if err != nil {
		return err
	}
	defer recv.close()
	for _, f := range []*firm{acme, bay} {
		if r := call(ctx, "POST", srv.url+"/api/public/v1/webhooks", f.key, map[string]any{"url": recv.url}, ""); !r.ok() {
			return fmt.Errorf("create webhook of %s: %s", f.slug, r)
		}
	}

	w := &workload{firms: [2]*firm{acme, bay}, logf: c.logf}
	w.target = func(string, string) (string, string) { return srv.url, "server" }
	// The queue is sampled from the database from the start of the load to the end of its
	// drain; the timeline goes to stderr, times relative to the primary's stop.
	qw := &queueWatch{dsn: dsn}
	loadStart := time.Now()
	var origin atomic.Int64
	origin.Store(loadStart.Add(duration).UnixNano()) // the planned stop, until the real one
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		qw.run(watchCtx, queueSampleEvery, func() time.Time { return time.Unix(0, origin.Load()) }, c.logf)
	}()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadDone := make(chan struct{})
	go func() { w.run(loadCtx, failoverWorkers); close(loadDone) }()
	time.Sleep(duration)

	pid, err := postmasterPID(primary.DataDir)
	if err != nil {
		return err
	}
	stopAt := time.Now()
	origin.Store(stopAt.UnixNano())
	// SIGQUIT to the postmaster is pg_ctl stop -m immediate: no checkpoint, sessions cut.
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		return fmt.Errorf("stop primary: %w", err)
	}
	<-primary.Exited()
	c.logf("primary stopped (immediate) at +%s", stopAt.Sub(began).Round(time.Millisecond))
	promoteStart := time.Now()
	if err := sqlExec(ctx, standby.DSN("postgres"), "SELECT pg_promote(true, 60)"); err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	promoted := time.Since(promoteStart)
	c.logf("standby promoted in %s", promoted.Round(time.Millisecond))

	// Writes resume when a write sent after the stop succeeds.
	var resumedAt time.Time
	deadline := time.Now().Add(90 * time.Second)
	for resumedAt.IsZero() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		w.mu.Lock()
		for _, sm := range w.samples {
			if sm.write && !sm.failed && sm.start.After(stopAt) && (resumedAt.IsZero() || sm.end.Before(resumedAt)) {
				resumedAt = sm.end
			}
		}
		w.mu.Unlock()
	}
	if resumedAt.IsZero() {
		stopLoad()
		<-loadDone
		return fmt.Errorf("writes did not resume within 90 s of the primary's stop; server log:\n%s", srv.p.tail())
	}
	resumed := resumedAt.Sub(stopAt)
	c.logf("writes resumed %s after the primary stopped", resumed.Round(time.Millisecond))
	time.Sleep(duration)
	stopLoad()
	<-loadDone
	loadEnd := time.Now()
	if !srv.p.running() {
		return fmt.Errorf("the server exited: %s", srv.p.tail())
	}

	var problems []string
	excused := w.failures(func(sm sample) bool { return sm.end.After(stopAt) && sm.start.Before(resumedAt) })
	failedDuring := len(excused)
	// The outage as the server saw it: from the stop until writes resumed, or until the last
	// request excused above ended (a connection broken by the stop fails when next used).
	outageEnd := resumedAt
	for _, sm := range excused {
		if sm.end.After(outageEnd) {
			outageEnd = sm.end
		}
	}
	for _, sm := range w.failures(func(sm sample) bool { return !sm.end.After(stopAt) || !sm.start.Before(resumedAt) }) {
		problems = append(problems, fmt.Sprintf("request at +%s failed outside the outage: %s", sm.start.Sub(began).Round(time.Millisecond), sm.what))
	}

	// The job queue must drain within a bound derived from its own delivery rate before the
	// stop: the backlog left when the load ends, delivered at that rate, with half as much
	// again for a machine shared with other work, plus the server's own recovery delays
	// (drainAllowance). See docs/ha-drills.md.
	q := queueDrain(ctx, qw, loadStart, stopAt, resumedAt, loadEnd)
	stopWatch()
	<-watchDone
	if !srv.p.running() {
		// Seen once (2026-12-08): the server vanished during a long drain, without a log line
		// at warn level; say how it ended rather than report every read-back as lost.
		return fmt.Errorf("the server exited during the queue drain (%v; job queue: %s): %s", srv.p.err, q.summary, srv.p.tail())
	}
	if !q.drained {
		problems = append(problems, "job queue: "+q.failure)
	}

	checked, lost := w.verify(ctx, srv.url)
	problems = append(problems, lost...)
	conn, err := pgx.Connect(ctx, standby.DSN("casexchange"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	problems = append(problems, checkConsistency(ctx, conn)...)
	// The queue has drained (or its bound has passed): the receiver's side is compared at once.
	hooks, redelivered, hookProblems := checkWebhooks(ctx, conn, recv, stopAt, outageEnd, 0)
	// Delivery is at least once: a delivery claimed before the stop whose DELIVERED mark was
	// lost in the outage is sent again. The receiver's view is reported beside the pass
	// conditions (the drain above is one of them).
	jobNote := fmt.Sprintf("job queue: %s; %d webhook deliveries, %d sent again across the outage", q.summary, hooks, redelivered)
	for _, p := range hookProblems {
		c.logf("job queue: %s", p)
		switch {
		case strings.Contains(p, "more than once"), strings.Contains(p, "more than one delivery id"):
			jobNote += "; " + strings.TrimPrefix(p, "webhooks: ")
		}
	}
	if len(problems) > 0 {
		for _, p := range problems[:min(len(problems), 30)] {
			c.logf("problem: %s", p)
		}
		return fmt.Errorf("%d problems (first: %s)", len(problems), problems[0])
	}
	c.summary("failover: writes resumed after %.1f s, %d acknowledged, 0 lost (%d read back), 0 half-applied; promotion %s, %d requests failed during the outage, server not restarted; %s; total %s",
		resumed.Seconds(), w.writes(), checked, promoted.Round(time.Millisecond), failedDuring, jobNote, time.Since(began).Round(time.Second))
	return nil
}

// checkConsistency looks for half-applied writes among the drill's cases: a case without its
// owner's list row, a sent referral without the receiver's list row, a referral whose status is
// not the last status of its history, or an acknowledged referral without its history entry.
func checkConsistency(ctx context.Context, conn *pgx.Conn) []string {
	checks := []struct{ what, sql string }{
		{"cases without the owner's list row", `SELECT count(*) FROM base_cases b WHERE b.title LIKE 'HA drill case %'
			AND NOT EXISTS (SELECT 1 FROM case_listings l WHERE l.base_case_id = b.id AND l.is_owner)`},
		{"cases without a referral", `SELECT count(*) FROM base_cases b WHERE b.title LIKE 'HA drill case %'
			AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.base_case_id = b.id)`},
		{"sent referrals without the receiver's list row", `SELECT count(*) FROM referrals r JOIN base_cases b ON b.id = r.base_case_id
			WHERE b.title LIKE 'HA drill case %' AND r.referent_firm_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM case_listings l WHERE l.base_case_id = r.base_case_id AND l.firm_id = r.referent_firm_id)`},
		{"list rows whose status differs from the referral's", `SELECT count(*) FROM case_listings l JOIN referrals r ON r.id = l.referral_id
			JOIN base_cases b ON b.id = r.base_case_id WHERE b.title LIKE 'HA drill case %' AND l.status <> r.status`},
		{"referrals whose status is not the last of their history", `SELECT count(*) FROM referrals r JOIN base_cases b ON b.id = r.base_case_id
			WHERE b.title LIKE 'HA drill case %' AND r.status IS DISTINCT FROM
			(SELECT s.status FROM status_updates s WHERE s.referral_id = r.id AND NOT s.is_message ORDER BY s.created_at DESC LIMIT 1)`},
	}
	var problems []string
	for _, ch := range checks {
		var n int
		if err := conn.QueryRow(ctx, ch.sql).Scan(&n); err != nil {
			problems = append(problems, ch.what+": "+err.Error())
		} else if n > 0 {
			problems = append(problems, fmt.Sprintf("%d %s", n, ch.what))
		}
	}
	return problems
}

func sqlExec(ctx context.Context, dsn string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// waitSync waits until a standby replicates synchronously.
func waitSync(ctx context.Context, dsn string, timeout time.Duration) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	deadline := time.Now().Add(timeout)
	for {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no synchronous standby within %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// postmasterPID reads the server's process id from its data directory.
func postmasterPID(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}
