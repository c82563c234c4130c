package referrals

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/internal/webhooks"
)

// This file turns lifecycle changes into webhook events. Each write records its events
// in its own transaction through the outbox, from the unmasked case and referral as they are
// after the change; the webhooks package decides who receives them and masks what a receiving
// firm may not see yet.
//
// Status and note events carry the id of their status-update entry, so they are recorded right
// after writeStatusUpdateTx. That breaks the letter of "the entry is the last statement" but not
// its purpose: the feed's advisory lock is still held until the commit, and the rows written
// after it (deliveries and their jobs) are new rows, so no lock taken there can be waited for by
// a transaction queued on the feed lock.

// Webhooks records webhook events inside the caller's transaction (*webhooks.Service).
type Webhooks interface {
	EnqueueTx(ctx context.Context, tx pgx.Tx, ev webhooks.Event) error
	EnqueueManyTx(ctx context.Context, tx pgx.Tx, evs []webhooks.Event) error
}

// WithWebhooks makes the service record webhook events for case creation and updates, status
// changes and messages. Without it no webhook is sent.
func WithWebhooks(w Webhooks) Option { return func(s *Service) { s.webhooks = w } }

func (o *outbox) webhookTx(ctx context.Context, ev webhooks.Event) error {
	if o == nil || o.w == nil {
		return nil
	}
	if err := o.w.EnqueueTx(ctx, o.tx, ev); err != nil {
		return fmt.Errorf("record %s webhook: %w", ev.Type, err)
	}
	return nil
}

// webhooksTx records a batch of events (CreateCasesTx) with one lookup of their recipients.
func (o *outbox) webhooksTx(ctx context.Context, evs []webhooks.Event) error {
	if o == nil || o.w == nil || len(evs) == 0 {
		return nil
	}
	if err := o.w.EnqueueManyTx(ctx, o.tx, evs); err != nil {
		return fmt.Errorf("record %d %s webhooks: %w", len(evs), evs[0].Type, err)
	}
	return nil
}

// statusEventType is the event of a transition: one event per status change.
func statusEventType(action Action) webhooks.EventType {
	switch action {
	case ActionSend, ActionRefer:
		return webhooks.EventReferralSent
	case ActionAcknowledge:
		return webhooks.EventReferralAccepted
	case ActionReject:
		return webhooks.EventReferralRejected
	}
	return webhooks.EventCaseStatusChanged
}

// statusChangedTx records the event of referral r of l moving from from, written as entry su.
func (o *outbox) statusChangedTx(ctx context.Context, a actorInfo, action Action, l loaded, r Referral, from Status, su StatusUpdate) error {
	ev := eventOf(statusEventType(action), a, l.c, &r)
	prev := string(from)
	ev.StatusChange = &webhooks.StatusChangeData{
		StatusUpdateID: &su.ID, PreviousStatus: &prev, Status: string(r.Status),
		ClosingStatus: closingString(r.ClosingStatus), ClosureReason: r.ClosureReason, Message: su.Message,
		ChangedAt: su.CreatedAt, Case: snapshotOf(l.c, &r),
	}
	ev.OccurredAt = su.CreatedAt
	return o.webhookTx(ctx, ev)
}

// caseCreatedTx records case.created for the case of l (with its draft or sent first referral,
// if any).
func (o *outbox) caseCreatedTx(ctx context.Context, a actorInfo, l loaded) error {
	return o.webhookTx(ctx, caseCreatedEvent(a, l))
}

// caseCreatedEvent is the case.created event of the case of l.
func caseCreatedEvent(a actorInfo, l loaded) webhooks.Event {
	ev := eventOf(webhooks.EventCaseCreated, a, l.c, l.latest())
	snap := snapshotOf(l.c, l.latest())
	ev.Case = &snap
	return ev
}

// caseUpdatedTx records case.updated for the case of l seen through referral r (nil for a case
// never referred), and case.rated when the rating changed.
func (o *outbox) caseUpdatedTx(ctx context.Context, a actorInfo, l loaded, r *Referral, changed []string, previousTier *int) error {
	ev := eventOf(webhooks.EventCaseUpdated, a, l.c, r)
	snap := snapshotOf(l.c, r)
	ev.Case, ev.ChangedFields = &snap, changed
	if err := o.webhookTx(ctx, ev); err != nil {
		return err
	}
	rated := false
	for _, f := range changed {
		rated = rated || f == "ratedTier" || f == "ratingNotes"
	}
	if !rated || r == nil {
		return nil
	}
	ev = eventOf(webhooks.EventCaseRated, a, l.c, r)
	ev.Rating = &webhooks.CaseRatingData{
		RatedTier: r.RatedTier, PreviousRatedTier: previousTier, RatingNotes: r.RatingNotes, RatedAt: r.UpdatedAt, Case: snap,
	}
	return o.webhookTx(ctx, ev)
}

// noteCreatedTx records note.created for message entry su on referral r.
func (o *outbox) noteCreatedTx(ctx context.Context, a actorInfo, l loaded, r Referral, su StatusUpdate) error {
	ev := eventOf(webhooks.EventNoteCreated, a, l.c, &r)
	msg := ""
	if su.Message != nil {
		msg = *su.Message
	}
	ev.Note = &webhooks.NoteData{
		ID: su.ID, ReferralID: r.ID, BaseCaseID: l.c.ID, Message: msg, AuthorFirmID: su.ActorFirmID,
		AuthorName: su.PersonName(), Source: su.Source, CreatedAt: su.CreatedAt,
	}
	ev.OccurredAt = su.CreatedAt
	return o.webhookTx(ctx, ev)
}

