package fees

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/webhooks"
)

// The fee events are recorded in the transaction of the change and delivered to both
// firms of the referral. Their data is one of two shapes, FeeAgreementEventData and
// FeeLedgerEventData in the spec.

type agreementEventData struct {
	ReferralID                  uuid.UUID            `json:"referralId"`
	Version                     int                  `json:"version"`
	VersionID                   uuid.UUID            `json:"versionId"`
	Basis                       string               `json:"basis"`
	ShareKind                   string               `json:"shareKind"`
	ReferringFirmShare          string               `json:"referringFirmShare"`
	ReceivingFirmShare          string               `json:"receivingFirmShare"`
	ClientContingencyPercentage string               `json:"clientContingencyPercentage"`
	ProposedByFirmID            uuid.UUID            `json:"proposedByFirmId"`
	ProposedAt                  time.Time            `json:"proposedAt"`
	AcceptedByFirmID            *uuid.UUID           `json:"acceptedByFirmId"`
	AcceptedAt                  *time.Time           `json:"acceptedAt"`
	ComplianceStatus            string               `json:"complianceStatus"`
	Profile                     string               `json:"profile"`
	Consent                     *consentEventPayload `json:"consent,omitempty"`
}

type consentEventPayload struct {
	ID          uuid.UUID     `json:"id"`
	ConsentedOn webhooks.Date `json:"consentedOn"`
	Method      string        `json:"method"`
	SignerName  string        `json:"signerName"`
	DocumentID  *uuid.UUID    `json:"documentId"`
	RecordedBy  uuid.UUID     `json:"recordedByFirmId"`
}

type ledgerEventData struct {
	EntryID           uuid.UUID            `json:"entryId"`
	ReferralID        uuid.UUID            `json:"referralId"`
	Status            string               `json:"status"`
	AttorneyFees      string               `json:"attorneyFees"`
	AmountDue         *string              `json:"amountDue"`
	AmountPaid        string               `json:"amountPaid"`
	AmountOutstanding *string              `json:"amountOutstanding"`
	DueDate           *webhooks.Date       `json:"dueDate"`
	Payment           *paymentEventPayload `json:"payment,omitempty"`
}

type paymentEventPayload struct {
	ID        uuid.UUID     `json:"id"`
	Amount    string        `json:"amount"`
	PaidOn    webhooks.Date `json:"paidOn"`
	Method    string        `json:"method"`
	Reference *string       `json:"reference"`
}

// ShareString writes a share of terms t: a percentage ("33.33") or an amount ("1500.00").
func ShareString(_ string, v int64) string { return FormatCents(v) } // both are kept in hundredths

func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, typ webhooks.EventType, actorFirm *uuid.UUID, r Referral, data any) error {
	if s.hooks == nil {
		return nil
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	ev := webhooks.Event{
		Type: typ, Actor: webhooks.EventActor{FirmID: actorFirm, Source: "api"},
		ReferralID: &r.ID, BaseCaseID: r.BaseCaseID, ReferenceNumber: r.ReferenceNumber,
		ReferringFirm: webhooks.Firm{ID: r.ReferringFirmID, Name: r.ReferringFirmName},
		IsTestCase:    r.IsTestCase, Status: r.Status, Acknowledged: true, Fee: raw,
	}
	if actorFirm == nil {
		ev.Actor.Source = "system"
	}
	if r.ReceivingFirmID != nil {
		ev.ReferentFirm = &webhooks.Firm{ID: *r.ReceivingFirmID, Name: r.ReceivingFirmName}
	}
	if err := s.hooks.EnqueueTx(ctx, tx, ev); err != nil {
		return fmt.Errorf("record %s webhook: %w", typ, err)
	}
	return nil
}

// agreementEventTx records a fee_agreement.* or fee_consent.recorded event about version v of ag.
func (s *Service) agreementEventTx(ctx context.Context, tx pgx.Tx, typ webhooks.EventType, a auth.Actor, ag Agreement, v Version, c *Consent) error {
	// v as it is now (accepted or not).
	for _, cur := range ag.Versions {
		if cur.ID == v.ID {
			v = cur
		}
	}
	d := agreementEventData{
		ReferralID: ag.Referral.ID, Version: v.Version, VersionID: v.ID, Basis: v.Terms.Basis, ShareKind: v.Terms.ShareKind,
		ReferringFirmShare: ShareString(v.Terms.ShareKind, v.Terms.ReferringShare), ReceivingFirmShare: ShareString(v.Terms.ShareKind, v.Terms.ReceivingShare),
		ClientContingencyPercentage: FormatCents(v.Terms.ClientContingencyBP), ProposedByFirmID: v.ProposedByFirmID, ProposedAt: v.ProposedAt,
		AcceptedByFirmID: v.AcceptedByFirmID, AcceptedAt: v.AcceptedAt, ComplianceStatus: ag.Compliance.Status, Profile: ag.Profile.Code,
	}
	if c != nil {
		d.Consent = &consentEventPayload{ID: c.ID, ConsentedOn: webhooks.Date(c.ConsentedOn), Method: c.Method, SignerName: c.SignerName,
			DocumentID: c.DocumentID, RecordedBy: c.RecordedByFirmID}
	}
	firm := a.FirmID
	return s.enqueue(ctx, tx, typ, &firm, ag.Referral, d)
}

// entryEventTx records a fee.* event about entry e (p: the payment of fee.payment_recorded).
func (s *Service) entryEventTx(ctx context.Context, tx pgx.Tx, typ webhooks.EventType, actorFirm *uuid.UUID, r Referral, e Entry, p *Payment) error {
	d := ledgerEventData{
		EntryID: e.ID, ReferralID: e.ReferralID, Status: e.Status, AttorneyFees: FormatCents(e.AttorneyFeesCents),
		AmountPaid: FormatCents(e.PaidCents), DueDate: webhooks.DateOf(e.DueDate),
	}
	if e.AmountDueCents != nil {
		a := FormatCents(*e.AmountDueCents)
		d.AmountDue = &a
	}
	if o := e.OutstandingCents(); o != nil {
		s := FormatCents(*o)
		d.AmountOutstanding = &s
	}
	if p == nil && typ == webhooks.EventFeePaymentRecorded && len(e.Payments) > 0 {
		last := e.Payments[len(e.Payments)-1]
		p = &last
	}
	if p != nil {
		d.Payment = &paymentEventPayload{ID: p.ID, Amount: FormatCents(p.AmountCents), PaidOn: webhooks.Date(p.PaidOn), Method: p.Method, Reference: p.Reference}
	}
	return s.enqueue(ctx, tx, typ, actorFirm, r, d)
}
