package referrals

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// receivedSearchOrder is the order of a received-referrals search by sort key, as the
// ReceivedSearch* statements of db/queries/referral_lists.sql have it: the columns, and the
// cursor's row comparison over them.
var receivedSearchOrder = map[string]struct {
	cols   []string
	cursor func(op string, a listArgs, arg func(any) string) string
}{
	SortUpdatedAt: {[]string{"updated_at", "id"}, func(op string, a listArgs, arg func(any) string) string {
		return fmt.Sprintf("(updated_at, id) %s (%s::timestamptz, %s::uuid)", op, arg(a.KTs), arg(a.KID))
	}},
	SortStatus: {[]string{"status", "updated_at", "id"}, func(op string, a listArgs, arg func(any) string) string {
		return fmt.Sprintf("(status, updated_at, id) %s (%s::text, %s::timestamptz, %s::uuid)", op, arg(a.KText), arg(a.KTs), arg(a.KID))
	}},
	SortReferenceNumber: {[]string{"reference_number"}, func(op string, a listArgs, arg func(any) string) string {
		return fmt.Sprintf("reference_number %s %s::text", op, arg(a.KText))
	}},
}

// querier runs a statement: a transaction, or the plan recorder of the tests.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// receivedSearchTx answers a received-referrals search's page (ids, with one row more than the
// page when there is a next one) and exact total with one statement: the matches are
// collected once from the indexes, at most searchCountCap+1 of them, counted, and the page is
// sorted out of them in the order of the ReceivedSearch* statements. ok is false when there
// are more matches than that: the caller then counts and pages with those statements.
func receivedSearchTx(ctx context.Context, tx querier, a listArgs, sort string, asc bool) (ids []uuid.UUID, total int, ok bool, err error) {
	o, found := receivedSearchOrder[sort]
	if !found {
		return nil, 0, false, fmt.Errorf("received search: no order for sort %q", sort)
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	dir, op := "DESC", "<"
	if asc {
		dir, op = "ASC", ">"
	}
	order := make([]string, len(o.cols))
	for i, c := range o.cols {
		order[i] = c + " " + dir
	}
	var b strings.Builder
	fmt.Fprintf(&b, `WITH m AS MATERIALIZED (SELECT r.id, r.updated_at, r.status, r.reference_number FROM referrals r
		WHERE r.referent_firm_id = %s AND r.status <> 'draft'
		AND (lower(r.reference_number) LIKE %s OR r.referring_firm_id = ANY(%s::uuid[]))`, arg(a.FirmID), arg(a.Pattern), arg(a.FirmIds))
	if a.Status != "" {
		fmt.Fprintf(&b, " AND r.status = %s", arg(a.Status))
	}
	if a.Closing != "" {
		fmt.Fprintf(&b, " AND r.closing_status = %s", arg(a.Closing))
	}
	sel := []string{"id"}
	for _, c := range o.cols {
		if c != "id" {
			sel = append(sel, c)
		}
	}
	fmt.Fprintf(&b, " LIMIT %d) SELECT c.n, p.id FROM (SELECT count(*) AS n FROM m) c LEFT JOIN LATERAL (SELECT %s FROM m", searchCountCap+1, strings.Join(sel, ", "))
	if a.After {
		b.WriteString(" WHERE " + o.cursor(op, a, arg))
	}
	fmt.Fprintf(&b, " ORDER BY %s LIMIT %s OFFSET %s) p ON true ORDER BY p.%s", strings.Join(order, ", "), arg(a.RowLimit), arg(a.RowOffset), strings.Join(order, ", p."))
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, 0, false, fmt.Errorf("search received referrals: %w", err)
	}
	var n int64
	var id *uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&n, &id}, func() error {
		if id != nil {
			ids = append(ids, *id)
		}
		return nil
	}); err != nil {
		return nil, 0, false, fmt.Errorf("search received referrals: %w", err)
	}
	if n > int64(searchCountCap) {
		return nil, 0, false, nil
	}
	return ids, int(n), true, nil
}
