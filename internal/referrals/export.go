package referrals

import (
	"context"

	"github.com/casexchange/server/gen/db"
)

// ExportLimit is the most rows an export writes.
const ExportLimit = 50000

// exportBatch is how many cases an export loads at a time.
const exportBatch = 500

// Export walks the cases of CaseQuery cq (its Page is ignored), at most ExportLimit of them, in
// one consistent snapshot. It calls begin once, before any row, with whether more cases matched
// than the limit allows, then row for each case as the caller's firm sees it (masked like
// every other view). An error from begin or row stops the walk and is returned.
func (s *Service) Export(ctx context.Context, a Actor, cq CaseQuery, begin func(truncated bool) error, row func(CaseView) error) error {
	cq.Page = Page{Page: 1, Limit: exportBatch}
	p, err := cq.params(a.FirmID)
	if err != nil {
		return err
	}
	p.RowLimit = exportBatch
	return s.readTx(ctx, func(q *db.Queries) error {
		written := 0
		for offset := 0; ; offset += exportBatch {
			p.RowOffset = int32(offset)
			rows, err := q.CaseList(ctx, p)
			if err != nil {
				return err
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
			views, err := s.caseViewsTx(ctx, q, a.FirmID, rows)
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
