package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/httpapi/apitest"
)

// Partial updates distinguish an absent member (keep) from an explicit null (clear).
func TestPartialUpdateNullClears(t *testing.T) {
	t.Parallel()
	f := newParties(t)
	path := apitest.Path("/api/public/v1/received-referrals", f.caseID.String())
	receivedAction(t, f.h, f.recvStd, f.caseID, "acknowledge", nil)

	notes := func() any {
		r := f.h.Do("GET", path, apitest.APIKey(f.recvStd))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		return r.Map()["data"].(map[string]any)["notes"]
	}
	patch := func(body map[string]any) {
		r := f.h.Do("PATCH", path, apitest.APIKey(f.recvStd), apitest.JSON(body))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	}

	patch(map[string]any{"notes": "Client called twice; police report requested."})
	require.Equal(t, "Client called twice; police report requested.", notes())

	patch(map[string]any{"phase": "intake"})
	require.Equal(t, "Client called twice; police report requested.", notes(), "an absent member keeps the stored value")

	patch(map[string]any{"notes": nil})
	require.Nil(t, notes(), "an explicit null clears the stored value")
}
