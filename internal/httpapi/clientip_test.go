package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/httpapi"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	p := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	for name, tc := range map[string]struct {
		trusted []netip.Prefix
		header  string
		remote  string
		values  []string
		want    string
	}{
		"no proxy configured: the header is ignored":        {nil, "", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		"untrusted peer: the header is ignored":             {p("10.0.0.0/8"), "", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		"trusted peer: the address it appended":             {p("10.0.0.0/8"), "", "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		"a prefix the client wrote is skipped":              {p("10.0.0.0/8"), "", "10.1.2.3:5000", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},
		"a chain of trusted proxies is walked":              {p("10.0.0.0/8"), "", "10.1.2.3:5000", []string{"6.6.6.6, 198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		"several header lines form one list":                {p("10.0.0.0/8"), "", "10.1.2.3:5000", []string{"6.6.6.6", "198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		"trusted peer without the header":                   {p("10.0.0.0/8"), "", "10.1.2.3:5000", nil, "10.1.2.3"},
		"a malformed entry stops the walk":                  {p("10.0.0.0/8"), "", "10.1.2.3:5000", []string{"198.51.100.1, garbage, 10.9.9.9"}, "10.9.9.9"},
		"all trusted: the farthest one":                     {p("10.0.0.0/8"), "", "10.1.2.3:5000", []string{"10.5.5.5, 10.9.9.9"}, "10.5.5.5"},
		"IPv6 peer and client":                              {p("2001:db8::/32"), "", "[2001:db8::1]:443", []string{"2001:db8:ffff::2, 2600::1"}, "2600::1"},
		"Forwarded for= with ports and quotes":              {p("10.0.0.0/8"), httpapi.HeaderForwarded, "10.1.2.3:5000", []string{`for=6.6.6.6, for="[2600::1]:4711";proto=https, for=10.9.9.9:80;by=10.1.2.3`}, "2600::1"},
		"Forwarded configured: X-Forwarded-For is not read": {p("10.0.0.0/8"), httpapi.HeaderForwarded, "10.1.2.3:5000", nil, "10.1.2.3"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			h := tc.header
			if h == "" {
				h = httpapi.HeaderXForwardedFor
			}
			for _, v := range tc.values {
				r.Header.Add(h, v)
			}
			r.Header.Set(httpapi.HeaderXForwardedFor+"-Unused", "1.1.1.1")
			if h == httpapi.HeaderForwarded {
				r.Header.Set(httpapi.HeaderXForwardedFor, "7.7.7.7") // smuggled in the other header
			}
			require.Equal(t, tc.want, httpapi.ClientIP(tc.trusted, tc.header)(r))
		})
	}
}

// TestClientIPOverHTTP drives the login throttle (auth.DefaultIPFailures failures per address)
// through the harness, whose peer is always 127.0.0.1.
func TestClientIPOverHTTP(t *testing.T) {
	t.Parallel()
	fail := func(h *apitest.Harness, i int, opts ...apitest.Opt) *apitest.Response {
		body := apitest.JSON(map[string]string{"email": fmt.Sprintf("nobody%d@example.test", i), "password": "wrong-password-here"})
		return h.Do("POST", fdLoginPath, append([]apitest.Opt{body}, opts...)...)
	}
	xff := func(v string) apitest.Opt { return apitest.Header("X-Forwarded-For", v) }

	t.Run("SpoofedXForwardedForFromAnUntrustedPeerIsIgnored", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		for i := range auth.DefaultIPFailures {
			// A new address on every attempt would escape the throttle if it were believed.
			r := fail(h, i, xff(fmt.Sprintf("198.51.100.%d", i+1)))
			require.Equal(t, "invalid_credentials", r.ErrorCode(), "attempt %d", i)
		}
		r := fail(h, 999, xff("198.51.100.250"))
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
		require.Equal(t, "rate_limited_ip", r.ErrorCode(), "the spoofed header moved the throttle")
	})

	t.Run("FromATrustedProxyTheRightmostUntrustedHopIsTheClient", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t, apitest.Options{Config: func(c *config.Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
		}})
		for i := range auth.DefaultIPFailures {
			// The client prepends a different address each time; the balancer appended the real
			// one, then an inner trusted proxy its own.
			r := fail(h, i, xff(fmt.Sprintf("6.6.6.%d, 198.51.100.7, 10.0.0.5", i+1)))
			require.Equal(t, "invalid_credentials", r.ErrorCode(), "attempt %d", i)
		}
		r := fail(h, 999, xff("6.6.6.250, 198.51.100.7, 10.0.0.5"))
		require.Equal(t, "rate_limited_ip", r.ErrorCode(), "198.51.100.7 is throttled whatever it prepends")
		// Another client behind the same balancer is not locked out.
		r = fail(h, 1000, xff("198.51.100.8, 10.0.0.5"))
		require.Equal(t, "invalid_credentials", r.ErrorCode(), "one client's failures locked out another behind the proxy")
		// Without the header the balancer itself is the client, with its own budget.
		r = fail(h, 1001)
		require.Equal(t, "invalid_credentials", r.ErrorCode())
	})

	t.Run("TheInternalAPIIPBudgetFollowsTheClientIP", func(t *testing.T) {
		t.Parallel()
		const budget = 3
		h := apitest.New(t, apitest.Options{RateIP: budget, Config: func(c *config.Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		}})
		for range budget {
			require.NotEqual(t, http.StatusTooManyRequests, fail(h, 1, xff("198.51.100.20")).StatusCode)
		}
		require.Equal(t, http.StatusTooManyRequests, fail(h, 1, xff("198.51.100.20")).StatusCode)
		require.NotEqual(t, http.StatusTooManyRequests, fail(h, 1, xff("198.51.100.21")).StatusCode, "another client shares the budget")
	})

	t.Run("ForwardedHeaderWhenConfigured", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t, apitest.Options{Config: func(c *config.Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			c.ClientIPHeader = config.HeaderForwarded
		}})
		for i := range auth.DefaultIPFailures {
			r := fail(h, i, apitest.Header("Forwarded", "for=198.51.100.30;proto=https"), xff(fmt.Sprintf("198.51.100.%d", i+100)))
			require.Equal(t, "invalid_credentials", r.ErrorCode(), "attempt %d", i)
		}
		r := fail(h, 999, apitest.Header("Forwarded", "for=198.51.100.30"), xff("198.51.100.222"))
		require.Equal(t, "rate_limited_ip", r.ErrorCode(), "X-Forwarded-For was read although Forwarded is configured")
	})
}

