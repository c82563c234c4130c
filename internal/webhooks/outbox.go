package webhooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
)

// Delivery statuses.
const (
	StatusPending    = "PENDING"
	StatusInProgress = "IN_PROGRESS"
	StatusFailed     = "FAILED"
	StatusDelivered  = "DELIVERED"
	StatusExhausted  = "EXHAUSTED"
)

// Delivery is the record of one event sent to one subscription.
type Delivery struct {
	ID             uuid.UUID
	SubscriptionID uuid.UUID
	EventID        uuid.UUID
	EventType      string
	Status         string
	Attempts       int
	LastStatusCode *int
	LastError      *string
	DeliveredAt    *time.Time
	NextRetryAt    *time.Time
	RedeliveryOf   *uuid.UUID
	CreatedAt      time.Time
}

// EnqueueTx records ev for every subscription that receives it, inside the caller's transaction
// tx, and enqueues their deliveries: they are sent once tx commits, never if it rolls back.
// ev.ID and ev.OccurredAt are filled in when zero. An event no subscription takes costs one
// query per recipient firm.
func (s *Service) EnqueueTx(ctx context.Context, tx pgx.Tx, ev Event) error {
	_, err := s.enqueueTx(ctx, tx, []Event{ev})
	return err
}

// EnqueueManyTx is EnqueueTx for a batch of events (a bulk import): the subscriptions are looked
// up once per recipient firm and event type of the batch, and the deliveries are written with
// one statement and their jobs with one more, so a batch no subscription takes costs one query
// per distinct recipient.
func (s *Service) EnqueueManyTx(ctx context.Context, tx pgx.Tx, evs []Event) error {
	_, err := s.enqueueTx(ctx, tx, evs)
	return err
}

// enqueueTx writes the deliveries of evs and returns their ids.
func (s *Service) enqueueTx(ctx context.Context, tx pgx.Tx, evs []Event) ([]uuid.UUID, error) {
	q := db.New(tx)
	now := s.now()
	type target struct {
		firm uuid.UUID
		typ  EventType
	}
	subsOf := map[target][]db.WebhookSubscriptionListRecipientsRow{}
	var rows db.WebhookDeliveryCreateManyParams
	for _, ev := range evs {
		if ev.ID == uuid.Nil {
			ev.ID = uuid.New()
		}
		if ev.OccurredAt.IsZero() {
			ev.OccurredAt = now
		}
		if _, err := ev.data(); err != nil {
			return nil, err
		}
		for _, r := range Recipients(ev) {
			key := target{r.FirmID, r.Type}
			subs, seen := subsOf[key]
			if !seen {
				var err error
				subs, err = q.WebhookSubscriptionListRecipients(ctx, db.WebhookSubscriptionListRecipientsParams{
					FirmIds: []uuid.UUID{r.FirmID}, EventType: string(r.Type),
				})
				if err != nil {
					return nil, fmt.Errorf("webhooks: find subscriptions: %w", err)
				}
				subsOf[key] = subs
			}
			if len(subs) == 0 {
				continue
			}
			body, err := Payload(ev, r)
			if err != nil {
				return nil, err
			}
			for _, sub := range subs {
				rows.Ids = append(rows.Ids, uuid.New())
				rows.SubscriptionIds = append(rows.SubscriptionIds, sub.ID)
				rows.FirmIds = append(rows.FirmIds, sub.FirmID)
				rows.EventIds = append(rows.EventIds, ev.ID)
				rows.EventTypes = append(rows.EventTypes, string(r.Type))
				rows.Payloads = append(rows.Payloads, string(body))
			}
		}
	}
	if len(rows.Ids) == 0 {
		return nil, nil
	}
	queue, err := s.getQueue()
	if err != nil {
		return nil, err
	}
	rows.Now = now
	if err := q.WebhookDeliveryCreateMany(ctx, rows); err != nil {
		return nil, fmt.Errorf("webhooks: record deliveries: %w", err)
	}
	jobs := make([]river.InsertManyParams, len(rows.Ids))
	for i, id := range rows.Ids {
		jobs[i] = river.InsertManyParams{Args: deliveryArgs{DeliveryID: id, Attempt: 1}}
	}
	if err := queue.InsertManyTx(ctx, tx, jobs); err != nil {
		return nil, fmt.Errorf("webhooks: enqueue deliveries: %w", err)
	}
	return rows.Ids, nil
}

