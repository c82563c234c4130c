// Package medical records medical provider referrals: a client of a case sent to a doctor,
// clinic or imaging centre. A medical referral belongs to the firm that created it; no other
// firm sees it. It can be attached to a case the firm owns or holds an acknowledged referral of
// in a working status (the rule of documents).
package medical

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/lifecycle"
	"github.com/casexchange/server/internal/postgres"
)

// Status is where a medical referral stands.
type Status string

// Statuses.
const (
	StatusPending   Status = "pending"
	StatusScheduled Status = "scheduled"
	StatusCompleted Status = "completed"
	StatusCancelled Status = "cancelled"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusScheduled, StatusCompleted, StatusCancelled:
		return true
	}
	return false
}

// DefaultReferralType is used when none is given.
const DefaultReferralType = "general"

// Referral is a medical referral.
type Referral struct {
	ID                uuid.UUID
	FirmID            uuid.UUID
	CaseID            uuid.UUID
	ProviderID        *uuid.UUID
	ProviderName      string
	ReferralType      string
	Status            Status
	AppointmentDate   *time.Time // midnight UTC
	ClientFirstName   *string
	ClientLastName    *string
	ClientEmail       *string
	ClientPhone       *string
	DateOfInjury      *time.Time // midnight UTC
	InjuryDescription *string
	Notes             *string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// CreateInput accepts both published request shapes: the case as CaseID or BaseCaseID, the
// provider as ProviderName or ProviderID.
type CreateInput struct {
	CaseID            *uuid.UUID
	BaseCaseID        *uuid.UUID
	ProviderName      *string
	ProviderID        *uuid.UUID
	ReferralType      *string
	Status            *Status
	AppointmentDate   *time.Time
	ClientFirstName   *string
	ClientLastName    *string
	ClientEmail       *string
	ClientPhone       *string
	DateOfInjury      *time.Time
	InjuryDescription *string
	Notes             *string
}

// Opt is one field of a partial update: Set false keeps the stored value; Set true writes
// Value, and a nil Value clears a nullable field.
type Opt[T any] struct {
	Set   bool
	Value *T
}

// UpdateInput is a partial update. The case cannot change.
type UpdateInput struct {
	ProviderName      Opt[string]
	ProviderID        Opt[uuid.UUID]
	ReferralType      Opt[string]
	Status            Opt[Status]
	AppointmentDate   Opt[time.Time]
	ClientFirstName   Opt[string]
	ClientLastName    Opt[string]
	ClientEmail       Opt[string]
	ClientPhone       Opt[string]
	DateOfInjury      Opt[time.Time]
	InjuryDescription Opt[string]
	Notes             Opt[string]
}

// ListFilter narrows List.
type ListFilter struct {
	CaseID *uuid.UUID
	Status *Status
	Page   int // 1-based
	Limit  int
}

// Service runs the medical referral operations.
type Service struct {
	pool *pgxpool.Pool
}

// New returns a Service.
func New(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

// Create records a medical referral. Errors: apperr.ErrValidation naming the field (no case,
// a case the firm may not use, no provider, an unknown provider firm, bad values).
func (s *Service) Create(ctx context.Context, actor auth.Actor, in CreateInput) (Referral, error) {
	var errs []apperr.FieldError
	add := func(field, msg string) { errs = append(errs, apperr.FieldError{Field: field, Message: msg}) }

	caseField := "body.caseId"
	var caseID uuid.UUID
	switch {
	case in.CaseID == nil && in.BaseCaseID == nil:
		add("body.caseId", "caseId or baseCaseId is required")
	case in.CaseID != nil && in.BaseCaseID != nil && *in.CaseID != *in.BaseCaseID:
		add("body.baseCaseId", "must equal caseId when both are sent")
	case in.CaseID != nil:
		caseID = *in.CaseID
	default:
		caseID, caseField = *in.BaseCaseID, "body.baseCaseId"
	}
	var name string
	if in.ProviderName != nil {
		name = strings.TrimSpace(*in.ProviderName)
		checkText(add, "body.providerName", name, 1, 200)
	} else if in.ProviderID == nil {
		add("body.providerName", "providerName or providerId is required")
	}
	refType := DefaultReferralType
	if in.ReferralType != nil {
		refType = strings.TrimSpace(*in.ReferralType)
		checkText(add, "body.referralType", refType, 1, 100)
	}
	status := StatusPending
	if in.Status != nil {
		status = *in.Status
		if !status.Valid() {
			add("body.status", "must be one of pending, scheduled, completed, cancelled")
		}
	}
	checkOptional(add, "body.clientFirstName", in.ClientFirstName, 100)
	checkOptional(add, "body.clientLastName", in.ClientLastName, 100)
	checkOptional(add, "body.clientPhone", in.ClientPhone, 50)
	checkOptional(add, "body.injuryDescription", in.InjuryDescription, 5000)
	checkOptional(add, "body.notes", in.Notes, 5000)
	checkEmail(add, "body.clientEmail", in.ClientEmail)
	if len(errs) > 0 {
		return Referral{}, apperr.Validation("", errs...)
	}

	return postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (Referral, error) {
		ok, err := q.MedicalCaseAccess(ctx, db.MedicalCaseAccessParams{CaseID: caseID, FirmID: actor.FirmID, WorkingStatuses: lifecycle.Working})
		if err != nil {
			return Referral{}, postgres.InterpretError(err)
		}
		if !ok {
			return Referral{}, apperr.Field(caseField, "no case your firm sent, or holds an acknowledged referral of, has this id")
		}
		if in.ProviderID != nil {
			firmName, err := q.MedicalProviderName(ctx, *in.ProviderID)
			if err != nil {
				if errors.Is(postgres.InterpretError(err), apperr.ErrNotFound) {
					return Referral{}, apperr.Field("body.providerId", "no active firm has this id")
				}
				return Referral{}, postgres.InterpretError(err)
			}
			if in.ProviderName == nil {
				name = firmName
			}
		}
		row, err := q.MedicalReferralInsert(ctx, db.MedicalReferralInsertParams{
			FirmID: actor.FirmID, BaseCaseID: caseID, ProviderFirmID: in.ProviderID, ProviderName: name,
			ReferralType: refType, Status: string(status), AppointmentDate: pgDate(in.AppointmentDate),
			ClientFirstName: in.ClientFirstName, ClientLastName: in.ClientLastName, ClientEmail: in.ClientEmail,
			ClientPhone: in.ClientPhone, DateOfInjury: pgDate(in.DateOfInjury),
			InjuryDescription: in.InjuryDescription, Notes: in.Notes,
			CreatedByUserID: actor.UserID, CreatedByKeyID: actor.KeyID,
		})
		if err != nil {
			return Referral{}, postgres.InterpretError(err)
		}
		return fromRow(row), nil
	})
}

// Get returns one of the firm's medical referrals (apperr.ErrNotFound otherwise).
func (s *Service) Get(ctx context.Context, actor auth.Actor, id uuid.UUID) (Referral, error) {
	row, err := db.New(s.pool).MedicalReferralGet(ctx, db.MedicalReferralGetParams{ID: id, FirmID: actor.FirmID})
	if err != nil {
		return Referral{}, notFound(err)
	}
	return fromRow(row), nil
}

// List pages through the firm's medical referrals, newest first, and returns the total.
func (s *Service) List(ctx context.Context, actor auth.Actor, f ListFilter) ([]Referral, int64, error) {
	if f.Page < 1 {
		f.Page = 1
	}
	if f.Limit < 1 {
		f.Limit = 20
	}
	var status *string
	if f.Status != nil {
		v := string(*f.Status)
		status = &v
	}
	q := db.New(s.pool)
	total, err := q.MedicalReferralCount(ctx, db.MedicalReferralCountParams{FirmID: actor.FirmID, CaseID: f.CaseID, Status: status})
	if err != nil {
		return nil, 0, postgres.InterpretError(err)
	}
	rows, err := q.MedicalReferralList(ctx, db.MedicalReferralListParams{
		FirmID: actor.FirmID, CaseID: f.CaseID, Status: status,
		Lim: int32(f.Limit), Off: int32(min(int64(f.Page-1)*int64(f.Limit), 1<<31-1)),
	})
	if err != nil {
		return nil, 0, postgres.InterpretError(err)
	}
	out := make([]Referral, 0, len(rows))
	for _, r := range rows {
		out = append(out, fromRow(r))
	}
	return out, total, nil
}

// Update changes the fields set in in. Naming a provider firm without a provider name also
// takes that firm's name. Errors: apperr.ErrNotFound for referrals of other firms,
// apperr.ErrValidation naming the field.
func (s *Service) Update(ctx context.Context, actor auth.Actor, id uuid.UUID, in UpdateInput) (Referral, error) {
	var errs []apperr.FieldError
	add := func(field, msg string) { errs = append(errs, apperr.FieldError{Field: field, Message: msg}) }
	p := db.MedicalReferralUpdateParams{ID: id, FirmID: actor.FirmID}
	if in.ProviderName.Set {
		if in.ProviderName.Value == nil {
			add("body.providerName", "cannot be cleared")
		} else {
			p.SetProviderName, p.ProviderName = true, strings.TrimSpace(*in.ProviderName.Value)
			checkText(add, "body.providerName", p.ProviderName, 1, 200)
		}
	}
	if in.ReferralType.Set {
		if in.ReferralType.Value == nil {
			add("body.referralType", "cannot be cleared")
		} else {
			p.SetReferralType, p.ReferralType = true, strings.TrimSpace(*in.ReferralType.Value)
			checkText(add, "body.referralType", p.ReferralType, 1, 100)
		}
	}
	if in.Status.Set {
		if in.Status.Value == nil || !in.Status.Value.Valid() {
			add("body.status", "must be one of pending, scheduled, completed, cancelled")
		} else {
			p.SetStatus, p.Status = true, string(*in.Status.Value)
		}
	}
	if in.ProviderID.Set {
		p.SetProviderFirmID, p.ProviderFirmID = true, in.ProviderID.Value
	}
	p.SetAppointmentDate, p.AppointmentDate = in.AppointmentDate.Set, pgDate(in.AppointmentDate.Value)
	p.SetDateOfInjury, p.DateOfInjury = in.DateOfInjury.Set, pgDate(in.DateOfInjury.Value)
	p.SetClientFirstName, p.ClientFirstName = in.ClientFirstName.Set, in.ClientFirstName.Value
	p.SetClientLastName, p.ClientLastName = in.ClientLastName.Set, in.ClientLastName.Value
	p.SetClientEmail, p.ClientEmail = in.ClientEmail.Set, in.ClientEmail.Value
	p.SetClientPhone, p.ClientPhone = in.ClientPhone.Set, in.ClientPhone.Value
	p.SetInjuryDescription, p.InjuryDescription = in.InjuryDescription.Set, in.InjuryDescription.Value
	p.SetNotes, p.Notes = in.Notes.Set, in.Notes.Value
	checkOptional(add, "body.clientFirstName", p.ClientFirstName, 100)
	checkOptional(add, "body.clientLastName", p.ClientLastName, 100)
	checkOptional(add, "body.clientPhone", p.ClientPhone, 50)
	checkOptional(add, "body.injuryDescription", p.InjuryDescription, 5000)
	checkOptional(add, "body.notes", p.Notes, 5000)
	checkEmail(add, "body.clientEmail", p.ClientEmail)
	if len(errs) > 0 {
		return Referral{}, apperr.Validation("", errs...)
	}
	return postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (Referral, error) {
		if _, err := q.MedicalReferralGet(ctx, db.MedicalReferralGetParams{ID: id, FirmID: actor.FirmID}); err != nil {
			return Referral{}, notFound(err)
		}
		if p.SetProviderFirmID && p.ProviderFirmID != nil {
			firmName, err := q.MedicalProviderName(ctx, *p.ProviderFirmID)
			if err != nil {
				if errors.Is(postgres.InterpretError(err), apperr.ErrNotFound) {
					return Referral{}, apperr.Field("body.providerId", "no active firm has this id")
				}
				return Referral{}, postgres.InterpretError(err)
			}
			if !p.SetProviderName {
				p.SetProviderName, p.ProviderName = true, firmName
			}
		}
		row, err := q.MedicalReferralUpdate(ctx, p)
		if err != nil {
			return Referral{}, notFound(err)
		}
		return fromRow(row), nil
	})
}

