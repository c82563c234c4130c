package referrals

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
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/ptr"
)

// Opt is one field of a partial update: Set false keeps the stored value; Set true writes Value,
// and a nil Value clears the field.
type Opt[T any] struct {
	Set   bool
	Value *T
}

// SetOpt returns an Opt that writes v (nil clears).
func SetOpt[T any](v *T) Opt[T] { return Opt[T]{Set: true, Value: v} }

// SentCasePatch holds the sender-owned fields of PATCH /sent-cases/{id}.
type SentCasePatch struct {
	Tier                 Opt[int]
	Source               Opt[string]
	SalesforceID         Opt[string]
	SalesforceObjectType Opt[string]
	CustomFields         []CustomFieldInput
	SetCustomFields      bool
}

func (p SentCasePatch) empty() bool {
	return !p.Tier.Set && !p.Source.Set && !p.SalesforceID.Set && !p.SalesforceObjectType.Set && !p.SetCustomFields
}

// PatchSentCase changes sender-owned fields of a case the caller's firm owns, in any status.
// Errors: apperr.ErrValidation (empty patch, value out of range), apperr.ErrNotFound,
// apperr.ErrPermission (the firm only receives the case), apperr.ErrConflict (code
// duplicate_sf_referral).
func (s *Service) PatchSentCase(ctx context.Context, a auth.Actor, key string, p SentCasePatch) (CaseView, error) {
	var f fieldChecker
	if p.empty() {
		f.add("body", "at least one field is required")
	}
	f.tier("body.tier", p.Tier.Value)
	f.optional("body.source", p.Source.Value, maxSource)
	f.nonBlank("body.salesforceId", p.SalesforceID.Value, maxExternalID)
	f.optional("body.salesforceObjectType", p.SalesforceObjectType.Value, maxExternalID)
	if err := f.err(); err != nil {
		return CaseView{}, err
	}
	cp := CasePatch{
		Tier: p.Tier, Source: p.Source, SalesforceID: p.SalesforceID, SalesforceObjectType: p.SalesforceObjectType,
		CustomFields: p.CustomFields, SetCustomFields: p.SetCustomFields,
	}
	return s.updateCase(ctx, a, key, cp, true)
}

// CasePatch holds the fields of PUT /cases/{id}.
type CasePatch struct {
	Title                Opt[string]
	Description          Opt[string]
	CaseType             Opt[string]
	Jurisdiction         Opt[string]
	County               Opt[string]
	ClientFirstName      Opt[string]
	ClientLastName       Opt[string]
	ClientEmail          Opt[string]
	ClientPhone          Opt[string]
	ClientDateOfBirth    Opt[time.Time]
	IncidentDate         Opt[time.Time]
	Notes                Opt[string]
	Source               Opt[string]
	Tier                 Opt[int]
	SalesforceID         Opt[string]
	SalesforceObjectType Opt[string]
	CustomFields         []CustomFieldInput
	SetCustomFields      bool
	// Stored on the current referral.
	Phase       Opt[string]
	RatedTier   Opt[int]
	RatingNotes Opt[string]
}

// setFields lists the body fields present, in a stable order.
func (p CasePatch) setFields() []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(p.Title.Set, "title")
	add(p.Description.Set, "description")
	add(p.CaseType.Set, "caseType")
	add(p.Jurisdiction.Set, "jurisdiction")
	add(p.County.Set, "county")
	add(p.ClientFirstName.Set, "clientFirstName")
	add(p.ClientLastName.Set, "clientLastName")
	add(p.ClientEmail.Set, "clientEmail")
	add(p.ClientPhone.Set, "clientPhone")
	add(p.ClientDateOfBirth.Set, "clientDateOfBirth")
	add(p.IncidentDate.Set, "incidentDate")
	add(p.Notes.Set, "notes")
	add(p.Source.Set, "source")
	add(p.Tier.Set, "tier")
	add(p.SalesforceID.Set, "salesforceId")
	add(p.SalesforceObjectType.Set, "salesforceObjectType")
	add(p.SetCustomFields, "customFields")
	add(p.Phase.Set, "phase")
	add(p.RatedTier.Set, "ratedTier")
	add(p.RatingNotes.Set, "ratingNotes")
	return out
}

