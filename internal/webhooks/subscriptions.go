package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
)

// MaxDescriptionLength bounds a subscription's description.
const MaxDescriptionLength = 255

// Reasons a subscription was switched off.
const (
	DeactivatedManual         = "manual"
	DeactivatedCircuitBreaker = "circuit_breaker"
)

// lastErrorDeactivated ends the queued deliveries of a subscription switched off.
const lastErrorDeactivated = "Subscription deactivated"

// Subscription is a firm's webhook endpoint. Its secret is returned only by Create and
// RotateSecret.
type Subscription struct {
	ID                  uuid.UUID
	FirmID              uuid.UUID
	URL                 string
	Description         *string
	Events              []EventType // nil: every event type
	IsActive            bool
	DeactivatedReason   *string
	ConsecutiveFailures int
	EchoToken           *string
	EchoEnabledAt       *time.Time
	SecretRotatedAt     *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// EchoMode reports whether deliveries go to the echo endpoint.
func (s Subscription) EchoMode() bool { return s.EchoToken != nil }

// CreateInput describes a new subscription.
type CreateInput struct {
	URL         string
	Description *string
	Events      []EventType // empty: every event type
}

// Patch changes the fields that are not nil. An empty Description removes it; an empty (non-nil)
// Events removes the filter.
type Patch struct {
	URL         *string
	Description *string
	Events      *[]EventType
	IsActive    *bool
}

func subscriptionError(code, msg string) error {
	return &apperr.Error{Kind: apperr.ErrValidation, Code: code, Message: msg}
}

func limitError() error {
	return subscriptionError("subscription_limit_reached",
		fmt.Sprintf("A firm may have at most %d active webhook subscriptions", MaxActiveSubscriptions))
}

func checkDescription(field string, d *string) (*string, error) {
	if d == nil {
		return nil, nil
	}
	v := strings.TrimSpace(*d)
	if len([]rune(v)) > MaxDescriptionLength {
		return nil, apperr.Field(field, fmt.Sprintf("must be at most %d characters", MaxDescriptionLength))
	}
	if v == "" {
		return nil, nil
	}
	return &v, nil
}

// eventFilter turns a requested filter into the stored one (nil: every type), deduplicated and
// in the canonical order.
func eventFilter(field string, in []EventType) ([]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	want := map[EventType]bool{}
	for i, t := range in {
		if !t.Valid() {
			return nil, apperr.Field(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("unknown event type %q", t))
		}
		want[t] = true
	}
	out := make([]string, 0, len(want))
	for _, t := range EventTypes {
		if want[t] {
			out = append(out, string(t))
		}
	}
	return out, nil
}

// Create registers a subscription for firm and returns it with its signing secret.
//
// Errors: ErrValidation with code invalid_webhook_url for an unacceptable URL,
// subscription_limit_reached when the firm already has MaxActiveSubscriptions active ones, or
// validation_error for another field.
func (s *Service) Create(ctx context.Context, firm uuid.UUID, in CreateInput) (Subscription, string, error) {
	u, err := s.guard().checkURL(ctx, "body.url", in.URL)
	if err != nil {
		return Subscription{}, "", err
	}
	desc, err := checkDescription("body.description", in.Description)
	if err != nil {
		return Subscription{}, "", err
	}
	events, err := eventFilter("body.events", in.Events)
	if err != nil {
		return Subscription{}, "", err
	}
	secret := newSecret()
	now := s.now()
	row, err := postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (db.WebhookSubscription, error) {
		if err := q.WebhookSubscriptionLockFirm(ctx, firm); err != nil {
			return db.WebhookSubscription{}, fmt.Errorf("lock subscriptions: %w", err)
		}
		n, err := q.WebhookSubscriptionCountActive(ctx, firm)
		if err != nil {
			return db.WebhookSubscription{}, fmt.Errorf("count subscriptions: %w", err)
		}
		if n >= MaxActiveSubscriptions {
			return db.WebhookSubscription{}, limitError()
		}
		return q.WebhookSubscriptionCreate(ctx, db.WebhookSubscriptionCreateParams{
			FirmID: firm, Url: u, Description: desc, Events: events, Secret: secret, Now: now,
		})
	})
	if err != nil {
		return Subscription{}, "", err
	}
	return subscriptionFromRow(row), secret, nil
}

