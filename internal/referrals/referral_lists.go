package referrals

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/keyset"
)

// The referral lists read one page per request at the same cost whatever the firm's size: each
// page is one static query (db/queries/referral_lists.sql) served by an index range scan of the
// page's rows, from an offset or from a keyset cursor, and the totals come from the list_counts
// counters (migration 0016) instead of counting the firm's referrals.

const cursorField = "query.cursor"

// ReceivedQuery filters and orders the received-referral list.
type ReceivedQuery struct {
	Status    StatusFilter
	Search    string
	Sort      string // SortUpdatedAt (default), SortStatus or SortReferenceNumber
	Ascending bool
	Page      Page
	// Cursor is the nextCursor of the previous page; with one, Page.Page is ignored.
	Cursor string
}

// ReferralPage is one page of referrals.
type ReferralPage struct {
	Items []ReferralView
	Total int
	// Page is the page number served: the request's, or the cursor's.
	Page int
	// NextCursor leads to the next page; nil on the last one.
	NextCursor *string
}

func filterStrings(f StatusFilter) (status, closing string) {
	if f.Status != nil {
		status = string(*f.Status)
	}
	if f.Closing != nil {
		closing = string(*f.Closing)
	}
	return status, closing
}

func dirName(asc bool) string {
	if asc {
		return "Asc"
	}
	return "Desc"
}

func encodeTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func decodeTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, apperr.Field(cursorField, "is not a cursor returned by this list")
	}
	return t, nil
}

// cursorPosition decodes a cursor into the keyset arguments of a list sorted by sort.
func cursorPosition(c keyset.Cursor, sort string, a *listArgs) error {
	id, err := uuid.Parse(c.ID)
	if err != nil {
		return apperr.Field(cursorField, "is not a cursor returned by this list")
	}
	a.KID, a.After = id, true
	switch sort {
	case SortStatus:
		a.KText = c.Key
		a.KTs, err = decodeTime(c.Extra)
	case SortReferenceNumber:
		a.KText = c.Key
	default: // updatedAt, createdAt
		a.KTs, err = decodeTime(c.Key)
	}
	return err
}

// nextCursor returns the cursor after the last item of a full page.
func nextCursor(fp string, page int, sort string, last Referral) *string {
	c := keyset.Cursor{F: fp, ID: last.ID.String(), Page: page + 1}
	switch sort {
	case SortStatus:
		c.Key, c.Extra = string(last.Status), encodeTime(last.UpdatedAt)
	case SortReferenceNumber:
		c.Key = last.ReferenceNumber
	case SortCreatedAt:
		c.Key = encodeTime(last.CreatedAt)
	default:
		c.Key = encodeTime(last.UpdatedAt)
	}
	s := keyset.Encode(c)
	return &s
}

// pageStart resolves the page and keyset position of a request: from its cursor when it has
// one (checked against the list's fingerprint), else from its page number.
func pageStart(cursor, fp, sort string, pg Page, a *listArgs) (page int, err error) {
	limit, offset := pg.norm()
	a.RowLimit = limit + 1 // one more row tells whether a next page exists
	if cursor == "" {
		a.RowOffset = offset
		page = pg.Page
		if page < 1 {
			page = 1
		}
		return page, nil
	}
	c, err := keyset.Decode(cursor, fp, cursorField)
	if err != nil {
		return 0, err
	}
	if err := cursorPosition(c, sort, a); err != nil {
		return 0, err
	}
	return c.Page, nil
}

// finishPage trims the extra row, loads the views and sets the next cursor.
func (s *Service) finishPage(ctx context.Context, q *db.Queries, viewer uuid.UUID, ids []uuid.UUID, a listArgs, fp, sort string, out *ReferralPage) error {
	more := len(ids) == int(a.RowLimit)
	if more {
		ids = ids[:len(ids)-1]
	}
	items, err := s.referralViewsTx(ctx, q, viewer, ids)
	if err != nil {
		return err
	}
	out.Items = items
	if more && len(items) > 0 {
		out.NextCursor = nextCursor(fp, out.Page, sort, items[len(items)-1].Referral)
	}
	return nil
}

