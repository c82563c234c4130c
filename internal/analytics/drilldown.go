package analytics

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/referrals"
)

// Drill-down list sizes.
const (
	DefaultDrillDownLimit = 50
	MaxDrillDownLimit     = 500
)

// CasesByStatus lists the referrals firm sent (dir Sent, drafts included) or received that are
// currently in status, most recently referred first. status is matched ignoring letter case;
// received, won and lost are accepted and match only rows that older data left in them. limit
// nil means DefaultDrillDownLimit; other values are clamped to 1..MaxDrillDownLimit. It returns
// an apperr.ErrValidation error naming query.status for an unknown status.
func (s *Service) CasesByStatus(ctx context.Context, firm uuid.UUID, status string, dir Direction, limit *int) ([]CaseItem, error) {
	st := strings.ToLower(strings.TrimSpace(status))
	if !slices.Contains(AllStatuses, st) {
		return nil, apperr.Field("query.status", fmt.Sprintf("unknown status %q: use one of %s", status, strings.Join(AllStatuses, ", ")))
	}
	n := DefaultDrillDownLimit
	if limit != nil {
		n = min(max(*limit, 1), MaxDrillDownLimit)
	}
	rows, err := db.New(s.pool).AnalyticsCasesByStatus(ctx, db.AnalyticsCasesByStatusParams{
		Sent: dir == Sent, Status: st, FirmID: firm, RowLimit: int32(n),
	})
	if err != nil {
		return nil, err
	}
	out := make([]CaseItem, 0, len(rows))
	for _, r := range rows {
		// The item is built from the view the firm has of the referral, so whatever the lifecycle
		// withholds from a masked receiver (not yet acknowledged, or rejected or withdrawn) stays
		// withheld here too.
		view, ok := referrals.BuildReferralView(firm,
			referrals.Case{ID: r.BaseCaseID, OwnerFirmID: r.OwnerFirmID, Title: r.Title, Jurisdiction: r.JurisdictionCode},
			referrals.Referral{ID: r.ReferralID, BaseCaseID: r.BaseCaseID, ReferenceNumber: r.ReferenceNumber,
				ReferentFirmID: r.ReferentFirmID, Status: referrals.Status(r.Status), AcknowledgedAt: r.AcknowledgedAt})
		if !ok {
			continue
		}
		item := CaseItem{
			ID: view.Case.ID, CaseID: view.Case.ID, ReferralID: view.Referral.ID,
			ReferenceNumber: view.Referral.ReferenceNumber,
			Title:           view.Case.Title,
			FirmID:          r.PartnerFirmID,
			FirmName:        deref(r.PartnerFirmName),
			ReferredOn:      r.ReferredOn.UTC(),
			Status:          string(view.Referral.Status),
			CaseType:        r.CaseTypeName,
			Jurisdiction:    view.Case.Jurisdiction,
		}
		if dir == Received {
			item.ID = view.Referral.ID
		}
		out = append(out, item)
	}
	return out, nil
}
