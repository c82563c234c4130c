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

// TestTextNUL checks the NUL rule of JSON bodies: only a real NUL character (a zero byte or the
// escape \u0000) is refused; an escaped backslash followed by "u0000" is ordinary text.
func TestTextNUL(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	key := h.Key(h.NewFirm(apitest.FirmOpts{}), apitest.Standard)
	create := func(title string) *apitest.Response {
		body := `{"title":"` + title + `","caseType":"Personal Injury","jurisdiction":"WA","clientFirstName":"Ada","clientLastName":"Byron"}`
		return h.Do("POST", "/api/public/v1/sent-cases", apitest.APIKey(key), apitest.Body("application/json", []byte(body)))
	}

	for name, title := range map[string]string{
		"escape":                         `a\u0000b`,
		"escape after an escaped slash":  `a\\\u0000b`,
		"raw zero byte":                  "a\x00b",
		"escape at the end of the value": `ab\u0000`,
	} {
		r := create(title)
		require.Equal(t, http.StatusBadRequest, r.StatusCode, name+": "+string(r.Body))
		require.Equal(t, "validation_error", r.ErrorCode(), name)
		require.Contains(t, string(r.Body), "NUL", name)
	}

	for name, tc := range map[string]struct{ json, stored string }{
		"escaped backslash then u0000":       {`a\\u0000b`, `a\u0000b`},
		"two escaped backslashes then u0000": {`a\\\\u0000b`, `a\\u0000b`},
		"other escapes":                      {`tab\there \u0041\u00e9`, "tab\there Aé"},
		"escaped quote before text u0000":    {`say \"u0000\"`, `say "u0000"`},
	} {
		r := create(tc.json)
		require.Equal(t, http.StatusCreated, r.StatusCode, name+": "+string(r.Body))
		var out struct {
			Data struct {
				Title string `json:"title"`
			} `json:"data"`
		}
		r.Decode(&out)
		require.Equal(t, tc.stored, out.Data.Title, name)
	}
}
