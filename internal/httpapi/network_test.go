package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

// nwPath is the path of a network operation on another firm.
func nwPath(direction string, firm uuid.UUID) string {
	return apitest.Path("/api/public/v1/network", direction, firm.String())
}

// nwDetail sends a network request and decodes a NetworkFirmDetailResponse, requiring status.
func nwDetail(t *testing.T, h *apitest.Harness, method, path, key string, status int, body any) api.NetworkFirmDetail {
	t.Helper()
	opts := []apitest.Opt{apitest.APIKey(key)}
	if body != nil {
		opts = append(opts, apitest.JSON(body))
	}
	r := h.Do(method, path, opts...)
	require.Equal(t, status, r.StatusCode, string(r.Body))
	var out api.NetworkFirmDetailResponse
	r.Decode(&out)
	return out.Data
}

// nwConnect makes an active relationship in which from sends cases to to, through the API.
func nwConnect(t *testing.T, h *apitest.Harness, from, to *apitest.Firm, instructions string) {
	t.Helper()
	r := h.Do("PUT", nwPath("outbound", to.ID), apitest.APIKey(h.Key(from, apitest.Standard)))
	require.Contains(t, []int{http.StatusCreated, http.StatusOK}, r.StatusCode, string(r.Body))
	body := map[string]any{"status": "active"}
	if instructions != "" {
		body["referralInstructions"] = instructions
	}
	r = h.Do("PATCH", nwPath("inbound", from.ID), apitest.APIKey(h.Key(to, apitest.Standard)), apitest.JSON(body))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
}

func nwPending(t *testing.T, h *apitest.Harness, key string) []api.PendingRelationship {
	t.Helper()
	r := h.Do("GET", "/api/public/v1/network/pending", apitest.APIKey(key))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var out api.PendingRelationshipListResponse
	r.Decode(&out)
	return out.Data
}

