package webhooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/lifecycle"
)

// EventType names the kind of fact an event reports.
type EventType string

// Event types. EventWebhookTest is only ever sent by a test delivery.
const (
	EventCaseCreated       EventType = "case.created"
	EventCaseUpdated       EventType = "case.updated"
	EventCaseDeleted       EventType = "case.deleted"
	EventCaseStatusChanged EventType = "case.status_changed"
	EventCaseRated         EventType = "case.rated"
	EventReferralSent      EventType = "referral.sent"
	EventReferralReceived  EventType = "referral.received"
	EventReferralAccepted  EventType = "referral.accepted"
	EventReferralRejected  EventType = "referral.rejected"
	EventNoteCreated       EventType = "note.created"
	EventNoteUpdated       EventType = "note.updated"
	EventDocumentUploaded  EventType = "document.uploaded"
	EventDocumentDeleted   EventType = "document.deleted"
	EventWebhookTest       EventType = "webhook.test"

	// Fee events, delivered to both firms of the referral. Their data is encoded by
	// internal/fees (Event.Fee).
	EventFeeAgreementProposed EventType = "fee_agreement.proposed"
	EventFeeAgreementAccepted EventType = "fee_agreement.accepted"
	EventFeeAgreementAmended  EventType = "fee_agreement.amended"
	EventFeeConsentRecorded   EventType = "fee_consent.recorded"
	EventFeeDue               EventType = "fee.due"
	EventFeePaymentRecorded   EventType = "fee.payment_recorded"
	EventFeePaid              EventType = "fee.paid"
)

// EventTypes lists the event types a subscription can filter on.
var EventTypes = []EventType{
	EventCaseCreated, EventCaseUpdated, EventCaseDeleted, EventCaseStatusChanged, EventCaseRated,
	EventReferralSent, EventReferralReceived, EventReferralAccepted, EventReferralRejected,
	EventNoteCreated, EventNoteUpdated, EventDocumentUploaded, EventDocumentDeleted,
	EventFeeAgreementProposed, EventFeeAgreementAccepted, EventFeeAgreementAmended, EventFeeConsentRecorded,
	EventFeeDue, EventFeePaymentRecorded, EventFeePaid,
}

// IsFee reports whether t is one of the fee events, which both firms of a referral receive.
func (t EventType) IsFee() bool {
	switch t {
	case EventFeeAgreementProposed, EventFeeAgreementAccepted, EventFeeAgreementAmended, EventFeeConsentRecorded,
		EventFeeDue, EventFeePaymentRecorded, EventFeePaid:
		return true
	}
	return false
}

// Valid reports whether t is one of EventTypes.
func (t EventType) Valid() bool {
	for _, e := range EventTypes {
		if t == e {
			return true
		}
	}
	return false
}

// Perspectives of an envelope.
const (
	PerspectiveSent     = "sent"
	PerspectiveReceived = "received"
)

// SchemaVersion is the version of the envelope layout.
const SchemaVersion = 1

// Firm names a firm in an envelope.
type Firm struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// EventActor is who caused an event, as the envelope publishes it: the firm (nil for the system)
// and the source. It is the public view of the auth.Actor behind the event: which key or user
// acted is not part of a webhook.
type EventActor struct {
	FirmID *uuid.UUID `json:"firmId"` // nil for the system
	Source string     `json:"source"` // api, manual, system, or an integration's name
}

// Date is a calendar date, written as YYYY-MM-DD.
type Date time.Time

// MarshalJSON writes the date.
func (d Date) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(d).Format(time.DateOnly))
}

// DateOf converts a time to a *Date (nil stays nil).
func DateOf(t *time.Time) *Date {
	if t == nil {
		return nil
	}
	d := Date(*t)
	return &d
}

