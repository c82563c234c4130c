package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

// TestFoundationPlatform checks the conventions every foundation operation shares: request ids,
// envelopes for failures outside any operation, key checks, tiers and rate limits.
func TestFoundationPlatform(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h    *apitest.Harness
		firm *apitest.Firm
		key  string // read-only
	}
	setup := func(t *testing.T, opts ...apitest.Options) *testBundle {
		t.Helper()
		h := apitest.New(t, opts...)
		firm := h.NewFirm(apitest.FirmOpts{})
		return &testBundle{h: h, firm: firm, key: h.Key(firm, apitest.ReadOnly)}
	}

	t.Run("an incoming X-Request-Id is echoed in the header and in meta", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		access, _ := b.h.Login(b.firm.Admin)
		for _, req := range []struct {
			path string
			opts []apitest.Opt
		}{
			{fdOwnFirmPath, []apitest.Opt{apitest.APIKey(b.key)}},
			{"/api/public/v1/firms/" + b.firm.ID.String(), []apitest.Opt{apitest.APIKey(b.key)}},
			{fdMePath, []apitest.Opt{apitest.Bearer(access)}},
			{fdOwnFirmPath, nil}, // an error
			{fdHealthPath, nil},
		} {
			r := b.h.Do("GET", req.path, append(req.opts, apitest.Header("X-Request-Id", "client-trace.42"))...)
			require.Equal(t, "client-trace.42", r.Header.Get("X-Request-Id"), req.path)
			require.Equal(t, "client-trace.42", fdMetaRequestID(t, r), req.path)
		}
	})

	t.Run("otherwise a req_<hex> id is generated, the same in header and meta", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, bad := range []string{"", "has spaces in it", strings.Repeat("x", 200)} {
			r := b.h.Do("GET", fdOwnFirmPath, apitest.APIKey(b.key), apitest.Header("X-Request-Id", bad))
			id := r.Header.Get("X-Request-Id")
			require.Regexp(t, `^req_[0-9a-f]+$`, id)
			require.Equal(t, id, fdMetaRequestID(t, r))
		}
		first := b.h.Do("GET", fdOwnFirmPath, apitest.APIKey(b.key)).Header.Get("X-Request-Id")
		second := b.h.Do("GET", fdOwnFirmPath, apitest.APIKey(b.key)).Header.Get("X-Request-Id")
		require.NotEqual(t, first, second)
	})

	t.Run("unknown routes answer the not-found envelope", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, path := range []string{"/api/public/v1/nope", "/api/v1/nope", "/nope", "/api/public/v1/nope/deeper"} {
			for _, opts := range [][]apitest.Opt{nil, {apitest.APIKey(b.key)}} {
				r := b.h.Do("GET", path, opts...)
				require.Equal(t, http.StatusNotFound, r.StatusCode, path)
				require.Equal(t, "resource_not_found", r.ErrorCode(), path)
				require.Equal(t, r.Header.Get("X-Request-Id"), fdMetaRequestID(t, r))
			}
		}
	})

	t.Run("a method the path does not support answers 405 in the envelope", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("DELETE", fdOwnFirmPath, apitest.APIKey(b.key))
		require.Equal(t, http.StatusMethodNotAllowed, r.StatusCode)
		require.Equal(t, "method_not_allowed", r.ErrorCode())
		r = b.h.Do("GET", fdLoginPath)
		require.Equal(t, http.StatusMethodNotAllowed, r.StatusCode)
	})

	t.Run("an oversized body answers 413 in the envelope", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		full := b.h.Key(b.firm, apitest.Full)
		big := []byte(`{"description":"` + strings.Repeat("x", 3<<20) + `"}`)
		r := b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(full), apitest.Body("application/json", big))
		require.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode)
		require.Equal(t, "validation_error", r.ErrorCode())
	})

	t.Run("a panic becomes a 500 internal_error envelope without the cause", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.h.App.Echo.GET("/test-only/panic", func(echo.Context) error { panic("secret detail") })
		req, err := http.NewRequest("GET", b.h.URL+"/test-only/panic", nil)
		require.NoError(t, err)
		req.Header.Set("X-Request-Id", "panic-1")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		require.Equal(t, "panic-1", resp.Header.Get("X-Request-Id"))
		require.NotContains(t, string(body), "secret detail")
		var env api.Error
		require.NoError(t, json.Unmarshal(body, &env))
		require.Equal(t, "internal_error", env.Error.Code)
		require.NotEmpty(t, env.Error.Message)
		require.Equal(t, "panic-1", env.Meta.RequestId)

		// The server keeps serving.
		require.Equal(t, http.StatusOK, b.h.Do("GET", fdHealthPath).StatusCode)
	})

	t.Run("malformed JSON and wrong content types are validation_error", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		full := b.h.Key(b.firm, apitest.Full)
		for _, body := range []apitest.Opt{
			apitest.Body("application/json", []byte(`{"name":`)),
			apitest.Body("application/json", []byte(`["name"]`)),
			apitest.Body("application/xml", []byte(`<name>x</name>`)),
		} {
			r := b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(full), body)
			fdRequireValidation(t, r, "")
			require.NotEmpty(t, r.Header.Get("X-RateLimit-Limit"))
		}
	})

	t.Run("invalid_api_key for missing, malformed, unknown and revoked keys", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		access, _ := b.h.Login(b.firm.Admin)
		r := b.h.Do("POST", fdKeysPath, apitest.Bearer(access), apitest.JSON(map[string]string{"name": "soon revoked", "tier": "FULL"}))
		require.Equal(t, http.StatusCreated, r.StatusCode)
		var created api.PublicApiKeyCreatedResponse
		r.Decode(&created)
		require.Equal(t, http.StatusNoContent,
			b.h.Do("DELETE", apitest.Path(fdKeysPath, created.Data.Id.String()), apitest.Bearer(access)).StatusCode)

		for name, opts := range map[string][]apitest.Opt{
			"missing":      nil,
			"empty":        {apitest.Header("X-API-Key", "")},
			"malformed":    {apitest.APIKey("not-a-key")},
			"wrong prefix": {apitest.APIKey("sk_live_" + strings.Repeat("a", 40))},
			"unknown":      {apitest.APIKey("cxp_full_" + strings.Repeat("b", 40))},
			"revoked":      {apitest.APIKey(created.Data.Key)},
			"bearer token": {apitest.Bearer(access)},
		} {
			r := b.h.Do("GET", fdOwnFirmPath, opts...)
			require.Equal(t, http.StatusUnauthorized, r.StatusCode, name)
			require.Equal(t, "invalid_api_key", r.ErrorCode(), name)
		}
	})

	t.Run("credentials are judged before input", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("PUT", fdOwnFirmPath, apitest.Body("application/json", []byte(`{`)))
		require.Equal(t, "invalid_api_key", r.ErrorCode())
		r = b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(b.key), apitest.Body("application/json", []byte(`{`)))
		require.Equal(t, "insufficient_tier", r.ErrorCode())
		r = b.h.Do("POST", fdPasswordPath, apitest.Body("application/json", []byte(`{`)))
		require.Equal(t, "no_token", r.ErrorCode())
	})

	t.Run("past the tier's budget requests get 429 with Retry-After", func(t *testing.T) {
		t.Parallel()
		b := setup(t, apitest.Options{RateReadOnly: 3, RateFull: 5, RateWindow: time.Minute})
		for i := range 3 {
			r := b.h.Do("GET", fdOwnFirmPath, apitest.APIKey(b.key))
			require.Equal(t, http.StatusOK, r.StatusCode)
			require.Equal(t, "3", r.Header.Get("X-RateLimit-Limit"))
			require.Equal(t, strconv.Itoa(2-i), r.Header.Get("X-RateLimit-Remaining"))
			reset, err := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64)
			require.NoError(t, err)
			require.InDelta(t, time.Now().Add(time.Minute).Unix(), reset, 65)
		}
		for _, path := range []string{fdOwnFirmPath, "/api/public/v1/case-types", "/api/public/v1/firms/" + b.firm.ID.String()} {
			r := b.h.Do("GET", path, apitest.APIKey(b.key))
			require.Equal(t, http.StatusTooManyRequests, r.StatusCode, path)
			require.Equal(t, "rate_limited", r.ErrorCode())
			require.Equal(t, "0", r.Header.Get("X-RateLimit-Remaining"))
			retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
			require.NoError(t, err)
			require.Positive(t, retry)
			require.LessOrEqual(t, retry, 60)
		}

		// Budgets are per key: another key of the same firm, of another tier, is unaffected.
		full := b.h.Key(b.firm, apitest.Full)
		r := b.h.Do("GET", fdOwnFirmPath, apitest.APIKey(full))
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.Equal(t, "5", r.Header.Get("X-RateLimit-Limit"))

		// The health check is outside the budget.
		require.Equal(t, http.StatusOK, b.h.Do("GET", fdHealthPath).StatusCode)
	})

	t.Run("every authenticated public response carries the rate-limit headers", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		full := b.h.Key(b.firm, apitest.Full)
		for _, req := range []struct {
			method, path string
			opts         []apitest.Opt
		}{
			{"GET", fdOwnFirmPath, nil},
			{"GET", fdDirectoryPath + "?limit=1000", nil},
			{"GET", "/api/public/v1/firms/00000000-0000-4000-8000-000000000000", nil},
			{"PUT", fdOwnFirmPath, []apitest.Opt{apitest.JSON(map[string]any{"name": ""})}},
			{"GET", "/api/public/v1/counties?jurisdictionCodes=TOOLONG", nil},
		} {
			r := b.h.Do(req.method, req.path, append(req.opts, apitest.APIKey(full))...)
			for _, hd := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
				require.NotEmpty(t, r.Header.Get(hd), "%s on %s %s (%d)", hd, req.method, req.path, r.StatusCode)
			}
		}
	})
}

// fdMetaRequestID reads meta.requestId from any success or error body.
func fdMetaRequestID(t *testing.T, r *apitest.Response) string {
	t.Helper()
	var body struct {
		Meta struct {
			RequestID string `json:"requestId"`
		} `json:"meta"`
	}
	require.NoError(t, json.NewDecoder(bytes.NewReader(r.Body)).Decode(&body), string(r.Body))
	return body.Meta.RequestID
}
