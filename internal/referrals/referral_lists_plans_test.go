package referrals

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/db"
)

// explainDB is a db.DBTX that records EXPLAIN (ANALYZE, BUFFERS) of every query before running it.
type explainDB struct {
	conn  *pgx.Conn
	plans []string
	sql   []string
}

func (e *explainDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return e.conn.Exec(ctx, sql, args...)
}

func (e *explainDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := e.conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		return nil, err
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	e.plans = append(e.plans, strings.Join(lines, "\n"))
	e.sql = append(e.sql, sql)
	return e.conn.Query(ctx, sql, args...)
}

func (e *explainDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return e.conn.QueryRow(ctx, sql, args...)
}

func (e *explainDB) CopyFrom(ctx context.Context, t pgx.Identifier, c []string, src pgx.CopyFromSource) (int64, error) {
	return e.conn.CopyFrom(ctx, t, c, src)
}

// TestRecordReferralListPlans writes EXPLAIN (ANALYZE, BUFFERS) of every statement of the
// referral lists' family (listQueries) for the largest receiving firm of the database
// CX_PLANS_DSN names, at page 1, at offset 100,000 and from a keyset position deep in the list,
// to CX_PLANS_REFERRALS_OUT (default bench/results/plans-referral-lists.md). Skipped without
// CX_PLANS_DSN.
func TestRecordReferralListPlans(t *testing.T) {
	dsn := os.Getenv("CX_PLANS_DSN")
	if dsn == "" {
		t.Skip("set CX_PLANS_DSN to a database with a large firm to record the referral-list plans")
	}
	out := os.Getenv("CX_PLANS_REFERRALS_OUT")
	if out == "" {
		out = "../../bench/results/plans-referral-lists.md"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var firm uuid.UUID
	var n int64
	require.NoError(t, conn.QueryRow(ctx, `SELECT referent_firm_id, count(*) FROM referrals WHERE status <> 'draft' AND referent_firm_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1`).Scan(&firm, &n))
	var kts time.Time
	var kid uuid.UUID
	var ktext string
	require.NoError(t, conn.QueryRow(ctx, `SELECT updated_at, id, reference_number FROM referrals WHERE referent_firm_id = $1 AND status <> 'draft'
		ORDER BY updated_at DESC, id DESC OFFSET 100000 LIMIT 1`, firm).Scan(&kts, &kid, &ktext))
	names := make([]string, 0, len(listQueries))
	for name := range listQueries {
		names = append(names, name)
	}
	sort.Strings(names)
	var b, details strings.Builder
	fmt.Fprintf(&b, "# Referral-list plans\n\nRecorded %s by `CX_PLANS_DSN=... go test ./internal/referrals -run TestRecordReferralListPlans` for a firm receiving %d referrals. Every statement of `listQueries` (db/queries/referral_lists.sql), with the firm's own id: page 1 (offset 0), offset page 5,000 (offset 100,000, offset statements only) and the keyset variant from the position of row 100,000. Status filters use `sent`, search the pattern `%%-r1%%` with no firm names.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), n)
	b.WriteString("| statement | case | execution | rows read by the scan nodes | seq scan |\n|---|---|---:|---|---|\n")
	for _, name := range names {
		cases := []struct {
			label string
			a     listArgs
		}{{"page 1", listArgs{FirmID: firm, Status: "sent", Pattern: "%-r1%", FirmIds: []uuid.UUID{}, RowLimit: 21}}}
		if strings.HasSuffix(name, "Key") {
			cases[0] = struct {
				label string
				a     listArgs
			}{"keyset at row 100,000", listArgs{FirmID: firm, Status: "sent", Pattern: "%-r1%", FirmIds: []uuid.UUID{}, After: true, KTs: kts, KText: ktext, KID: kid, RowLimit: 21}}
		} else if !strings.Contains(name, "Search") {
			cases = append(cases, struct {
				label string
				a     listArgs
			}{"offset 100,000", listArgs{FirmID: firm, Status: "sent", Pattern: "%-r1%", FirmIds: []uuid.UUID{}, RowLimit: 21, RowOffset: 100000}})
		}
		for _, c := range cases {
			e := &explainDB{conn: conn}
			_, err := listQueries[name](ctx, db.New(e), c.a)
			require.NoError(t, err, name)
			for i, plan := range e.plans {
				ms, desc, seq := planSummary(plan)
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, c.label, ms, desc, seq)
				fmt.Fprintf(&details, "### %s, %s\n\n```sql\n%s\n```\n\n```\n%s\n```\n\n", name, c.label, e.sql[i], plan)
			}
		}
	}
	// The one statement of a received search's page and total (receivedSearchTx), per order, for
	// one reference number, the benchmark's search, with no status filter.
	for _, sort := range []string{SortUpdatedAt, SortStatus, SortReferenceNumber} {
		for _, asc := range []bool{false, true} {
			name := fmt.Sprintf("receivedSearchTx %s %s", sort, map[bool]string{false: "desc", true: "asc"}[asc])
			e := &explainDB{conn: conn}
			_, _, _, err := receivedSearchTx(ctx, e, listArgs{FirmID: firm, Pattern: "%cx-2026-410099-r1%", FirmIds: []uuid.UUID{}, RowLimit: 21}, sort, asc)
			require.NoError(t, err, name)
			for i, plan := range e.plans {
				ms, desc, seq := planSummary(plan)
				fmt.Fprintf(&b, "| %s | page 1 and total | %s | %s | %s |\n", name, ms, desc, seq)
				fmt.Fprintf(&details, "### %s, page 1 and total\n\n```sql\n%s\n```\n\n```\n%s\n```\n\n", name, e.sql[i], plan)
			}
		}
	}
	b.WriteString("\n## Plans\n\n")
	b.WriteString(details.String())
	require.NoError(t, os.WriteFile(out, []byte(b.String()), 0o644))
}

var (
	execRe = regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)
	nodeRe = regexp.MustCompile(`(Index Only Scan|Index Scan|Bitmap Index Scan|Bitmap Heap Scan)[^\n]*? on (\w+)[^\n]*actual time=[0-9.]+\.\.[0-9.]+ rows=(\d+)`)
)

// planSummary is a plan's execution time, the rows each scan node read, and whether a
// sequential scan is among them.
func planSummary(plan string) (ms, nodes, seq string) {
	if m := execRe.FindStringSubmatch(plan); m != nil {
		ms = m[1] + " ms"
	}
	var desc []string
	for _, m := range nodeRe.FindAllStringSubmatch(plan, -1) {
		desc = append(desc, fmt.Sprintf("%s %s: %s", m[1], m[2], m[3]))
	}
	seq = "none"
	if strings.Contains(plan, "Seq Scan") {
		seq = "**yes**"
	}
	return ms, strings.Join(desc, "; "), seq
}
