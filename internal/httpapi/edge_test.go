package httpapi_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

// TestEdgeHeaders covers security finding 9: nosniff on every response, no-store on every
// response that may carry a secret or client data (ETag-tagged Public API reads revalidate
// instead), and a 405 whose Allow lists every method of the path.
func TestEdgeHeaders(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	firm := h.NewFirm(apitest.FirmOpts{})
	key := h.Key(firm, apitest.Full)
	access, _ := h.Login(firm.Admin)

	type check struct {
		name  string
		resp  *apitest.Response
		cache string // "" means no Cache-Control
	}
	var checks []check
	add := func(name string, r *apitest.Response, status int, cache string) {
		t.Helper()
		require.Equal(t, status, r.StatusCode, "%s: %s", name, r.Body)
		checks = append(checks, check{name, r, cache})
	}

	add("health", h.Do("GET", "/api/public/v1/health"), http.StatusOK, "")
	add("spec", h.Do("GET", "/api/public/v1/openapi.json"), http.StatusOK, "public, no-cache") // public, revalidated with its ETag
	add("login (session tokens)", h.Do("POST", "/api/v1/auth/login",
		apitest.JSON(map[string]string{"email": firm.Admin.Email, "password": firm.Admin.Password})), http.StatusOK, "no-store")
	add("key creation (secret)", h.Do("POST", "/api/v1/public-api-keys", apitest.Bearer(access),
		apitest.JSON(map[string]string{"name": "edge", "tier": "FULL"})), http.StatusCreated, "no-store")
	add("key list", h.Do("GET", "/api/v1/public-api-keys", apitest.Bearer(access)), http.StatusOK, "no-store")
	add("public write", h.Do("POST", "/api/public/v1/notifications/emails", apitest.APIKey(key),
		apitest.JSON(map[string]string{"email": "edge@example.test"})), http.StatusCreated, "no-store")
	add("public error", h.Do("GET", "/api/public/v1/sent-cases/00000000-0000-4000-8000-000000000000", apitest.APIKey(key)),
		http.StatusNotFound, "no-store")
	add("unknown route", h.Do("GET", "/api/public/v1/no-such-thing", apitest.APIKey(key)), http.StatusNotFound, "no-store")
	tagged := h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(key))
	add("tagged public read", tagged, http.StatusOK, "private, no-cache")
	etag := tagged.Header.Get("ETag")
	require.NotEmpty(t, etag)
	add("304 revalidation", h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(key), apitest.Header("If-None-Match", etag)),
		http.StatusNotModified, "private, no-cache")

	for _, c := range checks {
		require.Equal(t, "nosniff", c.resp.Header.Get("X-Content-Type-Options"), c.name)
		require.Equal(t, c.cache, c.resp.Header.Get("Cache-Control"), c.name)
	}

	// 405 names every method of the path.
	for _, m := range []string{"OPTIONS", "PUT", "DELETE"} {
		r := h.Do(m, "/api/v1/public-api-keys", apitest.Bearer(access))
		require.Equal(t, http.StatusMethodNotAllowed, r.StatusCode, m)
		require.Equal(t, "GET, POST", r.Header.Get("Allow"), m)
		require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	}
	apitest.SecurityFinding(t, 9, "nosniff+no-store on %d response kinds, ETag reads private,no-cache, 405 Allow: GET, POST", len(checks))
}

