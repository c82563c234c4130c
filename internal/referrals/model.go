// Package referrals is the heart of CaseXchange: base cases, their referrals (one hop of a case
// from the referring firm to a receiving firm), the lifecycle that moves a referral from draft to
// its end, and the status-update feed that records every transition and message.
//
// The rules live in pure code: the transition table (machine.go) and the masking of client data
// (mask.go). Service applies them inside one transaction per operation; every operation resolves
// the ids it is given within what the calling firm may see, so a firm that is no party to a case
// learns nothing about it.
package referrals

import (
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/auth"
)

// Case is a base case: the record the referring firm created, shared by all its referrals.
type Case struct {
	ID              uuid.UUID
	OwnerFirmID     uuid.UUID
	OwnerFirmName   string
	ReferenceNumber string
	Title           string
	Description     *string
	CaseTypeID      uuid.UUID
	CaseType        string // display label of the case type
	Jurisdiction    string // two-letter code
	County          *string
	// Client details; nil while withheld from a receiving firm.
	ClientFirstName   *string
	ClientLastName    *string
	ClientEmail       *string
	ClientPhone       *string
	ClientDateOfBirth *time.Time // midnight UTC
	IncidentDate      *time.Time // midnight UTC
	// The referring firm's notes on the case.
	Notes                *string
	Tier                 *int
	Source               *string
	CustomFields         []CustomField
	SalesforceID         *string
	SalesforceObjectType *string
	// OtherCMSID is a record id in a case management system other than Salesforce.
	OtherCMSID       *string
	IsTestCase       bool
	IsRetainerSigned bool // as given at creation
	CreatedByUserID  *uuid.UUID
	CreatedByKeyID   *uuid.UUID
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// CMSID is the first external record id of the case: another CMS's, then Salesforce's.
func (c Case) CMSID() *string {
	if c.OtherCMSID != nil {
		return c.OtherCMSID
	}
	return c.SalesforceID
}

// CreatedBy is the person behind the case's creation: the user, or the API key when its
// creator is unknown.
func (c Case) CreatedBy() uuid.UUID {
	switch {
	case c.CreatedByUserID != nil:
		return *c.CreatedByUserID
	case c.CreatedByKeyID != nil:
		return *c.CreatedByKeyID
	}
	return uuid.Nil
}

// CustomField is the value of one custom field defined for the case's type.
type CustomField struct {
	FieldID     uuid.UUID
	Name        string
	DisplayName string
	Type        string // TEXT, NUMBER, DECIMAL, ENUM, DATE or BOOLEAN
	Value       *string
}

// Referral is one hop of a case.
type Referral struct {
	ID                uuid.UUID
	BaseCaseID        uuid.UUID
	SequenceNumber    int
	ReferenceNumber   string
	ReferringFirmID   uuid.UUID
	ReferringFirmName string
	ReferentFirmID    *uuid.UUID // nil while a draft
	ReferentFirmName  *string
	Status            Status
	ClosingStatus     *ClosingStatus
	ClosureReason     *string
	// Notes travel with the referral and are then kept by the receiving firm. Nil while
	// withheld from the receiving firm.
	Notes                          *string
	Phase                          *string
	LeadAttorneyName               *string
	RatedTier                      *int
	RatingNotes                    *string
	SettlementAmount               *float64
	AttorneyFees                   *float64
	ProjectedSettlementAmount      *float64
	ClientFeeAgreementPercentage   *float64 // 0-1
	SendingFirmPercentage          *float64 // 0-100
	StatuteOfLimitationsExpiration *time.Time
	EstimatedDateOfResolution      *time.Time
	EstimatedDistributionDate      *time.Time
	IsRetainerSigned               bool
	SentAt                         *time.Time
	ExpiresAt                      *time.Time
	AcknowledgedAt                 *time.Time
	LastActivityAt                 time.Time
	CreatedBy                      *uuid.UUID // user, else API key
	UpdatedBy                      *uuid.UUID // user, else API key
	CreatedAt                      time.Time
	UpdatedAt                      time.Time
}

// staleAfter is how long an active referral may go without a status change or message before
// requiresUpdate flags it.
const staleAfter = 30 * 24 * time.Hour

// RequiresUpdate reports whether the referral is active and has had no activity for 30 days.
func (r Referral) RequiresUpdate(now time.Time) bool {
	return r.Status.Active() && now.Sub(r.LastActivityAt) > staleAfter
}

// CaseView is a case as one firm sees it: what the firm may see of it, already masked.
type CaseView struct {
	Case Case
	Side Side
	// Referrals the firm may see, by sequence number: all of them for the referring firm,
	// those addressed to it for a receiving firm.
	Referrals []Referral
	// Current is the referral the view is about: the latest one for the referring firm, the
	// latest one addressed to it for a receiving firm; nil for a case without referrals.
	Current *Referral
	// Masked is true while client data is withheld from the viewer.
	Masked bool
	// RequiresUpdate is true when an active referral of the case has gone stale.
	RequiresUpdate bool
}

// Status is the status of the current referral, or draft when there is none.
func (v CaseView) Status() Status {
	if v.Current == nil {
		return StatusDraft
	}
	return v.Current.Status
}

// IsRetainerSigned is the current referral's flag, or the case's own before any referral.
func (v CaseView) IsRetainerSigned() bool {
	if v.Current == nil {
		return v.Case.IsRetainerSigned
	}
	return v.Current.IsRetainerSigned
}

// ReferralView is one referral with its case, as one firm sees them (already masked).
type ReferralView struct {
	Referral Referral
	Case     Case
	Side     Side
	Masked   bool
}

// StatusUpdate is one entry of the feed: a transition or a message.
type StatusUpdate struct {
	ID                      uuid.UUID
	ReferralID              uuid.UUID
	BaseCaseID              uuid.UUID
	ReferralReferenceNumber string
	FromStatus              *Status // nil for a message
	Status                  Status
	IsMessage               bool
	Message                 *string
	RequestedStatus         *Status
	Source                  string
	ActorFirmID             *uuid.UUID
	ActorKind               string // ActorUser, ActorAPIKey or ActorSystem
	ActorName               *string
	CreatedAt               time.Time
}

// Actor kinds recorded on status updates.
const (
	ActorUser   = "user"
	ActorAPIKey = "api_key"
	ActorSystem = "system"
)

// Sources of status updates.
const (
	SourceAPI    = "api"
	SourceManual = "manual"
	SourceSystem = "system"
)

// PersonName is the name of the person who wrote the entry; nil for API keys and the system.
func (u StatusUpdate) PersonName() *string {
	if u.ActorKind == ActorUser {
		return u.ActorName
	}
	return nil
}

// AuthorName names the author: the person, the API key, or "System".
func (u StatusUpdate) AuthorName() string {
	if u.ActorName != nil && *u.ActorName != "" {
		return *u.ActorName
	}
	if u.ActorKind == ActorSystem {
		return "System"
	}
	return "Unknown"
}

// sourceOf is the source recorded for a caller on status updates: SourceAPI when it names none.
func sourceOf(a auth.Actor) string {
	if a.Source == "" {
		return SourceAPI
	}
	return a.Source
}
