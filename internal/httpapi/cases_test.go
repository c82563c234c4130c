package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
)

func TestCases(t *testing.T) {
	t.Parallel()

	t.Run("ReceiverSeesClientDataOnlyAfterAcknowledging", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		var created api.CaseResponse
		b.call(t, http.StatusCreated, "POST", "/cases", b.sStd, caseBody(b.recv), &created)
		c := created.Data
		require.Equal(t, api.ReferralStatus("sent"), c.Status)
		require.False(t, c.PiiMasked)
		require.Equal(t, "Adaeze", *c.ClientFirstName)
		require.Equal(t, b.recv.ID, *c.ReceivingFirmId)
		require.Equal(t, b.sender.Name, *c.SendingFirmName)

		r := b.call(t, http.StatusOK, "GET", refPath("cases", c.Id.String()), b.rRO, nil, nil)
		var raw map[string]map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &raw))
		require.NotContains(t, raw["data"], "clientFirstName", "omitted, not null, while masked")
		require.NotContains(t, raw["data"], "clientLastName")
		for _, k := range []string{"description", "notes", "clientEmail", "clientPhone", "clientDateOfBirth", "incidentDate"} {
			require.Contains(t, raw["data"], k)
			require.Nil(t, raw["data"][k], k)
		}
		require.Equal(t, true, raw["data"]["piiMasked"])
		require.Empty(t, raw["data"]["customFields"])

		// Search must not reveal the masked client to the receiver, in any list.
		var list api.CaseListResponse
		b.call(t, http.StatusOK, "GET", "/cases?search=adaeze", b.rRO, nil, &list)
		require.Empty(t, list.Data.Items)
		b.call(t, http.StatusOK, "GET", "/cases?search=adaeze", b.sRO, nil, &list)
		require.Len(t, list.Data.Items, 1)
		var recvList api.CaseListResponse // fresh: decoding reuses slice elements
		b.call(t, http.StatusOK, "GET", "/cases?view=received", b.rRO, nil, &recvList)
		require.Len(t, recvList.Data.Items, 1)
		require.True(t, recvList.Data.Items[0].PiiMasked)
		require.Nil(t, recvList.Data.Items[0].ClientFirstName)

		b.callErr(t, http.StatusForbidden, "permission_denied", "POST", refPath("cases", c.Id.String(), "acknowledge"), b.sStd, nil)
		b.callErr(t, http.StatusNotFound, "resource_not_found", "POST", refPath("cases", c.Id.String(), "acknowledge"), b.oStd, nil)
		var got api.CaseResponse
		b.call(t, http.StatusOK, "POST", refPath("cases", c.ReferenceNumber, "acknowledge"), b.rStd, nil, &got)
		require.Equal(t, api.ReferralStatus("under_evaluation"), got.Data.Status)
		require.False(t, got.Data.PiiMasked)
		require.Equal(t, "Okafor", *got.Data.ClientLastName)
		require.Equal(t, "2026-02-21", got.Data.IncidentDate.String())
		b.call(t, http.StatusOK, "GET", "/cases?search=adaeze", b.rRO, nil, &list)
		require.Len(t, list.Data.Items, 1)
		require.Equal(t, 1, list.Data.Total)
		require.Equal(t, 1, list.Pagination.Total)
	})

	t.Run("GenericStatusChangeFollowsTheActionRules", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		status := refPath("cases", c.Id.String(), "status")
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", status, b.rStd, map[string]any{"status": "won"})
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", status, b.rStd, map[string]any{"status": "nonsense"})
		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "POST", status, b.rStd, map[string]any{"status": "sent"})
		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "POST", status, b.rStd, map[string]any{"status": "signed"})
		b.callErr(t, http.StatusForbidden, "permission_denied", "POST", status, b.sStd, map[string]any{"status": "investigating"})
		var got api.CaseResponse
		b.call(t, http.StatusOK, "POST", status, b.rStd, map[string]any{"status": "received"}, &got)
		require.Equal(t, api.ReferralStatus("under_evaluation"), got.Data.Status)
		b.call(t, http.StatusOK, "POST", status, b.rStd, map[string]any{"status": "signed", "notes": "Retainer in"}, &got)
		b.call(t, http.StatusOK, "POST", status, b.rStd, map[string]any{"status": "closing"}, &got)
		require.Equal(t, api.ReferralStatus("closing"), got.Data.Status)
		b.callErr(t, http.StatusForbidden, "insufficient_tier", "POST", status, b.rStd, map[string]any{"status": "closed", "closingStatus": "lost"})
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", status, b.rFull, map[string]any{"status": "closed"})
		b.call(t, http.StatusOK, "POST", status, b.rFull, map[string]any{"status": "closed", "closingStatus": "no_longer_pursuing"}, &got)
		require.Equal(t, api.ReferralClosingStatus("no_longer_pursuing"), *got.Data.ClosingStatus)

		var hist api.CaseStatusHistoryResponse
		b.call(t, http.StatusOK, "GET", refPath("cases", c.Id.String(), "status-history"), b.sRO, nil, &hist)
		require.Len(t, hist.Data, 5)
		require.Equal(t, "Retainer in", *hist.Data[2].Message)
		require.Equal(t, *hist.Data[2].Message, *hist.Data[2].Notes)
		require.Equal(t, "test STANDARD", hist.Data[2].CreatedBy, "the API key's name")
		require.Nil(t, hist.Data[2].CreatedByName, "no person made the entry")
	})

	t.Run("WithdrawAndRejectThroughStatusNeedNotes", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		status := refPath("cases", c.Id.String(), "status")
		r := b.callErr(t, http.StatusBadRequest, "validation_error", "POST", status, b.sStd, map[string]any{"status": "withdrawn"})
		require.Contains(t, string(r.Body), "body.notes")
		var got api.CaseResponse
		b.call(t, http.StatusOK, "POST", status, b.sStd, map[string]any{"status": "withdrawn", "notes": "Client changed mind"}, &got)
		require.Equal(t, api.ReferralStatus("withdrawn"), got.Data.Status)
		require.Equal(t, "Client changed mind", *got.Data.ClosureReason)
	})

	t.Run("CloseActsOnTheCurrentReferral", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		rp := refPath("referrals", referralID(c))
		b.call(t, http.StatusOK, "POST", rp+"/acknowledge", b.rStd, nil, nil)
		closePath := refPath("cases", c.Id.String(), "close")
		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "POST", closePath, b.rFull, map[string]any{"closingStatus": "lost"})
		b.call(t, http.StatusOK, "POST", rp+"/begin-investigating", b.rStd, nil, nil)
		b.callErr(t, http.StatusForbidden, "insufficient_tier", "POST", closePath, b.rStd, map[string]any{"closingStatus": "lost"})
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", closePath, b.rFull, map[string]any{"closingStatus": "maybe"})
		b.callErr(t, http.StatusForbidden, "permission_denied", "POST", closePath, b.sFull, map[string]any{"closingStatus": "lost"})
		var got api.CaseResponse
		b.call(t, http.StatusOK, "POST", closePath, b.rFull, map[string]any{"closingStatus": "lost", "closingNotes": "Jury verdict", "settlementAmount": 0}, &got)
		require.Equal(t, api.ReferralStatus("closed"), got.Data.Status)
	})

	t.Run("UpdateChecksWhoMayChangeWhat", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		path := refPath("cases", c.Id.String())
		b.callErr(t, http.StatusBadRequest, "validation_error", "PUT", path, b.sStd, map[string]any{})
		b.callErr(t, http.StatusForbidden, "permission_denied", "PUT", path, b.sStd, map[string]any{"ratedTier": 4})
		b.callErr(t, http.StatusForbidden, "permission_denied", "PUT", path, b.rStd, map[string]any{"title": "Mine now"})
		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "PUT", path, b.rStd, map[string]any{"phase": "intake"})
		b.callErr(t, http.StatusBadRequest, "validation_error", "PUT", path, b.sStd, map[string]any{"jurisdiction": "ZZ"})
		b.callErr(t, http.StatusBadRequest, "validation_error", "PUT", path, b.sStd, map[string]any{"jurisdiction": "NY"})

		var got api.CaseResponse
		b.call(t, http.StatusOK, "PUT", path, b.sStd, map[string]any{
			"title": "Okafor v. Lakeside", "clientEmail": "new@example.org", "jurisdiction": "NY", "county": "Kings", "tier": 5,
		}, &got)
		require.Equal(t, "Okafor v. Lakeside", got.Data.Title)
		require.Equal(t, "NY", got.Data.Jurisdiction)
		require.Equal(t, "Kings", *got.Data.County)
		require.Equal(t, 5, *got.Data.Tier)

		b.call(t, http.StatusOK, "POST", path+"/acknowledge", b.rStd, nil, nil)
		b.call(t, http.StatusOK, "PUT", path, b.rStd, map[string]any{"phase": "intake", "ratedTier": 2, "ratingNotes": "Thin file"}, &got)
		require.Equal(t, "intake", *got.Data.Phase)
		require.Equal(t, 2, *got.Data.RatedTier)
		require.Equal(t, "new@example.org", string(*got.Data.ClientEmail))
		b.call(t, http.StatusOK, "PUT", path, b.sStd, map[string]any{"caseType": "auto_accident"}, &got)
		require.Equal(t, "Auto Accident", got.Data.CaseType)
	})

	t.Run("ListViewsSortsAndDates", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		own := b.sentCase(t, b.recv)
		// A case the receiver sends back the other way.
		b.relate(t, b.recv, b.sender)
		var back api.CaseResponse
		body := caseBody(b.sender)
		body["title"] = "A return referral"
		b.call(t, http.StatusCreated, "POST", "/cases", b.rStd, body, &back)

		var list api.CaseListResponse
		b.call(t, http.StatusOK, "GET", "/cases", b.sRO, nil, &list)
		require.Len(t, list.Data.Items, 2)
		b.call(t, http.StatusOK, "GET", "/cases?view=sent", b.sRO, nil, &list)
		require.Len(t, list.Data.Items, 1)
		require.Equal(t, own.Id, list.Data.Items[0].Id)
		b.call(t, http.StatusOK, "GET", "/cases?view=received", b.sRO, nil, &list)
		require.Len(t, list.Data.Items, 1)
		require.Equal(t, back.Data.Id, list.Data.Items[0].Id)
		require.True(t, list.Data.Items[0].PiiMasked)
		b.call(t, http.StatusOK, "GET", "/cases?sort=title&order=asc", b.sRO, nil, &list)
		require.Equal(t, "A return referral", list.Data.Items[0].Title)
		b.call(t, http.StatusOK, "GET", "/cases?status=sent&dateFrom=2000-01-01&dateTo=2999-12-31", b.sRO, nil, &list)
		require.Len(t, list.Data.Items, 2)
		b.call(t, http.StatusOK, "GET", "/cases?dateTo=2000-01-01", b.sRO, nil, &list)
		require.Empty(t, list.Data.Items)
		b.callErr(t, http.StatusBadRequest, "validation_error", "GET", "/cases?sort=color", b.sRO, nil)
		b.callErr(t, http.StatusBadRequest, "validation_error", "GET", "/cases?status=won-ish", b.sRO, nil)
		b.call(t, http.StatusOK, "GET", "/cases?status=won", b.sRO, nil, &list)
		require.Empty(t, list.Data.Items)
	})
}
