// Package network is the private referral network between firms: directed relationships in
// which one firm (the sender) refers cases to another (the receiver), and the list of firms a
// firm may refer to (its active network merged with the public directory).
//
// A relationship is created by the sending firm and starts pending; the receiving firm accepts
// it (active) or declines or pauses it (inactive). The sender owns the commercial terms, the
// receiver owns the status and its referral instructions, and each side keeps a private note.
package network

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/ptr"
	"github.com/casexchange/server/internal/refdata"
)

// Relationship statuses.
const (
	StatusPending  = "pending"
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// Directions of a relationship as seen by a firm.
const (
	Inbound  = "inbound"  // the other firm sends cases to the viewer
	Outbound = "outbound" // the viewer sends cases to the other firm
)

// Limits of the settings.
const (
	maxDescription  = 2000
	maxInstructions = 5000
	minDays         = 1
	maxDays         = 365
)

// Firm is another firm as the network shows it.
type Firm struct {
	ID                          uuid.UUID
	Name                        string
	Jurisdictions               []string
	CaseTypes                   []string // display names
	GeneralReferralInstructions *string
}

// Relationship is one direction of a relationship between two firms.
type Relationship struct {
	FromFirmID             uuid.UUID
	ToFirmID               uuid.UUID
	Status                 string
	SendingPercentage      *float64
	DaysForUnderEvaluation *int
	DaysForInvestigating   *int
	SenderDescription      *string // the sending firm's private note
	ReceiverDescription    *string // the receiving firm's private note
	ReferralInstructions   *string // written by the receiving firm
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// Detail is another firm seen through one direction of the viewer's network.
type Detail struct {
	Firm         Firm
	Direction    string        // Inbound or Outbound
	Relationship *Relationship // nil when there is none in this direction
}

// InNetwork reports whether the relationship exists and is active.
func (d Detail) InNetwork() bool {
	return d.Relationship != nil && d.Relationship.Status == StatusActive
}

// Description is the viewer's own private note on the relationship.
func (d Detail) Description() *string {
	if d.Relationship == nil {
		return nil
	}
	if d.Direction == Inbound {
		return d.Relationship.ReceiverDescription
	}
	return d.Relationship.SenderDescription
}

// SenderSettings are the settings the sending firm owns. On Replace a nil field is stored as
// NULL; on Update it is left alone. A blank Description clears it.
type SenderSettings struct {
	Description            *string
	SendingPercentage      *float64
	DaysForUnderEvaluation *int
	DaysForInvestigating   *int
}

// ReceiverUpdate changes the receiving firm's side; nil fields are left alone. A blank
// ReferralInstructions or Description clears it. Status is StatusActive or StatusInactive.
type ReceiverUpdate struct {
	Description          *string
	ReferralInstructions *string
	Status               *string
}

// Pending is a relationship waiting for the receiving firm.
type Pending struct {
	FirmID      uuid.UUID
	FirmName    string
	RequestedAt time.Time
	Direction   string // Inbound: the other firm asked to send to the viewer
}

// Service manages relationships.
type Service struct {
	pool    *pgxpool.Pool
	refdata *refdata.Service
}

// New returns a Service on pool. ref resolves the case type and jurisdiction filters of
// Available.
func New(pool *pgxpool.Pool, ref *refdata.Service) *Service {
	return &Service{pool: pool, refdata: ref}
}

// Outbound shows firm other as a destination of viewer's referrals, with the relationship in
// which viewer sends to it, if any. Errors: ErrValidation (path.firmId) when other is the
// viewer's firm; ErrNotFound when no active firm has that id.
func (s *Service) Outbound(ctx context.Context, viewer, other uuid.UUID) (Detail, error) {
	return s.detail(ctx, db.New(s.pool), viewer, other, Outbound)
}

// Inbound shows firm other as a source of referrals to viewer. Errors as for Outbound.
func (s *Service) Inbound(ctx context.Context, viewer, other uuid.UUID) (Detail, error) {
	return s.detail(ctx, db.New(s.pool), viewer, other, Inbound)
}

// ReplaceOutbound creates the relationship in which viewer sends cases to other (pending), or
// replaces viewer's settings on the existing one; created tells which. An inactive relationship
// becomes pending again. Errors: ErrValidation for the own firm or a setting out of range
// (body.<field>); ErrNotFound for an unknown or inactive firm.
func (s *Service) ReplaceOutbound(ctx context.Context, viewer, other uuid.UUID, in SenderSettings) (Detail, bool, error) {
	if err := notSelf(viewer, other); err != nil {
		return Detail{}, false, err
	}
	if err := in.validate(); err != nil {
		return Detail{}, false, err
	}
	var created bool
	d, err := postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (Detail, error) {
		f, err := getFirm(ctx, q, other)
		if err != nil {
			return Detail{}, err
		}
		n, err := q.NetworkRelationshipCreate(ctx, db.NetworkRelationshipCreateParams{
			FromFirmID:             viewer,
			ToFirmID:               other,
			SendingPercentage:      in.SendingPercentage,
			DaysForUnderEvaluation: int32Ptr(in.DaysForUnderEvaluation),
			DaysForInvestigating:   int32Ptr(in.DaysForInvestigating),
			Description:            ptr.Trim(in.Description),
		})
		if err != nil {
			return Detail{}, fmt.Errorf("create relationship: %w", err)
		}
		created = n == 1
		if !created {
			_, err := q.NetworkRelationshipReplaceSender(ctx, db.NetworkRelationshipReplaceSenderParams{
				FromFirmID:             viewer,
				ToFirmID:               other,
				SendingPercentage:      in.SendingPercentage,
				DaysForUnderEvaluation: int32Ptr(in.DaysForUnderEvaluation),
				DaysForInvestigating:   int32Ptr(in.DaysForInvestigating),
				Description:            ptr.Trim(in.Description),
			})
			if err != nil {
				return Detail{}, fmt.Errorf("replace relationship: %w", err)
			}
		}
		return withRelationship(ctx, q, viewer, f, Outbound)
	})
	return d, created, err
}

// UpdateOutbound changes the settings present in in on the relationship in which viewer sends
// cases to other. Errors: ErrValidation as for ReplaceOutbound; ErrNotFound for an unknown firm
// or when there is no such relationship.
func (s *Service) UpdateOutbound(ctx context.Context, viewer, other uuid.UUID, in SenderSettings) (Detail, error) {
	if err := notSelf(viewer, other); err != nil {
		return Detail{}, err
	}
	if err := in.validate(); err != nil {
		return Detail{}, err
	}
	return postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (Detail, error) {
		f, err := getFirm(ctx, q, other)
		if err != nil {
			return Detail{}, err
		}
		n, err := q.NetworkRelationshipUpdateSender(ctx, db.NetworkRelationshipUpdateSenderParams{
			FromFirmID:                viewer,
			ToFirmID:                  other,
			SetSendingPercentage:      in.SendingPercentage != nil,
			SendingPercentage:         in.SendingPercentage,
			SetDaysForUnderEvaluation: in.DaysForUnderEvaluation != nil,
			DaysForUnderEvaluation:    int32Ptr(in.DaysForUnderEvaluation),
			SetDaysForInvestigating:   in.DaysForInvestigating != nil,
			DaysForInvestigating:      int32Ptr(in.DaysForInvestigating),
			SetDescription:            in.Description != nil,
			Description:               ptr.Trim(in.Description),
		})
		if err != nil {
			return Detail{}, fmt.Errorf("update relationship: %w", err)
		}
		if n == 0 {
			return Detail{}, apperr.NotFound("network relationship")
		}
		return withRelationship(ctx, q, viewer, f, Outbound)
	})
}

