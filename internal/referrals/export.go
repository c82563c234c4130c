package referrals

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/keyset"
)

// ExportLimit is the most rows an export writes.
const ExportLimit = 250000

// exportBatch is how many rows an export loads at a time, each batch in a transaction of its own.
const exportBatch = 500

// Export walks the export rows of CaseQuery cq (its Page and Cursor are ignored), at most
// ExportLimit of them: one row per case the caller's firm sent and one row per referral it
// received, so a case referred to the firm twice gives two received rows. It calls begin
// once, before any row, with whether more rows matched than the limit allows, then row for
// each of them as the caller's firm sees it. A received row is a view whose Current (and only)
// referral is the row's referral, masked by that referral alone (see Masked), like the
// received-referral views.
//
// The walk goes by keyset through the list's index in batches, each read in a short
// transaction of its own: no snapshot stays open while a slow client reads, and memory holds
// one batch. A case changed during the walk is written as it was when its batch was read; in
// an order by a key that changes (updatedAt), such a case can appear twice or not at all, as
// in any walk by cursor. An error from begin or row stops the walk and is returned; an
// unknown view or sort key is an apperr.ErrValidation.
func (s *Service) Export(ctx context.Context, a auth.Actor, cq CaseQuery, begin func(truncated bool) error, row func(CaseView) error) error {
	cq.Page, cq.Cursor = Page{Page: 1, Limit: exportBatch}, ""
	sp, _, err := cq.spec(a.FirmID)
	if err != nil {
		return err
	}
	sp.limit, sp.perReferral = exportBatch, true
	var truncated bool
	err = s.readTxRaw(ctx, func(tx pgx.Tx, _ *db.Queries) error {
		n, err := exportCountTx(ctx, tx, sp)
		truncated = n > ExportLimit
		return err
	})
	if err != nil {
		return err
	}
	if err := begin(truncated); err != nil {
		return err
	}
	return keyset.Walk(ExportLimit, func() ([]CaseView, bool, error) {
		var views []CaseView
		var more bool
		err := s.readTxRaw(ctx, func(tx pgx.Tx, q *db.Queries) error {
			rows, err := casePageTx(ctx, tx, sp)
			if err != nil {
				return err
			}
			if more = len(rows) > sp.limit; more {
				rows = rows[:sp.limit]
			}
			if len(rows) > 0 {
				last := rows[len(rows)-1]
				sp.after = &keyset.Cursor{Key: last.key, ID: last.CaseID.String(), Page: 2}
				sp.offset = 0
			}
			views, err = s.exportViewsTx(ctx, q, a.FirmID, rows, sp)
			return err
		})
		return views, more, err
	}, row)
}

// exportCountTx counts the export's case rows, at most ExportLimit+1 of them.
func exportCountTx(ctx context.Context, tx pgx.Tx, sp caseListSpec) (int, error) {
	sql, args := sp.cappedCountSQL(ExportLimit + 1)
	var n int64
	if err := tx.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count export rows: %w", err)
	}
	return int(n), nil
}

// exportViewsTx returns the export rows of one page of the case list: the case as the owner
// sees it, or one view per non-draft referral of the case addressed to viewer (in sequence
// order, of the filtered status and closing status when there are).
func (s *Service) exportViewsTx(ctx context.Context, q *db.Queries, viewer uuid.UUID, rows []caseRow, sp caseListSpec) ([]CaseView, error) {
	status, closing := sp.status, sp.closing
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.CaseID
	}
	m, err := s.loadCasesTx(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	out := make([]CaseView, 0, len(rows))
	for _, r := range rows {
		l := m[r.CaseID]
		if r.IsOwner {
			v, err := s.caseView(viewer, l)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		for _, ref := range l.refs {
			if ref.Status == StatusDraft || ref.ReferentFirmID == nil || *ref.ReferentFirmID != viewer {
				continue
			}
			if status != nil && string(ref.Status) != *status {
				continue
			}
			if closing != nil && (ref.ClosingStatus == nil || string(*ref.ClosingStatus) != *closing) {
				continue
			}
			v, err := referralView(viewer, l, ref)
			if err != nil {
				return nil, err
			}
			ev := receivedExportView(v)
			if sp.search != nil && !exportRowMatches(ev, sp.searchText) {
				continue // the case matched through another of its referrals
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

// exportRowMatches reports whether a received export row matches a search by its own
// referral: the fields of the case list's search text (case_listing_compute), the client's
// names only where the row is not masked.
func exportRowMatches(v CaseView, text string) bool {
	fields := []string{v.Case.Title, v.Case.ReferenceNumber, v.Case.OwnerFirmName}
	if v.Current != nil {
		fields = append(fields, v.Current.ReferenceNumber)
	}
	if !v.Masked && v.Case.ClientFirstName != nil && v.Case.ClientLastName != nil {
		fields = append(fields, *v.Case.ClientFirstName+" "+*v.Case.ClientLastName)
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), text) {
			return true
		}
	}
	return false
}

// receivedExportView is the case view of one received referral: the case and the referral
// masked as that referral's view masks them.
func receivedExportView(v ReferralView) CaseView {
	refs := []Referral{v.Referral}
	return CaseView{Case: v.Case, Side: SideReceiving, Referrals: refs, Current: &refs[0], Masked: v.Masked}
}