// List returns one page of firm's subscriptions, oldest first, and their total.
func (s *Service) List(ctx context.Context, firm uuid.UUID, page, limit int) ([]Subscription, int64, error) {
	q := db.New(s.pool)
	total, err := q.WebhookSubscriptionCount(ctx, firm)
	if err != nil {
		return nil, 0, fmt.Errorf("count subscriptions: %w", postgres.InterpretError(err))
	}
	rows, err := q.WebhookSubscriptionList(ctx, db.WebhookSubscriptionListParams{
		FirmID: firm, Lim: int32(limit), Off: int32((page - 1) * limit),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list subscriptions: %w", postgres.InterpretError(err))
	}
	out := make([]Subscription, 0, len(rows))
	for _, r := range rows {
		out = append(out, subscriptionFromRow(r))
	}
	return out, total, nil
}

// Get returns one of firm's subscriptions.
//
// Errors: ErrNotFound when firm has no subscription id.
func (s *Service) Get(ctx context.Context, firm, id uuid.UUID) (Subscription, error) {
	row, err := db.New(s.pool).WebhookSubscriptionGet(ctx, db.WebhookSubscriptionGetParams{ID: id, FirmID: firm})
	if err != nil {
		return Subscription{}, notFound(err)
	}
	return subscriptionFromRow(row), nil
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.NotFound("webhook subscription")
	}
	return postgres.InterpretError(err)
}

// lockTx returns firm's subscription id locked for update.
func lockTx(ctx context.Context, q *db.Queries, firm, id uuid.UUID) (db.WebhookSubscription, error) {
	row, err := q.WebhookSubscriptionGetForUpdate(ctx, db.WebhookSubscriptionGetForUpdateParams{ID: id, FirmID: firm})
	if err != nil {
		return row, notFound(err)
	}
	return row, nil
}

// Update applies p to one of firm's subscriptions. Switching it off ends its queued deliveries
// and echo mode; switching it on resets the circuit breaker.
//
// Errors: ErrNotFound; ErrValidation (invalid_webhook_url, subscription_limit_reached,
// validation_error); an empty patch is a validation_error.
func (s *Service) Update(ctx context.Context, firm, id uuid.UUID, p Patch) (Subscription, error) {
	if p.URL == nil && p.Description == nil && p.Events == nil && p.IsActive == nil {
		return Subscription{}, apperr.Validation("Give at least one of url, description, events, isActive")
	}
	var newURL string
	if p.URL != nil {
		u, err := s.guard().checkURL(ctx, "body.url", *p.URL)
		if err != nil {
			return Subscription{}, err
		}
		newURL = u
	}
	desc, err := checkDescription("body.description", p.Description)
	if err != nil {
		return Subscription{}, err
	}
	var events []string
	if p.Events != nil {
		if events, err = eventFilter("body.events", *p.Events); err != nil {
			return Subscription{}, err
		}
	}
	now := s.now()
	row, err := postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (db.WebhookSubscription, error) {
		if err := q.WebhookSubscriptionLockFirm(ctx, firm); err != nil {
			return db.WebhookSubscription{}, fmt.Errorf("lock subscriptions: %w", err)
		}
		cur, err := lockTx(ctx, q, firm, id)
		if err != nil {
			return cur, err
		}
		up := db.WebhookSubscriptionUpdateParams{
			ID: id, Url: cur.Url, Description: cur.Description, Events: cur.Events, IsActive: cur.IsActive,
			DeactivatedReason: cur.DeactivatedReason, EchoToken: cur.EchoToken, EchoEnabledAt: cur.EchoEnabledAt, Now: now,
		}
		if p.URL != nil {
			up.Url = newURL
		}
		if p.Description != nil {
			up.Description = desc
		}
		if p.Events != nil {
			up.Events = events
		}
		switchOff := false
		if p.IsActive != nil && *p.IsActive != cur.IsActive {
			up.IsActive = *p.IsActive
			if *p.IsActive {
				n, err := q.WebhookSubscriptionCountActive(ctx, firm)
				if err != nil {
					return cur, fmt.Errorf("count subscriptions: %w", err)
				}
				if n >= MaxActiveSubscriptions {
					return cur, limitError()
				}
				up.DeactivatedReason = nil
			} else {
				switchOff = true
				reason := DeactivatedManual
				up.DeactivatedReason = &reason
				up.EchoToken, up.EchoEnabledAt = nil, nil
			}
		}
		row, err := q.WebhookSubscriptionUpdate(ctx, up)
		if err != nil {
			return row, fmt.Errorf("update subscription: %w", err)
		}
		if switchOff {
			if err := cancelQueuedTx(ctx, q, id, now); err != nil {
				return row, err
			}
		}
		return row, nil
	})
	if err != nil {
		return Subscription{}, err
	}
	return subscriptionFromRow(row), nil
}

// cancelQueuedTx ends the queued deliveries of a subscription switched off, and drops its echo
// captures. Their jobs find them ended and do nothing.
func cancelQueuedTx(ctx context.Context, q *db.Queries, id uuid.UUID, now time.Time) error {
	msg := lastErrorDeactivated
	if _, err := q.WebhookDeliveryCancelQueued(ctx, db.WebhookDeliveryCancelQueuedParams{
		SubscriptionID: id, LastError: &msg, Now: now,
	}); err != nil {
		return fmt.Errorf("cancel queued deliveries: %w", err)
	}
	if err := q.WebhookEchoCaptureDeleteAll(ctx, id); err != nil {
		return fmt.Errorf("drop echo captures: %w", err)
	}
	return nil
}

