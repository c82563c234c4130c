package webhooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/pkg/webhookverify"
)

// EchoRequest is what the echo endpoint received.
type EchoRequest struct {
	Event      *string // X-CaseXchange-Event
	EventID    *string // X-CaseXchange-Event-Id
	DeliveryID *string // X-CaseXchange-Delivery
	Signature  *string // X-CaseXchange-Signature
	Body       []byte
}

// EchoCapture is one request kept by the echo endpoint.
type EchoCapture struct {
	ID             uuid.UUID
	ReceivedAt     time.Time
	Event          *string
	EventID        *string
	DeliveryID     *string
	Signature      *string
	SignatureValid bool
	Body           string
}

// ReceiveEcho stores a request to the echo endpoint of the subscription holding token and
// reports whether its signature verified against the subscription's current secret. Only the
// EchoCaptureLimit newest captures younger than EchoCaptureTTL are kept.
//
// Errors: ErrNotFound when no subscription is in echo mode with token; ErrTooLarge for a body
// over EchoMaxBody.
func (s *Service) ReceiveEcho(ctx context.Context, token string, req EchoRequest) (EchoCapture, error) {
	if len(req.Body) > EchoMaxBody {
		return EchoCapture{}, apperr.New(apperr.ErrTooLarge, "", fmt.Sprintf("The body exceeds %d bytes", EchoMaxBody))
	}
	return postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (EchoCapture, error) {
		return s.captureTx(ctx, q, token, req)
	})
}

func (s *Service) captureTx(ctx context.Context, q *db.Queries, token string, req EchoRequest) (EchoCapture, error) {
	sub, err := q.WebhookSubscriptionGetByEchoToken(ctx, &token)
	if errors.Is(err, pgx.ErrNoRows) {
		return EchoCapture{}, apperr.NotFound("echo endpoint")
	}
	if err != nil {
		return EchoCapture{}, fmt.Errorf("find echo subscription: %w", err)
	}
	now := s.now()
	sig := ""
	if req.Signature != nil {
		sig = *req.Signature
	}
	valid := webhookverify.VerifyAt(sub.Secret, sig, req.Body, SignatureTolerance, now) == nil
	row, err := q.WebhookEchoCaptureCreate(ctx, db.WebhookEchoCaptureCreateParams{
		SubscriptionID: sub.ID, EventType: clip(req.Event), EventID: clip(req.EventID), DeliveryID: clip(req.DeliveryID),
		Signature: clip(req.Signature), SignatureValid: valid, Body: string(req.Body), Now: now,
	})
	if err != nil {
		return EchoCapture{}, fmt.Errorf("store echo capture: %w", err)
	}
	if err := q.WebhookEchoCaptureTrim(ctx, db.WebhookEchoCaptureTrimParams{
		SubscriptionID: sub.ID, Since: now.Add(-EchoCaptureTTL), Keep: EchoCaptureLimit,
	}); err != nil {
		return EchoCapture{}, fmt.Errorf("trim echo captures: %w", err)
	}
	return captureFromRow(row), nil
}

// clip bounds a header value kept in a capture.
func clip(s *string) *string {
	if s == nil {
		return nil
	}
	v := *s
	if len(v) > 512 {
		v = v[:512]
	}
	return &v
}

// EchoCaptures returns what the echo endpoint of one of firm's subscriptions kept, newest first.
//
// Errors: ErrNotFound; ErrValidation with code echo_not_active.
func (s *Service) EchoCaptures(ctx context.Context, firm, id uuid.UUID) ([]EchoCapture, error) {
	q := db.New(s.pool)
	sub, err := q.WebhookSubscriptionGet(ctx, db.WebhookSubscriptionGetParams{ID: id, FirmID: firm})
	if err != nil {
		return nil, notFound(err)
	}
	if sub.EchoToken == nil {
		return nil, subscriptionError("echo_not_active", "Echo mode is not on for this subscription")
	}
	rows, err := q.WebhookEchoCaptureList(ctx, db.WebhookEchoCaptureListParams{
		SubscriptionID: id, Since: s.now().Add(-EchoCaptureTTL), Keep: EchoCaptureLimit,
	})
	if err != nil {
		return nil, fmt.Errorf("list echo captures: %w", postgres.InterpretError(err))
	}
	out := make([]EchoCapture, 0, len(rows))
	for _, r := range rows {
		out = append(out, captureFromRow(r))
	}
	return out, nil
}
