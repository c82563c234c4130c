package fees

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/keyset"
	"github.com/casexchange/server/internal/postgres"
)

// The ledger list reads one side of a firm's ledger (owed to it as referring firm, or owed by it
// as receiving firm) in the order (due_key, id): by due date, entries without one last. Each
// request is one statement of a fixed family, one per side and filter shape, built from the
// constants of this file only (no client text is ever part of the SQL), so the planner sees
// each filter as a plain condition and starts an index range of migration 0021 from it:
//
//	side alone, due range          fee_ledger_<side>_key_idx         (firm, due_key, id)
//	status                         fee_ledger_<side>_status_key_idx  (firm, status, due_key, id)
//	partner firm (and status)      fee_ledger_<side>_partner_key_idx (firm, partner, due_key, id, status)
//	aging (outstanding entries)    fee_ledger_<side>_open_key_idx    (firm, due_key, id, partner), partial
//
// The inner statement reads index columns only (also for the rows an offset skips); the page's
// rows are joined to their firms and referral afterwards. A cursor is the position after the last
// row of a page, (due_key, id), from which the next range starts. Totals come from the
// list_counts counters (one per firm, side and status) when the request filters by status or
// not at all; under a partner, due date or aging filter they count the matching entries of the
// index that serves the filter, an index-only range of those entries, not of the firm's ledger.

const cursorField = "cursor"

// ledgerSpec is one ledger-list request in the terms of the statement family.
type ledgerSpec struct {
	firm            uuid.UUID
	owedToMe        bool // the referring firm's side
	status          *string
	partner         *uuid.UUID
	dueFrom, dueTo  *time.Time
	outstandingOnly bool
	limit, offset   int
	after           *ledgerPos
}

// ledgerPos is a keyset position: the sort key and id of the last row read.
type ledgerPos struct {
	key pgtype.Date
	id  uuid.UUID
}

// sideColumns are the caller's column and the partner's column of the spec's side.
func (sp ledgerSpec) sideColumns() (own, partner string) {
	if sp.owedToMe {
		return "referring_firm_id", "receiving_firm_id"
	}
	return "receiving_firm_id", "referring_firm_id"
}

func (sp ledgerSpec) counterList() string {
	if sp.owedToMe {
		return "fee_owed_to_me"
	}
	return "fee_i_owe"
}

// countsFromCounters reports whether the total is a counter read: no filter but the status.
func (sp ledgerSpec) countsFromCounters() bool {
	return sp.partner == nil && sp.dueFrom == nil && sp.dueTo == nil && !sp.outstandingOnly
}

// filterSQL appends the WHERE conditions on the entries aliased k; args is extended with the
// parameters.
func (sp ledgerSpec) filterSQL(b *strings.Builder, args *[]any, withCursor bool) {
	arg := func(v any) string {
		*args = append(*args, v)
		return "$" + strconv.Itoa(len(*args))
	}
	own, partner := sp.sideColumns()
	fmt.Fprintf(b, "k.%s = %s", own, arg(sp.firm))
	if sp.status != nil {
		fmt.Fprintf(b, " AND k.status = %s", arg(*sp.status))
	}
	if sp.partner != nil {
		fmt.Fprintf(b, " AND k.%s = %s", partner, arg(*sp.partner))
	}
	if sp.dueFrom != nil {
		fmt.Fprintf(b, " AND k.due_key >= %s::date", arg(toDate(*sp.dueFrom)))
	}
	if sp.dueTo != nil {
		fmt.Fprintf(b, " AND k.due_key <= %s::date", arg(toDate(*sp.dueTo)))
	} else if sp.dueFrom != nil {
		// A due date range never holds the entries without one.
		b.WriteString(" AND k.due_key < 'infinity'::date")
	}
	if sp.outstandingOnly {
		// The predicate of the partial open_key indexes, spelt the same.
		b.WriteString(" AND k.status IN ('due', 'partially_paid', 'disputed')")
	}
	if withCursor && sp.after != nil {
		fmt.Fprintf(b, " AND (k.due_key, k.id) > (%s::date, %s::uuid)", arg(sp.after.key), arg(sp.after.id))
	}
}