func listTotalTx(ctx context.Context, q *db.Queries, firm uuid.UUID, list, status, closing string) (int, error) {
	n, err := q.ListCountTotal(ctx, db.ListCountTotalParams{FirmID: firm, List: list, Status: status, Closing: closing})
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", list, err)
	}
	return int(n), nil
}

// ListReceived returns one page of the referrals addressed to the caller's firm. Errors:
// apperr.ErrValidation on query.sort for an unknown sort key and on query.cursor for a cursor
// that is not one of this list's under the same filters and order.
func (s *Service) ListReceived(ctx context.Context, a auth.Actor, rq ReceivedQuery) (ReferralPage, error) {
	sort := rq.Sort
	if sort == "" {
		sort = SortUpdatedAt
	}
	var sortName string
	switch sort {
	case SortUpdatedAt:
		sortName = "Updated"
	case SortStatus:
		sortName = "Status"
	case SortReferenceNumber:
		sortName = "Reference"
	default:
		return ReferralPage{}, apperr.Field("query.sort", "must be updatedAt, status or referenceNumber")
	}
	status, closing := filterStrings(rq.Status)
	pattern := searchPattern(rq.Search)
	search := ""
	if pattern != nil {
		search = *pattern
	}
	fp := keyset.Fingerprint("received", status, closing, search, sort, rq.Ascending)
	args := listArgs{FirmID: a.FirmID, Status: status, Closing: closing}
	page, err := pageStart(rq.Cursor, fp, sort, rq.Page, &args)
	if err != nil {
		return ReferralPage{}, err
	}
	out := ReferralPage{Page: page}
	err = s.readTxRaw(ctx, func(tx pgx.Tx, q *db.Queries) error {
		var name string
		switch {
		case pattern != nil:
			name = "ReceivedSearch" + sortName + dirName(rq.Ascending)
			ids, err := q.FirmIDsByName(ctx, search)
			if err != nil {
				return fmt.Errorf("search firms: %w", err)
			}
			args.Pattern, args.FirmIds = strings.ToLower(search), ids
			// Most searches match few referrals: one statement answers the page and the total.
			hits, n, ok, err := receivedSearchTx(ctx, tx, args, sort, rq.Ascending)
			if err != nil {
				return err
			}
			if ok {
				out.Total = n
				return s.finishPage(ctx, q, a.FirmID, hits, args, fp, sort, &out)
			}
			c, err := q.ReceivedSearchCount(ctx, db.ReceivedSearchCountParams{
				FirmID: a.FirmID, Pattern: args.Pattern, FirmIds: ids, Status: status, Closing: closing,
			})
			if err != nil {
				return fmt.Errorf("count received search: %w", err)
			}
			out.Total = int(c)
		case status != "":
			if sortName == "Status" { // one status: the status order is the updatedAt order
				sortName = "Updated"
			}
			name = "ReceivedListStatus" + sortName + dirName(rq.Ascending)
		default:
			name = "ReceivedList" + sortName + dirName(rq.Ascending)
		}
		if pattern == nil {
			if args.After {
				name += "Key"
			}
			if out.Total, err = listTotalTx(ctx, q, a.FirmID, "referral_received", status, closing); err != nil {
				return err
			}
		}
		ids, err := listQueries[name](ctx, q, args)
		if err != nil {
			return fmt.Errorf("list received referrals (%s): %w", name, err)
		}
		return s.finishPage(ctx, q, a.FirmID, ids, args, fp, sort, &out)
	})
	return out, err
}