// UpdateInbound changes viewer's side of the relationship in which other sends cases to
// viewer: accepting or pausing it, its referral instructions, viewer's note. Errors:
// ErrValidation for the own firm or a bad field (body.<field>); ErrNotFound for an unknown firm
// or when other has no relationship sending to viewer.
func (s *Service) UpdateInbound(ctx context.Context, viewer, other uuid.UUID, in ReceiverUpdate) (Detail, error) {
	if err := notSelf(viewer, other); err != nil {
		return Detail{}, err
	}
	if err := in.validate(); err != nil {
		return Detail{}, err
	}
	return postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (Detail, error) {
		f, err := getFirm(ctx, q, other)
		if err != nil {
			return Detail{}, err
		}
		p := db.NetworkRelationshipUpdateReceiverParams{
			FromFirmID:              other,
			ToFirmID:                viewer,
			SetReferralInstructions: in.ReferralInstructions != nil,
			ReferralInstructions:    ptr.Trim(in.ReferralInstructions),
			SetReceiverDescription:  in.Description != nil,
			ReceiverDescription:     ptr.Trim(in.Description),
		}
		if in.Status != nil {
			p.SetStatus, p.Status = true, *in.Status
		}
		n, err := q.NetworkRelationshipUpdateReceiver(ctx, p)
		if err != nil {
			return Detail{}, fmt.Errorf("update relationship: %w", err)
		}
		if n == 0 {
			return Detail{}, apperr.NotFound("network relationship")
		}
		return withRelationship(ctx, q, viewer, f, Inbound)
	})
}

// Pending lists the pending relationships firm takes part in, newest first: inbound ones wait
// for firm's answer, outbound ones for the other firm's.
func (s *Service) Pending(ctx context.Context, firm uuid.UUID) ([]Pending, error) {
	rows, err := db.New(s.pool).NetworkPendingList(ctx, firm)
	if err != nil {
		return nil, fmt.Errorf("list pending relationships: %w", postgres.InterpretError(err))
	}
	out := make([]Pending, 0, len(rows))
	for _, r := range rows {
		out = append(out, Pending{FirmID: r.FirmID, FirmName: r.FirmName, RequestedAt: r.RequestedAt, Direction: r.Direction})
	}
	return out, nil
}