// ledgerColumns are the columns of a page row, in the order of scanLedgerRow.
const ledgerColumns = `e.id, e.referral_id, e.base_case_id, e.referring_firm_id, e.receiving_firm_id, e.version_id,
	e.status, e.attorney_fees_cents, e.amount_due_cents, e.paid_cents, e.closed_on, e.due_date, e.dispute_reason,
	e.written_off_reason, e.created_at, e.updated_at, fr.name, fe.name, r.reference_number, e.due_key`

// pageSQL returns the statement of one page of at most sp.limit+1 rows (one more than the page
// tells whether a next page exists) and its arguments.
func (sp ledgerSpec) pageSQL() (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("SELECT " + ledgerColumns + " FROM (SELECT k.id, k.due_key FROM fee_ledger_entries k WHERE ")
	sp.filterSQL(&b, &args, true)
	args = append(args, sp.limit+1)
	fmt.Fprintf(&b, " ORDER BY k.due_key, k.id LIMIT $%d", len(args))
	if sp.offset > 0 {
		args = append(args, sp.offset)
		fmt.Fprintf(&b, " OFFSET $%d", len(args))
	}
	b.WriteString(`) p
	JOIN fee_ledger_entries e ON e.id = p.id
	JOIN firms fr ON fr.id = e.referring_firm_id
	JOIN firms fe ON fe.id = e.receiving_firm_id
	JOIN referrals r ON r.id = e.referral_id
	ORDER BY p.due_key, p.id`)
	return b.String(), args
}

// countSQL returns the statement counting the matches of sp, at most limit of them (every one
// for 0).
func (sp ledgerSpec) countSQL(limit int) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("SELECT count(*) FROM (SELECT 1 FROM fee_ledger_entries k WHERE ")
	sp.filterSQL(&b, &args, false)
	if limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", limit)
	}
	b.WriteString(") c")
	return b.String(), args
}

// ledgerRow is one row of a page.
type ledgerRow struct {
	entry Entry
	key   pgtype.Date
}

func scanLedgerRow(row pgx.CollectableRow) (ledgerRow, error) {
	var r ledgerRow
	var closed, due pgtype.Date
	e := &r.entry
	err := row.Scan(&e.ID, &e.ReferralID, &e.BaseCaseID, &e.ReferringFirmID, &e.ReceivingFirmID, &e.VersionID,
		&e.Status, &e.AttorneyFeesCents, &e.AmountDueCents, &e.PaidCents, &closed, &due, &e.DisputeReason,
		&e.WrittenOffReason, &e.CreatedAt, &e.UpdatedAt, &e.ReferringFirmName, &e.ReceivingFirmName, &e.ReferenceNumber, &r.key)
	e.ClosedOn, e.DueDate = fromDate(closed), datePtr(due)
	return r, err
}

// pageTx runs the page statement of sp.
func (sp ledgerSpec) pageTx(ctx context.Context, tx pgx.Tx) ([]ledgerRow, error) {
	sql, args := sp.pageSQL()
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list ledger: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanLedgerRow)
	if err != nil {
		return nil, fmt.Errorf("list ledger: %w", err)
	}
	return out, nil
}

// totalTx is the number of entries matching sp, at most limit of them (every one for 0).
func (sp ledgerSpec) totalTx(ctx context.Context, tx pgx.Tx, limit int) (int64, error) {
	if sp.countsFromCounters() {
		status := ""
		if sp.status != nil {
			status = *sp.status
		}
		n, err := db.New(tx).ListCountTotal(ctx, db.ListCountTotalParams{FirmID: sp.firm, List: sp.counterList(), Status: status, Closing: ""})
		if err != nil {
			return 0, fmt.Errorf("count ledger: %w", err)
		}
		if limit > 0 {
			n = min(n, int64(limit))
		}
		return n, nil
	}
	sql, args := sp.countSQL(limit)
	var n int64
	if err := tx.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count ledger: %w", err)
	}
	return n, nil
}