// Event is one fact to deliver, as the domain that caused it describes it: who the parties are,
// where the referral stands, and the data of its type (unmasked). EnqueueTx decides who receives
// it and what each recipient may see.
//
// Exactly one data field is set, by Type: Case for case.created and case.updated, StatusChange
// for case.status_changed and the referral events, CaseTombstone for case.deleted, Rating for
// case.rated, Note for note.*, Document for document.uploaded, DocumentTombstone for
// document.deleted. For a referral being sent use EventReferralSent: its receiving firm gets it
// as EventReferralReceived.
type Event struct {
	Type       EventType
	ID         uuid.UUID // zero: a new id
	OccurredAt time.Time // zero: now
	Actor      EventActor

	ReferralID      *uuid.UUID // nil for a case never referred
	BaseCaseID      uuid.UUID
	ReferenceNumber string
	ReferringFirm   Firm
	ReferentFirm    *Firm // nil for a case never referred
	IsTestCase      bool
	// Status is the referral's status after the change ("draft" for a case never referred) and
	// Acknowledged whether its receiving firm has acknowledged it.
	Status       string
	Acknowledged bool
	// ChangedFields lists the changed fields of case.updated and note.updated.
	ChangedFields []string

	Case              *CaseSnapshot
	StatusChange      *StatusChangeData
	CaseTombstone     *CaseTombstone
	Rating            *CaseRatingData
	Note              *NoteData
	Document          *DocumentData
	DocumentTombstone *DocumentTombstone
	// Fee is the data of the fee events, encoded by internal/fees (FeeAgreementEventData or
	// FeeLedgerEventData of the spec). It carries no client details beyond the consent's signer.
	Fee json.RawMessage

	// SkipReferringFirm leaves the referring firm out of the recipients. A fact recorded as
	// several events sharing one id (one per receiving firm) sets it on all copies but one, so
	// that the referring firm is told once.
	SkipReferringFirm bool
}

// CaseSnapshot is a case and its referral right after a change, with the field names of the
// API's case views. The referring firm's tier, source and custom field values are left out by
// construction.
type CaseSnapshot struct {
	ID                             uuid.UUID  `json:"id"`
	BaseCaseID                     uuid.UUID  `json:"baseCaseId"`
	ReferenceNumber                string     `json:"referenceNumber"`
	SequenceNumber                 *int       `json:"sequenceNumber"`
	CMSID                          *string    `json:"cmsId"`
	SalesforceID                   *string    `json:"salesforceId"`
	SalesforceObjectType           *string    `json:"salesforceObjectType"`
	Title                          string     `json:"title"`
	Description                    *string    `json:"description"`
	Status                         string     `json:"status"`
	ClosingStatus                  *string    `json:"closingStatus"`
	ClosureReason                  *string    `json:"closureReason"`
	CaseType                       string     `json:"caseType"`
	Jurisdiction                   string     `json:"jurisdiction"`
	County                         *string    `json:"county"`
	ClientFirstName                *string    `json:"clientFirstName"`
	ClientLastName                 *string    `json:"clientLastName"`
	ClientEmail                    *string    `json:"clientEmail"`
	ClientPhone                    *string    `json:"clientPhone"`
	ClientDateOfBirth              *Date      `json:"clientDateOfBirth"`
	IncidentDate                   *Date      `json:"incidentDate"`
	Notes                          *string    `json:"notes"`
	RatedTier                      *int       `json:"ratedTier"`
	RatingNotes                    *string    `json:"ratingNotes"`
	Phase                          *string    `json:"phase"`
	LeadAttorneyName               *string    `json:"leadAttorneyName"`
	SettlementAmount               *float64   `json:"settlementAmount"`
	AttorneyFees                   *float64   `json:"attorneyFees"`
	ProjectedSettlementAmount      *float64   `json:"projectedSettlementAmount"`
	ClientFeeAgreementPercentage   *float64   `json:"clientFeeAgreementPercentage"`
	SendingFirmPercentage          *float64   `json:"sendingFirmPercentage"`
	StatuteOfLimitationsExpiration *Date      `json:"statuteOfLimitationsExpiration"`
	EstimatedDateOfResolution      *Date      `json:"estimatedDateOfResolution"`
	EstimatedDistributionDate      *Date      `json:"estimatedDistributionDate"`
	IsRetainerSigned               bool       `json:"isRetainerSigned"`
	ReferringFirmID                uuid.UUID  `json:"referringFirmId"`
	ReferringFirmName              string     `json:"referringFirmName"`
	ReferentFirmID                 *uuid.UUID `json:"referentFirmId"`
	ReferentFirmName               *string    `json:"referentFirmName"`
	SentDate                       *time.Time `json:"sentDate"`
	AcknowledgedAt                 *time.Time `json:"acknowledgedAt"`
	CreatedAt                      time.Time  `json:"createdAt"`
	UpdatedAt                      time.Time  `json:"updatedAt"`
}