// Which side may change which CasePatch field.
var (
	receiverCaseFields = map[string]bool{"phase": true, "ratedTier": true, "ratingNotes": true}
	senderOnlyDenied   = map[string]bool{"ratedTier": true, "ratingNotes": true}
)

func (p CasePatch) validate() error {
	var f fieldChecker
	if len(p.setFields()) == 0 {
		f.add("body", "at least one field is required")
	}
	required := func(field string, o Opt[string], limit int) {
		if o.Set {
			if o.Value == nil {
				f.add(field, "cannot be null")
			} else {
				f.required(field, *o.Value, limit)
			}
		}
	}
	required("body.title", p.Title, maxTitle)
	required("body.caseType", p.CaseType, 200)
	required("body.jurisdiction", p.Jurisdiction, 10)
	required("body.clientFirstName", p.ClientFirstName, maxName)
	required("body.clientLastName", p.ClientLastName, maxName)
	f.optional("body.description", p.Description.Value, maxDescription)
	f.optional("body.county", p.County.Value, maxCounty)
	f.email("body.clientEmail", p.ClientEmail.Value)
	f.optional("body.clientPhone", p.ClientPhone.Value, maxPhone)
	f.optional("body.notes", p.Notes.Value, maxNotes)
	f.optional("body.source", p.Source.Value, maxSource)
	f.tier("body.tier", p.Tier.Value)
	f.nonBlank("body.salesforceId", p.SalesforceID.Value, maxExternalID)
	f.optional("body.salesforceObjectType", p.SalesforceObjectType.Value, maxExternalID)
	f.optional("body.phase", p.Phase.Value, maxPhase)
	f.tier("body.ratedTier", p.RatedTier.Value)
	f.optional("body.ratingNotes", p.RatingNotes.Value, maxNotes)
	return f.err()
}

// UpdateCase changes fields of the case named by key. The referring firm may change every field
// but ratedTier and ratingNotes; the receiving firm of the current referral only phase,
// ratedTier and ratingNotes, and only once it has acknowledged. phase, ratedTier and ratingNotes
// are stored on the current referral. Errors: apperr.ErrValidation, apperr.ErrNotFound,
// apperr.ErrPermission (a field the caller may not change, named in the message),
// apperr.ErrInvalidTransition (the receiving firm has not acknowledged, or the current referral
// is rejected or withdrawn), apperr.ErrConflict (duplicate_sf_referral, or a concurrent change).
func (s *Service) UpdateCase(ctx context.Context, a auth.Actor, key string, p CasePatch) (CaseView, error) {
	if err := p.validate(); err != nil {
		return CaseView{}, err
	}
	return s.updateCase(ctx, a, key, p, false)
}

func (s *Service) updateCase(ctx context.Context, a auth.Actor, key string, p CasePatch, senderRoute bool) (CaseView, error) {
	return writeTx(ctx, s, func(q *db.Queries, o *outbox) (CaseView, error) {
		return s.updateCaseTx(ctx, q, o, a, key, p, senderRoute)
	})
}

