package referrals

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// FeeLedger is told of every closing inside the closing transaction (a referral closed
// won with attorney fees gets its ledger entry in the same commit). *fees.Service implements it.
type FeeLedger interface {
	ReferralClosedTx(ctx context.Context, tx pgx.Tx, referralID, actorFirm uuid.UUID) error
}

// WithFeeLedger makes closings create fee ledger entries. Without it none is created.
func WithFeeLedger(f FeeLedger) Option { return func(s *Service) { s.fees = f } }

// referralClosedTx hands the closed referral to the fee ledger, if there is one.
func (o *outbox) referralClosedTx(ctx context.Context, id, actorFirm uuid.UUID) error {
	if o == nil || o.f == nil {
		return nil
	}
	return o.f.ReferralClosedTx(ctx, o.tx, id, actorFirm)
}
