package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/internal/referrals"
)

// recorder is a pgx tracer that, while on, keeps the SQL and arguments of every statement the
// pool runs. The plans are taken from what the domain calls really send, so they follow any
// change of db/queries or of the services without edits here.
type recorder struct {
	on      atomic.Bool
	mu      sync.Mutex
	queries []recorded
}

type recorded struct {
	sql  string
	args []any
}

func (r *recorder) add(sql string, args []any) {
	if !r.on.Load() {
		return
	}
	r.mu.Lock()
	r.queries = append(r.queries, recorded{sql: sql, args: slices.Clone(args)})
	r.mu.Unlock()
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.add(d.SQL, d.Args)
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (r *recorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.add(d.SQL, d.Args)
}

func (r *recorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// capture runs fn with the recorder on and returns the reads it sent (transaction control
// statements left out).
func (r *recorder) capture(fn func() error) ([]recorded, error) {
	r.mu.Lock()
	r.queries = nil
	r.mu.Unlock()
	r.on.Store(true)
	err := fn()
	r.on.Store(false)
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, q := range r.queries {
		s := strings.ToLower(strings.TrimSpace(stripName(q.sql)))
		if strings.HasPrefix(s, "select") || strings.HasPrefix(s, "with") {
			out = append(out, q)
		}
	}
	return out, err
}

var sqlcName = regexp.MustCompile(`^\s*-- name: (\S+)`)

// stripName drops sqlc's leading "-- name: X :kind" comment line.
func stripName(sql string) string {
	if sqlcName.MatchString(sql) {
		if i := strings.IndexByte(sql, '\n'); i >= 0 {
			return sql[i+1:]
		}
	}
	return sql
}

func queryName(sql string) string {
	if m := sqlcName.FindStringSubmatch(sql); m != nil {
		return m[1]
	}
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return "`" + s + "`"
}

// planSummary is one explained query, for the summary tables.
type planSummary struct {
	Endpoint, Query string
	Indexes         []string
	SeqScans        []seqScan
	ExecMS          float64
	Error           string `json:",omitempty"`
}

// seqScan is a sequential scan of a plan: the rows it read are Out + Removed, Loops times.
type seqScan struct {
	Table               string
	Out, Removed, Loops int64
}

func (s seqScan) read() int64 { return (s.Out + s.Removed) * max(s.Loops, 1) }

func (s seqScan) String() string {
	loops := ""
	if s.Loops > 1 {
		loops = fmt.Sprintf(" x %d loops", s.Loops)
	}
	return fmt.Sprintf("%s (%d rows read%s)", s.Table, s.Out+s.Removed, loops)
}

var (
	reIndex   = regexp.MustCompile(`(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)`)
	reSeq     = regexp.MustCompile(`Seq Scan on (\S+).*?\(actual time=\S+ rows=(\d+) loops=(\d+)\)`)
	reRemoved = regexp.MustCompile(`Rows Removed by Filter: (\d+)`)
	reExecute = regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)
)

func summarize(endpoint, query string, plan []string) planSummary {
	p := planSummary{Endpoint: endpoint, Query: query}
	for i, line := range plan {
		if m := reIndex.FindStringSubmatch(line); m != nil && !slices.Contains(p.Indexes, m[1]) {
			p.Indexes = append(p.Indexes, m[1])
		}
		if m := reSeq.FindStringSubmatch(line); m != nil {
			sc := seqScan{Table: m[1]}
			fmt.Sscan(m[2], &sc.Out)
			fmt.Sscan(m[3], &sc.Loops)
			// The node's details follow it, up to the next node.
			for _, l := range plan[i+1:] {
				if strings.Contains(l, "->") {
					break
				}
				if r := reRemoved.FindStringSubmatch(l); r != nil {
					fmt.Sscan(r[1], &sc.Removed)
				}
			}
			p.SeqScans = append(p.SeqScans, sc)
		}
		if m := reExecute.FindStringSubmatch(line); m != nil {
			fmt.Sscan(m[1], &p.ExecMS)
		}
	}
	return p
}

// writePlans runs, with the recorder on, the domain call behind each read endpoint (the call
// the baseline makes) with the endpoint's parameters, then EXPLAIN (ANALYZE, BUFFERS) each read
// statement it sent, with the same arguments, and writes them to path with a summary of the
// indexes and sequential scans of each.
func writePlans(ctx context.Context, path string, s *scaleDB, fx fixtures) ([]planSummary, error) {
	ref := s.app.Server.Referrals
	firm := uuid.MustParse(fx.firm)
	actor := referrals.Actor{FirmID: firm, Source: referrals.SourceAPI}
	investigating := referrals.Status("investigating")
	since := fx.since
	calls := []struct {
		name string
		fn   func() error
	}{
		{"GET /sent-cases (page 1)", func() error {
			_, err := ref.ListCases(ctx, actor, referrals.CaseQuery{View: referrals.ViewSent, Sort: referrals.SortUpdatedAt, Page: referrals.Page{Page: 1, Limit: 20}})
			return err
		}},
		{"GET /sent-cases (deep page, search)", func() error {
			_, err := ref.ListCases(ctx, actor, referrals.CaseQuery{View: referrals.ViewSent, Search: "Law", Sort: referrals.SortUpdatedAt,
				Page: referrals.Page{Page: fx.deepPage, Limit: 20}})
			return err
		}},
		{"GET /received-referrals?status=investigating", func() error {
			_, err := ref.ListReceived(ctx, actor, referrals.ReceivedQuery{Status: referrals.StatusFilter{Status: &investigating}, Page: referrals.Page{Page: 1, Limit: 20}})
			return err
		}},
		{epPolling, func() error {
			_, err := ref.Feed(ctx, actor, referrals.FeedQuery{Since: &since, Page: referrals.Page{Page: 1, Limit: 20}})
			return err
		}},
		{"GET /sent-cases/{uuid}", func() error {
			_, err := ref.GetSentCase(ctx, actor, fx.caseID)
			return err
		}},
		{"GET /sent-cases/{referenceNumber}", func() error {
			_, err := ref.GetSentCase(ctx, actor, fx.caseRef)
			return err
		}},
		{"GET /analytics/homepage", func() error {
			_, err := s.app.Server.Analytics.Homepage(ctx, firm, "")
			return err
		}},
	}
	var b, body strings.Builder
	var sums []planSummary
	for _, c := range calls {
		// Once unrecorded, so the recorded run and the EXPLAINs find a warm cache, as the
		// benchmark's requests do.
		if err := c.fn(); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		qs, err := s.rec.capture(c.fn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Fprintf(&body, "## %s\n\n", c.name)
		if len(qs) == 0 {
			body.WriteString("No SQL statement (served without the database).\n\n")
		}
		for i, q := range qs {
			name := queryName(q.sql)
			fmt.Fprintf(&body, "### %d. %s\n\n```\n", i+1, strings.Trim(name, "`"))
			rows, err := s.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+stripName(q.sql), q.args...)
			var plan []string
			if err == nil {
				plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			}
			if err != nil {
				fmt.Fprintf(&body, "error: %v\n", err)
				sums = append(sums, planSummary{Endpoint: c.name, Query: name, Error: err.Error()})
			} else {
				body.WriteString(strings.Join(plan, "\n") + "\n")
				sums = append(sums, summarize(c.name, name, plan))
			}
			body.WriteString("```\n\n")
		}
	}
	fmt.Fprintf(&b, "# Query plans\n\n")
	fmt.Fprintf(&b, "`EXPLAIN (ANALYZE, BUFFERS)` of every statement the read endpoints run, on database %s (%d referrals, %d status\n", s.info.DB, s.info.Referrals, s.info.StatusUpdates)
	b.WriteString("updates), taken by recording what the domain call behind each endpoint (the call the baseline makes) sends, with the\n")
	b.WriteString("endpoint's parameters, and explaining it with the same arguments on a warm cache. Our server also looks up the API key\n")
	b.WriteString("(not shown: the baseline has no auth).\n\n")
	b.WriteString("| Endpoint | Statement | Indexes used | Sequential scans | Execution |\n|---|---|---|---|---:|\n")
	for _, p := range sums {
		if p.Error != "" {
			fmt.Fprintf(&b, "| %s | %s | error: %s | | |\n", p.Endpoint, p.Query, md(p.Error))
			continue
		}
		var scans []string
		for _, sc := range p.SeqScans {
			scans = append(scans, sc.String())
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f ms |\n", p.Endpoint, p.Query, orNone(p.Indexes), orNone(scans), p.ExecMS)
	}
	b.WriteString("\n" + body.String())
	return sums, os.WriteFile(path, []byte(b.String()), 0o644)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