func TestNetwork(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h          *apitest.Harness
		a, b, c    *apitest.Firm
		aStd, aRO  string
		bStd, cStd string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		b := &testBundle{h: h}
		b.a = h.NewFirm(apitest.FirmOpts{Name: "Alder Injury Law"})
		b.b = h.NewFirm(apitest.FirmOpts{
			Name: "Birch Trial Group", Jurisdictions: []string{"WA", "OR"},
			Instructions: "Call intake first.",
		})
		b.c = h.NewFirm(apitest.FirmOpts{Name: "Cedar Legal"})
		b.aStd, b.aRO = h.Key(b.a, apitest.Standard), h.Key(b.a, apitest.ReadOnly)
		b.bStd, b.cStd = h.Key(b.b, apitest.Standard), h.Key(b.c, apitest.Standard)
		return b
	}

	t.Run("relationship goes from pending to active, seen from both sides", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		h := b.h

		// Nothing yet: both views answer 200 with no relationship.
		d := nwDetail(t, h, "GET", nwPath("outbound", b.b.ID), b.aRO, http.StatusOK, nil)
		require.Equal(t, b.b.ID, d.FirmId)
		require.Equal(t, "Birch Trial Group", d.FirmName)
		require.Equal(t, []string{"WA", "OR"}, d.Jurisdictions)
		require.Equal(t, "Call intake first.", *d.GeneralReferralInstructions)
		require.False(t, d.InNetwork)
		require.Nil(t, d.Relationship)

		// A asks to send cases to B.
		d = nwDetail(t, h, "PUT", nwPath("outbound", b.b.ID), b.aStd, http.StatusCreated, map[string]any{
			"description": "Our Pacific Northwest partner", "sendingPercentage": 33.5,
			"daysForUnderEvaluation": 14, "daysForInvestigating": 30,
		})
		require.False(t, d.InNetwork)
		require.NotNil(t, d.Relationship)
		rel := d.Relationship
		require.Equal(t, api.NetworkRelationshipStatus("pending"), rel.Status)
		require.Equal(t, "Our Pacific Northwest partner", *rel.Description)
		require.InDelta(t, 33.5, *rel.SendingPercentage, 1e-6)
		require.Equal(t, 14, *rel.DaysForUnderEvaluation)
		require.Equal(t, 30, *rel.DaysForInvestigating)
		require.Nil(t, rel.ReferralInstructions)

		// Both sides see it as pending, in their own direction.
		pa := nwPending(t, h, b.aRO)
		require.Len(t, pa, 1)
		require.Equal(t, b.b.ID, pa[0].FirmId)
		require.Equal(t, api.PendingRelationshipDirection("outbound"), pa[0].Direction)
		pb := nwPending(t, h, b.bStd)
		require.Len(t, pb, 1)
		require.Equal(t, b.a.ID, pb[0].FirmId)
		require.Equal(t, "Alder Injury Law", pb[0].FirmName)
		require.Equal(t, api.PendingRelationshipDirection("inbound"), pb[0].Direction)

		// B sees the sender's terms but not A's private note.
		d = nwDetail(t, h, "GET", nwPath("inbound", b.a.ID), b.bStd, http.StatusOK, nil)
		require.False(t, d.InNetwork)
		require.Equal(t, api.NetworkRelationshipStatus("pending"), d.Relationship.Status)
		require.Nil(t, d.Relationship.Description)
		require.InDelta(t, 33.5, *d.Relationship.SendingPercentage, 1e-6)

		// B accepts and writes instructions and its own note.
		d = nwDetail(t, h, "PATCH", nwPath("inbound", b.a.ID), b.bStd, http.StatusOK, map[string]any{
			"status": "active", "referralInstructions": "Send the police report.", "description": "Good source of PI cases",
		})
		require.True(t, d.InNetwork)
		require.Equal(t, api.NetworkRelationshipStatus("active"), d.Relationship.Status)
		require.Equal(t, "Good source of PI cases", *d.Relationship.Description)
		require.Equal(t, "Send the police report.", *d.Relationship.ReferralInstructions)

		// A now has B in its network, with B's instructions and A's own note.
		d = nwDetail(t, h, "GET", nwPath("outbound", b.b.ID), b.aRO, http.StatusOK, nil)
		require.True(t, d.InNetwork)
		require.Equal(t, "Our Pacific Northwest partner", *d.Relationship.Description)
		require.Equal(t, "Send the police report.", *d.Relationship.ReferralInstructions)

		require.Empty(t, nwPending(t, h, b.aRO))
		require.Empty(t, nwPending(t, h, b.bStd))

		// The relationship is directed: B does not send to A.
		d = nwDetail(t, h, "GET", nwPath("outbound", b.a.ID), b.bStd, http.StatusOK, nil)
		require.False(t, d.InNetwork)
		require.Nil(t, d.Relationship)
	})

	t.Run("PUT replaces the sender settings and PATCH changes only what is given", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		h := b.h
		nwConnect(t, h, b.a, b.b, "Use the portal.")

		d := nwDetail(t, h, "PATCH", nwPath("outbound", b.b.ID), b.aStd, http.StatusOK, map[string]any{"sendingPercentage": 50})
		require.InDelta(t, 50, *d.Relationship.SendingPercentage, 1e-6)
		require.Nil(t, d.Relationship.DaysForInvestigating)

		d = nwDetail(t, h, "PATCH", nwPath("outbound", b.b.ID), b.aStd, http.StatusOK, map[string]any{"daysForInvestigating": 21})
		require.InDelta(t, 50, *d.Relationship.SendingPercentage, 1e-6)
		require.Equal(t, 21, *d.Relationship.DaysForInvestigating)
		require.Equal(t, api.NetworkRelationshipStatus("active"), d.Relationship.Status)
		// referralInstructions belong to the receiver: ignored from the sender.
		d = nwDetail(t, h, "PATCH", nwPath("outbound", b.b.ID), b.aStd, http.StatusOK, map[string]any{"referralInstructions": "hijack"})
		require.Equal(t, "Use the portal.", *d.Relationship.ReferralInstructions)

		// Replacing an existing relationship answers 200, nulls what is omitted, keeps active.
		d = nwDetail(t, h, "PUT", nwPath("outbound", b.b.ID), b.aStd, http.StatusOK, map[string]any{"daysForUnderEvaluation": 7})
		require.Nil(t, d.Relationship.SendingPercentage)
		require.Nil(t, d.Relationship.DaysForInvestigating)
		require.Equal(t, 7, *d.Relationship.DaysForUnderEvaluation)
		require.Equal(t, api.NetworkRelationshipStatus("active"), d.Relationship.Status)
		require.True(t, d.InNetwork)
		require.Equal(t, "Use the portal.", *d.Relationship.ReferralInstructions)

		// A body-less PUT is allowed too.
		d = nwDetail(t, h, "PUT", nwPath("outbound", b.b.ID), b.aStd, http.StatusOK, nil)
		require.Nil(t, d.Relationship.DaysForUnderEvaluation)
	})

	t.Run("a paused relationship asks again when the sender replaces it", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		h := b.h
		nwConnect(t, h, b.a, b.b, "")

		d := nwDetail(t, h, "PATCH", nwPath("inbound", b.a.ID), b.bStd, http.StatusOK, map[string]any{"status": "inactive"})
		require.False(t, d.InNetwork)
		require.Equal(t, api.NetworkRelationshipStatus("inactive"), d.Relationship.Status)

		// PATCH by the sender does not change the status...
		d = nwDetail(t, h, "PATCH", nwPath("outbound", b.b.ID), b.aStd, http.StatusOK, map[string]any{"description": "again?"})
		require.Equal(t, api.NetworkRelationshipStatus("inactive"), d.Relationship.Status)
		// ...PUT turns it back into a request.
		d = nwDetail(t, h, "PUT", nwPath("outbound", b.b.ID), b.aStd, http.StatusOK, map[string]any{"description": "again?"})
		require.Equal(t, api.NetworkRelationshipStatus("pending"), d.Relationship.Status)
		require.Len(t, nwPending(t, h, b.bStd), 1)

		// An empty inbound PATCH changes nothing.
		d = nwDetail(t, h, "PATCH", nwPath("inbound", b.a.ID), b.bStd, http.StatusOK, map[string]any{})
		require.Equal(t, api.NetworkRelationshipStatus("pending"), d.Relationship.Status)
		// An empty string clears the instructions.
		nwDetail(t, h, "PATCH", nwPath("inbound", b.a.ID), b.bStd, http.StatusOK, map[string]any{"referralInstructions": "x"})
		d = nwDetail(t, h, "PATCH", nwPath("inbound", b.a.ID), b.bStd, http.StatusOK, map[string]any{"referralInstructions": ""})
		require.Nil(t, d.Relationship.ReferralInstructions)
	})

	t.Run("own firm is a validation error and unknown firms are not found", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		h := b.h
		for _, tc := range []struct{ method, dir string }{
			{"GET", "outbound"}, {"PUT", "outbound"}, {"PATCH", "outbound"}, {"GET", "inbound"}, {"PATCH", "inbound"},
		} {
			r := h.Do(tc.method, nwPath(tc.dir, b.a.ID), apitest.APIKey(b.aStd), apitest.JSON(map[string]any{}))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, "%s %s: %s", tc.method, tc.dir, r.Body)
			require.Equal(t, "validation_error", r.ErrorCode())
			require.Contains(t, string(r.Body), "firmId")

			r = h.Do(tc.method, nwPath(tc.dir, uuid.New()), apitest.APIKey(b.aStd), apitest.JSON(map[string]any{}))
			require.Equal(t, http.StatusNotFound, r.StatusCode, "%s %s: %s", tc.method, tc.dir, r.Body)
			require.Equal(t, "resource_not_found", r.ErrorCode())
		}
	})

	t.Run("updating a relationship that does not exist is not found", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("PATCH", nwPath("outbound", b.b.ID), apitest.APIKey(b.aStd), apitest.JSON(map[string]any{"sendingPercentage": 10}))
		require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
		r = b.h.Do("PATCH", nwPath("inbound", b.b.ID), apitest.APIKey(b.aStd), apitest.JSON(map[string]any{"status": "active"}))
		require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
	})

	t.Run("settings out of range are rejected naming the field", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for field, value := range map[string]any{
			"sendingPercentage": 100.5, "daysForUnderEvaluation": 0, "daysForInvestigating": 366,
		} {
			r := b.h.Do("PUT", nwPath("outbound", b.b.ID), apitest.APIKey(b.aStd), apitest.JSON(map[string]any{field: value}))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
			require.Equal(t, "validation_error", r.ErrorCode())
			require.Contains(t, string(r.Body), field)
		}
		r := b.h.Do("PATCH", nwPath("inbound", b.b.ID), apitest.APIKey(b.aStd), apitest.JSON(map[string]any{"status": "pending"}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		// Nothing was created by the rejected requests.
		d := nwDetail(t, b.h, "GET", nwPath("outbound", b.b.ID), b.aRO, http.StatusOK, nil)
		require.Nil(t, d.Relationship)
	})

	t.Run("changing the network needs a standard key", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("PUT", nwPath("outbound", b.b.ID), apitest.APIKey(b.aRO))
		require.Equal(t, http.StatusForbidden, r.StatusCode, string(r.Body))
		require.Equal(t, "insufficient_tier", r.ErrorCode())
	})

	t.Run("a third firm can neither see nor change the relationship", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		h := b.h
		nwConnect(t, h, b.a, b.b, "Only for Alder.")

		// C looking at B sees its own (absent) relationship, not A's.
		d := nwDetail(t, h, "GET", nwPath("outbound", b.b.ID), b.cStd, http.StatusOK, nil)
		require.False(t, d.InNetwork)
		require.Nil(t, d.Relationship)
		d = nwDetail(t, h, "GET", nwPath("inbound", b.a.ID), b.cStd, http.StatusOK, nil)
		require.Nil(t, d.Relationship)

		// C cannot accept, pause or edit it.
		r := h.Do("PATCH", nwPath("inbound", b.a.ID), apitest.APIKey(b.cStd), apitest.JSON(map[string]any{"status": "inactive"}))
		require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
		r = h.Do("PATCH", nwPath("outbound", b.b.ID), apitest.APIKey(b.cStd), apitest.JSON(map[string]any{"sendingPercentage": 1}))
		require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
		require.Empty(t, nwPending(t, h, b.cStd))

		// A's relationship is untouched.
		d = nwDetail(t, h, "GET", nwPath("outbound", b.b.ID), b.aRO, http.StatusOK, nil)
		require.True(t, d.InNetwork)
		require.Nil(t, d.Relationship.SendingPercentage)
	})
}
