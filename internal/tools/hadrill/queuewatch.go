package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// queueSample is one look at the webhook delivery queue, read from the database: River's jobs
// of kind webhook_delivery by state, and the delivery records of the drill's subscriptions.
type queueSample struct {
	at                                       time.Time
	err                                      string // set when the database could not be read
	available, scheduled, running, retryable int
	undelivered, delivered                   int           // webhook_deliveries not DELIVERED / DELIVERED
	oldestDue                                time.Duration // how long the oldest due job has waited
}

// idle reports whether nothing is left to deliver: every delivery record is DELIVERED and no
// delivery job waits, runs or will retry.
func (s queueSample) idle() bool {
	return s.err == "" && s.undelivered == 0 && s.available+s.scheduled+s.running+s.retryable == 0
}

const queueSampleSQL = `SELECT
	count(*) FILTER (WHERE state = 'available'),
	count(*) FILTER (WHERE state = 'scheduled'),
	count(*) FILTER (WHERE state = 'running'),
	count(*) FILTER (WHERE state = 'retryable'),
	coalesce(extract(epoch FROM now() - min(scheduled_at) FILTER (WHERE state IN ('available', 'scheduled', 'retryable') AND scheduled_at <= now())), 0)::float8,
	(SELECT count(*) FROM webhook_deliveries WHERE NOT is_test AND status <> 'DELIVERED'),
	(SELECT count(*) FROM webhook_deliveries WHERE NOT is_test AND status = 'DELIVERED')
	FROM river_job WHERE kind = 'webhook_delivery' AND state IN ('available', 'scheduled', 'running', 'retryable')`

// queueWatch samples the queue through the server's DSN (so it follows the primary across the
// failover) and keeps the timeline.
type queueWatch struct {
	dsn string

	mu      sync.Mutex
	samples []queueSample
}

// sample reads the queue once over *conn, connecting first when it is nil; a failure (the
// primary is gone) is returned as such and the connection is dropped, to be made again on
// the next call. Each goroutine has its own connection.
func (q *queueWatch) sample(ctx context.Context, conn **pgx.Conn) queueSample {
	s := queueSample{at: time.Now()}
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if *conn == nil {
		c, err := pgx.Connect(qctx, q.dsn)
		if err != nil {
			s.err = firstLine(err.Error())
			return s
		}
		*conn = c
	}
	var due float64
	err := (*conn).QueryRow(qctx, queueSampleSQL).Scan(&s.available, &s.scheduled, &s.running, &s.retryable, &due, &s.undelivered, &s.delivered)
	if err != nil {
		_ = (*conn).Close(context.WithoutCancel(ctx))
		*conn = nil
		s.err = firstLine(err.Error())
		return s
	}
	s.at = time.Now()
	s.oldestDue = time.Duration(due * float64(time.Second))
	return s
}

func (q *queueWatch) record(s queueSample) {
	q.mu.Lock()
	q.samples = append(q.samples, s)
	q.mu.Unlock()
}

