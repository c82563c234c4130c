package referrals

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/keyset"
)

// The case lists read case_listings (migration 0016), a read model the database keeps in the
// transaction of every write. A page is an index range scan of limit rows: each sort key has
// its own composite index (firm_id, is_owner, key, base_case_id), so the statements below are
// a fixed family, one per sort key, direction, side and filter shape, built from the constants
// of this file only (no client text is ever part of the SQL). The "all" view merges the two
// sides' ranges (a Merge Append of two index scans). Totals come from list_counts, except
// under a search or a date range, which count the matching index entries (a search counts at
// most searchCountCap of them; see the spec's description of search).

// The page statements carry their row limit as a literal, not a parameter. PostgreSQL plans a
// prepared statement's first five executions with their parameter values, and keeps doing so
// while the generic plan's estimate is much higher than theirs; for LIMIT $n a generic plan
// assumes a tenth of the firm's rows, so a parameter limit made every request plan again (0.6
// to 1.3 ms of planning for 0.3 ms of execution, at 200,000 cases). With the literal, the
// generic plan costs what the custom one does and is kept: planning drops to about 0.01 ms. A
// client uses few distinct limits, so this adds few statements to pgx's per-connection cache.

// searchCountCap bounds the cost of a search's total: at most this many matches are counted.
var searchCountCap = 10000

// sortColumns maps a sort key to its case_listings column and the SQL type of a cursor's key.
var sortColumns = map[string]struct{ col, typ string }{
	SortCreatedAt:       {"case_created_at", "timestamptz"},
	SortUpdatedAt:       {"case_updated_at", "timestamptz"},
	SortTitle:           {"title_key", "text"},
	SortReferenceNumber: {"case_reference_number", "text"},
	SortStatus:          {"status", "text"},
}

// caseRow is one row of a case page.
type caseRow struct {
	CaseID  uuid.UUID
	IsOwner bool
	key     string       // the sort key as text, for the next cursor
	sum     *CaseSummary // the row's list columns, from summaryPageSQL or summariesSQL
}

// caseListSpec is one case-list request in the terms of the statement family.
type caseListSpec struct {
	firm          uuid.UUID
	sides         []bool // is_owner values: {true}, {false} or {true, false}
	status        *string
	closing       *string
	createdFrom   *time.Time
	createdBefore *time.Time
	search        *string // a LIKE pattern over lower-cased text
	searchText    string  // the lower-cased text it matches
	sort          string
	desc          bool
	limit, offset int
	after         *keyset.Cursor
	// perReferral (the export) applies the status filter to the owner's rows only; the
	// received rows are filtered referral by referral (see exportViewsTx).
	perReferral bool
}

// listCaseSpec validates cq and turns it into a spec. Errors: apperr.ErrValidation for an
// unknown view or sort key, or a cursor that is not of this list.
func (cq CaseQuery) spec(firm uuid.UUID) (caseListSpec, string, error) {
	limit, offset := cq.Page.norm()
	sp := caseListSpec{
		firm: firm, status: statusPtrString(cq.Status.Status), closing: (*string)(cq.Status.Closing),
		createdFrom: cq.CreatedFrom, createdBefore: cq.CreatedBefore, sort: cq.Sort, desc: !cq.Ascending,
		limit: int(limit), offset: int(offset),
	}
	if p := searchPattern(cq.Search); p != nil {
		l := strings.ToLower(*p)
		sp.search = &l
		sp.searchText = strings.ToLower(strings.TrimSpace(cq.Search))
		if utf8.RuneCountInString(sp.searchText) > maxSearch {
			sp.searchText = string([]rune(sp.searchText)[:maxSearch])
		}
	}
	switch cq.View {
	case ViewSent:
		sp.sides = []bool{true}
	case ViewReceived:
		sp.sides = []bool{false}
	case ViewAll, "":
		sp.sides = []bool{true, false}
	default:
		return sp, "", apperr.Field("query.view", "must be sent, received or all")
	}
	switch cq.Sort {
	case "":
		sp.sort = SortCreatedAt
	case SortCreatedAt, SortUpdatedAt, SortTitle, SortReferenceNumber, SortStatus:
	default:
		return sp, "", apperr.Field("query.sort", "must be createdAt, updatedAt, title, referenceNumber or status")
	}
	fp := keyset.Fingerprint("cases", len(sp.sides), sp.sides[0], sp.status, sp.closing, timeKey(sp.createdFrom),
		timeKey(sp.createdBefore), sp.search, sp.sort, sp.desc, sp.limit)
	if cq.Cursor != "" {
		c, err := keyset.Decode(cq.Cursor, fp, "query.cursor")
		if err != nil {
			return sp, "", err
		}
		if _, err := uuid.Parse(c.ID); err != nil {
			return sp, "", apperr.Field("query.cursor", "is not a cursor returned by this list")
		}
		sp.after, sp.offset = &c, 0
	}
	return sp, fp, nil
}