func notFound(err error) error {
	err = postgres.InterpretError(err)
	if errors.Is(err, apperr.ErrNotFound) {
		return apperr.NotFound("medical referral")
	}
	return err
}

func checkText(add func(string, string), field, v string, minLen, maxLen int) {
	n := utf8.RuneCountInString(v)
	if n < minLen || n > maxLen {
		if minLen > 0 {
			add(field, fmt.Sprintf("must be %d-%d characters", minLen, maxLen))
		} else {
			add(field, fmt.Sprintf("must be at most %d characters", maxLen))
		}
	}
}

func checkOptional(add func(string, string), field string, v *string, maxLen int) {
	if v != nil {
		checkText(add, field, *v, 0, maxLen)
	}
}

func checkEmail(add func(string, string), field string, v *string) {
	if v == nil {
		return
	}
	if a, err := mail.ParseAddress(*v); err != nil || a.Address != *v || len(*v) > 254 {
		add(field, "must be an e-mail address")
	}
}

func pgDate(t *time.Time) pgtype.Date {
	if t == nil {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Valid: true}
}

func fromDate(d pgtype.Date) *time.Time {
	if !d.Valid {
		return nil
	}
	t := time.Date(d.Time.Year(), d.Time.Month(), d.Time.Day(), 0, 0, 0, 0, time.UTC)
	return &t
}

func fromRow(r db.MedicalReferral) Referral {
	return Referral{
		ID: r.ID, FirmID: r.FirmID, CaseID: r.BaseCaseID, ProviderID: r.ProviderFirmID, ProviderName: r.ProviderName,
		ReferralType: r.ReferralType, Status: Status(r.Status), AppointmentDate: fromDate(r.AppointmentDate),
		ClientFirstName: r.ClientFirstName, ClientLastName: r.ClientLastName, ClientEmail: r.ClientEmail,
		ClientPhone: r.ClientPhone, DateOfInjury: fromDate(r.DateOfInjury), InjuryDescription: r.InjuryDescription,
		Notes: r.Notes, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}
