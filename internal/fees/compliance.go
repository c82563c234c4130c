package fees

import (
	"fmt"
	"time"
)

// Compliance statuses, from the first unmet requirement.
const (
	StatusCompliant          = "compliant"
	StatusNeedsAcceptance    = "needs_acceptance"
	StatusNeedsClientConsent = "needs_client_consent"
	StatusConsentLate        = "consent_late"
	StatusTermsChanged       = "terms_changed_since_consent"
)

// Compliance is the computed state of an agreement against its profile. It is an aid for the
// firms, not legal advice.
type Compliance struct {
	Status  string
	Profile string
	Reasons []string
}

// Evaluate checks an agreement's versions and consents against profile p, in this order:
//  1. the newest version must be accepted (needs_acceptance);
//  2. a consent must be recorded (needs_client_consent);
//  3. the newest consent must cover the division in force: a later version that changed the basis
//     or the shares needs a new consent (terms_changed_since_consent);
//  4. its method must satisfy the profile: a profile asking for a signed consent does not take a
//     merely written one (needs_client_consent);
//  5. under a profile with a deadline, the consent date must fall within that many days of the
//     date the referral was sent (consent_late).
//
// sentAt is when the referral was sent (nil for a draft: no deadline applies yet).
func Evaluate(p Profile, versions []Version, consents []Consent, sentAt *time.Time) Compliance {
	c := Compliance{Profile: p.Code, Reasons: []string{}}
	cur := len(versions) - 1
	if cur < 0 {
		c.Status = StatusNeedsAcceptance
		c.Reasons = append(c.Reasons, "No fee agreement has been proposed yet.")
		return c
	}
	latest := versions[cur]
	if !latest.Accepted() {
		c.Status = StatusNeedsAcceptance
		c.Reasons = append(c.Reasons, fmt.Sprintf("Version %d awaits acceptance by the firm that did not propose it.", latest.Version))
		return c
	}
	c.Reasons = append(c.Reasons, fmt.Sprintf("Version %d was accepted by both firms.", latest.Version))
	if len(consents) == 0 {
		c.Status = StatusNeedsClientConsent
		c.Reasons = append(c.Reasons, fmt.Sprintf("The client's %s consent to the division is not recorded (%s).", p.ConsentMethod, p.Name))
		return c
	}
	consent := consents[len(consents)-1]
	var covered *Version
	for i := range versions {
		if versions[i].ID == consent.VersionID {
			covered = &versions[i]
		}
	}
	if covered == nil || !covered.Terms.SameDivision(latest.Terms) {
		c.Status = StatusTermsChanged
		c.Reasons = append(c.Reasons, fmt.Sprintf("The basis or the shares changed after the client consented to version %d; a new consent is needed.", consent.Version))
		return c
	}
	if p.ConsentMethod == ConsentSigned && consent.Method != ConsentSigned {
		c.Status = StatusNeedsClientConsent
		c.Reasons = append(c.Reasons, fmt.Sprintf("%s asks for a consent signed by the client; the recorded consent is only written.", p.Name))
		return c
	}
	if p.ConsentDeadlineDays != nil && sentAt != nil {
		deadline := day(*sentAt).AddDate(0, 0, *p.ConsentDeadlineDays)
		if day(consent.ConsentedOn).After(deadline) {
			c.Status = StatusConsentLate
			c.Reasons = append(c.Reasons, fmt.Sprintf("The client consented on %s, after the deadline of %s (%d days after the referral was sent, %s).",
				consent.ConsentedOn.Format(time.DateOnly), deadline.Format(time.DateOnly), *p.ConsentDeadlineDays, p.Name))
			return c
		}
	}
	c.Status = StatusCompliant
	c.Reasons = append(c.Reasons, fmt.Sprintf("The client's %s consent of %s covers the division in force.", consent.Method, consent.ConsentedOn.Format(time.DateOnly)))
	return c
}

// day is the UTC calendar day of t.
func day(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}