// run samples every `every` until ctx ends, printing each sample as a timeline line (times
// relative to *origin once it is set: the primary's stop).
func (q *queueWatch) run(ctx context.Context, every time.Duration, origin func() time.Time, logf func(string, ...any)) {
	var conn *pgx.Conn
	defer closeConn(ctx, &conn)
	t := time.NewTicker(every)
	defer t.Stop()
	var prev *queueSample
	for {
		s := q.sample(ctx, &conn)
		if ctx.Err() != nil {
			return
		}
		q.record(s)
		logf("%s", s.line(prev, origin()))
		if s.err == "" {
			prev = &s
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// waitIdle polls until the queue is idle or until deadline, and returns the last sample.
func (q *queueWatch) waitIdle(ctx context.Context, deadline time.Time) queueSample {
	var conn *pgx.Conn
	defer closeConn(ctx, &conn)
	for {
		s := q.sample(ctx, &conn)
		if s.idle() || !time.Now().Before(deadline) || ctx.Err() != nil {
			q.record(s)
			return s
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// line is the timeline entry of s: its time from origin (negative before the stop), the
// jobs by state, the delivery records, the rate since prev and the oldest due job's wait.
func (s queueSample) line(prev *queueSample, origin time.Time) string {
	at := "        "
	if !origin.IsZero() {
		at = fmt.Sprintf("%+7.1fs", s.at.Sub(origin).Seconds())
	}
	if s.err != "" {
		return fmt.Sprintf("queue %s  database unavailable (%s)", at, s.err)
	}
	rate := "    -"
	if prev != nil {
		rate = fmt.Sprintf("%5.0f", perSecond(s.delivered-prev.delivered, s.at.Sub(prev.at)))
	}
	return fmt.Sprintf("queue %s  jobs available %5d scheduled %3d running %3d retryable %3d | undelivered %5d delivered %5d | %s/s | oldest due %5.1fs",
		at, s.available, s.scheduled, s.running, s.retryable, s.undelivered, s.delivered, rate, s.oldestDue.Seconds())
}

// rate is the delivery rate over the good samples taken in [from, to].
func (q *queueWatch) rate(from, to time.Time) (float64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var first, last *queueSample
	for i := range q.samples {
		s := &q.samples[i]
		if s.err != "" || s.at.Before(from) || s.at.After(to) {
			continue
		}
		if first == nil {
			first = s
		}
		last = s
	}
	if first == nil || last == first {
		return 0, false
	}
	return perSecond(last.delivered-first.delivered, last.at.Sub(first.at)), true
}

// at returns the last good sample taken at or before t.
func (q *queueWatch) at(t time.Time) (queueSample, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := len(q.samples) - 1; i >= 0; i-- {
		if s := q.samples[i]; s.err == "" && !s.at.After(t) {
			return s, true
		}
	}
	return queueSample{}, false
}

// now samples the queue once, on a connection of its own, and records the sample.
func (q *queueWatch) now(ctx context.Context) queueSample {
	var conn *pgx.Conn
	defer closeConn(ctx, &conn)
	s := q.sample(ctx, &conn)
	q.record(s)
	return s
}

func closeConn(ctx context.Context, conn **pgx.Conn) {
	if *conn != nil {
		_ = (*conn).Close(context.WithoutCancel(ctx))
		*conn = nil
	}
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// The drain rule of the failover drill (docs/ha-drills.md).
const (
	queueSampleEvery = 2 * time.Second
	// drainFactor leaves room for a shared machine: the drain may run at two thirds of the rate
	// measured before the stop.
	drainFactor = 1.5
	// drainAllowance covers the server's own recovery delays after writes resume: a job whose
	// outcome was lost in the outage returns after the orphan rescuer's grace (15 s) and sweep
	// (5 s); a stalled producer is restarted by the watchdog after 30 s and a 5 s check
	// (internal/jobs). Both run from the outage, which precedes the end of the load.
	drainAllowance = 35 * time.Second
	// drainNoRate replaces the rate term when no delivery rate was measured before the stop.
	drainNoRate = time.Minute
	// drainCap bounds the drill's wait, whatever the bound.
	drainCap = 4 * time.Minute
)

// drainResult is the job queue's part of the failover drill.
type drainResult struct {
	drained bool
	summary string // for the summary line
	failure string // when not drained
}

// queueDrain measures the delivery rate before the stop and after writes resumed, waits for
// the queue to drain from the end of the load within the bound derived from the rate before
// the stop, and says how it went.
func queueDrain(ctx context.Context, qw *queueWatch, loadStart, stopAt, resumedAt, loadEnd time.Time) drainResult {
	end := qw.now(ctx)
	if end.err != "" {
		if s, ok := qw.at(loadEnd); ok {
			end = s
		}
	}
	pre, preOK := qw.rate(loadStart, stopAt)
	after, afterOK := qw.rate(resumedAt, loadEnd)
	backlog := end.undelivered
	var bound time.Duration
	var how string
	if preOK && pre > 0 {
		bound = time.Duration(drainFactor*float64(backlog)/pre*float64(time.Second)) + drainAllowance
		how = fmt.Sprintf("%.1f × %d / %.0f/s + %s", drainFactor, backlog, pre, drainAllowance)
	} else {
		bound = drainNoRate + drainAllowance
		how = fmt.Sprintf("no rate before the stop: %s + %s", drainNoRate, drainAllowance)
	}
	if bound > drainCap {
		how += fmt.Sprintf(", capped at %s", drainCap)
		bound = drainCap
	}
	start := end.at
	if end.err != "" {
		start = loadEnd
	}
	last := qw.waitIdle(ctx, start.Add(bound))
	took := last.at.Sub(start)
	drainRate := perSecond(last.delivered-end.delivered, took)

	var oldest time.Duration
	qw.mu.Lock()
	for _, s := range qw.samples {
		if s.err == "" && s.at.After(stopAt) && s.oldestDue > oldest {
			oldest = s.oldestDue
		}
	}
	qw.mu.Unlock()
	rates := fmt.Sprintf("%s/s delivered before the stop, %s/s after writes resumed, %.0f/s draining",
		rateText(pre, preOK), rateText(after, afterOK), drainRate)
	r := drainResult{drained: last.idle()}
	if r.drained {
		r.summary = fmt.Sprintf("backlog %d when the load ended, drained in %.1f s (%.1f s after the stop; bound %.0f s = %s); %s; oldest due job waited %.1f s",
			backlog, took.Seconds(), last.at.Sub(stopAt).Seconds(), bound.Seconds(), how, rates, oldest.Seconds())
		return r
	}
	state := fmt.Sprintf("%d undelivered, jobs available %d, scheduled %d, running %d, retryable %d, oldest due %.0f s",
		last.undelivered, last.available, last.scheduled, last.running, last.retryable, last.oldestDue.Seconds())
	if last.err != "" {
		state = "database unavailable: " + last.err
	}
	r.failure = fmt.Sprintf("NOT DRAINED: backlog %d when the load ended, %s after %.0f s (bound %.0f s = %s); %s",
		backlog, state, took.Seconds(), bound.Seconds(), how, rates)
	r.summary = r.failure
	return r
}

func rateText(r float64, ok bool) string {
	if !ok {
		return "?"
	}
	return fmt.Sprintf("%.0f", r)
}