// TestEdgeRateLimits covers security finding 10: a firm-wide budget across its keys, a cap on
// active keys, Internal API budgets per session and per address, and X-RateLimit-* headers
// that describe the binding budget. A one-day window keeps the counts from resetting
// mid-test (except across UTC midnight).
func TestEdgeRateLimits(t *testing.T) {
	t.Parallel()

	t.Run("the firm budget binds across keys", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t, apitest.Options{RateFull: 5, RateFirm: 8, RateWindow: 24 * time.Hour})
		firm := h.NewFirm(apitest.FirmOpts{})
		k1, k2 := h.Key(firm, apitest.Full), h.Key(firm, apitest.Full)
		get := func(k string) *apitest.Response { return h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(k)) }
		for i := 1; i <= 5; i++ {
			r := get(k1)
			require.Equal(t, http.StatusOK, r.StatusCode)
			// key: 5-i left, firm: 8-i left: the key binds.
			require.Equal(t, "5", r.Header.Get("X-RateLimit-Limit"))
			require.Equal(t, strconv.Itoa(5-i), r.Header.Get("X-RateLimit-Remaining"))
		}
		allowed := 5
		for i := 1; i <= 3; i++ {
			r := get(k2)
			require.Equal(t, http.StatusOK, r.StatusCode, "request %d of the second key", i)
			allowed++
			// key: 5-i left, firm: 3-i left: the firm binds.
			require.Equal(t, "8", r.Header.Get("X-RateLimit-Limit"))
			require.Equal(t, strconv.Itoa(3-i), r.Header.Get("X-RateLimit-Remaining"))
		}
		r := get(k2)
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode, "the second key still had its own budget, the firm's is spent")
		require.Equal(t, "rate_limited", r.ErrorCode())
		require.NotEmpty(t, r.Header.Get("Retry-After"))
		require.Equal(t, "8", r.Header.Get("X-RateLimit-Limit"))
		require.Equal(t, "0", r.Header.Get("X-RateLimit-Remaining"))
		other := h.Key(h.NewFirm(apitest.FirmOpts{}), apitest.Full)
		require.Equal(t, http.StatusOK, get(other).StatusCode, "another firm has its own budget")
		apitest.SecurityFinding(t, 10, "firm budget 8: 2 FULL keys x 5 gave %d requests, then 429", allowed)
	})

	t.Run("a firm holds a bounded number of active keys", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t, apitest.Options{MaxActiveKeys: 3})
		firm := h.NewFirm(apitest.FirmOpts{})
		access, _ := h.Login(firm.Admin)
		create := func() *apitest.Response {
			return h.Do("POST", "/api/v1/public-api-keys", apitest.Bearer(access), apitest.JSON(map[string]string{"name": "k", "tier": "FULL"}))
		}
		var first string
		for i := 0; i < 3; i++ {
			r := create()
			require.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.Body)
			if first == "" {
				first = r.Map()["data"].(map[string]any)["id"].(string)
			}
		}
		r := create()
		require.Equal(t, http.StatusConflict, r.StatusCode, "%s", r.Body)
		require.Equal(t, "api_key_limit_reached", r.ErrorCode())
		require.Contains(t, string(r.Body), "3 active API keys")

		require.Equal(t, http.StatusNoContent, h.Do("DELETE", "/api/v1/public-api-keys/"+first, apitest.Bearer(access)).StatusCode)
		require.Equal(t, http.StatusCreated, create().StatusCode, "revoking a key makes room")
		require.Equal(t, http.StatusConflict, create().StatusCode)

		// Concurrent creations cannot pass the cap together.
		other := h.NewFirm(apitest.FirmOpts{})
		tok, _ := h.Login(other.Admin)
		var wg sync.WaitGroup
		var mu sync.Mutex
		created := 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := h.Do("POST", "/api/v1/public-api-keys", apitest.Bearer(tok), apitest.JSON(map[string]string{"name": "k", "tier": "FULL"}))
				if r.StatusCode == http.StatusCreated {
					mu.Lock()
					created++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.Equal(t, 3, created, "8 concurrent creations")
		apitest.SecurityFinding(t, 10, "key cap: 4th active key 409 api_key_limit_reached, 8 concurrent -> 3")
	})

	t.Run("the Internal API is limited per session", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t, apitest.Options{RateSession: 4, RateIP: 100, RateWindow: 24 * time.Hour})
		firm := h.NewFirm(apitest.FirmOpts{})
		access, _ := h.Login(firm.Admin) // 1 request of the address
		for i := 1; i <= 4; i++ {
			r := h.Do("GET", "/api/v1/auth/me", apitest.Bearer(access))
			require.Equal(t, http.StatusOK, r.StatusCode)
			// session: 4-i left, address: 100-1-i left: the session binds.
			require.Equal(t, "4", r.Header.Get("X-RateLimit-Limit"))
			require.Equal(t, strconv.Itoa(4-i), r.Header.Get("X-RateLimit-Remaining"))
		}
		r := h.Do("GET", "/api/v1/auth/me", apitest.Bearer(access))
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
		require.Equal(t, "rate_limited", r.ErrorCode())
		require.NotEmpty(t, r.Header.Get("Retry-After"))
		second, _ := h.Login(firm.Admin)
		require.Equal(t, http.StatusOK, h.Do("GET", "/api/v1/auth/me", apitest.Bearer(second)).StatusCode, "another session has its own budget")
		apitest.SecurityFinding(t, 10, "internal API: 5th request of a session with budget 4 -> 429")
	})

	t.Run("the Internal API is limited per address, anonymous requests included", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t, apitest.Options{RateIP: 3, RateWindow: 24 * time.Hour})
		refresh := func() *apitest.Response {
			return h.Do("POST", "/api/v1/auth/refresh-session", apitest.JSON(map[string]string{"refreshToken": strings.Repeat("x", 40)}))
		}
		for i := 1; i <= 3; i++ {
			r := refresh()
			require.Equal(t, http.StatusUnauthorized, r.StatusCode, "%s", r.Body)
			require.Equal(t, strconv.Itoa(3-i), r.Header.Get("X-RateLimit-Remaining"))
		}
		r := refresh()
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode, "%s", r.Body)
		require.Equal(t, "rate_limited", r.ErrorCode())
		apitest.SecurityFinding(t, 10, "internal API: 4th anonymous request of an address with budget 3 -> 429")
	})
}