// keyText is the cursor form of a sort key: YYYY-MM-DD, or "infinity" for entries without a due
// date.
func keyText(d pgtype.Date) string {
	if d.InfinityModifier == pgtype.Infinity {
		return "infinity"
	}
	return d.Time.Format(time.DateOnly)
}

func keyOfText(s string) (pgtype.Date, error) {
	if s == "infinity" {
		return pgtype.Date{InfinityModifier: pgtype.Infinity, Valid: true}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return pgtype.Date{}, err
	}
	return toDate(t), nil
}

func dateKey(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

// LedgerPage is one page of the ledger list.
type LedgerPage struct {
	Items []Entry
	// Total counts the entries matching the filters on every page.
	Total int64
	// Page is the page number served: the request's, or the one its cursor leads to.
	Page int
	// NextCursor leads to the next page; nil on the last one.
	NextCursor *string
}

// spec validates in and turns it into a statement spec with the list's fingerprint and the page
// number served. Errors: ErrValidation naming the query parameter (without the "query." prefix).
func (s *Service) spec(a auth.Actor, in ListInput) (ledgerSpec, string, int, error) {
	if in.Direction == "" {
		in.Direction = OwedToMe
	}
	if in.Direction != OwedToMe && in.Direction != IOwe {
		return ledgerSpec{}, "", 0, apperr.Field("direction", "must be owed_to_me or i_owe")
	}
	if in.Status != nil && !entryStatuses[*in.Status] {
		return ledgerSpec{}, "", 0, apperr.Field("status", "must be one of needs_agreement, due, partially_paid, paid, disputed, written_off")
	}
	if in.DueFrom != nil && in.DueTo != nil && day(*in.DueTo).Before(day(*in.DueFrom)) {
		return ledgerSpec{}, "", 0, apperr.Field("dueTo", "must not be before dueFrom")
	}
	sp := ledgerSpec{firm: a.FirmID, owedToMe: in.Direction == OwedToMe, status: in.Status, partner: in.Partner,
		dueFrom: in.DueFrom, dueTo: in.DueTo, limit: in.Limit}
	if sp.limit <= 0 {
		sp.limit = 20
	}
	if in.Page > 1 {
		sp.offset = (in.Page - 1) * sp.limit
	}
	if in.Aging != nil {
		f, t, err := agingRange(*in.Aging, s.now())
		if err != nil {
			return ledgerSpec{}, "", 0, err
		}
		sp.outstandingOnly = true
		if f != nil && (sp.dueFrom == nil || f.After(*sp.dueFrom)) {
			sp.dueFrom = f
		}
		if t != nil && (sp.dueTo == nil || t.Before(*sp.dueTo)) {
			sp.dueTo = t
		}
	}
	partner := ""
	if in.Partner != nil {
		partner = in.Partner.String()
	}
	// The filters as given (an aging bucket by name: a cursor of yesterday's bucket still walks
	// today's).
	fp := keyset.Fingerprint("fee-ledger", in.Direction, in.Status, partner, dateKey(in.DueFrom), dateKey(in.DueTo), in.Aging, sp.limit)
	if in.Cursor != "" {
		c, err := keyset.Decode(in.Cursor, fp, cursorField)
		if err != nil {
			return ledgerSpec{}, "", 0, err
		}
		id, err := uuid.Parse(c.ID)
		key, kerr := keyOfText(c.Key)
		if err != nil || kerr != nil {
			return ledgerSpec{}, "", 0, apperr.Field(cursorField, "is not a cursor returned by this list")
		}
		sp.after, sp.offset = &ledgerPos{key: key, id: id}, 0
		return sp, fp, c.Page, nil
	}
	return sp, fp, max(in.Page, 1), nil
}

// readTx runs fn in a read-only repeatable-read transaction: a page, its total and its payments
// from one snapshot.
func (s *Service) readTx(ctx context.Context, fn func(tx pgx.Tx, q *db.Queries) error) error {
	return postgres.RunTx(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(tx, db.New(tx)) })
}

