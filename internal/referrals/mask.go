package referrals

import (
	"time"

	"github.com/google/uuid"
)

// This file is the one place where client data is withheld. A receiving firm sees a case's
// client details only through a referral it has acknowledged and that has not ended before
// signing: until the acknowledgment, and again once the referral is rejected or withdrawn (before
// or after being acknowledged), the client's names, e-mail, phone, date of birth, the
// description, the incident date, the case notes, the custom field values, and the referral's
// notes and lead attorney are withheld. A firm that turned a referral down, or had it taken
// back, keeps no window onto the client's current data. A closed referral (the receiver worked
// the case to its end) keeps its access.
//
// The sending firm's own record ids (Salesforce id and object type, other CMS id) are never
// shown to a receiving firm, acknowledged or not: they name records in the sender's systems.
// For the same reason the flexible id lookup resolves them for the case owner only.
//
// Every view the service hands out is built by BuildCaseView or BuildReferralView, so no
// endpoint, list, search result or export can see unmasked data by accident.

// SideOf returns viewer's side on r: referring for the case owner, receiving for the firm the
// referral was sent to (never for a draft), none otherwise.
func SideOf(viewer uuid.UUID, ownerFirmID uuid.UUID, r *Referral) Side {
	if viewer == ownerFirmID {
		return SideReferring
	}
	if r != nil && r.Status != StatusDraft && r.ReferentFirmID != nil && *r.ReferentFirmID == viewer {
		return SideReceiving
	}
	return SideNone
}

// Masked reports whether client data is withheld from a firm on side of referral r: only from
// a receiving firm, until it acknowledged r and again once r was rejected or withdrawn.
func Masked(side Side, r *Referral) bool {
	if side == SideReferring {
		return false
	}
	return r == nil || r.AcknowledgedAt == nil || r.Status.EndedUnsigned()
}

// EndedUnsigned reports whether s ends a referral without the receiving firm taking the case
// on (rejected or withdrawn): the statuses in which a receiver is masked again.
func (s Status) EndedUnsigned() bool { return s == StatusRejected || s == StatusWithdrawn }

// withoutExternalIDs returns c without the owner's record ids in other systems, as every
// receiving firm sees it.
func withoutExternalIDs(c Case) Case {
	c.SalesforceID = nil
	c.SalesforceObjectType = nil
	c.OtherCMSID = nil
	return c
}

// MaskCase returns c without its client data.
func MaskCase(c Case) Case {
	c.Description = nil
	c.ClientFirstName = nil
	c.ClientLastName = nil
	c.ClientEmail = nil
	c.ClientPhone = nil
	c.ClientDateOfBirth = nil
	c.IncidentDate = nil
	c.Notes = nil
	c.CustomFields = []CustomField{}
	return c
}

// MaskReferral returns r without the fields withheld from an unacknowledged receiver.
func MaskReferral(r Referral) Referral {
	r.Notes = nil
	r.LeadAttorneyName = nil
	return r
}

// BuildCaseView returns the case as viewer sees it, given all of the case's referrals ordered by
// sequence number. ok is false when viewer is no party to the case.
func BuildCaseView(viewer uuid.UUID, c Case, all []Referral, now time.Time) (CaseView, bool) {
	v := CaseView{Case: c, Referrals: []Referral{}}
	if viewer == c.OwnerFirmID {
		v.Side = SideReferring
		v.Referrals = append(v.Referrals, all...)
	} else {
		for _, r := range all {
			if SideOf(viewer, c.OwnerFirmID, &r) == SideReceiving {
				v.Referrals = append(v.Referrals, r)
			}
		}
		if len(v.Referrals) == 0 {
			return CaseView{}, false
		}
		v.Side = SideReceiving
	}
	if n := len(v.Referrals); n > 0 {
		v.Current = &v.Referrals[n-1]
	}
	for _, r := range v.Referrals {
		if r.RequiresUpdate(now) {
			v.RequiresUpdate = true
		}
	}
	v.Masked = Masked(v.Side, v.Current)
	if v.Masked {
		v.Case = MaskCase(v.Case)
	}
	// A receiver's own referrals: each hides its notes while that one is masked.
	if v.Side == SideReceiving {
		v.Case = withoutExternalIDs(v.Case)
		for i := range v.Referrals {
			if Masked(SideReceiving, &v.Referrals[i]) {
				v.Referrals[i] = MaskReferral(v.Referrals[i])
			}
		}
	}
	return v, true
}

// BuildReferralView returns referral r of case c as viewer sees it. ok is false when viewer is
// no party to it (including a receiving firm looking at a draft).
func BuildReferralView(viewer uuid.UUID, c Case, r Referral) (ReferralView, bool) {
	side := SideOf(viewer, c.OwnerFirmID, &r)
	if side == SideNone {
		return ReferralView{}, false
	}
	v := ReferralView{Referral: r, Case: c, Side: side, Masked: Masked(side, &r)}
	if v.Masked {
		v.Case = MaskCase(c)
		v.Referral = MaskReferral(r)
	}
	if side == SideReceiving {
		v.Case = withoutExternalIDs(v.Case)
	}
	return v, true
}
