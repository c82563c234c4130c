package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

func TestSentCases(t *testing.T) {
	t.Parallel()

	t.Run("DraftThenReferWithAvailableStatusesAlongTheWay", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		// The published collection's request body.
		var created api.SentCaseResponse
		b.call(t, http.StatusCreated, "POST", "/sent-cases", b.sStd, map[string]any{
			"title": "Smith v. Jones - Personal Injury", "description": "Auto accident case involving rear-end collision",
			"caseType": "Personal Injury", "jurisdiction": "NY", "county": "New York", "clientFirstName": "John",
			"clientLastName": "Smith", "clientPhone": "555-987-6543", "clientDateOfBirth": "1985-06-15",
			"incidentDate": "2025-11-01", "tier": 3, "source": "Website Lead",
		}, &created)
		c := created.Data
		require.Equal(t, api.LifecycleStatus("draft"), c.Status)
		require.Empty(t, c.Referrals, "a draft sent case has no referral yet")
		require.Equal(t, "Personal Injury", *c.CaseType)
		require.Equal(t, "1985-06-15", c.ClientDateOfBirth.Format("2006-01-02"))
		require.Regexp(t, `^CX-\d{4}-\d{6}$`, *c.ReferenceNumber)
		require.Len(t, c.CustomFields, 4, "every field of the case type, unset")

		var av api.AvailableStatusesEnvelope
		b.call(t, http.StatusOK, "GET", refPath("sent-cases", c.Id.String(), "available-statuses"), b.sRO, nil, &av)
		require.Equal(t, api.LifecycleStatus("draft"), av.Data.CurrentStatus)
		require.Nil(t, av.Data.ReferralId)
		require.Len(t, av.Data.AvailableTransitions, 1)
		require.Equal(t, api.AvailableStatusTransitionAction("refer"), av.Data.AvailableTransitions[0].Action)

		refer := refPath("sent-cases", *c.ReferenceNumber, "refer")
		// The collection refers to {{firm_id}}, the caller's own firm: a documented 400.
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", refer, b.sStd, map[string]any{"referentFirmId": b.sender.ID, "notes": "Priority referral"})
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", refer, b.sStd, map[string]any{"referentFirmId": uuid.New()})
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", refer, b.sStd, map[string]any{})
		stranger := b.h.NewFirm(apitestFirmOpts("Unrelated Firm"))
		b.callErr(t, http.StatusConflict, "conflict", "POST", refer, b.sStd, map[string]any{"referentFirmId": stranger.ID})
		b.callErr(t, http.StatusForbidden, "insufficient_tier", "POST", refer, b.sRO, map[string]any{"referentFirmId": b.recv.ID})

		var sc api.SentCaseResponse
		b.call(t, http.StatusOK, "POST", refer, b.sStd, map[string]any{"referentFirmId": b.recv.ID, "notes": "Priority referral - strong liability", "sentExpirationHours": 48}, &sc)
		require.Equal(t, api.LifecycleStatus("sent"), sc.Data.Status)
		require.Len(t, sc.Data.Referrals, 1)
		r := sc.Data.Referrals[0]
		require.Equal(t, 1, r.SequenceNumber)
		require.Equal(t, "Priority referral - strong liability", *r.Notes)
		require.NotNil(t, r.ExpiresAt)
		require.Equal(t, b.recv.Name, *sc.Data.ReceivingFirmName)
		b.callErr(t, http.StatusConflict, "conflict", "POST", refer, b.sStd, map[string]any{"referentFirmId": b.recv.ID})

		b.call(t, http.StatusOK, "GET", refPath("sent-cases", c.Id.String(), "available-statuses"), b.sRO, nil, &av)
		require.Equal(t, api.LifecycleStatus("sent"), av.Data.CurrentStatus)
		require.Equal(t, r.Id, *av.Data.ReferralId)
		require.Equal(t, api.AvailableStatusTransitionAction("withdraw"), av.Data.AvailableTransitions[0].Action)
		require.True(t, av.Data.AvailableTransitions[0].RequiresReason)

		// The receiver takes part in the case but not as its owner; strangers see nothing.
		b.callErr(t, http.StatusForbidden, "permission_denied", "GET", refPath("sent-cases", c.Id.String()), b.rRO, nil)
		b.callErr(t, http.StatusForbidden, "permission_denied", "POST", refer, b.rStd, map[string]any{"referentFirmId": b.other.ID})
		b.callErr(t, http.StatusForbidden, "permission_denied", "PATCH", refPath("sent-cases", c.Id.String()), b.rStd, map[string]any{"tier": 1})
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", refPath("sent-cases", c.Id.String()), b.oStd, nil)
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", refPath("sent-cases", c.Id.String(), "available-statuses"), b.oStd, nil)
	})

	t.Run("CreateAndSendIsAllOrNothing", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		stranger := b.h.NewFirm(apitestFirmOpts("No Relationship LLP"))
		b.callErr(t, http.StatusConflict, "conflict", "POST", "/sent-cases", b.sStd, caseBody(stranger))
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", "/sent-cases", b.sStd, caseBody(b.sender))
		bad := caseBody(nil)
		bad["caseType"] = "Space Law"
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", "/sent-cases", b.sStd, bad)
		bad = caseBody(nil)
		bad["county"] = "Kings"
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", "/sent-cases", b.sStd, bad)
		var list api.SentCaseListResponse
		b.call(t, http.StatusOK, "GET", "/sent-cases", b.sRO, nil, &list)
		require.Empty(t, list.Data)
		var n int
		require.NoError(t, b.h.Pool.QueryRow(context.Background(), `SELECT count(*) FROM base_cases`).Scan(&n))
		require.Zero(t, n)

		c := b.sentCase(t, b.recv)
		require.Equal(t, api.LifecycleStatus("sent"), c.Status)
		require.Equal(t, "Photos available.", *c.Referrals[0].Notes, "case notes travel with a referral sent at once")
	})

	t.Run("FlexibleIdsResolveWithinTheCallersCases", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		body := caseBody(b.recv)
		body["salesforceId"] = "006Hs00001XyZabIAF"
		body["salesforceObjectType"] = "Opportunity"
		var created api.SentCaseResponse
		b.call(t, http.StatusCreated, "POST", "/sent-cases", b.sStd, body, &created)
		c := created.Data
		require.Equal(t, "006Hs00001XyZabIAF", *c.CmsId)
		for _, key := range []string{c.Id.String(), *c.ReferenceNumber, "006Hs00001XyZabIAF"} {
			var got api.SentCaseResponse
			b.call(t, http.StatusOK, "GET", refPath("sent-cases", key), b.sRO, nil, &got)
			require.Equal(t, c.Id, got.Data.Id, key)
		}
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", refPath("sent-cases", "006Hs00001XyZabIAF"), b.oStd, nil)
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", refPath("sent-cases", uuid.NewString()), b.sRO, nil)

		// One active case per Salesforce id and firm.
		b.callErr(t, http.StatusConflict, "duplicate_sf_referral", "POST", "/sent-cases", b.sStd, body)
		other := b.sentCase(t, nil)
		b.callErr(t, http.StatusConflict, "duplicate_sf_referral", "PATCH", refPath("sent-cases", other.Id.String()), b.sStd, map[string]any{"salesforceId": "006Hs00001XyZabIAF"})
		// Once the first case's referral ended, the id is free again.
		b.call(t, http.StatusOK, "POST", refPath("referrals", referralID(c), "reject"), b.rStd, map[string]any{"reason": "Not our area"}, nil)
		b.call(t, http.StatusOK, "PATCH", refPath("sent-cases", other.Id.String()), b.sStd, map[string]any{"salesforceId": "006Hs00001XyZabIAF"}, nil)
	})

	t.Run("PatchChangesSenderFieldsInAnyStatus", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		path := refPath("sent-cases", c.Id.String())
		b.callErr(t, http.StatusBadRequest, "validation_error", "PATCH", path, b.sStd, map[string]any{})
		b.callErr(t, http.StatusBadRequest, "validation_error", "PATCH", path, b.sStd, map[string]any{"tier": 6})
		var sc api.SentCaseResponse
		b.call(t, http.StatusOK, "PATCH", path, b.sStd, map[string]any{"tier": 4, "source": "Website Lead"}, &sc)
		require.Equal(t, 4, *sc.Data.Tier)
		require.Equal(t, "Website Lead", *sc.Data.Source)
		fieldID := c.CustomFields[0].FieldId
		b.callErr(t, http.StatusBadRequest, "validation_error", "PATCH", path, b.sStd,
			map[string]any{"customFields": []map[string]any{{"fieldId": fieldID, "value": "many"}}})
		b.call(t, http.StatusOK, "PATCH", path, b.sStd, map[string]any{"customFields": []map[string]any{{"fieldId": fieldID, "value": "2"}}}, &sc)
		require.Equal(t, "2", *sc.Data.CustomFields[0].Value)
		b.call(t, http.StatusOK, "POST", refPath("referrals", referralID(c), "reject"), b.rStd, map[string]any{"reason": "No"}, nil)
		b.call(t, http.StatusOK, "PATCH", path, b.sStd, map[string]any{"tier": 2}, &sc)
		require.Equal(t, 2, *sc.Data.Tier)
	})

	t.Run("ListFiltersSearchesAndSorts", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		draft := b.sentCase(t, nil)
		toRecv := b.sentCase(t, b.recv)
		body := caseBody(b.other)
		body["clientFirstName"], body["clientLastName"] = "Zelda", "Quist"
		var third api.SentCaseResponse
		b.call(t, http.StatusCreated, "POST", "/sent-cases", b.sStd, body, &third)

		list := func(query string) []api.SentCaseListItem {
			var out api.SentCaseListResponse
			b.call(t, http.StatusOK, "GET", "/sent-cases"+query, b.sRO, nil, &out)
			return out.Data
		}
		require.Len(t, list(""), 3)
		require.Equal(t, third.Data.Id, list("")[0].Id, "newest activity first")
		require.Equal(t, draft.Id, list("?order=asc")[0].Id)
		got := list("?status=draft")
		require.Len(t, got, 1)
		require.Equal(t, draft.Id, got[0].Id)
		require.Nil(t, got[0].ReceivingFirmId)
		got = list("?search=quist")
		require.Len(t, got, 1)
		require.Equal(t, third.Data.Id, got[0].Id)
		got = list("?search=" + "brennan")
		require.Len(t, got, 1, "receiving firm name")
		require.Equal(t, toRecv.Id, got[0].Id)
		got = list("?search=" + *toRecv.ReferenceNumber)
		require.Len(t, got, 1)
		got = list("?sort=referenceNumber&order=asc&limit=2&page=2")
		require.Len(t, got, 1)
		require.Equal(t, third.Data.Id, got[0].Id)
		var out api.SentCaseListResponse
		b.call(t, http.StatusOK, "GET", "/sent-cases?limit=2&page=5", b.sRO, nil, &out)
		require.Equal(t, 3, out.Pagination.Total)
		require.Equal(t, 2, out.Pagination.TotalPages)
		b.callErr(t, http.StatusBadRequest, "validation_error", "GET", "/sent-cases?sort=title", b.sRO, nil)
	})
}

func apitestFirmOpts(name string) apitest.FirmOpts { return apitest.FirmOpts{Name: name} }