func (s *Service) updateCaseTx(ctx context.Context, q *db.Queries, o *outbox, a auth.Actor, key string, p CasePatch, senderRoute bool) (CaseView, error) {
	actor, err := s.actorTx(ctx, q, a)
	if err != nil {
		return CaseView{}, err
	}
	caseID, err := resolveCaseTx(ctx, q, a.FirmID, key)
	if err != nil {
		return CaseView{}, err
	}
	l, err := s.loadCaseTx(ctx, q, caseID)
	if err != nil {
		return CaseView{}, err
	}
	v, err := s.caseView(a.FirmID, l)
	if err != nil {
		return CaseView{}, err
	}
	if senderRoute && v.Side != SideReferring {
		return CaseView{}, errReceiverOnSentRoute
	}
	for _, name := range p.setFields() {
		if v.Side == SideReceiving && !receiverCaseFields[name] {
			return CaseView{}, apperr.Permission(fmt.Sprintf("the receiving firm may not change %s", name))
		}
		if v.Side == SideReferring && senderOnlyDenied[name] {
			return CaseView{}, apperr.Permission(fmt.Sprintf("only the receiving firm may change %s", name))
		}
	}
	// Fields of the current referral.
	rp := ReferralPatch{Phase: p.Phase, RatedTier: p.RatedTier, RatingNotes: p.RatingNotes}
	if !rp.empty() {
		if v.Current == nil {
			return CaseView{}, apperr.Transition(`the case has no referral yet; phase, ratedTier and ratingNotes belong to its current referral`)
		}
		if err := checkReferralEditable(v.Side, *v.Current); err != nil {
			return CaseView{}, err
		}
		if err := updateReferralFieldsTx(ctx, q, actor, *v.Current, rp); err != nil {
			return CaseView{}, err
		}
	}
	if v.Side == SideReferring {
		if err := s.updateBaseCaseTx(ctx, q, a, l.c, p); err != nil {
			return CaseView{}, err
		}
	}
	if err := q.BaseCaseTouch(ctx, caseID); err != nil {
		return CaseView{}, fmt.Errorf("touch case: %w", err)
	}
	var current *uuid.UUID
	var previousTier *int
	if v.Current != nil {
		current, previousTier = &v.Current.ID, v.Current.RatedTier
	}
	l, err = s.loadCaseTx(ctx, q, caseID)
	if err != nil {
		return CaseView{}, err
	}
	if err := o.caseUpdatedTx(ctx, actor, l, referralAfter(l, current), p.setFields(), previousTier); err != nil {
		return CaseView{}, err
	}
	return s.caseView(a.FirmID, l)
}

// updateBaseCaseTx writes the case's own fields of p (the referring firm's).
func (s *Service) updateBaseCaseTx(ctx context.Context, q *db.Queries, a auth.Actor, c Case, p CasePatch) error {
	var f fieldChecker
	caseType, jurisdiction := "", ""
	if p.CaseType.Set {
		caseType = *p.CaseType.Value
	}
	if p.Jurisdiction.Set {
		jurisdiction = *p.Jurisdiction.Value
	}
	county := p.County.Value
	if !p.County.Set && p.Jurisdiction.Set {
		county = c.County // a new jurisdiction must still contain the county
	}
	if county != nil && jurisdiction == "" {
		jurisdiction = c.Jurisdiction
	}
	refs, err := s.resolveRefs(ctx, q, &f, caseType, jurisdiction, county)
	if err != nil {
		return err
	}
	if err := f.err(); err != nil {
		return err
	}
	params := db.BaseCaseUpdateParams{ID: c.ID}
	if p.Title.Set {
		params.SetTitle, params.Title = true, strings.TrimSpace(*p.Title.Value)
	}
	params.SetDescription, params.Description = p.Description.Set, p.Description.Value
	if p.CaseType.Set {
		params.SetCaseType, params.CaseTypeID = true, refs.caseTypeID
	}
	if p.Jurisdiction.Set {
		params.SetJurisdiction, params.JurisdictionCode = true, refs.jurisdiction
	}
	params.SetCounty, params.County = p.County.Set, ptr.Trim(p.County.Value)
	if p.ClientFirstName.Set {
		params.SetClientFirstName, params.ClientFirstName = true, strings.TrimSpace(*p.ClientFirstName.Value)
	}
	if p.ClientLastName.Set {
		params.SetClientLastName, params.ClientLastName = true, strings.TrimSpace(*p.ClientLastName.Value)
	}
	params.SetClientEmail, params.ClientEmail = p.ClientEmail.Set, ptr.Trim(p.ClientEmail.Value)
	params.SetClientPhone, params.ClientPhone = p.ClientPhone.Set, ptr.Trim(p.ClientPhone.Value)
	params.SetClientDateOfBirth, params.ClientDateOfBirth = p.ClientDateOfBirth.Set, toDate(p.ClientDateOfBirth.Value)
	params.SetIncidentDate, params.IncidentDate = p.IncidentDate.Set, toDate(p.IncidentDate.Value)
	params.SetNotes, params.Notes = p.Notes.Set, p.Notes.Value
	params.SetTier, params.Tier = p.Tier.Set, int32Ptr(p.Tier.Value)
	params.SetSource, params.Source = p.Source.Set, p.Source.Value
	params.SetSalesforceObjectType, params.SalesforceObjectType = p.SalesforceObjectType.Set, p.SalesforceObjectType.Value
	if p.SalesforceID.Set {
		params.SetSalesforceID, params.SalesforceID = true, ptr.Trim(p.SalesforceID.Value)
		if params.SalesforceID != nil {
			if err := checkSalesforceIDTx(ctx, q, a.FirmID, c.ID, *params.SalesforceID); err != nil {
				return err
			}
		}
	}
	if p.CaseType.Set || p.SetCustomFields {
		typeID := c.CaseTypeID
		if p.CaseType.Set {
			typeID = refs.caseTypeID
		}
		info, err := s.caseType(ctx, q, typeID)
		if err != nil {
			return err
		}
		stored := map[string]string{}
		for _, cf := range c.CustomFields {
			if cf.Value != nil {
				stored[cf.FieldID.String()] = *cf.Value
			}
		}
		stored = keepDefined(info.fields, stored)
		custom, err := applyCustomFields("body.customFields", info.fields, stored, p.CustomFields)
		if err != nil {
			return err
		}
		params.SetCustomFields, params.CustomFields = true, encodeCustomFields(custom)
	}
	if err := q.BaseCaseUpdate(ctx, params); err != nil {
		return fmt.Errorf("update case: %w", err)
	}
	return nil
}