// ListReferrals returns one page of the referrals the caller's firm is party to: of the case
// named by caseKey (by sequence number), or of all cases (newest first) when caseKey is empty.
// cursor is the nextCursor of the previous page ("" for none; then page.Page is ignored).
// Errors: apperr.ErrNotFound when caseKey names no case visible to the caller;
// apperr.ErrValidation on query.cursor for a cursor not issued by this list with these filters.
func (s *Service) ListReferrals(ctx context.Context, a auth.Actor, caseKey string, filter StatusFilter, page Page, cursor string) (ReferralPage, error) {
	status, closing := filterStrings(filter)
	if caseKey != "" {
		return s.listCaseReferrals(ctx, a, caseKey, status, closing, page, cursor)
	}
	fp := keyset.Fingerprint("party", status, closing)
	args := listArgs{FirmID: a.FirmID, Status: status, Closing: closing}
	pg, err := pageStart(cursor, fp, SortCreatedAt, page, &args)
	if err != nil {
		return ReferralPage{}, err
	}
	out := ReferralPage{Page: pg}
	err = s.readTx(ctx, func(q *db.Queries) error {
		name := "PartyList"
		if status != "" {
			name += "Status"
		}
		if args.After {
			name += "Key"
		}
		sent, err := listTotalTx(ctx, q, a.FirmID, "referral_sent", status, closing)
		if err != nil {
			return err
		}
		recv, err := listTotalTx(ctx, q, a.FirmID, "referral_received", status, closing)
		if err != nil {
			return err
		}
		out.Total = sent + recv
		ids, err := listQueries[name](ctx, q, args)
		if err != nil {
			return fmt.Errorf("list referrals (%s): %w", name, err)
		}
		return s.finishPage(ctx, q, a.FirmID, ids, args, fp, SortCreatedAt, &out)
	})
	return out, err
}

// listCaseReferrals pages through the referrals of one case by sequence number; the cursor's
// key is the last sequence number returned.
func (s *Service) listCaseReferrals(ctx context.Context, a auth.Actor, caseKey, status, closing string, page Page, cursor string) (ReferralPage, error) {
	limit, offset := page.norm()
	pg := page.Page
	if pg < 1 {
		pg = 1
	}
	out := ReferralPage{}
	err := s.readTx(ctx, func(q *db.Queries) error {
		caseID, err := resolveCaseTx(ctx, q, a.FirmID, caseKey)
		if err != nil {
			return err
		}
		fp := keyset.Fingerprint("case", caseID, status, closing)
		p := db.CaseReferralListParams{
			BaseCaseID: caseID, FirmID: a.FirmID, Status: status, Closing: closing,
			RowLimit: limit + 1, RowOffset: offset,
		}
		if cursor != "" {
			c, err := keyset.Decode(cursor, fp, cursorField)
			if err != nil {
				return err
			}
			seq, err := strconv.Atoi(c.Key)
			if err != nil || seq < 0 {
				return apperr.Field(cursorField, "is not a cursor returned by this list")
			}
			p.AfterSequence, p.RowOffset, pg = int32(seq), 0, c.Page
		}
		out.Page = pg
		n, err := q.CaseReferralCount(ctx, db.CaseReferralCountParams{BaseCaseID: caseID, FirmID: a.FirmID, Status: status, Closing: closing})
		if err != nil {
			return fmt.Errorf("count case referrals: %w", err)
		}
		out.Total = int(n)
		ids, err := q.CaseReferralList(ctx, p)
		if err != nil {
			return fmt.Errorf("list case referrals: %w", err)
		}
		more := len(ids) == int(p.RowLimit)
		if more {
			ids = ids[:len(ids)-1]
		}
		if out.Items, err = s.referralViewsTx(ctx, q, a.FirmID, ids); err != nil {
			return err
		}
		if more && len(out.Items) > 0 {
			last := out.Items[len(out.Items)-1].Referral
			c := keyset.Encode(keyset.Cursor{F: fp, Key: strconv.Itoa(last.SequenceNumber), ID: last.ID.String(), Page: pg + 1})
			out.NextCursor = &c
		}
		return nil
	})
	return out, err
}