func TestProbes(t *testing.T) {
	t.Parallel()
	get := func(t *testing.T, url string) (int, map[string]any, http.Header) {
		t.Helper()
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m), "%s", b)
		return resp.StatusCode, m, resp.Header
	}

	t.Run("LivezAndReadyzOnAServingApp", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		code, body, hdr := get(t, h.URL+"/livez")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "ok", body["status"])
		require.Equal(t, "no-store", hdr.Get("Cache-Control"))
		code, body, _ = get(t, h.URL+"/readyz")
		require.Equal(t, http.StatusOK, code, "%v", body)
		require.Equal(t, map[string]any{"database": "ok", "migrations": "ok", "draining": "ok"}, body["checks"])

		resp, err := http.Get(h.URL + "/metrics")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "metrics are not served on the API port")

		h.App.Drain()
		code, body, _ = get(t, h.URL+"/readyz")
		require.Equal(t, http.StatusServiceUnavailable, code)
		require.Equal(t, "unavailable", body["status"])
		require.Equal(t, "fail", body["checks"].(map[string]any)["draining"])
		code, _, _ = get(t, h.URL+"/livez")
		require.Equal(t, http.StatusOK, code, "draining is not dead")
	})

	t.Run("ReadyzIs503WhileAMigrationIsPending", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		_, err := h.Pool.Exec(context.Background(), `DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`)
		require.NoError(t, err)
		code, body, _ := get(t, h.URL+"/readyz")
		require.Equal(t, http.StatusServiceUnavailable, code)
		require.Equal(t, map[string]any{"database": "ok", "migrations": "fail", "draining": "ok"}, body["checks"])
	})

	t.Run("ReadyzIs503WhenTheDatabaseIsDown", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		h.Pool.Close() // every later query fails as with a database that went away
		code, body, _ := get(t, h.URL+"/readyz")
		require.Equal(t, http.StatusServiceUnavailable, code)
		checks := body["checks"].(map[string]any)
		require.Equal(t, "fail", checks["database"])
		require.Equal(t, "ok", checks["draining"])
		code, _, _ = get(t, h.URL+"/livez")
		require.Equal(t, http.StatusOK, code)
	})
}
