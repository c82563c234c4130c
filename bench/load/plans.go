package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
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

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