// MaskedCaseSnapshot is what a receiving firm gets instead of a CaseSnapshot while it is masked
// (before acknowledging the referral, and again once it is rejected or withdrawn): these 14
// fields and no others.
type MaskedCaseSnapshot struct {
	ID               uuid.UUID  `json:"id"`
	BaseCaseID       uuid.UUID  `json:"baseCaseId"`
	ReferenceNumber  string     `json:"referenceNumber"`
	Status           string     `json:"status"`
	ClosingStatus    *string    `json:"closingStatus"`
	ReferringFirmID  uuid.UUID  `json:"referringFirmId"`
	ReferentFirmID   *uuid.UUID `json:"referentFirmId"`
	CaseType         string     `json:"caseType"`
	Jurisdiction     string     `json:"jurisdiction"`
	County           *string    `json:"county"`
	SentDate         *time.Time `json:"sentDate"`
	IsRetainerSigned bool       `json:"isRetainerSigned"`
	CreatedAt        time.Time  `json:"createdAt"`
	UpdatedAt        time.Time  `json:"updatedAt"`
}

// forReceiver returns c without the sending firm's record ids in its own systems.
func (c CaseSnapshot) forReceiver() CaseSnapshot {
	c.CMSID, c.SalesforceID, c.SalesforceObjectType = nil, nil, nil
	return c
}

// withoutExternalIDs returns event data as a receiving firm gets it unmasked: every case
// snapshot in it without the sender's record ids. Data without a snapshot is returned as is.
func withoutExternalIDs(data any) any {
	switch d := data.(type) {
	case *CaseSnapshot:
		c := d.forReceiver()
		return &c
	case *StatusChangeData:
		c := *d
		c.Case = d.Case.forReceiver()
		return &c
	case *CaseRatingData:
		c := *d
		c.Case = d.Case.forReceiver()
		return &c
	}
	return data
}