// Deliveries returns one page of the delivery records of one of firm's subscriptions, newest
// first, and their total.
//
// Errors: ErrNotFound.
func (s *Service) Deliveries(ctx context.Context, firm, id uuid.UUID, page, limit int) ([]Delivery, int64, error) {
	q := db.New(s.pool)
	if _, err := q.WebhookSubscriptionGet(ctx, db.WebhookSubscriptionGetParams{ID: id, FirmID: firm}); err != nil {
		return nil, 0, notFound(err)
	}
	total, err := q.WebhookDeliveryCount(ctx, id)
	if err != nil {
		return nil, 0, fmt.Errorf("count deliveries: %w", postgres.InterpretError(err))
	}
	rows, err := q.WebhookDeliveryList(ctx, db.WebhookDeliveryListParams{
		SubscriptionID: id, Lim: int32(limit), Off: int32((page - 1) * limit),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries: %w", postgres.InterpretError(err))
	}
	out := make([]Delivery, 0, len(rows))
	for _, r := range rows {
		out = append(out, deliveryFromListRow(r))
	}
	return out, total, nil
}

func inactiveError() error {
	return &apperr.Error{Kind: apperr.ErrConflict, Code: "subscription_inactive", Message: "The webhook subscription is inactive"}
}

// Redeliver queues the event of a DELIVERED or EXHAUSTED delivery again as a new delivery (new
// id, same event id and body) and returns it.
//
// Errors: ErrNotFound (subscription or delivery); ErrConflict with code subscription_inactive
// when the subscription is off, or conflict when the body is no longer kept;
// ErrInvalidTransition while the delivery is still pending or being retried.
func (s *Service) Redeliver(ctx context.Context, firm, id, deliveryID uuid.UUID) (Delivery, error) {
	queue, err := s.getQueue()
	if err != nil {
		return Delivery{}, err
	}
	now := s.now()
	var out Delivery
	err = postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := db.New(tx)
		sub, err := lockTx(ctx, q, firm, id)
		if err != nil {
			return err
		}
		old, err := q.WebhookDeliveryGet(ctx, db.WebhookDeliveryGetParams{ID: deliveryID, SubscriptionID: id})
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.NotFound("webhook delivery")
		}
		if err != nil {
			return fmt.Errorf("find delivery: %w", err)
		}
		if !sub.IsActive {
			return inactiveError()
		}
		if old.Status != StatusDelivered && old.Status != StatusExhausted {
			return apperr.Transition(fmt.Sprintf("only DELIVERED or EXHAUSTED deliveries can be sent again; this one is %s", old.Status))
		}
		if old.Payload == nil {
			return apperr.Conflict("The body of this delivery is no longer kept, so it cannot be sent again")
		}
		newID := uuid.New()
		if err := q.WebhookDeliveryCreate(ctx, db.WebhookDeliveryCreateParams{
			ID: newID, SubscriptionID: id, FirmID: firm, EventID: old.EventID, EventType: old.EventType,
			Payload: old.Payload, RedeliveryOf: &old.ID, IsTest: old.IsTest, Now: now,
		}); err != nil {
			return fmt.Errorf("record delivery: %w", err)
		}
		if err := queue.InsertTx(ctx, tx, deliveryArgs{DeliveryID: newID, Attempt: 1}, nil); err != nil {
			return err
		}
		row, err := q.WebhookDeliveryGet(ctx, db.WebhookDeliveryGetParams{ID: newID, SubscriptionID: id})
		if err != nil {
			return fmt.Errorf("read delivery: %w", err)
		}
		out = deliveryFromRow(row)
		return nil
	})
	return out, err
}

// TestResult is the outcome of a test delivery.
type TestResult struct {
	DeliveryID uuid.UUID
	EventID    uuid.UUID
	Delivered  bool
	StatusCode *int
	Error      *string
	Duration   time.Duration
	Echo       bool
}

// Test sends a webhook.test event to one of firm's subscriptions now, once, and reports the
// outcome. The attempt is recorded as a delivery that never counts for the circuit breaker.
//
// Errors: ErrNotFound; ErrConflict with code subscription_inactive.
func (s *Service) Test(ctx context.Context, firm, id uuid.UUID) (TestResult, error) {
	now := s.now()
	deliveryID, eventID := uuid.New(), uuid.New()
	body, err := testPayload(id, now)
	if err != nil {
		return TestResult{}, err
	}
	payload := string(body)
	var target attemptTarget
	err = postgres.WithTx(ctx, s.pool, func(q *db.Queries) error {
		sub, err := lockTx(ctx, q, firm, id)
		if err != nil {
			return err
		}
		if !sub.IsActive {
			return inactiveError()
		}
		if err := q.WebhookDeliveryCreate(ctx, db.WebhookDeliveryCreateParams{
			ID: deliveryID, SubscriptionID: id, FirmID: firm, EventID: eventID, EventType: string(EventWebhookTest),
			Payload: &payload, IsTest: true, Now: now,
		}); err != nil {
			return fmt.Errorf("record delivery: %w", err)
		}
		if err := q.WebhookDeliveryStart(ctx, db.WebhookDeliveryStartParams{ID: deliveryID, Attempt: 1, Now: now}); err != nil {
			return fmt.Errorf("start delivery: %w", err)
		}
		target = attemptTarget{
			deliveryID: deliveryID, subscriptionID: id, eventID: eventID, eventType: string(EventWebhookTest),
			url: sub.Url, secret: sub.Secret, echoToken: sub.EchoToken, body: body,
		}
		return nil
	})
	if err != nil {
		return TestResult{}, err
	}
	res := s.send(ctx, target)
	// The outcome is recorded even when the caller went away meanwhile.
	if err := s.record(context.WithoutCancel(ctx), target, 1, true, res); err != nil {
		return TestResult{}, err
	}
	out := TestResult{DeliveryID: deliveryID, EventID: eventID, Delivered: res.ok, Duration: res.duration, Echo: target.echoToken != nil}
	if res.statusCode != 0 {
		code := res.statusCode
		out.StatusCode = &code
	}
	if !res.ok {
		msg := res.errText
		out.Error = &msg
	}
	return out, nil
}
