package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/httpapi/apitest"
)

func TestPlatformConventions(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	firm := h.NewFirm(apitest.FirmOpts{})
	ro := h.Key(firm, apitest.ReadOnly)

	t.Run("unknown route answers the envelope", func(t *testing.T) {
		r := h.Do("GET", "/api/public/v1/no-such-thing", apitest.APIKey(ro))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		require.Equal(t, "resource_not_found", r.ErrorCode())
	})
	t.Run("missing key is invalid_api_key", func(t *testing.T) {
		r := h.Do("GET", "/api/public/v1/firms/me")
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "invalid_api_key", r.ErrorCode())
	})
	t.Run("unknown key is invalid_api_key", func(t *testing.T) {
		r := h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey("cxp_ro_notarealkeynotarealkeynotarealkey12"))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "invalid_api_key", r.ErrorCode())
	})
	t.Run("tier below x-access-tier is insufficient_tier before validation", func(t *testing.T) {
		r := h.Do("PUT", "/api/public/v1/firms/me", apitest.APIKey(ro), apitest.Body("application/json", []byte("{not json")))
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "insufficient_tier", r.ErrorCode())
		require.NotEmpty(t, r.Header.Get("X-RateLimit-Limit"))
	})
	t.Run("request id is echoed or generated", func(t *testing.T) {
		r := h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(ro), apitest.Header("X-Request-Id", "trace-abc.123"))
		require.Equal(t, "trace-abc.123", r.Header.Get("X-Request-Id"))
		r = h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(ro))
		require.Regexp(t, `^req_[0-9a-f]{24}$`, r.Header.Get("X-Request-Id"))
	})
	t.Run("bad query parameter names the field", func(t *testing.T) {
		r := h.Do("GET", "/api/public/v1/sent-cases?limit=1000", apitest.APIKey(ro))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, "validation_error", r.ErrorCode())
		require.Contains(t, string(r.Body), `"field":"query.limit"`)
	})
	t.Run("internal API without token is no_token", func(t *testing.T) {
		r := h.Do("GET", "/api/v1/auth/me")
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "no_token", r.ErrorCode())
	})
}
