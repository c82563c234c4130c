package referrals

import (
	"context"
	"fmt"

	"github.com/casexchange/server/gen/db"
)

// ExportLimit is the most rows an export writes.
const ExportLimit = 50000

// exportBatch is how many rows an export loads at a time.
const exportBatch = 500

// Export walks the export rows of CaseQuery cq (its Page is ignored), at most ExportLimit of
// them, in one consistent snapshot: one row per case the caller's firm sent and one row per
// referral it received, so a case referred to the firm twice gives two received rows. It calls
// begin once, before any row, with whether more rows matched than the limit allows, then row
// for each of them as the caller's firm sees it. A received row is a view whose Current (and
// only) referral is the row's referral, masked by that referral alone (see Masked), like the
// received-referral views. An error from begin or row stops the walk and is returned; an
// unknown view or sort key is an apperr.ErrValidation.
func (s *Service) Export(ctx context.Context, a Actor, cq CaseQuery, begin func(truncated bool) error, row func(CaseView) error) error {
	cq.Page = Page{Page: 1, Limit: exportBatch}
	lp, err := cq.params(a.FirmID)
	if err != nil {
		return err
	}
	p := lp
	p.EveryReceived = true
	p.RowLimit = exportBatch
	return s.readTx(ctx, func(q *db.Queries) error {
		written := 0
		for offset := 0; ; offset += exportBatch {
			p.RowOffset = int32(offset)
			rows, err := q.CaseList(ctx, p)
			if err != nil {
				return fmt.Errorf("list export rows: %w", err)
			}
			if offset == 0 {
				truncated := len(rows) > 0 && rows[0].Total > ExportLimit
				if err := begin(truncated); err != nil {
					return err
				}
			}
			if len(rows) > ExportLimit-written {
				rows = rows[:ExportLimit-written]
			}
			views, err := s.caseViewsTx(ctx, q, a.FirmID, rows, true)
			if err != nil {
				return err
			}
			for _, v := range views {
				if err := row(v); err != nil {
					return err
				}
			}
			written += len(views)
			if len(rows) < exportBatch || written >= ExportLimit {
				return nil
			}
		}
	})
}

// receivedExportView is the case view of one received referral: the case and the referral
// masked as that referral's view masks them.
func receivedExportView(v ReferralView) CaseView {
	refs := []Referral{v.Referral}
	return CaseView{Case: v.Case, Side: SideReceiving, Referrals: refs, Current: &refs[0], Masked: v.Masked}
}