// Masked returns the masked form of c.
func (c CaseSnapshot) Masked() MaskedCaseSnapshot {
	return MaskedCaseSnapshot{
		ID: c.ID, BaseCaseID: c.BaseCaseID, ReferenceNumber: c.ReferenceNumber, Status: c.Status,
		ClosingStatus: c.ClosingStatus, ReferringFirmID: c.ReferringFirmID, ReferentFirmID: c.ReferentFirmID,
		CaseType: c.CaseType, Jurisdiction: c.Jurisdiction, County: c.County, SentDate: c.SentDate,
		IsRetainerSigned: c.IsRetainerSigned, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// StatusChangeData is the data of status events.
type StatusChangeData struct {
	StatusUpdateID *uuid.UUID   `json:"statusUpdateId"`
	PreviousStatus *string      `json:"previousStatus"`
	Status         string       `json:"status"`
	ClosingStatus  *string      `json:"closingStatus"`
	ClosureReason  *string      `json:"closureReason"`
	Message        *string      `json:"message"`
	ChangedAt      time.Time    `json:"changedAt"`
	Case           CaseSnapshot `json:"case"`
}

// maskedStatusChangeData is StatusChangeData for a masked receiving firm.
type maskedStatusChangeData struct {
	StatusUpdateID *uuid.UUID         `json:"statusUpdateId"`
	PreviousStatus *string            `json:"previousStatus"`
	Status         string             `json:"status"`
	ClosingStatus  *string            `json:"closingStatus"`
	ClosureReason  *string            `json:"closureReason"` // always null
	Message        *string            `json:"message"`       // always null
	ChangedAt      time.Time          `json:"changedAt"`
	Case           MaskedCaseSnapshot `json:"case"`
}

func (d StatusChangeData) masked() maskedStatusChangeData {
	return maskedStatusChangeData{
		StatusUpdateID: d.StatusUpdateID, PreviousStatus: d.PreviousStatus, Status: d.Status,
		ClosingStatus: d.ClosingStatus, ChangedAt: d.ChangedAt, Case: d.Case.Masked(),
	}
}

// CaseTombstone is the data of case.deleted.
type CaseTombstone struct {
	ID              uuid.UUID `json:"id"`
	BaseCaseID      uuid.UUID `json:"baseCaseId"`
	ReferenceNumber string    `json:"referenceNumber"`
	DeletedAt       time.Time `json:"deletedAt"`
}

// CaseRatingData is the data of case.rated.
type CaseRatingData struct {
	RatedTier         *int         `json:"ratedTier"`
	PreviousRatedTier *int         `json:"previousRatedTier"`
	RatingNotes       *string      `json:"ratingNotes"`
	RatedAt           time.Time    `json:"ratedAt"`
	Case              CaseSnapshot `json:"case"`
}

// NoteData is the data of note events: a message written on a referral.
type NoteData struct {
	ID           uuid.UUID  `json:"id"`
	ReferralID   uuid.UUID  `json:"referralId"`
	BaseCaseID   uuid.UUID  `json:"baseCaseId"`
	Message      string     `json:"message"`
	AuthorFirmID *uuid.UUID `json:"authorFirmId"`
	AuthorName   *string    `json:"authorName"`
	Source       string     `json:"source"`
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    *time.Time `json:"updatedAt"`
}

// DocumentData is the data of document.uploaded.
type DocumentData struct {
	ID               uuid.UUID `json:"id"`
	CaseID           uuid.UUID `json:"caseId"`
	FileName         string    `json:"fileName"`
	MimeType         string    `json:"mimeType"`
	SizeBytes        int64     `json:"sizeBytes"`
	Description      *string   `json:"description"`
	IsPublic         bool      `json:"isPublic"`
	UploadedByFirmID uuid.UUID `json:"uploadedByFirmId"`
	CreatedAt        time.Time `json:"createdAt"`
}

// DocumentTombstone is the data of document.deleted. IsPublic and UploadedByFirmID decide who
// may hear of it and are not sent.
type DocumentTombstone struct {
	ID               uuid.UUID `json:"id"`
	CaseID           uuid.UUID `json:"caseId"`
	FileName         string    `json:"fileName"`
	DeletedAt        time.Time `json:"deletedAt"`
	IsPublic         bool      `json:"-"`
	UploadedByFirmID uuid.UUID `json:"-"`
}

// data returns the data field of ev's type, or an error when it is missing.
func (ev Event) data() (any, error) {
	var d any
	switch ev.Type {
	case EventCaseCreated, EventCaseUpdated:
		if ev.Case != nil {
			d = ev.Case
		}
	case EventCaseStatusChanged, EventReferralSent, EventReferralAccepted, EventReferralRejected:
		if ev.StatusChange != nil {
			d = ev.StatusChange
		}
	case EventCaseDeleted:
		if ev.CaseTombstone != nil {
			d = ev.CaseTombstone
		}
	case EventCaseRated:
		if ev.Rating != nil {
			d = ev.Rating
		}
	case EventNoteCreated, EventNoteUpdated:
		if ev.Note != nil {
			d = ev.Note
		}
	case EventDocumentUploaded:
		if ev.Document != nil {
			d = ev.Document
		}
	case EventDocumentDeleted:
		if ev.DocumentTombstone != nil {
			d = ev.DocumentTombstone
		}
	default:
		if !ev.Type.IsFee() {
			return nil, fmt.Errorf("webhooks: event type %q cannot be enqueued", ev.Type)
		}
		if len(ev.Fee) > 0 {
			d = ev.Fee
		}
	}
	if d == nil {
		return nil, fmt.Errorf("webhooks: %s event without its data", ev.Type)
	}
	return d, nil
}

// Recipient is one firm an event goes to, and how it sees it.
type Recipient struct {
	FirmID      uuid.UUID
	Type        EventType // the type as this firm receives it
	Perspective string
	Masked      bool
}

// workingStatuses are those in which an acknowledged receiving firm hears of case changes, notes
// and documents (documents stop at closed).
var workingStatuses = func() map[string]bool {
	m := map[string]bool{}
	for _, st := range lifecycle.Followed {
		m[st] = true
	}
	return m
}()

// Recipients applies the recipient and masking rules to ev:
//
//   - the referring firm receives every event of its cases, unmasked;
//   - the receiving firm of the referral receives its status events (referral.received for
//     referral.sent, referral.accepted, referral.rejected, case.status_changed), masked until it
//     has acknowledged the referral and again once the referral is rejected or withdrawn;
//   - the receiving firm never gets the sender's record ids (cmsId, salesforceId,
//     salesforceObjectType are null in its unmasked snapshots);
//   - once it has acknowledged, and while the referral is in a working status (under_evaluation
//     to closed), it also receives case.updated, the referring firm's notes, and documents it
//     may see, the latter only until the referral is closed;
//   - document events reach only firms that may see the document (their own uploads and the
//     partner's public ones);
//   - case.created, case.deleted and case.rated go to the referring firm only;
//   - the fee events (fee_agreement.*, fee_consent.recorded, fee.*) go to both firms, unmasked;
//   - an event with SkipReferringFirm set does not go to the referring firm.
func Recipients(ev Event) []Recipient {
	sender := ev.ReferringFirm.ID
	var out []Recipient
	if ev.Type != EventReferralReceived && !ev.SkipReferringFirm && visibleTo(ev, sender) {
		out = append(out, Recipient{FirmID: sender, Type: ev.Type, Perspective: PerspectiveSent})
	}
	if ev.ReferentFirm == nil || ev.ReferentFirm.ID == sender || ev.Status == "draft" || ev.Status == "" {
		return out
	}
	recv := Recipient{FirmID: ev.ReferentFirm.ID, Type: ev.Type, Perspective: PerspectiveReceived}
	working := ev.Acknowledged && workingStatuses[ev.Status]
	// The receiver's masking rule of internal/referrals: masked until it acknowledged, and again
	// once the referral is rejected or withdrawn (the event's status is the one after it).
	masked := !ev.Acknowledged || ev.Status == "rejected" || ev.Status == "withdrawn"
	switch ev.Type {
	case EventReferralSent, EventReferralReceived:
		recv.Type, recv.Masked = EventReferralReceived, masked
	case EventReferralAccepted, EventReferralRejected, EventCaseStatusChanged:
		recv.Masked = masked
	case EventCaseUpdated:
		if !working {
			return out
		}
	case EventNoteCreated, EventNoteUpdated:
		if !working || ev.Note == nil || (ev.Note.AuthorFirmID != nil && *ev.Note.AuthorFirmID == recv.FirmID) {
			return out
		}
	case EventDocumentUploaded, EventDocumentDeleted:
		if !working || ev.Status == "closed" || !visibleTo(ev, recv.FirmID) {
			return out
		}
	case EventFeeAgreementProposed, EventFeeAgreementAccepted, EventFeeAgreementAmended, EventFeeConsentRecorded,
		EventFeeDue, EventFeePaymentRecorded, EventFeePaid:
		// Both firms are parties to the fee agreement; its data holds no case details to mask.
	default:
		return out
	}
	return append(out, recv)
}

// visibleTo reports whether firm may see the document of a document event (always true for
// other events).
func visibleTo(ev Event, firm uuid.UUID) bool {
	switch {
	case ev.Type == EventDocumentUploaded && ev.Document != nil:
		return ev.Document.IsPublic || ev.Document.UploadedByFirmID == firm
	case ev.Type == EventDocumentDeleted && ev.DocumentTombstone != nil:
		return ev.DocumentTombstone.IsPublic || ev.DocumentTombstone.UploadedByFirmID == firm
	}
	return true
}

// envelope is the body of every event delivery. Field order is the wire order.
type envelope struct {
	SchemaVersion   int        `json:"schemaVersion"`
	Event           EventType  `json:"event"`
	EventID         uuid.UUID  `json:"eventId"`
	OccurredAt      time.Time  `json:"occurredAt"`
	Perspective     string     `json:"perspective"`
	PIIMasked       bool       `json:"piiMasked"`
	RecipientFirmID uuid.UUID  `json:"recipientFirmId"`
	ReferralID      *uuid.UUID `json:"referralId"`
	BaseCaseID      uuid.UUID  `json:"baseCaseId"`
	ReferenceNumber string     `json:"referenceNumber"`
	ReferringFirm   Firm       `json:"referringFirm"`
	ReferentFirm    *Firm      `json:"referentFirm"`
	IsTestCase      bool       `json:"isTestCase"`
	Actor           EventActor `json:"actor"`
	ChangedFields   *[]string  `json:"changedFields,omitempty"`
	Data            any        `json:"data"`
}

// Payload returns the exact body ev is delivered with to r.
func Payload(ev Event, r Recipient) ([]byte, error) {
	data, err := ev.data()
	if err != nil {
		return nil, err
	}
	if r.Masked {
		switch d := data.(type) {
		case *StatusChangeData:
			data = d.masked()
		default:
			// Only status events are ever sent masked; anything else is withheld instead.
			return nil, fmt.Errorf("webhooks: %s cannot be sent masked", ev.Type)
		}
	} else if r.Perspective == PerspectiveReceived {
		data = withoutExternalIDs(data)
	}
	env := envelope{
		SchemaVersion: SchemaVersion, Event: r.Type, EventID: ev.ID, OccurredAt: ev.OccurredAt.UTC(),
		Perspective: r.Perspective, PIIMasked: r.Masked, RecipientFirmID: r.FirmID,
		ReferralID: ev.ReferralID, BaseCaseID: ev.BaseCaseID, ReferenceNumber: ev.ReferenceNumber,
		ReferringFirm: ev.ReferringFirm, ReferentFirm: ev.ReferentFirm, IsTestCase: ev.IsTestCase,
		Actor: ev.Actor, Data: data,
	}
	if env.Actor.Source == "" {
		env.Actor.Source = "api"
	}
	if r.Type == EventCaseUpdated || r.Type == EventNoteUpdated {
		cf := ev.ChangedFields
		if cf == nil {
			cf = []string{}
		}
		env.ChangedFields = &cf
	}
	return marshal(env)
}

// marshal encodes v compactly, without escaping HTML characters (the bytes are signed and
// compared, not embedded in pages).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// testPayload is the fixed body of a test delivery.
func testPayload(subscription uuid.UUID, at time.Time) ([]byte, error) {
	return marshal(struct {
		Event     EventType `json:"event"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			Message        string    `json:"message"`
			SubscriptionID uuid.UUID `json:"subscriptionId"`
		} `json:"data"`
	}{
		Event:     EventWebhookTest,
		Timestamp: at.UTC(),
		Data: struct {
			Message        string    `json:"message"`
			SubscriptionID uuid.UUID `json:"subscriptionId"`
		}{Message: "This is a test delivery from CaseXchange.", SubscriptionID: subscription},
	})
}