// IsActiveTx reports, inside the caller's transaction, whether from may refer cases to to.
func IsActiveTx(ctx context.Context, q *db.Queries, from, to uuid.UUID) (bool, error) {
	ok, err := q.NetworkRelationshipIsActive(ctx, db.NetworkRelationshipIsActiveParams{FromFirmID: from, ToFirmID: to})
	if err != nil {
		return false, fmt.Errorf("check relationship: %w", postgres.InterpretError(err))
	}
	return ok, nil
}

func (s *Service) detail(ctx context.Context, q *db.Queries, viewer, other uuid.UUID, dir string) (Detail, error) {
	if err := notSelf(viewer, other); err != nil {
		return Detail{}, err
	}
	f, err := getFirm(ctx, q, other)
	if err != nil {
		return Detail{}, err
	}
	return withRelationship(ctx, q, viewer, f, dir)
}

// withRelationship completes the view of firm f from viewer in direction dir.
func withRelationship(ctx context.Context, q *db.Queries, viewer uuid.UUID, f Firm, dir string) (Detail, error) {
	from, to := viewer, f.ID
	if dir == Inbound {
		from, to = f.ID, viewer
	}
	d := Detail{Firm: f, Direction: dir}
	row, err := q.NetworkRelationshipGet(ctx, db.NetworkRelationshipGetParams{FromFirmID: from, ToFirmID: to})
	switch err = postgres.InterpretError(err); {
	case err == nil:
		rel := relationshipFromRow(row)
		d.Relationship = &rel
	case errors.Is(err, apperr.ErrNotFound):
	default:
		return Detail{}, fmt.Errorf("get relationship: %w", err)
	}
	return d, nil
}

func getFirm(ctx context.Context, q *db.Queries, id uuid.UUID) (Firm, error) {
	row, err := q.NetworkFirmGet(ctx, id)
	if err != nil {
		err = postgres.InterpretError(err)
		if errors.Is(err, apperr.ErrNotFound) {
			return Firm{}, apperr.NotFound("firm")
		}
		return Firm{}, fmt.Errorf("get firm: %w", err)
	}
	return Firm{
		ID:                          row.ID,
		Name:                        row.Name,
		Jurisdictions:               orEmpty(row.Jurisdictions),
		CaseTypes:                   orEmpty(row.CaseTypeLabels),
		GeneralReferralInstructions: row.GeneralReferralInstructions,
	}, nil
}

func notSelf(viewer, other uuid.UUID) error {
	if viewer == other {
		return apperr.Field("path.firmId", "must be another firm than your own")
	}
	return nil
}

func (in SenderSettings) validate() error {
	var details []apperr.FieldError
	if in.Description != nil && utf8.RuneCountInString(*in.Description) > maxDescription {
		details = append(details, apperr.FieldError{Field: "body.description",
			Message: fmt.Sprintf("must be at most %d characters", maxDescription)})
	}
	if p := in.SendingPercentage; p != nil && (math.IsNaN(*p) || *p < 0 || *p > 100) {
		details = append(details, apperr.FieldError{Field: "body.sendingPercentage", Message: "must be between 0 and 100"})
	}
	days := func(field string, v *int) {
		if v != nil && (*v < minDays || *v > maxDays) {
			details = append(details, apperr.FieldError{Field: field,
				Message: fmt.Sprintf("must be between %d and %d", minDays, maxDays)})
		}
	}
	days("body.daysForUnderEvaluation", in.DaysForUnderEvaluation)
	days("body.daysForInvestigating", in.DaysForInvestigating)
	if len(details) > 0 {
		return apperr.Validation("", details...)
	}
	return nil
}

func (in ReceiverUpdate) validate() error {
	var details []apperr.FieldError
	if in.Description != nil && utf8.RuneCountInString(*in.Description) > maxDescription {
		details = append(details, apperr.FieldError{Field: "body.description",
			Message: fmt.Sprintf("must be at most %d characters", maxDescription)})
	}
	if in.ReferralInstructions != nil && utf8.RuneCountInString(*in.ReferralInstructions) > maxInstructions {
		details = append(details, apperr.FieldError{Field: "body.referralInstructions",
			Message: fmt.Sprintf("must be at most %d characters", maxInstructions)})
	}
	if in.Status != nil && *in.Status != StatusActive && *in.Status != StatusInactive {
		details = append(details, apperr.FieldError{Field: "body.status", Message: "must be active or inactive"})
	}
	if len(details) > 0 {
		return apperr.Validation("", details...)
	}
	return nil
}

func int32Ptr(v *int) *int32 {
	if v == nil {
		return nil
	}
	n := int32(*v)
	return &n
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