// Limits of referral fields.
const (
	maxPhase        = 200
	maxLeadAttorney = 500
)

// ReferralPatch holds the working fields of a referral (PUT /referrals/{id}, PATCH
// /received-referrals/{id}).
type ReferralPatch struct {
	Notes                          Opt[string]
	Phase                          Opt[string]
	LeadAttorneyName               Opt[string]
	RatedTier                      Opt[int]
	RatingNotes                    Opt[string]
	SettlementAmount               Opt[float64]
	AttorneyFees                   Opt[float64]
	ProjectedSettlementAmount      Opt[float64]
	ClientFeeAgreementPercentage   Opt[float64]
	SendingFirmPercentage          Opt[float64]
	StatuteOfLimitationsExpiration Opt[time.Time]
	EstimatedDateOfResolution      Opt[time.Time]
	EstimatedDistributionDate      Opt[time.Time]
	IsRetainerSigned               Opt[bool]
	// Custom field values of the case (PATCH /received-referrals/{id} only).
	CustomFields    []CustomFieldInput
	SetCustomFields bool
}

func (p ReferralPatch) empty() bool {
	return !p.Notes.Set && !p.Phase.Set && !p.LeadAttorneyName.Set && !p.RatedTier.Set && !p.RatingNotes.Set &&
		!p.SettlementAmount.Set && !p.AttorneyFees.Set && !p.ProjectedSettlementAmount.Set &&
		!p.ClientFeeAgreementPercentage.Set && !p.SendingFirmPercentage.Set &&
		!p.StatuteOfLimitationsExpiration.Set && !p.EstimatedDateOfResolution.Set &&
		!p.EstimatedDistributionDate.Set && !p.IsRetainerSigned.Set && !p.SetCustomFields
}

