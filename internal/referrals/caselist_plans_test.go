package referrals

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/keyset"
)

// TestRecordCaseListPlans writes EXPLAIN (ANALYZE, BUFFERS) of every case-list statement shape
// for the largest sending and receiving firms of the database CX_PLANS_DSN names (e.g. the
// 200,000-case bench dataset) to CX_PLANS_OUT (default bench/results/plans-case-lists.md). It
// is a measuring tool, skipped without CX_PLANS_DSN.
func TestRecordCaseListPlans(t *testing.T) {
	dsn := os.Getenv("CX_PLANS_DSN")
	if dsn == "" {
		t.Skip("set CX_PLANS_DSN to a database with a large firm to record the case-list plans")
	}
	out := os.Getenv("CX_PLANS_OUT")
	if out == "" {
		out = "../../bench/results/plans-case-lists.md"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)

	var sender, receiver uuid.UUID
	var nSent, nRecv int64
	require.NoError(t, conn.QueryRow(ctx, `SELECT firm_id, count(*) FROM case_listings WHERE is_owner GROUP BY 1 ORDER BY 2 DESC LIMIT 1`).Scan(&sender, &nSent))
	require.NoError(t, conn.QueryRow(ctx, `SELECT firm_id, count(*) FROM case_listings WHERE NOT is_owner GROUP BY 1 ORDER BY 2 DESC LIMIT 1`).Scan(&receiver, &nRecv))
	var midKey, midID string
	require.NoError(t, conn.QueryRow(ctx, `SELECT to_char(case_created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), base_case_id::text
		FROM case_listings WHERE firm_id = $1 AND is_owner ORDER BY case_created_at DESC, base_case_id DESC OFFSET 100000 LIMIT 1`, sender).Scan(&midKey, &midID))

	status := "sent"
	type shape struct {
		name string
		firm uuid.UUID
		cq   CaseQuery
		deep bool
	}
	var shapes []shape
	for _, side := range []struct {
		label string
		firm  uuid.UUID
		view  string
	}{{"sent view, largest sender", sender, ViewSent}, {"received view, largest receiver", receiver, ViewReceived}, {"all view, largest sender", sender, ViewAll}} {
		for _, s := range []string{SortCreatedAt, SortUpdatedAt, SortTitle, SortReferenceNumber, SortStatus} {
			shapes = append(shapes, shape{name: fmt.Sprintf("%s: page 1, sort %s desc", side.label, s), firm: side.firm, cq: CaseQuery{View: side.view, Sort: s, Page: Page{Page: 1, Limit: 20}}})
		}
		shapes = append(shapes,
			shape{name: side.label + ": page 1, sort createdAt asc", firm: side.firm, cq: CaseQuery{View: side.view, Sort: SortCreatedAt, Ascending: true, Page: Page{Page: 1, Limit: 20}}},
			shape{name: side.label + ": offset page 5,000", firm: side.firm, cq: CaseQuery{View: side.view, Sort: SortCreatedAt, Page: Page{Page: 5000, Limit: 20}}},
			shape{name: side.label + ": status filter (sent)", firm: side.firm, cq: CaseQuery{View: side.view, Sort: SortCreatedAt, Status: StatusFilter{Status: (*Status)(&status)}, Page: Page{Page: 1, Limit: 20}}},
			shape{name: side.label + ": search \"Holdings #199\"", firm: side.firm, cq: CaseQuery{View: side.view, Sort: SortCreatedAt, Search: "Holdings #199", Page: Page{Page: 1, Limit: 20}}},
			shape{name: side.label + ": date range", firm: side.firm, cq: CaseQuery{View: side.view, Sort: SortCreatedAt, CreatedFrom: ptrTime(time.Now().Add(-24 * time.Hour)), Page: Page{Page: 1, Limit: 20}}},
		)
	}
	shapes = append(shapes, shape{name: "sent view, largest sender: cursor page at row 100,000", firm: sender, cq: CaseQuery{View: ViewSent, Sort: SortCreatedAt, Page: Page{Page: 1, Limit: 20}}, deep: true})

	var b strings.Builder
	fmt.Fprintf(&b, "# Case-list plans\n\nRecorded %s by `CX_PLANS_DSN=... go test ./internal/referrals -run TestRecordCaseListPlans` on a database whose largest sender has %d cases and largest receiver %d received cases. Each statement is the one the server runs (`caseListSpec.pageSQL` / `countSQL`, `listCountSQL`; a search's page and total are one statement, `searchSQL`; `/sent-cases` reads its page with the items' columns, `summaryPageSQL`), with EXPLAIN (ANALYZE, BUFFERS).\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), nSent, nRecv)
	b.WriteString("A sequential scan in the `/sent-cases` statements is of `firms` (a dozen rows in this dataset), hashed for the partner firms' names; with many firms the planner reads the page's partners by primary key instead.\n\n")
	fmt.Fprintf(&b, "| statement | execution | rows read by the top scan nodes | seq scans |\n|---|---:|---|---|\n")
	var details strings.Builder
	execRe := regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)
	for _, sh := range shapes {
		sp, fp, err := sh.cq.spec(sh.firm)
		require.NoError(t, err)
		if sh.deep {
			sp.after = &keyset.Cursor{F: fp, Key: midKey, ID: midID, Page: 5001}
		}
		type stmt struct {
			kind string
			sql  string
			args []any
		}
		var stmts []stmt
		switch {
		case sp.search != nil:
			// One statement answers a search's page and its total.
			sql, args := sp.searchSQL()
			stmts = append(stmts, stmt{"page and total", sql, args})
		case sp.createdFrom != nil:
			sql, args := sp.pageSQL()
			csql, cargs := sp.countSQL()
			stmts = append(stmts, stmt{"page", sql, args}, stmt{"total", csql, cargs})
		default:
			sql, args := sp.pageSQL()
			stmts = append(stmts, stmt{"page", sql, args}, stmt{"total", listCountSQL, []any{sp.firm, sp.counterLists(), sp.status, sp.closing}})
			if sh.cq.View == ViewSent {
				// GET /sent-cases reads the page with its items' columns (ListSentCaseSummaries).
				ssql, sargs := sp.summaryPageSQL()
				stmts = append(stmts, stmt{"/sent-cases page with its list columns", ssql, sargs})
			}
		}
		for _, st := range stmts {
			rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+st.sql, st.args...)
			require.NoError(t, err)
			var lines []string
			for rows.Next() {
				var l string
				require.NoError(t, rows.Scan(&l))
				lines = append(lines, l)
			}
			require.NoError(t, rows.Err())
			plan := strings.Join(lines, "\n")
			ms := ""
			if m := execRe.FindStringSubmatch(plan); m != nil {
				ms = m[1] + " ms"
			}
			seq := "none"
			if strings.Contains(plan, "Seq Scan") {
				seq = "**yes**"
			}
			nodes := regexp.MustCompile(`(Index Only Scan|Index Scan|Bitmap Index Scan|Bitmap Heap Scan|Merge Append)[^\n]*?on (\w+)[^\n]*actual time=[0-9.]+\.\.[0-9.]+ rows=(\d+)`).FindAllStringSubmatch(plan, -1)
			var desc []string
			for _, n := range nodes {
				desc = append(desc, fmt.Sprintf("%s %s: %s", n[1], n[2], n[3]))
			}
			fmt.Fprintf(&b, "| %s (%s) | %s | %s | %s |\n", sh.name, st.kind, ms, strings.Join(desc, "; "), seq)
			fmt.Fprintf(&details, "### %s (%s)\n\n```sql\n%s\n```\n\n```\n%s\n```\n\n", sh.name, st.kind, st.sql, plan)
		}
	}
	b.WriteString("\n## Plans\n\n")
	b.WriteString(details.String())
	require.NoError(t, os.WriteFile(out, []byte(b.String()), 0o644))
	t.Logf("wrote %s", out)
}

func ptrTime(t time.Time) *time.Time { return &t }