// List returns one page of the caller's ledger, by due date (entries waiting for an agreement
// last), then id, from the page number or from the cursor of the previous page, and the total.
// Errors: ErrValidation naming the query parameter (direction, status, dueTo, aging, cursor;
// a cursor is refused under other filters or another limit than those it came from).
func (s *Service) List(ctx context.Context, a auth.Actor, in ListInput) (LedgerPage, error) {
	sp, fp, page, err := s.spec(a, in)
	if err != nil {
		return LedgerPage{}, err
	}
	out := LedgerPage{Page: page}
	var rows []ledgerRow
	err = s.readTx(ctx, func(tx pgx.Tx, q *db.Queries) error {
		var err error
		if rows, err = sp.pageTx(ctx, tx); err != nil {
			return err
		}
		if out.Total, err = sp.totalTx(ctx, tx, 0); err != nil {
			return err
		}
		if len(rows) > sp.limit {
			rows = rows[:sp.limit]
			last := rows[len(rows)-1]
			c := keyset.Encode(keyset.Cursor{F: fp, Key: keyText(last.key), ID: last.entry.ID.String(), Page: out.Page + 1})
			out.NextCursor = &c
		}
		out.Items = s.entries(rows)
		return s.attachPayments(ctx, q, out.Items)
	})
	if err != nil {
		return LedgerPage{}, fmt.Errorf("list ledger: %w", postgres.InterpretError(err))
	}
	return out, nil
}

func (s *Service) entries(rows []ledgerRow) []Entry {
	now := s.now()
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = r.entry
		out[i].AgingBucket = Aging(r.entry.Status, r.entry.DueDate, now)
	}
	return out
}

// ExportLimit is the most rows a ledger export writes.
const ExportLimit = 250000

// exportBatch is how many entries an export reads at a time, each batch in a transaction of its
// own.
const exportBatch = 500

// Export walks the entries of the ledger list in (its Page, Limit and Cursor are ignored), at
// most ExportLimit of them, in the list's order. It calls begin once, before any row, with
// whether more entries matched than the limit allows, then row for each entry with its payments.
//
// The walk goes by keyset through the list's index in batches of exportBatch, each read in a
// short read-only transaction of its own: no snapshot stays open while a slow client reads, and
// memory holds one batch. An entry that changes during the walk is written as it was when its
// batch was read. An error from begin or row stops the walk and is returned; invalid filters are
// an ErrValidation before begin is called.
func (s *Service) Export(ctx context.Context, a auth.Actor, in ListInput, begin func(truncated bool) error, row func(Entry) error) error {
	in.Page, in.Limit, in.Cursor = 1, exportBatch, ""
	sp, _, _, err := s.spec(a, in)
	if err != nil {
		return err
	}
	var n int64
	if err := s.readTx(ctx, func(tx pgx.Tx, _ *db.Queries) error {
		var err error
		n, err = sp.totalTx(ctx, tx, ExportLimit+1)
		return err
	}); err != nil {
		return fmt.Errorf("export ledger: %w", err)
	}
	if err := begin(n > ExportLimit); err != nil {
		return err
	}
	return keyset.Walk(ExportLimit, func() ([]Entry, bool, error) {
		var batch []Entry
		var more bool
		err := s.readTx(ctx, func(tx pgx.Tx, q *db.Queries) error {
			rows, err := sp.pageTx(ctx, tx)
			if err != nil {
				return err
			}
			if more = len(rows) > sp.limit; more {
				rows = rows[:sp.limit]
			}
			if len(rows) > 0 {
				last := rows[len(rows)-1]
				sp.after = &ledgerPos{key: last.key, id: last.entry.ID}
			}
			batch = s.entries(rows)
			return s.attachPayments(ctx, q, batch)
		})
		if err != nil {
			return nil, false, fmt.Errorf("export ledger: %w", err)
		}
		return batch, more, nil
	}, row)
}
