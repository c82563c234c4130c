package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
)

// requireReceivedMasked checks that a received referral withholds every client detail.
func requireReceivedMasked(t *testing.T, d api.ReceivedReferralDetail) {
	t.Helper()
	require.True(t, d.PiiMasked)
	require.Nil(t, d.ClientFirstName)
	require.Nil(t, d.ClientLastName)
	require.Nil(t, d.ClientEmail)
	require.Nil(t, d.ClientPhone)
	require.Nil(t, d.ClientDateOfBirth)
	require.Nil(t, d.Description)
	require.Nil(t, d.IncidentDate)
	require.Nil(t, d.Notes)
	require.Nil(t, d.LeadAttorneyName)
	require.Empty(t, d.CustomFields)
	require.NotNil(t, d.Title)
}

func TestReceivedReferrals(t *testing.T) {
	t.Parallel()

	t.Run("LifecycleFromTheReceivingSide", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		rid := referralID(c)
		path := refPath("received-referrals", rid)

		var list api.ReceivedReferralListResponse
		b.call(t, http.StatusOK, "GET", "/received-referrals?status=sent", b.rRO, nil, &list)
		require.Len(t, list.Data, 1)
		require.Equal(t, b.sender.Name, *list.Data[0].SendingFirmName)
		require.Equal(t, c.Id, list.Data[0].BaseCaseId)

		var rr api.ReceivedReferralResponse
		b.call(t, http.StatusOK, "GET", path, b.rRO, nil, &rr)
		requireReceivedMasked(t, rr.Data)
		require.Equal(t, 3, *rr.Data.Tier)
		// The case's ids lead to the same referral.
		for _, key := range []string{c.Id.String(), *c.ReferenceNumber, *c.Referrals[0].ReferenceNumber} {
			var got api.ReceivedReferralResponse
			b.call(t, http.StatusOK, "GET", refPath("received-referrals", key), b.rRO, nil, &got)
			require.Equal(t, rr.Data.Id, got.Data.Id, key)
		}

		var av api.AvailableStatusesEnvelope
		b.call(t, http.StatusOK, "GET", path+"/available-statuses", b.rRO, nil, &av)
		require.Equal(t, []api.AvailableStatusTransitionAction{"acknowledge", "reject"}, transitionActions(av))

		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "PATCH", path, b.rStd, map[string]any{"phase": "Discovery"})
		r := b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "POST", path+"/sign", b.rStd, nil)
		require.Contains(t, string(r.Body), `cannot sign a referral in status \"sent\"; allowed from: under_evaluation, investigating`)

		b.call(t, http.StatusOK, "POST", path+"/acknowledge", b.rStd, nil, &rr)
		require.False(t, rr.Data.PiiMasked)
		require.Equal(t, "Adaeze", *rr.Data.ClientFirstName)
		require.Equal(t, "a.okafor@example.org", *rr.Data.ClientEmail)
		require.Equal(t, "1979-08-30", rr.Data.ClientDateOfBirth.Format("2006-01-02"))
		require.Equal(t, "Photos available.", *rr.Data.Notes)
		require.Len(t, rr.Data.CustomFields, 4)
		require.Equal(t, api.LifecycleStatus("under_evaluation"), rr.Data.Status)
		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "POST", path+"/acknowledge", b.rStd, nil)

		// The published collection's update.
		b.call(t, http.StatusOK, "PATCH", path, b.rStd, map[string]any{"leadAttorneyName": "Jane Smith", "phase": "Discovery", "notes": "Initial review completed"}, &rr)
		require.Equal(t, "Jane Smith", *rr.Data.LeadAttorneyName)
		b.call(t, http.StatusOK, "PATCH", path, b.rStd, map[string]any{"ratedTier": 4, "projectedSettlementAmount": 90000, "clientFeeAgreementPercentage": 0.33}, &rr)
		require.Equal(t, 4, *rr.Data.RatedTier)
		require.Equal(t, "Discovery", *rr.Data.Phase, "fields not sent keep their values")
		b.callErr(t, http.StatusBadRequest, "validation_error", "PATCH", path, b.rStd, map[string]any{})

		b.call(t, http.StatusOK, "POST", path+"/begin-investigating", b.rStd, map[string]any{"message": "Records requested"}, &rr)
		b.call(t, http.StatusOK, "GET", path+"/available-statuses", b.rRO, nil, &av)
		require.Equal(t, []api.AvailableStatusTransitionAction{"sign", "close", "reject"}, transitionActions(av))
		b.call(t, http.StatusOK, "POST", path+"/sign", b.rStd, nil, &rr)
		require.True(t, rr.Data.IsRetainerSigned)
		b.call(t, http.StatusOK, "POST", path+"/start-litigation", b.rStd, map[string]any{}, &rr)
		b.callErr(t, http.StatusForbidden, "insufficient_tier", "POST", path+"/close", b.rStd, map[string]any{"closingStatus": "won_settled"})
		b.call(t, http.StatusOK, "POST", path+"/close", b.rFull, map[string]any{
			"closingStatus": "won_settled", "closureReason": "Settled at mediation.", "closingNotes": "Paid in full",
			"settlementAmount": 120000, "attorneyFees": 39600, "sendingFirmPercentage": 30,
		}, &rr)
		require.Equal(t, api.LifecycleStatus("closed"), rr.Data.Status)
		require.Equal(t, "Settled at mediation.", *rr.Data.ClosureReason)
		require.Equal(t, 30.0, *rr.Data.SendingFirmPercentage)
		b.call(t, http.StatusOK, "GET", path+"/available-statuses", b.rRO, nil, &av)
		require.Empty(t, av.Data.AvailableTransitions)
		// A closed referral can still get its final figures.
		b.call(t, http.StatusOK, "PATCH", path, b.rStd, map[string]any{"attorneyFees": 40000}, &rr)

		// The sender sees the outcome on its side.
		var sc api.SentCaseResponse
		b.call(t, http.StatusOK, "GET", refPath("sent-cases", c.Id.String()), b.sRO, nil, &sc)
		require.Equal(t, api.LifecycleStatus("closed"), sc.Data.Status)
		require.Equal(t, 40000.0, *sc.Data.AttorneyFees)
		require.Equal(t, "Jane Smith", *sc.Data.LeadAttorneyName)
		require.True(t, sc.Data.IsRetainerSigned)
	})

	t.Run("SenderIsRefusedOnEveryReceivedRoute", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		path := refPath("received-referrals", referralID(c))
		b.callErr(t, http.StatusForbidden, "permission_denied", "GET", path, b.sRO, nil)
		b.callErr(t, http.StatusForbidden, "permission_denied", "GET", path+"/available-statuses", b.sRO, nil)
		b.callErr(t, http.StatusForbidden, "permission_denied", "PATCH", path, b.sStd, map[string]any{"phase": "x"})
		b.callErr(t, http.StatusForbidden, "permission_denied", "POST", path+"/acknowledge", b.sStd, nil)
		b.callErr(t, http.StatusForbidden, "permission_denied", "POST", path+"/reject", b.sStd, map[string]any{"reason": "x"})
		b.callErr(t, http.StatusForbidden, "permission_denied", "POST", path+"/close", b.sFull, map[string]any{"closingStatus": "lost"})
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", path, b.oStd, nil)
		b.callErr(t, http.StatusNotFound, "resource_not_found", "POST", path+"/acknowledge", b.oStd, nil)
		var list api.ReceivedReferralListResponse
		b.call(t, http.StatusOK, "GET", "/received-referrals", b.sRO, nil, &list)
		require.Empty(t, list.Data)
	})

	t.Run("RejectedBeforeAcknowledgingStaysMaskedForever", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		path := refPath("received-referrals", referralID(c))
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", path+"/reject", b.rStd, map[string]any{})
		var rr api.ReceivedReferralResponse
		b.call(t, http.StatusOK, "POST", path+"/reject", b.rStd, map[string]any{"reason": "Venue is outside the counties we cover."}, &rr)
		requireReceivedMasked(t, rr.Data)
		require.Equal(t, api.LifecycleStatus("rejected"), rr.Data.Status)
		b.call(t, http.StatusOK, "GET", path, b.rRO, nil, &rr)
		requireReceivedMasked(t, rr.Data)
		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "POST", path+"/acknowledge", b.rStd, nil)
		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "PATCH", path, b.rStd, map[string]any{"phase": "x"})

		// The sender sees the reason and may re-refer.
		var sc api.SentCaseResponse
		b.call(t, http.StatusOK, "GET", refPath("sent-cases", c.Id.String()), b.sRO, nil, &sc)
		require.Equal(t, "Venue is outside the counties we cover.", *sc.Data.ClosureReason)
		var av api.AvailableStatusesEnvelope
		b.call(t, http.StatusOK, "GET", refPath("sent-cases", c.Id.String(), "available-statuses"), b.sRO, nil, &av)
		require.Equal(t, []api.AvailableStatusTransitionAction{"refer"}, transitionActions(av))

		// Withdrawn before acknowledging: masked as well.
		c2 := b.sentCase(t, b.recv)
		b.call(t, http.StatusOK, "POST", refPath("cases", c2.Id.String(), "referrals", referralID(c2), "withdraw"), b.sStd, map[string]any{"reason": "Client went elsewhere"}, nil)
		b.call(t, http.StatusOK, "GET", refPath("received-referrals", referralID(c2)), b.rRO, nil, &rr)
		requireReceivedMasked(t, rr.Data)
		require.Equal(t, api.LifecycleStatus("withdrawn"), rr.Data.Status)
	})

	t.Run("ListSearchesReferenceAndSendingFirmOnly", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c1 := b.sentCase(t, b.recv)
		b.sentCase(t, b.recv)
		var list api.ReceivedReferralListResponse
		b.call(t, http.StatusOK, "GET", "/received-referrals?search=halvorsen", b.rRO, nil, &list)
		require.Len(t, list.Data, 2)
		b.call(t, http.StatusOK, "GET", "/received-referrals?search="+*c1.Referrals[0].ReferenceNumber, b.rRO, nil, &list)
		require.Len(t, list.Data, 1)
		b.call(t, http.StatusOK, "GET", "/received-referrals?search=okafor", b.rRO, nil, &list)
		require.Empty(t, list.Data, "client names are not searchable here")
		b.call(t, http.StatusOK, "GET", "/received-referrals?sort=referenceNumber&order=asc&limit=1", b.rRO, nil, &list)
		require.Equal(t, c1.Referrals[0].Id, list.Data[0].Id)
		require.Equal(t, 2, list.Pagination.Total)
	})
}

func transitionActions(av api.AvailableStatusesEnvelope) []api.AvailableStatusTransitionAction {
	out := []api.AvailableStatusTransitionAction{}
	for _, tr := range av.Data.AvailableTransitions {
		out = append(out, tr.Action)
	}
	return out
}
