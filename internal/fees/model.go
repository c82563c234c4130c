// Package fees is the economics of a referral: the fee agreement between its two firms
// (versioned: proposed by one firm, accepted by the other), the client's consent to the division,
// its compliance with the jurisdiction's rule profile, and the ledger entry created when the
// referral closes won, with its payments.
//
// The rules are pure (compliance.go, money.go, ledger.go's entryStatus); Service applies them in
// one transaction per operation. Only the two firms of a referral reach its agreement and entry:
// every id a caller names is resolved within what its firm may see (apperr.ErrNotFound
// otherwise).
package fees

import (
	"time"

	"github.com/google/uuid"
)

// Basis of a fee division (ABA Model Rule 1.5(e)(1)).
const (
	BasisProportional = "proportional"
	BasisJoint        = "joint_responsibility"
)

// Kinds of shares.
const (
	SharePercentage = "percentage"
	ShareFixed      = "fixed"
)

// Consent methods.
const (
	ConsentWritten = "written"
	ConsentSigned  = "signed"
)

// DefaultProfile is the profile of jurisdictions without one of their own.
const DefaultProfile = "US-ABA"

// Profile is a jurisdiction rule profile.
type Profile struct {
	Code                string
	Name                string
	ConsentMethod       string // written | signed
	ConsentDeadlineDays *int   // after the referral was sent; nil: none
	BasisRequired       bool
	TotalFeeMayChange   bool
	Summary             string
}

// Terms are what a version proposes.
type Terms struct {
	Basis     string
	ShareKind string // percentage | fixed
	// Percentage shares in basis points (summing to 10000), fixed shares in cents.
	ReferringShare int64
	ReceivingShare int64
	// ClientContingencyBP is the client's contingency fee in basis points of the recovery.
	ClientContingencyBP int64
	Notes               *string
}

// SameDivision reports whether t and o divide the fee the same way (basis and shares): a change
// of either needs the client's consent again.
func (t Terms) SameDivision(o Terms) bool {
	return t.Basis == o.Basis && t.ShareKind == o.ShareKind && t.ReferringShare == o.ReferringShare && t.ReceivingShare == o.ReceivingShare
}

// Version is one version of a referral's fee agreement.
type Version struct {
	ID               uuid.UUID
	Version          int
	Terms            Terms
	ProposedByFirmID uuid.UUID
	ProposedAt       time.Time
	AcceptedByFirmID *uuid.UUID
	AcceptedAt       *time.Time
	SupersededAt     *time.Time
}

// Accepted reports whether the version was accepted.
func (v Version) Accepted() bool { return v.AcceptedAt != nil }

// Consent is a recorded client consent.
type Consent struct {
	ID               uuid.UUID
	VersionID        uuid.UUID
	Version          int
	ConsentedOn      time.Time // midnight UTC
	Method           string
	SignerName       string
	DocumentID       *uuid.UUID
	RecordedByFirmID uuid.UUID
	RecordedAt       time.Time
}

// Referral is what the fee rules need of a referral.
type Referral struct {
	ID                uuid.UUID
	BaseCaseID        uuid.UUID
	ReferenceNumber   string
	ReferringFirmID   uuid.UUID
	ReferringFirmName string
	ReceivingFirmID   *uuid.UUID // nil while a draft
	ReceivingFirmName string
	Status            string
	ClosingStatus     *string
	AttorneyFees      *float64
	SentAt            *time.Time
	CreatedAt         time.Time
	Jurisdiction      string
	IsTestCase        bool
}

// Agreement is the whole fee agreement of a referral as a party sees it.
type Agreement struct {
	Referral   Referral
	Profile    Profile
	Versions   []Version // oldest first
	Consents   []Consent // oldest first
	Compliance Compliance
}

// Current is the newest version (nil: none proposed).
func (a Agreement) Current() *Version {
	if len(a.Versions) == 0 {
		return nil
	}
	v := a.Versions[len(a.Versions)-1]
	return &v
}

// InForce is the newest accepted version (nil: none).
func (a Agreement) InForce() *Version { return inForce(a.Versions) }

func inForce(vs []Version) *Version {
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Accepted() {
			v := vs[i]
			return &v
		}
	}
	return nil
}