// eventOf fills the parties and state of an event about case c and referral r (nil: none).
func eventOf(typ webhooks.EventType, a actorInfo, c Case, r *Referral) webhooks.Event {
	ev := webhooks.Event{
		Type:            typ,
		Actor:           webhooks.EventActor{Source: sourceOf(a.Actor)},
		BaseCaseID:      c.ID,
		ReferenceNumber: c.ReferenceNumber,
		ReferringFirm:   webhooks.Firm{ID: c.OwnerFirmID, Name: c.OwnerFirmName},
		IsTestCase:      c.IsTestCase,
		Status:          string(StatusDraft),
	}
	if a.kind != ActorSystem {
		firm := a.FirmID
		ev.Actor.FirmID = &firm
	}
	if r != nil {
		id := r.ID
		ev.ReferralID, ev.ReferenceNumber = &id, r.ReferenceNumber
		ev.Status, ev.Acknowledged = string(r.Status), r.AcknowledgedAt != nil
		ev.ReferringFirm = webhooks.Firm{ID: r.ReferringFirmID, Name: r.ReferringFirmName}
		if r.ReferentFirmID != nil {
			f := webhooks.Firm{ID: *r.ReferentFirmID}
			if r.ReferentFirmName != nil {
				f.Name = *r.ReferentFirmName
			}
			ev.ReferentFirm = &f
		}
	}
	return ev
}

// snapshotOf is the case snapshot of c seen through referral r (nil: the case alone). It never
// carries the tier, source or custom field values.
func snapshotOf(c Case, r *Referral) webhooks.CaseSnapshot {
	s := webhooks.CaseSnapshot{
		ID: c.ID, BaseCaseID: c.ID, ReferenceNumber: c.ReferenceNumber, CMSID: c.CMSID(),
		SalesforceID: c.SalesforceID, SalesforceObjectType: c.SalesforceObjectType, Title: c.Title,
		Description: c.Description, Status: string(StatusDraft), CaseType: c.CaseType, Jurisdiction: c.Jurisdiction,
		County: c.County, ClientFirstName: c.ClientFirstName, ClientLastName: c.ClientLastName,
		ClientEmail: c.ClientEmail, ClientPhone: c.ClientPhone, ClientDateOfBirth: webhooks.DateOf(c.ClientDateOfBirth),
		IncidentDate: webhooks.DateOf(c.IncidentDate), Notes: c.Notes, IsRetainerSigned: c.IsRetainerSigned,
		ReferringFirmID: c.OwnerFirmID, ReferringFirmName: c.OwnerFirmName, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if r == nil {
		return s
	}
	seq := r.SequenceNumber
	s.ID, s.ReferenceNumber, s.SequenceNumber = r.ID, r.ReferenceNumber, &seq
	s.Status, s.ClosingStatus, s.ClosureReason = string(r.Status), closingString(r.ClosingStatus), r.ClosureReason
	s.RatedTier, s.RatingNotes, s.Phase, s.LeadAttorneyName = r.RatedTier, r.RatingNotes, r.Phase, r.LeadAttorneyName
	s.SettlementAmount, s.AttorneyFees, s.ProjectedSettlementAmount = r.SettlementAmount, r.AttorneyFees, r.ProjectedSettlementAmount
	s.ClientFeeAgreementPercentage, s.SendingFirmPercentage = r.ClientFeeAgreementPercentage, r.SendingFirmPercentage
	s.StatuteOfLimitationsExpiration = webhooks.DateOf(r.StatuteOfLimitationsExpiration)
	s.EstimatedDateOfResolution = webhooks.DateOf(r.EstimatedDateOfResolution)
	s.EstimatedDistributionDate = webhooks.DateOf(r.EstimatedDistributionDate)
	s.IsRetainerSigned = r.IsRetainerSigned
	s.ReferringFirmID, s.ReferringFirmName = r.ReferringFirmID, r.ReferringFirmName
	s.ReferentFirmID, s.ReferentFirmName = r.ReferentFirmID, r.ReferentFirmName
	s.SentDate, s.AcknowledgedAt = r.SentAt, r.AcknowledgedAt
	if r.UpdatedAt.After(s.UpdatedAt) {
		s.UpdatedAt = r.UpdatedAt
	}
	return s
}

func closingString(c *ClosingStatus) *string {
	if c == nil {
		return nil
	}
	s := string(*c)
	return &s
}

// setFields lists the body fields of p that are present, in a stable order.
func (p ReferralPatch) setFields() []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(p.Notes.Set, "notes")
	add(p.Phase.Set, "phase")
	add(p.LeadAttorneyName.Set, "leadAttorneyName")
	add(p.RatedTier.Set, "ratedTier")
	add(p.RatingNotes.Set, "ratingNotes")
	add(p.SettlementAmount.Set, "settlementAmount")
	add(p.AttorneyFees.Set, "attorneyFees")
	add(p.ProjectedSettlementAmount.Set, "projectedSettlementAmount")
	add(p.ClientFeeAgreementPercentage.Set, "clientFeeAgreementPercentage")
	add(p.SendingFirmPercentage.Set, "sendingFirmPercentage")
	add(p.StatuteOfLimitationsExpiration.Set, "statuteOfLimitationsExpiration")
	add(p.EstimatedDateOfResolution.Set, "estimatedDateOfResolution")
	add(p.EstimatedDistributionDate.Set, "estimatedDistributionDate")
	add(p.IsRetainerSigned.Set, "isRetainerSigned")
	add(p.SetCustomFields, "customFields")
	return out
}

// referralAfter returns the referral id of l as it is after a reload (nil when id is nil or
// gone).
func referralAfter(l loaded, id *uuid.UUID) *Referral {
	if id == nil {
		return nil
	}
	r, ok := l.referral(*id)
	if !ok {
		return nil
	}
	return &r
}
