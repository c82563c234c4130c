package referrals

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/ptr"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}

func TestMasking(t *testing.T) {
	t.Parallel()

	owner, receiver, other, second := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	now := mustTime(t, "2026-03-10T12:00:00Z")
	dob := mustTime(t, "1979-08-30T00:00:00Z")
	fullCase := func() Case {
		v := "x"
		return Case{
			ID: uuid.New(), OwnerFirmID: owner, Title: "Title", Description: &v,
			ClientFirstName: ptr.To("Ada"), ClientLastName: ptr.To("Okafor"), ClientEmail: ptr.To("a@example.org"),
			ClientPhone: ptr.To("312"), ClientDateOfBirth: &dob, IncidentDate: &dob, Notes: ptr.To("case notes"),
			CustomFields: []CustomField{{FieldID: uuid.New(), Value: ptr.To("2")}},
			SalesforceID: ptr.To("SF-1"), SalesforceObjectType: ptr.To("Opportunity"), OtherCMSID: ptr.To("CMS-1"),
		}
	}
	referral := func(seq int, to uuid.UUID, st Status, acked bool) Referral {
		r := Referral{ID: uuid.New(), SequenceNumber: seq, ReferringFirmID: owner, ReferentFirmID: &to, Status: st,
			Notes: ptr.To("referral notes"), LeadAttorneyName: ptr.To("Priya"), LastActivityAt: now}
		if st == StatusDraft {
			r.ReferentFirmID = nil
		}
		if acked {
			r.AcknowledgedAt = &now
		}
		return r
	}
	requireMasked := func(t *testing.T, c Case) {
		t.Helper()
		require.Nil(t, c.Description)
		require.Nil(t, c.ClientFirstName)
		require.Nil(t, c.ClientLastName)
		require.Nil(t, c.ClientEmail)
		require.Nil(t, c.ClientPhone)
		require.Nil(t, c.ClientDateOfBirth)
		require.Nil(t, c.IncidentDate)
		require.Nil(t, c.Notes)
		require.NotNil(t, c.CustomFields)
		require.Empty(t, c.CustomFields)
		require.Equal(t, "Title", c.Title, "the title is never masked")
	}
	requireClear := func(t *testing.T, c Case) {
		t.Helper()
		require.Equal(t, "Ada", *c.ClientFirstName)
		require.Equal(t, "a@example.org", *c.ClientEmail)
		require.NotNil(t, c.Description)
		require.Len(t, c.CustomFields, 1)
	}

	tests := []struct {
		name   string
		viewer uuid.UUID
		refs   []Referral
		ok     bool
		masked bool
	}{
		{"OwnerSeesEverything", owner, []Referral{referral(1, receiver, StatusSent, false)}, true, false},
		{"OwnerOfDraftSeesEverything", owner, []Referral{referral(1, uuid.Nil, StatusDraft, false)}, true, false},
		{"ReceiverBeforeAcknowledging", receiver, []Referral{referral(1, receiver, StatusSent, false)}, true, true},
		{"ReceiverAfterAcknowledging", receiver, []Referral{referral(1, receiver, StatusUnderEvaluation, true)}, true, false},
		{"ReceiverRejectedUnacknowledgedStaysMasked", receiver, []Referral{referral(1, receiver, StatusRejected, false)}, true, true},
		{"ReceiverWithdrawnUnacknowledgedStaysMasked", receiver, []Referral{referral(1, receiver, StatusWithdrawn, false)}, true, true},
		{"ReceiverRejectedAfterAcknowledgingIsMaskedAgain", receiver, []Referral{referral(1, receiver, StatusRejected, true)}, true, true},
		{"ReceiverWithdrawnAfterAcknowledgingIsMaskedAgain", receiver, []Referral{referral(1, receiver, StatusWithdrawn, true)}, true, true},
		{"ReceiverClosedKeepsAccess", receiver, []Referral{referral(1, receiver, StatusClosed, true)}, true, false},
		{"OtherFirmSeesNothing", other, []Referral{referral(1, receiver, StatusSent, false)}, false, false},
		{"DraftIsInvisibleToItsFutureReceiver", receiver, []Referral{referral(1, uuid.Nil, StatusDraft, false)}, false, false},
		{
			"ReceiverJudgedByItsOwnLatestReferral", second,
			[]Referral{referral(1, second, StatusRejected, true), referral(2, receiver, StatusSent, false), referral(3, second, StatusSent, false)},
			true, true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := fullCase()
			for i := range tt.refs {
				tt.refs[i].BaseCaseID = c.ID
			}
			v, ok := BuildCaseView(tt.viewer, c, tt.refs, now)
			require.Equal(t, tt.ok, ok)
			if !ok {
				return
			}
			require.Equal(t, tt.masked, v.Masked)
			if tt.masked {
				requireMasked(t, v.Case)
			} else {
				requireClear(t, v.Case)
			}
			if tt.viewer == owner {
				require.Equal(t, "SF-1", *v.Case.SalesforceID)
				require.Equal(t, "CMS-1", *v.Case.CMSID())
			} else {
				require.Nil(t, v.Case.SalesforceID, "a receiver never sees the sender's record ids")
				require.Nil(t, v.Case.SalesforceObjectType)
				require.Nil(t, v.Case.CMSID())
			}
			if tt.viewer != owner {
				for _, r := range v.Referrals {
					require.Equal(t, tt.viewer, *r.ReferentFirmID, "a receiver sees only its own referrals")
					if Masked(SideReceiving, &r) {
						require.Nil(t, r.Notes)
						require.Nil(t, r.LeadAttorneyName)
					}
				}
			}
			// The referral view follows the same rule.
			cur := *v.Current
			for _, r := range tt.refs {
				if r.ID == cur.ID {
					cur = r
				}
			}
			rv, ok := BuildReferralView(tt.viewer, c, cur)
			require.True(t, ok)
			require.Equal(t, tt.masked, rv.Masked)
			if tt.masked {
				requireMasked(t, rv.Case)
				require.Nil(t, rv.Referral.Notes)
			}
			if tt.viewer != owner {
				require.Nil(t, rv.Case.SalesforceID)
				require.Nil(t, rv.Case.CMSID())
			}
		})
	}

	t.Run("MaskingDoesNotTouchTheInput", func(t *testing.T) {
		t.Parallel()
		c := fullCase()
		refs := []Referral{referral(1, receiver, StatusSent, false)}
		_, _ = BuildCaseView(receiver, c, refs, now)
		requireClear(t, c)
		require.NotNil(t, refs[0].Notes)
	})

	t.Run("StaleActiveReferralRequiresUpdate", func(t *testing.T) {
		t.Parallel()
		r := referral(1, receiver, StatusInvestigating, true)
		r.LastActivityAt = now.Add(-31 * 24 * time.Hour)
		v, _ := BuildCaseView(owner, fullCase(), []Referral{r}, now)
		require.True(t, v.RequiresUpdate)
		r.Status = StatusClosed
		v, _ = BuildCaseView(owner, fullCase(), []Referral{r}, now)
		require.False(t, v.RequiresUpdate)
	})
}