func (p ReferralPatch) validate() error {
	var f fieldChecker
	if p.empty() {
		f.add("body", "at least one field is required")
	}
	f.optional("body.notes", p.Notes.Value, maxNotes)
	f.optional("body.phase", p.Phase.Value, maxPhase)
	f.optional("body.leadAttorneyName", p.LeadAttorneyName.Value, maxLeadAttorney)
	f.tier("body.ratedTier", p.RatedTier.Value)
	f.optional("body.ratingNotes", p.RatingNotes.Value, maxNotes)
	f.details = append(f.details, checkAmounts(map[string]*float64{
		"body.settlementAmount":          p.SettlementAmount.Value,
		"body.attorneyFees":              p.AttorneyFees.Value,
		"body.projectedSettlementAmount": p.ProjectedSettlementAmount.Value,
	})...)
	f.details = append(f.details, checkRange("body.clientFeeAgreementPercentage", p.ClientFeeAgreementPercentage.Value, 0, 1)...)
	f.details = append(f.details, checkRange("body.sendingFirmPercentage", p.SendingFirmPercentage.Value, 0, 100)...)
	if p.IsRetainerSigned.Set && p.IsRetainerSigned.Value == nil {
		f.add("body.isRetainerSigned", "cannot be null")
	}
	return f.err()
}

// checkReferralEditable applies the editing rules common to every referral update: nobody edits
// a rejected or withdrawn referral, and the receiving firm edits only after acknowledging.
func checkReferralEditable(side Side, r Referral) error {
	if r.Status == StatusRejected || r.Status == StatusWithdrawn {
		return apperr.Transition(fmt.Sprintf("a referral in status %q cannot be edited", r.Status))
	}
	if side == SideReceiving && r.AcknowledgedAt == nil {
		return apperr.Transition(fmt.Sprintf("acknowledge the referral before editing it (it is in status %q)", r.Status))
	}
	return nil
}

// PatchReceivedReferral changes receiving-firm fields of the referral sel names. Only the
// receiving firm may, once it acknowledged and while the referral is not rejected or withdrawn
// (a closed referral can still get its final figures). Errors: apperr.ErrValidation,
// apperr.ErrNotFound, apperr.ErrPermission (the caller's firm sent the referral),
// apperr.ErrInvalidTransition, apperr.ErrConflict (a concurrent change won).
func (s *Service) PatchReceivedReferral(ctx context.Context, a auth.Actor, sel Selector, p ReferralPatch) (ReferralView, error) {
	if err := p.validate(); err != nil {
		return ReferralView{}, err
	}
	sel.Receiving = true
	return s.updateReferral(ctx, a, sel, p)
}

// UpdateReferral changes the working fields of the referral sel names. notes belong to the
// receiving firm; every other field may be set by either firm. The receiving firm edits only
// after acknowledging; nobody edits a rejected or withdrawn referral. Errors: as
// PatchReceivedReferral, with apperr.ErrPermission for the referring firm setting notes.
func (s *Service) UpdateReferral(ctx context.Context, a auth.Actor, sel Selector, p ReferralPatch) (ReferralView, error) {
	if err := p.validate(); err != nil {
		return ReferralView{}, err
	}
	return s.updateReferral(ctx, a, sel, p)
}

func (s *Service) updateReferral(ctx context.Context, a auth.Actor, sel Selector, p ReferralPatch) (ReferralView, error) {
	return writeTx(ctx, s, func(q *db.Queries, o *outbox) (ReferralView, error) {
		return s.updateReferralTx(ctx, q, o, a, sel, p)
	})
}

