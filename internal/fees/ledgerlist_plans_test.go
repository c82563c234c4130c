package fees

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	dbfs "github.com/casexchange/server/db"
	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// explainDB runs every query sent through it as EXPLAIN (ANALYZE, BUFFERS) and keeps the plan;
// the query itself then answers no rows. It lets a test read the plan of a generated sqlc query.
type explainDB struct {
	pool  *pgxpool.Pool
	plans []string
}

func (e *explainDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return e.pool.Exec(ctx, sql, args...)
}

func (e *explainDB) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return e.pool.CopyFrom(ctx, table, cols, src)
}

func (e *explainDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	plan, err := explain(ctx, e.pool, sql, args)
	if err != nil {
		return nil, err
	}
	e.plans = append(e.plans, plan)
	return e.pool.Query(ctx, "SELECT 1 WHERE false")
}

func (e *explainDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	plan, err := explain(ctx, e.pool, sql, args)
	if err == nil {
		e.plans = append(e.plans, plan)
	}
	return e.pool.QueryRow(ctx, "SELECT 1 WHERE false")
}

func explain(ctx context.Context, pool *pgxpool.Pool, sql string, args []any) (string, error) {
	rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}

// TestLedgerPlans loads a ledger of a few thousand entries, one firm against twenty partners on
// both sides, and checks the plan of every statement shape of the list, its totals, the export's
// keyset batches and the fee analytics: each reads an index range of the filter's index, never a
// sequential scan of the ledger, and the counts are index-only. The plans are logged (go test -v)
// with their execution times.
func TestLedgerPlans(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, _ := pgtest.NewDB(t)
	// The firm's 4,000 referrals and 12,000 between its partners, so that the firm is a quarter
	// of the table as in a shared database. CX_PLANS_LEDGER_FIRM sets the firm's share (the
	// plans were checked with 200000: 800,000 entries in all).
	nFirm := 4000
	if v := os.Getenv("CX_PLANS_LEDGER_FIRM"); v != "" {
		var err error
		nFirm, err = strconv.Atoi(v)
		require.NoError(t, err, "CX_PLANS_LEDGER_FIRM")
	}
	n := 4 * nFirm
	// The seeding statements run on a connection of their own without the statement timeout:
	// at the large size they take longer than a request may.
	seed, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer seed.Release()
	_, err = seed.Exec(ctx, "SET statement_timeout = 0")
	require.NoError(t, err)

	var firms []uuid.UUID
	rows, err := pool.Query(ctx, `INSERT INTO firms (name) SELECT 'Plan firm ' || lpad(g::text, 2, '0') FROM generate_series(0, 20) g RETURNING id`)
	require.NoError(t, err)
	firms, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	require.NoError(t, err)
	a, partners := firms[0], firms[1:]
	var caseID uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO base_cases (owner_firm_id, title, case_type_id, jurisdiction_code, client_first_name, client_last_name)
		VALUES ($1, 'Plan case', (SELECT id FROM case_types ORDER BY id LIMIT 1), (SELECT code FROM jurisdictions ORDER BY code LIMIT 1), 'Pat', 'Plan')
		RETURNING id`, a).Scan(&caseID))
	_, err = seed.Exec(ctx, `INSERT INTO referrals (base_case_id, sequence_number, reference_number, referring_firm_id, referent_firm_id, status, closing_status)
		SELECT $1, g, 'PLAN-' || g,
		       CASE WHEN g <= $4 THEN $2 ELSE ($3::uuid[])[1 + g % 20] END,
		       CASE WHEN g <= $4 THEN ($3::uuid[])[1 + g % 20] ELSE ($3::uuid[])[1 + (g + 1) % 20] END,
		       'closed', 'won_settled'
		FROM generate_series(1, $5::int) g`, caseID, a, partners, nFirm, n)
	require.NoError(t, err)
	// Of the firm's, three quarters owed to it and a quarter owed by it; statuses in a fixed mix;
	// due dates over a year; every ninth entry waits for an agreement.
	_, err = seed.Exec(ctx, `
		INSERT INTO fee_ledger_entries (referral_id, base_case_id, referring_firm_id, receiving_firm_id, status,
		                                attorney_fees_cents, amount_due_cents, paid_cents, closed_on, due_date)
		SELECT r.id, r.base_case_id,
		       CASE WHEN r.referring_firm_id = $2 AND r.sequence_number % 4 = 0 THEN r.referent_firm_id ELSE r.referring_firm_id END,
		       CASE WHEN r.referring_firm_id = $2 AND r.sequence_number % 4 = 0 THEN r.referring_firm_id ELSE r.referent_firm_id END,
		       s.st, 100000, CASE WHEN s.st = 'needs_agreement' THEN NULL ELSE 30000 END,
		       CASE s.st WHEN 'paid' THEN 30000 WHEN 'partially_paid' THEN 1000 ELSE 0 END,
		       date '2026-01-01' + r.sequence_number % 365,
		       CASE WHEN s.st = 'needs_agreement' THEN NULL ELSE date '2026-01-31' + r.sequence_number % 365 END
		FROM referrals r,
		     LATERAL (SELECT (ARRAY['due', 'due', 'partially_paid', 'paid', 'paid', 'paid', 'disputed', 'written_off', 'needs_agreement'])[1 + r.sequence_number % 9] AS st) s
		WHERE r.base_case_id = $1`, caseID, a)
	require.NoError(t, err)
	_, err = seed.Exec(ctx, `INSERT INTO fee_payments (entry_id, amount_cents, paid_on, method, recorded_by_firm_id)
		SELECT id, CASE status WHEN 'paid' THEN 30000 ELSE 1000 END, closed_on + 20, 'wire', receiving_firm_id
		FROM fee_ledger_entries WHERE status IN ('paid', 'partially_paid')`)
	require.NoError(t, err)
	// The state autovacuum keeps a live table in: statistics current, visibility map set.
	_, err = seed.Exec(ctx, `VACUUM (ANALYZE) fee_ledger_entries, fee_payments, list_counts`)
	require.NoError(t, err)

	// The payments carry their entry's firms (the insert trigger), and the counters match.
	var orphans int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM fee_payments p JOIN fee_ledger_entries e ON e.id = p.entry_id
		WHERE (p.referring_firm_id, p.receiving_firm_id) IS DISTINCT FROM (e.referring_firm_id, e.receiving_firm_id)`).Scan(&orphans))
	require.Zero(t, orphans)
	var owedToA, counted int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM fee_ledger_entries WHERE referring_firm_id = $1`, a).Scan(&owedToA))
	require.NoError(t, pool.QueryRow(ctx, `SELECT sum(n) FROM list_counts WHERE firm_id = $1 AND list = 'fee_owed_to_me'`, a).Scan(&counted))
	require.Equal(t, owedToA, counted)

	mid := &ledgerPos{key: toDate(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)), id: uuid.Nil}
	// Partners of each side: the firm's referrals to partners[4] are all owed by the firm (see
	// the flip above), those to partners[3] all owed to it.
	partnerOf := map[bool]*uuid.UUID{true: &partners[3], false: &partners[4]}
	paid, due := EntryPaid, EntryDue
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC)
	type shape struct {
		name string
		sp   ledgerSpec
	}
	var shapes []shape
	for _, side := range []bool{true, false} {
		label := "owed_to_me"
		if !side {
			label = "i_owe"
		}
		base := ledgerSpec{firm: a, owedToMe: side, limit: 20}
		partner := partnerOf[side]
		with := func(f func(*ledgerSpec)) ledgerSpec { sp := base; f(&sp); return sp }
		shapes = append(shapes,
			shape{label + ": page 1", base},
			shape{label + ": offset page 40", with(func(sp *ledgerSpec) { sp.offset = 780 })},
			shape{label + ": cursor from the middle", with(func(sp *ledgerSpec) { sp.after = mid })},
			shape{label + ": status paid", with(func(sp *ledgerSpec) { sp.status = &paid })},
			shape{label + ": partner", with(func(sp *ledgerSpec) { sp.partner = partner })},
			shape{label + ": partner and status due, cursor", with(func(sp *ledgerSpec) { sp.partner, sp.status, sp.after = partner, &due, mid })},
			shape{label + ": due range", with(func(sp *ledgerSpec) { sp.dueFrom, sp.dueTo = &from, &to })},
			shape{label + ": due from (open end)", with(func(sp *ledgerSpec) { sp.dueFrom = &to })},
			shape{label + ": aging 31_60 (outstanding, due range)", with(func(sp *ledgerSpec) { sp.outstandingOnly, sp.dueFrom, sp.dueTo = true, &from, &to })},
			shape{label + ": aging and partner", with(func(sp *ledgerSpec) { sp.outstandingOnly, sp.dueTo, sp.partner = true, &to, partner })},
			shape{label + ": export batch after a position", with(func(sp *ledgerSpec) { sp.limit, sp.after = exportBatch, mid })},
		)
	}

	execRe := regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)
	nodeRe := regexp.MustCompile(`(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? using (\w+) on fee_ledger_entries[^\n]*rows=(\d+)`)
	var report strings.Builder
	fmt.Fprintf(&report, "ledger of %d entries (%d owed to the firm), 20 partners\n", n, owedToA)
	record := func(name, kind, plan string) {
		ms := ""
		if m := execRe.FindStringSubmatch(plan); m != nil {
			ms = m[1] + " ms"
		}
		var used []string
		for _, m := range nodeRe.FindAllStringSubmatch(plan, -1) {
			used = append(used, fmt.Sprintf("%s %s (%s rows)", m[1], m[2], m[3]))
		}
		fmt.Fprintf(&report, "%-58s %-6s %10s  %s\n", name, kind, ms, strings.Join(used, "; "))
	}
	for _, sh := range shapes {
		sql, args := sh.sp.pageSQL()
		plan, err := explain(ctx, pool, sql, args)
		require.NoError(t, err, sh.name)
		require.NotContains(t, plan, "Seq Scan on fee_ledger_entries", "%s page:\n%s", sh.name, plan)
		require.Contains(t, plan, "_key_idx on fee_ledger_entries", "%s page reads a list index:\n%s", sh.name, plan)
		record(sh.name, "page", plan)
		if sh.sp.countsFromCounters() {
			continue
		}
		sql, args = sh.sp.countSQL(0)
		plan, err = explain(ctx, pool, sql, args)
		require.NoError(t, err, sh.name)
		require.Contains(t, plan, "Index Only Scan", "%s total is index-only:\n%s", sh.name, plan)
		require.NotContains(t, plan, "Seq Scan", "%s total:\n%s", sh.name, plan)
		record(sh.name, "total", plan)
	}

	// The fee analytics: one index range of the payments per side.
	ex := &explainDB{pool: pool}
	_, err = db.New(ex).FeeAnalyticsFlows(ctx, db.FeeAnalyticsFlowsParams{FirmID: a, DateFrom: toDate(from), DateTo: toDate(to.AddDate(0, 6, 0))})
	require.NoError(t, err)
	require.Len(t, ex.plans, 1)
	require.NotContains(t, ex.plans[0], "Seq Scan on fee_payments", ex.plans[0])
	require.Contains(t, ex.plans[0], "fee_payments_referring_paid_idx", ex.plans[0])
	require.Contains(t, ex.plans[0], "fee_payments_receiving_paid_idx", ex.plans[0])
	ms := ""
	if m := execRe.FindStringSubmatch(ex.plans[0]); m != nil {
		ms = m[1] + " ms"
	}
	fmt.Fprintf(&report, "%-58s %-6s %10s  %s\n", "fee analytics, nine months", "query", ms,
		strings.Join(regexp.MustCompile(`(Index Only Scan using \w+|Bitmap Index Scan on \w+)`).FindAllString(ex.plans[0], -1), "; "))
	t.Log("\n" + report.String())
}

// TestLedgerMigrationRoundTrip reverts migration 0021 on a ledger with entries and payments and
// applies it again: the down migration leaves the 0019 schema, and the up migration fills the
// counters and the payments' firms from the rows already there.
func TestLedgerMigrationRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, _ := pgtest.NewDB(t)
	var a, b, caseID uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO firms (name) VALUES ('Round trip A') RETURNING id`).Scan(&a))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO firms (name) VALUES ('Round trip B') RETURNING id`).Scan(&b))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO base_cases (owner_firm_id, title, case_type_id, jurisdiction_code, client_first_name, client_last_name)
		VALUES ($1, 'Round trip', (SELECT id FROM case_types ORDER BY id LIMIT 1), (SELECT code FROM jurisdictions ORDER BY code LIMIT 1), 'R', 'T')
		RETURNING id`, a).Scan(&caseID))
	load := func(from, to int) {
		_, err := pool.Exec(ctx, `INSERT INTO referrals (base_case_id, sequence_number, reference_number, referring_firm_id, referent_firm_id, status, closing_status)
			SELECT $1, g, 'RT-' || g, $2, $3, 'closed', 'won_settled' FROM generate_series($4::int, $5::int) g`, caseID, a, b, from, to)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO fee_ledger_entries (referral_id, base_case_id, referring_firm_id, receiving_firm_id, status,
				attorney_fees_cents, amount_due_cents, paid_cents, closed_on, due_date)
			SELECT id, base_case_id, referring_firm_id, referent_firm_id, CASE WHEN sequence_number % 2 = 0 THEN 'due' ELSE 'partially_paid' END,
				1000, 500, CASE WHEN sequence_number % 2 = 0 THEN 0 ELSE 100 END, date '2026-01-01', date '2026-02-01'
			FROM referrals WHERE base_case_id = $1 AND sequence_number BETWEEN $2 AND $3`, caseID, from, to)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO fee_payments (entry_id, amount_cents, paid_on, method, recorded_by_firm_id)
			SELECT e.id, 100, date '2026-01-15', 'ach', e.receiving_firm_id FROM fee_ledger_entries e
			JOIN referrals r ON r.id = e.referral_id WHERE e.status = 'partially_paid' AND r.sequence_number BETWEEN $1 AND $2`, from, to)
		require.NoError(t, err)
	}
	load(1, 10)
	// Back to just before 0021: it and every later migration are reverted.
	all, err := postgres.Migrations(dbfs.Migrations)
	require.NoError(t, err)
	back := 0
	for _, m := range all {
		if m.Version >= "0021" {
			back++
		}
	}
	require.NoError(t, postgres.MigrateDown(ctx, pool, dbfs.Migrations, back))
	var hasKey bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_name = 'fee_ledger_entries' AND column_name = 'due_key')`).Scan(&hasKey))
	require.False(t, hasKey)
	// Rows written by the previous release, without 0021.
	_, err = pool.Exec(ctx, `INSERT INTO referrals (base_case_id, sequence_number, reference_number, referring_firm_id, referent_firm_id, status, closing_status)
		SELECT $1, g, 'RT-' || g, $2, $3, 'closed', 'won_settled' FROM generate_series(11, 14) g`, caseID, a, b)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO fee_ledger_entries (referral_id, base_case_id, referring_firm_id, receiving_firm_id, status,
			attorney_fees_cents, amount_due_cents, paid_cents, closed_on, due_date)
		SELECT id, base_case_id, referring_firm_id, referent_firm_id, 'partially_paid', 1000, 500, 100, date '2026-01-01', date '2026-02-01'
		FROM referrals WHERE base_case_id = $1 AND sequence_number BETWEEN 11 AND 14`, caseID)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO fee_payments (entry_id, amount_cents, paid_on, method, recorded_by_firm_id)
		SELECT e.id, 100, date '2026-01-15', 'ach', e.receiving_firm_id FROM fee_ledger_entries e
		JOIN referrals r ON r.id = e.referral_id WHERE r.sequence_number BETWEEN 11 AND 14`)
	require.NoError(t, err)

	require.NoError(t, postgres.Migrate(ctx, pool, dbfs.Migrations))
	counts := func() map[string]int64 {
		rows, err := pool.Query(ctx, `SELECT list || ':' || status, sum(n)::bigint FROM list_counts WHERE list LIKE 'fee_%' GROUP BY 1`)
		require.NoError(t, err)
		out := map[string]int64{}
		for rows.Next() {
			var k string
			var n int64
			require.NoError(t, rows.Scan(&k, &n))
			out[k] = n
		}
		require.NoError(t, rows.Err())
		return out
	}
	require.Equal(t, map[string]int64{"fee_owed_to_me:due": 5, "fee_owed_to_me:partially_paid": 9, "fee_i_owe:due": 5, "fee_i_owe:partially_paid": 9}, counts())
	var missing int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM fee_payments WHERE referring_firm_id IS DISTINCT FROM $1 OR receiving_firm_id IS DISTINCT FROM $2`, a, b).Scan(&missing))
	require.Zero(t, missing)
	// And the triggers work on after the round trip.
	load(15, 16)
	require.Equal(t, map[string]int64{"fee_owed_to_me:due": 6, "fee_owed_to_me:partially_paid": 10, "fee_i_owe:due": 6, "fee_i_owe:partially_paid": 10}, counts())
	var keyed int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM fee_ledger_entries WHERE due_key = due_date`).Scan(&keyed))
	require.Equal(t, 16, keyed)
}