func timeKey(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// filterSQL appends the WHERE conditions of one side; args is extended with the parameters.
func (sp caseListSpec) filterSQL(b *strings.Builder, args *[]any, owner bool, withCursor bool) {
	arg := func(v any) string {
		*args = append(*args, v)
		return "$" + strconv.Itoa(len(*args))
	}
	fmt.Fprintf(b, "firm_id = %s", arg(sp.firm))
	if !sp.bothInOne() {
		fmt.Fprintf(b, " AND is_owner = %t", owner)
	}
	if sp.status != nil && (owner || !sp.perReferral) {
		fmt.Fprintf(b, " AND status = %s", arg(*sp.status))
	}
	if sp.closing != nil && (owner || !sp.perReferral) {
		fmt.Fprintf(b, " AND closing_status = %s", arg(*sp.closing))
	}
	if sp.createdFrom != nil {
		fmt.Fprintf(b, " AND case_created_at >= %s", arg(*sp.createdFrom))
	}
	if sp.createdBefore != nil {
		fmt.Fprintf(b, " AND case_created_at < %s", arg(*sp.createdBefore))
	}
	if sp.search != nil {
		fmt.Fprintf(b, " AND search_text LIKE %s", arg(*sp.search))
	}
	if withCursor && sp.after != nil {
		b.WriteString(" AND ")
		sp.cursorSQL(b, args)
	}
}

// cursorSQL appends the keyset condition of sp.after: rows strictly after the cursor's
// position in the sort order.
func (sp caseListSpec) cursorSQL(b *strings.Builder, args *[]any) {
	sc := sortColumns[sp.sort]
	op := ">"
	if sp.desc {
		op = "<"
	}
	id, _ := uuid.Parse(sp.after.ID)
	*args = append(*args, sp.after.Key, id)
	fmt.Fprintf(b, "(%s, base_case_id) %s ($%d::%s, $%d::uuid)", sc.col, op, len(*args)-1, sc.typ, len(*args))
}

// orderOf is the ORDER BY of sp over the columns of the relation named by prefix ("p.").
func (sp caseListSpec) orderOf(prefix string) string {
	dir := "ASC"
	if sp.desc {
		dir = "DESC"
	}
	return fmt.Sprintf("ORDER BY %[1]s%[2]s %[3]s, %[1]sbase_case_id %[3]s", prefix, sortColumns[sp.sort].col, dir)
}

// keyText is the sort key's text as a cursor carries it.
func (sp caseListSpec) keyText() string { return sp.keyTextOf("") }

// keyTextOf is keyText over the columns of the relation named by prefix ("p.").
func (sp caseListSpec) keyTextOf(prefix string) string {
	col := prefix + sortColumns[sp.sort].col
	if sortColumns[sp.sort].typ == "timestamptz" {
		// Microseconds survive the round trip through the cursor exactly.
		return fmt.Sprintf(`to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, col)
	}
	return col + "::text"
}

// pageSQL returns the statement of one page and its arguments. The inner statement reads only
// index columns (an index-only range, also for the rows an offset skips); the key's text for the
// cursor is computed in the outer one, for the page's rows alone.
func (sp caseListSpec) pageSQL() (string, []any) { return sp.pageSQLOf(false) }

// summaryPageSQL is pageSQL with the list columns of each page row (summaryColumns), joined by
// primary key for the page's rows alone: one statement answers a sent-case page.
func (sp caseListSpec) summaryPageSQL() (string, []any) { return sp.pageSQLOf(true) }

// summaryColumns are a page row's list columns, over base_cases c, the viewer's case_listings
// row l and the partner firm f; scanSummaryRows reads them in this order.
const summaryColumns = `c.reference_number, c.title, COALESCE(c.cms_id, c.salesforce_id), c.salesforce_id,
	c.created_at, c.updated_at, l.status, l.closing_status, l.partner_firm_id, f.name`

// summaryJoins joins the columns of summaryColumns to a relation p of page rows; $1 is the
// viewing firm (filterSQL's first argument).
const summaryJoins = ` JOIN base_cases c ON c.id = p.base_case_id
	JOIN case_listings l ON l.firm_id = $1 AND l.base_case_id = p.base_case_id
	LEFT JOIN firms f ON f.id = l.partner_firm_id `

// summaryJoinsDirect is summaryJoins for a relation p that carries the listing's own columns
// (listingColumns): the page read them from its rows, so l is p itself.
const summaryJoinsDirect = ` l JOIN base_cases c ON c.id = l.base_case_id
	LEFT JOIN firms f ON f.id = l.partner_firm_id `

// listingColumns are the case_listings columns of summaryColumns.
var listingColumns = []string{"status", "closing_status", "partner_firm_id"}

func (sp caseListSpec) pageSQLOf(summary bool) (string, []any) {
	sc := sortColumns[sp.sort]
	order := sp.orderOf("")
	var b strings.Builder
	var args []any
	// Without an offset, a summary page reads the listing's columns from its own rows (21 heap
	// rows); with one, the inner range stays index-only (it also walks the skipped rows) and
	// the page's rows are joined to their listings by primary key.
	cols := "base_case_id, is_owner, " + sc.col
	direct := summary && sp.offset == 0
	if direct {
		for _, c := range listingColumns {
			if c != sc.col {
				cols += ", " + c
			}
		}
	}
	branch := func(owner bool) {
		fmt.Fprintf(&b, "SELECT %s FROM case_listings WHERE ", cols)
		sp.filterSQL(&b, &args, owner, true)
	}
	if summary {
		fmt.Fprintf(&b, "SELECT l.base_case_id, l.is_owner, %s AS k, %s FROM (", sp.keyTextOf("l."), summaryColumns)
	} else {
		fmt.Fprintf(&b, "SELECT base_case_id, is_owner, %s AS k FROM (", sp.keyText())
	}
	if len(sp.sides) == 1 || sp.bothInOne() {
		branch(sp.sides[0])
		fmt.Fprintf(&b, " %s", order)
	} else {
		// Each side is an ordered index range of at most offset+limit+1 entries; the outer
		// sort merges those few rows (the planner would otherwise sort the whole firm).
		n := sp.offset + sp.limit + 1
		b.WriteString("SELECT " + cols + " FROM ((")
		branch(true)
		fmt.Fprintf(&b, " %s LIMIT %d) UNION ALL (", order, n)
		branch(false)
		fmt.Fprintf(&b, " %s LIMIT %d)) u %s", order, n, order)
	}
	// One row more than the page tells whether a next page exists. The limit is a literal (see
	// the note on planning above); the offset stays a parameter, so walking pages reuses one
	// statement.
	fmt.Fprintf(&b, " LIMIT %d", sp.limit+1)
	if sp.offset > 0 {
		args = append(args, sp.offset)
		fmt.Fprintf(&b, " OFFSET $%d", len(args))
	}
	switch {
	case direct:
		fmt.Fprintf(&b, ")%s%s", summaryJoinsDirect, sp.orderOf("l."))
	case summary:
		fmt.Fprintf(&b, ") p %s%s", summaryJoins, sp.orderOf("p."))
	default:
		fmt.Fprintf(&b, ") p %s", order)
	}
	return b.String(), args
}

// countSQL returns the statement that counts the matches when the counters cannot: under a
// search (capped at searchCountCap) or a date range (exact, from the created-at index).
func (sp caseListSpec) countSQL() (string, []any) {
	if sp.search != nil {
		return sp.cappedCountSQL(searchCountCap)
	}
	return sp.cappedCountSQL(0)
}

// cappedCountSQL counts the matches of sp, at most limit of them (every one for 0).
func (sp caseListSpec) cappedCountSQL(limit int) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("SELECT count(*) FROM (")
	sides := sp.sides
	if sp.bothInOne() {
		sides = sides[:1]
	}
	for i, owner := range sides {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("(SELECT 1 FROM case_listings WHERE ")
		sp.filterSQL(&b, &args, owner, false)
		if limit > 0 {
			fmt.Fprintf(&b, " LIMIT %d", limit)
		}
		b.WriteString(")")
	}
	b.WriteString(") c")
	if limit > 0 {
		return "SELECT least(count, " + strconv.Itoa(limit) + ") FROM (" + b.String() + ") t", args
	}
	return b.String(), args
}

// searchSQL returns one statement that answers a search's page and its total from a single
// pass over the trigram index: the matches (at most searchCountCap+1 of them) are collected
// once, counted, and the page is sorted out of them. It yields one row per page row, each
// carrying the count, or one row with null page columns when the page is empty. A count above
// searchCountCap means the collected matches are not all of them: the caller then reads the
// page with pageSQL, over every match.
func (sp caseListSpec) searchSQL() (string, []any) {
	sc := sortColumns[sp.sort]
	order, keyText := sp.orderOf(""), sp.keyText()
	var b strings.Builder
	var args []any
	sides := sp.sides
	if sp.bothInOne() {
		sides = sides[:1]
	}
	fmt.Fprintf(&b, "WITH m AS MATERIALIZED (SELECT base_case_id, is_owner, %s FROM (", sc.col)
	for i, owner := range sides {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "(SELECT base_case_id, is_owner, %s FROM case_listings WHERE ", sc.col)
		sp.filterSQL(&b, &args, owner, false)
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ") u LIMIT %d) SELECT c.n, p.base_case_id, p.is_owner, p.k FROM (SELECT count(*) AS n FROM m) c", searchCountCap+1)
	fmt.Fprintf(&b, " LEFT JOIN LATERAL (SELECT base_case_id, is_owner, %s, %s AS k FROM m", sc.col, keyText)
	if sp.after != nil {
		b.WriteString(" WHERE ")
		sp.cursorSQL(&b, &args)
	}
	// A search keeps its limit a parameter: its cost is the trigram scan, and each execution is
	// planned with its own pattern (a generic plan cannot tell a rare pattern from a common one).
	args = append(args, sp.limit+1)
	fmt.Fprintf(&b, " %s LIMIT $%d", order, len(args))
	if sp.offset > 0 {
		args = append(args, sp.offset)
		fmt.Fprintf(&b, " OFFSET $%d", len(args))
	}
	fmt.Fprintf(&b, ") p ON true %s", sp.orderOf("p."))
	return b.String(), args
}

// bothInOne reports whether both sides are read by one statement without a side condition: a
// search of the all view, served by the trigram index rather than by a side's sort order, so
// one bitmap scan serves both sides (two would each scan the whole index).
func (sp caseListSpec) bothInOne() bool {
	return len(sp.sides) == 2 && sp.search != nil && !sp.perReferral
}

// counterLists names the list_counts lists of the spec's sides.
func (sp caseListSpec) counterLists() []string {
	var out []string
	for _, owner := range sp.sides {
		if owner {
			out = append(out, "case_sent")
		} else {
			out = append(out, "case_received")
		}
	}
	return out
}

// caseListBatch runs the page of sp and its total in one round trip on pool (the counters, or
// the count statement under a search or date range). With summary, each row carries its list
// columns, read by the same statement (a search reads them with one more).
func caseListBatch(ctx context.Context, pool *pgxpool.Pool, sp caseListSpec, summary bool) ([]caseRow, int, error) {
	if sp.search != nil {
		rows, n, err := caseSearch(ctx, pool, sp)
		if err == nil && summary {
			rows, err = withSummaries(ctx, pool, sp.firm, rows)
		}
		return rows, n, err
	}
	var b pgx.Batch
	sql, args := sp.pageSQL()
	scan := scanCaseRows
	if summary {
		sql, args = sp.summaryPageSQL()
		scan = scanSummaryRows
	}
	var out []caseRow
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		var err error
		out, err = scan(rows)
		return err
	})
	var n int64
	if sp.createdFrom != nil || sp.createdBefore != nil {
		csql, cargs := sp.countSQL()
		b.Queue(csql, cargs...).QueryRow(func(r pgx.Row) error { return r.Scan(&n) })
	} else {
		b.Queue(listCountSQL, sp.firm, sp.counterLists(), sp.status, sp.closing).QueryRow(func(r pgx.Row) error { return r.Scan(&n) })
	}
	if err := pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, 0, fmt.Errorf("list cases: %w", err)
	}
	return out, int(n), nil
}

// caseSearch answers a search's page and total with searchSQL; when the matches exceed
// searchCountCap it reads the page again over all of them (pageSQL) and the total is the cap.
func caseSearch(ctx context.Context, pool *pgxpool.Pool, sp caseListSpec) ([]caseRow, int, error) {
	sql, args := sp.searchSQL()
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("search cases: %w", err)
	}
	var (
		n     int64
		id    *uuid.UUID
		owner *bool
		key   *string
		out   []caseRow
	)
	if _, err := pgx.ForEachRow(rows, []any{&n, &id, &owner, &key}, func() error {
		if id != nil {
			out = append(out, caseRow{CaseID: *id, IsOwner: *owner, key: *key})
		}
		return nil
	}); err != nil {
		return nil, 0, fmt.Errorf("search cases: %w", err)
	}
	if n <= int64(searchCountCap) {
		return out, int(n), nil
	}
	out, err = casePageTx(ctx, pool, sp)
	if err != nil {
		return nil, 0, err
	}
	return out, searchCountCap, nil
}

// casePageTx runs the page statement of sp on tx (a transaction, or the pool): up to
// sp.limit+1 rows.
func casePageTx(ctx context.Context, tx querier, sp caseListSpec) ([]caseRow, error) {
	sql, args := sp.pageSQL()
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	out, err := scanCaseRows(rows)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	return out, nil
}

// scanCaseRows reads the rows of a page statement.
func scanCaseRows(rows pgx.Rows) ([]caseRow, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (caseRow, error) {
		var c caseRow
		err := r.Scan(&c.CaseID, &c.IsOwner, &c.key)
		return c, err
	})
}

// scanSummaryRows reads the rows of a summary page statement (or of summariesSQL).
func scanSummaryRows(rows pgx.Rows) ([]caseRow, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (caseRow, error) {
		var (
			c       caseRow
			m       CaseSummary
			closing *string
		)
		err := r.Scan(&c.CaseID, &c.IsOwner, &c.key, &m.ReferenceNumber, &m.Title, &m.CMSID, &m.SalesforceID,
			&m.CreatedAt, &m.UpdatedAt, &m.Status, &closing, &m.PartnerFirmID, &m.PartnerFirmName)
		m.ID, m.ClosingStatus, c.sum = c.CaseID, (*ClosingStatus)(closing), &m
		return c, err
	})
}

// summariesSQL reads the list columns of the viewing firm's ($1) listings of cases $2.
const summariesSQL = `SELECT p.base_case_id, l.is_owner, ''::text, ` + summaryColumns +
	` FROM unnest($2::uuid[]) AS p(base_case_id)` + summaryJoins

// withSummaries attaches to rows the firm's list columns of each, in one statement; a row whose
// case is gone (deleted since its page was read) is left out.
func withSummaries(ctx context.Context, pool *pgxpool.Pool, firm uuid.UUID, rows []caseRow) ([]caseRow, error) {
	if len(rows) == 0 {
		return rows, nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.CaseID
	}
	res, err := pool.Query(ctx, summariesSQL, firm, ids)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	sums, err := scanSummaryRows(res)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	byID := make(map[uuid.UUID]*CaseSummary, len(sums))
	for _, s := range sums {
		byID[s.CaseID] = s.sum
	}
	out := rows[:0]
	for _, r := range rows {
		if r.sum = byID[r.CaseID]; r.sum != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// listCountSQL sums the list_counts slots of a firm's lists ($2), of one status ($3) and closing
// status ($4) when given.
const listCountSQL = `SELECT COALESCE(sum(n), 0)::bigint FROM list_counts
	WHERE firm_id = $1 AND list = ANY($2) AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR closing_status = $4)`

// pageNumber is the number of the page sp reads: the cursor's, or pg's (at least 1).
func (sp caseListSpec) pageNumber(pg Page) int {
	n := pg.Page
	if sp.after != nil {
		n = sp.after.Page
	}
	return max(n, 1)
}

// page trims rows (fetched with one extra) to the page and returns the cursor of the page
// after it, nil when rows end the list.
func (sp caseListSpec) page(fp string, rows []caseRow, page int) ([]caseRow, *string) {
	if len(rows) <= sp.limit {
		return rows, nil
	}
	rows = rows[:sp.limit]
	last := rows[len(rows)-1]
	next := page + 1
	if sp.after != nil {
		next = sp.after.Page + 1
	}
	s := keyset.Encode(keyset.Cursor{F: fp, Key: last.key, ID: last.CaseID.String(), Page: next})
	return rows, &s
}