func (s *Service) updateReferralTx(ctx context.Context, q *db.Queries, o *outbox, a auth.Actor, sel Selector, p ReferralPatch) (ReferralView, error) {
	actor, err := s.actorTx(ctx, q, a)
	if err != nil {
		return ReferralView{}, err
	}
	id, err := resolveReferralTx(ctx, q, a.FirmID, sel)
	if err != nil {
		return ReferralView{}, err
	}
	l, r, err := s.loadReferralTx(ctx, q, id)
	if err != nil {
		return ReferralView{}, err
	}
	side := SideOf(a.FirmID, l.c.OwnerFirmID, &r)
	if sel.Receiving && side == SideReferring {
		return ReferralView{}, errSenderOnReceivedRoute
	}
	if side == SideReferring && p.Notes.Set {
		return ReferralView{}, apperr.Permission("notes belong to the receiving firm; the referring firm may not change them")
	}
	if err := checkReferralEditable(side, r); err != nil {
		return ReferralView{}, err
	}
	if err := updateReferralFieldsTx(ctx, q, actor, r, p); err != nil {
		return ReferralView{}, err
	}
	if p.SetCustomFields {
		info, err := s.caseType(ctx, q, l.c.CaseTypeID)
		if err != nil {
			return ReferralView{}, err
		}
		stored := map[string]string{}
		for _, cf := range l.c.CustomFields {
			if cf.Value != nil {
				stored[cf.FieldID.String()] = *cf.Value
			}
		}
		custom, err := applyCustomFields("body.customFields", info.fields, stored, p.CustomFields)
		if err != nil {
			return ReferralView{}, err
		}
		if err := q.BaseCaseUpdate(ctx, db.BaseCaseUpdateParams{ID: l.c.ID, SetCustomFields: true, CustomFields: encodeCustomFields(custom)}); err != nil {
			return ReferralView{}, fmt.Errorf("update custom fields: %w", err)
		}
	}
	if err := q.BaseCaseTouch(ctx, l.c.ID); err != nil {
		return ReferralView{}, fmt.Errorf("touch case: %w", err)
	}
	previousTier := r.RatedTier
	l, r, err = s.loadReferralTx(ctx, q, r.ID)
	if err != nil {
		return ReferralView{}, err
	}
	if err := o.caseUpdatedTx(ctx, actor, l, &r, p.setFields(), previousTier); err != nil {
		return ReferralView{}, err
	}
	return referralView(a.FirmID, l, r)
}

// updateReferralFieldsTx writes p's referral fields, compare-and-set on r's status.
func updateReferralFieldsTx(ctx context.Context, q *db.Queries, actor actorInfo, r Referral, p ReferralPatch) error {
	params := db.ReferralUpdateFieldsParams{
		ID: r.ID, ExpectedStatus: string(r.Status), ActorUserID: actor.person, ActorKeyID: actor.KeyID,
		SetNotes: p.Notes.Set, Notes: p.Notes.Value,
		SetPhase: p.Phase.Set, Phase: p.Phase.Value,
		SetLeadAttorneyName: p.LeadAttorneyName.Set, LeadAttorneyName: p.LeadAttorneyName.Value,
		SetRatedTier: p.RatedTier.Set, RatedTier: int32Ptr(p.RatedTier.Value),
		SetRatingNotes: p.RatingNotes.Set, RatingNotes: p.RatingNotes.Value,
		SetSettlementAmount: p.SettlementAmount.Set, SettlementAmount: p.SettlementAmount.Value,
		SetAttorneyFees: p.AttorneyFees.Set, AttorneyFees: p.AttorneyFees.Value,
		SetProjectedSettlementAmount: p.ProjectedSettlementAmount.Set, ProjectedSettlementAmount: p.ProjectedSettlementAmount.Value,
		SetClientFeeAgreementPercentage: p.ClientFeeAgreementPercentage.Set,
		ClientFeeAgreementPercentage:    p.ClientFeeAgreementPercentage.Value,
		SetSendingFirmPercentage:        p.SendingFirmPercentage.Set, SendingFirmPercentage: p.SendingFirmPercentage.Value,
		SetStatuteOfLimitationsExpiration: p.StatuteOfLimitationsExpiration.Set,
		StatuteOfLimitationsExpiration:    toDate(p.StatuteOfLimitationsExpiration.Value),
		SetEstimatedDateOfResolution:      p.EstimatedDateOfResolution.Set,
		EstimatedDateOfResolution:         toDate(p.EstimatedDateOfResolution.Value),
		SetEstimatedDistributionDate:      p.EstimatedDistributionDate.Set,
		EstimatedDistributionDate:         toDate(p.EstimatedDistributionDate.Value),
	}
	if p.IsRetainerSigned.Set && p.IsRetainerSigned.Value != nil {
		params.SetIsRetainerSigned, params.IsRetainerSigned = true, *p.IsRetainerSigned.Value
	}
	_, err := q.ReferralUpdateFields(ctx, params)
	if errors.Is(err, pgx.ErrNoRows) {
		return lostRaceTx(ctx, q, r.ID)
	}
	if err != nil {
		return fmt.Errorf("update referral: %w", err)
	}
	return nil
}