// retryFinishGoroutines counts the goroutines finishing idempotency claims in the background.
func retryFinishGoroutines() int {
	buf := make([]byte, 1<<24)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "httpapi.(*Server).retryFinish") {
			n++
		}
	}
	return n
}

// TestEdgeIdempotencyRetries covers security finding 12c: while the idempotency store fails
// (a trigger raising 57P03, which reads as "database unavailable"), a burst of keyed writes
// starts at most the bound of background finishers, and none is left once the App closes.
func TestEdgeIdempotencyRetries(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	firm := h.NewFirm(apitest.FirmOpts{})
	key := h.Key(firm, apitest.Full)
	_, err := h.Pool.Exec(t.Context(), `
CREATE FUNCTION edge_idem_down() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'idempotency store down' USING ERRCODE = '57P03'; END $$;
CREATE TRIGGER edge_idem_down BEFORE UPDATE OR DELETE ON idempotency_keys
FOR EACH ROW EXECUTE FUNCTION edge_idem_down();`)
	require.NoError(t, err)

	const burst = 100
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	peak := 0
	var mu sync.Mutex
	for i := 0; i < burst; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := h.Do("POST", "/api/public/v1/notifications/emails", apitest.APIKey(key),
				apitest.Header("Idempotency-Key", fmt.Sprintf("edge-%d", i)),
				apitest.JSON(map[string]string{"email": fmt.Sprintf("edge-%d@example.test", i)}))
			assert.Less(t, r.StatusCode, 500, "%s", r.Body)
			n := retryFinishGoroutines()
			mu.Lock()
			peak = max(peak, n)
			mu.Unlock()
		}()
	}
	wg.Wait()
	running := retryFinishGoroutines()
	peak = max(peak, running)
	t.Logf("background finishers: %d running after the burst, peak %d", running, peak)
	require.Positive(t, running, "no claim is being finished in the background: the store did not fail")
	require.LessOrEqual(t, peak, 64, "a burst of %d failed finishes started more finishers than the bound", burst)

	h.App.Close()
	left := retryFinishGoroutines()
	require.Zero(t, left, "background finishers left after App.Close")
	apitest.SecurityFinding(t, 12, "12c: %d failed finishes -> peak %d finishers (bound 64), 0 after Close", burst, peak)
}

// TestEdgeStalledDownload covers the streamed-response rule of security finding 5: a
// document download (like an export) has no overall write deadline, so a client reading
// steadily gets the whole file, while one that stops reading is cut off once a write makes no
// progress for the stream timeout (shortened to 500 ms here).
func TestEdgeStalledDownload(t *testing.T) {
	t.Parallel()
	const idle = 500 * time.Millisecond
	h := apitest.New(t, apitest.Options{Config: func(c *config.Config) { c.StreamWriteTimeout = idle }})
	firm := h.NewFirm(apitest.FirmOpts{})
	key := h.Key(firm, apitest.Full)
	caseID := newCase(t, h, key, nil, nil)
	const size = 24 << 20 // more than the socket buffers of both ends hold
	data := bytes.Repeat(sampleText, size/len(sampleText))
	upStart := time.Now()
	doc := uploadOK(t, h, key, caseID, "big.txt", data)
	t.Logf("upload took %s", time.Since(upStart))
	link := downloadLink(t, h, key, caseID, doc.Id)
	u, err := url.Parse(link.Url)
	require.NoError(t, err)

	// get sends the download request on a raw connection and returns it with the response.
	get := func() (net.Conn, *http.Response) {
		t.Helper()
		conn, err := net.Dial("tcp", u.Host)
		require.NoError(t, err)
		_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.RequestURI(), u.Host)
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 16<<10), nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		return conn, resp
	}

	// A slow but live reader (1 MiB every 50 ms) gets every byte.
	conn, resp := get()
	var got int64
	for {
		n, err := io.CopyN(io.Discard, resp.Body, 1<<20)
		got += n
		if err != nil {
			require.ErrorIs(t, err, io.EOF, "the slow reader was cut after %d bytes: %v", got, err)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn.Close()
	require.Equal(t, int64(len(data)), got, "the slow reader got the whole file")

	// A reader that stalls for several stream timeouts is cut off: once it reads again, the
	// body ends early.
	conn, resp = get()
	defer conn.Close()
	time.Sleep(6 * idle)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	got, err = io.Copy(io.Discard, resp.Body)
	require.Error(t, err, "the stalled download was not cut off")
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the connection stayed open: %v", err)
	require.Less(t, got, int64(len(data)))
	apitest.SecurityFinding(t, 5, "download: live reader got %d MiB, one stalled %s cut after %d MiB", len(data)>>20, 6*idle, got>>20)
}
