package referrals

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/postgres"
)

// Notifier enqueues the e-mail of an event inside the caller's transaction (notify.Service).
type Notifier interface {
	EnqueueTx(ctx context.Context, tx pgx.Tx, ev notify.Event) error
}

// Option configures a Service.
type Option func(*Service)

// WithNotifier makes the service e-mail the partner firm of new referrals, status changes and
// messages. Without it no e-mail is sent.
func WithNotifier(n Notifier) Option { return func(s *Service) { s.notifier = n } }

// outbox queues side effects in the transaction of the change that causes them, so they are
// delivered after it commits and dropped if it rolls back.
type outbox struct {
	tx pgx.Tx
	n  Notifier
	w  Webhooks  // see events.go
	f  FeeLedger // see fees.go
}

func (o *outbox) notifyTx(ctx context.Context, ev notify.Event) error {
	if o == nil || o.n == nil {
		return nil
	}
	if err := o.n.EnqueueTx(ctx, o.tx, ev); err != nil {
		return fmt.Errorf("enqueue %s e-mail: %w", ev.Kind, err)
	}
	return nil
}

// partnerEventTx notifies the other party of r than the firm that acted.
func (o *outbox) partnerEventTx(ctx context.Context, kind notify.Kind, actorFirm uuid.UUID, r Referral, from *Status) error {
	if r.ReferentFirmID == nil {
		return nil
	}
	ev := notify.Event{Kind: kind, ReferralID: r.ID, ReferenceNumber: r.ReferenceNumber, ToStatus: string(r.Status)}
	if from != nil {
		ev.FromStatus = string(*from)
	}
	switch actorFirm {
	case r.ReferringFirmID:
		ev.FirmID, ev.PartnerFirmName = *r.ReferentFirmID, r.ReferringFirmName
	case *r.ReferentFirmID:
		ev.FirmID = r.ReferringFirmID
		if r.ReferentFirmName != nil {
			ev.PartnerFirmName = *r.ReferentFirmName
		}
	default: // the system: tell both firms
		ev.FirmID = r.ReferringFirmID
		if err := o.notifyTx(ctx, ev); err != nil {
			return err
		}
		ev.FirmID = *r.ReferentFirmID
	}
	return o.notifyTx(ctx, ev)
}

// writeTx runs fn in a read-committed transaction with an outbox, retried like postgres.WithTx.
func writeTx[T any](ctx context.Context, s *Service, fn func(q *db.Queries, o *outbox) (T, error)) (T, error) {
	var out T
	err := postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		v, err := fn(db.New(tx), &outbox{tx: tx, n: s.notifier, w: s.webhooks, f: s.fees})
		out = v
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}