// Delete removes one of firm's subscriptions with its deliveries and captures. Jobs still queued
// for them find nothing and do nothing.
//
// Errors: ErrNotFound.
func (s *Service) Delete(ctx context.Context, firm, id uuid.UUID) error {
	n, err := db.New(s.pool).WebhookSubscriptionDelete(ctx, db.WebhookSubscriptionDeleteParams{ID: id, FirmID: firm})
	if err != nil {
		return fmt.Errorf("delete subscription: %w", postgres.InterpretError(err))
	}
	if n == 0 {
		return apperr.NotFound("webhook subscription")
	}
	return nil
}

// RotateSecret gives one of firm's subscriptions a new secret, used from the next attempt on,
// and returns it.
//
// Errors: ErrNotFound.
func (s *Service) RotateSecret(ctx context.Context, firm, id uuid.UUID) (Subscription, string, error) {
	secret := newSecret()
	row, err := db.New(s.pool).WebhookSubscriptionSetSecret(ctx, db.WebhookSubscriptionSetSecretParams{
		ID: id, FirmID: firm, Secret: secret, Now: s.now(),
	})
	if err != nil {
		return Subscription{}, "", notFound(err)
	}
	return subscriptionFromRow(row), secret, nil
}

// EchoURL is the echo endpoint of a subscription in echo mode (nil otherwise).
func (s *Service) EchoURL(sub Subscription) *string {
	if sub.EchoToken == nil {
		return nil
	}
	u := s.echoURL(*sub.EchoToken)
	return &u
}

func (s *Service) echoURL(token string) string {
	cfg, _, _ := s.config()
	base := ""
	if cfg.BaseURL != nil {
		base = strings.TrimRight(cfg.BaseURL(), "/")
	}
	return base + "/api/v1/webhooks/echo/" + token
}

// Echo describes echo mode of a subscription.
type Echo struct {
	SubscriptionID uuid.UUID
	URL            string
	Token          string
	EnabledAt      time.Time
}

// EnableEcho sends the subscription's deliveries to this server's echo endpoint from now on.
//
// Errors: ErrNotFound; ErrValidation with code echo_mode_active (already on) or
// echo_requires_active (the subscription is off).
func (s *Service) EnableEcho(ctx context.Context, firm, id uuid.UUID) (Echo, error) {
	now := s.now()
	row, err := postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (db.WebhookSubscription, error) {
		cur, err := lockTx(ctx, q, firm, id)
		if err != nil {
			return cur, err
		}
		if cur.EchoToken != nil {
			return cur, subscriptionError("echo_mode_active", "Echo mode is already on for this subscription")
		}
		if !cur.IsActive {
			return cur, subscriptionError("echo_requires_active", "Echo mode needs an active subscription")
		}
		token := newEchoToken()
		return q.WebhookSubscriptionUpdate(ctx, db.WebhookSubscriptionUpdateParams{
			ID: id, Url: cur.Url, Description: cur.Description, Events: cur.Events, IsActive: cur.IsActive,
			DeactivatedReason: cur.DeactivatedReason, EchoToken: &token, EchoEnabledAt: &now, Now: now,
		})
	})
	if err != nil {
		return Echo{}, err
	}
	return Echo{SubscriptionID: row.ID, URL: s.echoURL(*row.EchoToken), Token: *row.EchoToken, EnabledAt: *row.EchoEnabledAt}, nil
}

// DisableEcho sends the subscription's deliveries to its URL again and drops the captures.
//
// Errors: ErrNotFound; ErrValidation with code echo_not_active.
func (s *Service) DisableEcho(ctx context.Context, firm, id uuid.UUID) (Subscription, error) {
	now := s.now()
	row, err := postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (db.WebhookSubscription, error) {
		cur, err := lockTx(ctx, q, firm, id)
		if err != nil {
			return cur, err
		}
		if cur.EchoToken == nil {
			return cur, subscriptionError("echo_not_active", "Echo mode is not on for this subscription")
		}
		row, err := q.WebhookSubscriptionUpdate(ctx, db.WebhookSubscriptionUpdateParams{
			ID: id, Url: cur.Url, Description: cur.Description, Events: cur.Events, IsActive: cur.IsActive,
			DeactivatedReason: cur.DeactivatedReason, Now: now,
		})
		if err != nil {
			return row, fmt.Errorf("update subscription: %w", err)
		}
		if err := q.WebhookEchoCaptureDeleteAll(ctx, id); err != nil {
			return row, fmt.Errorf("drop echo captures: %w", err)
		}
		return row, nil
	})
	if err != nil {
		return Subscription{}, err
	}
	return subscriptionFromRow(row), nil
}
