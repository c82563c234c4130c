package portal_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	apireference "github.com/casexchange/server/api-reference"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/portal"
	"github.com/casexchange/server/internal/testsummary"
)

// specOperationCount counts the operations of the contract: those of its paths, and the webhook
// requests of its x-webhooks section, which the reference lists too (under Webhook events).
func specOperationCount(t *testing.T) int {
	var doc struct {
		Paths    map[string]map[string]any `yaml:"paths"`
		Webhooks map[string]map[string]any `yaml:"x-webhooks"`
	}
	require.NoError(t, yaml.Unmarshal(apireference.YAML, &doc))
	n := 0
	for _, item := range doc.Webhooks {
		if _, ok := item["post"]; ok {
			n++
		}
	}
	for _, item := range doc.Paths {
		for m := range item {
			switch m {
			case "get", "put", "post", "patch", "delete", "head", "options":
				n++
			}
		}
	}
	return n
}

func TestErrorTableListsEveryDeclaredCode(t *testing.T) {
	t.Parallel()
	codes, err := portal.ErrorCodes()
	require.NoError(t, err)
	table, err := portal.ErrorTable()
	require.NoError(t, err)
	for _, c := range codes {
		require.NotZero(t, c.Status, c.Code)
		require.NotEmpty(t, c.Meaning, c.Code)
		require.Contains(t, table, "`"+c.Code+"`")
	}
	// The codes the contract's ErrorBody description names are all in the table.
	for _, c := range []string{"invalid_api_key", "insufficient_tier", "permission_denied", "validation_error",
		"invalid_state_transition", "resource_not_found", "conflict", "rate_limited", "not_implemented",
		"service_unavailable", "internal_error", "no_token", "token_expired", "token_invalid", "invalid_credentials",
		"rate_limited_email", "rate_limited_ip", "account_not_fully_activated", "account_inactive_login_attempt"} {
		require.Contains(t, table, "`"+c+"`")
	}
}

var linkAttr = regexp.MustCompile(`(?:href|src)="(/[^"#]*)`)

// TestPortalBrowser loads the portal in headless chromium from a fresh server: the reference lists
// every operation of the contract and shows the recorded examples, every page and internal link
// answers 200, and no page logs an error or requests anything from another host. Screenshots go
// to $CX_ARTIFACTS_DIR/portal (by default bin/test-artifacts/portal).
func TestPortalBrowser(t *testing.T) {
	t.Parallel()
	bin := findChromium()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (.ci/run installs it)")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	h := apitest.New(t)
	base := h.URL
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	t.Run("root redirects to the portal", func(t *testing.T) {
		resp, err := client.Get(base + "/")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.Equal(t, "/docs", resp.Header.Get("Location"))
	})

	p, err := portal.Load()
	require.NoError(t, err)

	// Every page, and every same-origin link or source on it, answers 200.
	links := map[string]bool{}
	for _, path := range p.Paths() {
		resp, err := client.Get(base + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'", path)
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && path != "/docs/reference" {
			for _, m := range linkAttr.FindAllStringSubmatch(string(body), -1) {
				links[m[1]] = true
			}
		}
	}
	for l := range links {
		resp, err := client.Get(base + l)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "link %s", l)
	}

	artifacts := os.Getenv("CX_ARTIFACTS_DIR")
	if artifacts == "" {
		artifacts = filepath.Join("..", "..", "bin", "test-artifacts")
	}
	artifacts = filepath.Join(artifacts, "portal")
	require.NoError(t, os.MkdirAll(artifacts, 0o755))

	b := startBrowser(t, bin)
	start := time.Now()
	b.navigate(t, base+"/docs/reference")
	want := specOperationCount(t)
	// Redoc renders one tag at a time (hash routing): each operation is a section with the id
	// /<tag>/<lower-case operationId>. Visit every tag and collect the operations it renders.
	b.waitFor(t, `document.querySelectorAll('[data-section-id]').length > 1`, 60*time.Second)
	countJS := `(async () => {
	  const tags = [...new Set([...document.querySelectorAll('[data-section-id]')].map(e => e.dataset.sectionId)
	    .filter(id => id.split('/').length === 2 && id !== '/'))];
	  const ops = new Set();
	  for (const tag of tags) {
	    location.hash = '#' + tag;
	    let last = -1, stable = 0;
	    for (let i = 0; i < 100; i++) {
	      await new Promise(r => setTimeout(r, 100));
	      const found = [...document.querySelectorAll('[data-section-id^="' + tag + '/"]')]
	        .map(e => e.dataset.sectionId.split('/')[2]);
	      found.forEach(f => ops.add(f));
	      if (found.length === last) { if (++stable >= (found.length ? 3 : 15)) break; } else { stable = 0; }
	      last = found.length;
	    }
	  }
	  location.hash = '';
	  return ops.size;
	})()`
	var listed int
	b.eval(t, countJS, &listed)
	require.Equal(t, want, listed, "operations listed by the reference")
	// The access tier is stated on every operation; the screenshot shows the sent-cases tag.
	b.eval(t, `(location.hash = '#/sent-cases', true)`, new(bool))
	b.waitFor(t, `[...document.querySelectorAll("[data-section-id^=\"/sent-cases/\"]")].some(e => e.textContent.includes("Access tier"))`, 20*time.Second)
	b.screenshot(t, filepath.Join(artifacts, "reference.png"), false)
	// The samples are the recorded examples: the login answer shows the requestId it was recorded with.
	rid := recordedRequestID(t, "loginUser", "200")
	b.eval(t, `(location.hash = '#/authentication', true)`, new(bool))
	b.waitFor(t, `document.body.innerText.includes(`+strconv.Quote(rid)+`)`, 20*time.Second)
	b.eval(t, `(() => { const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	  for (let n; (n = w.nextNode());) if (n.textContent.includes(`+strconv.Quote(rid)+`)) { n.parentElement.scrollIntoView({block: 'end'}); return true; }
	  return false; })()`, new(bool))
	b.screenshot(t, filepath.Join(artifacts, "reference-example.png"), false)

	pages := []string{"/docs"}
	for _, g := range p.Guides() {
		pages = append(pages, "/docs/guides/"+g.Slug)
	}
	for _, path := range pages {
		b.navigate(t, base+path)
		if path == "/docs/guides/lifecycle" {
			var loaded bool
			b.waitFor(t, `[...document.images].every(i => i.complete && i.naturalWidth > 0)`, 10*time.Second)
			b.eval(t, `document.images.length > 0`, &loaded)
			require.True(t, loaded, "the lifecycle picture is shown")
			b.screenshot(t, filepath.Join(artifacts, "lifecycle.png"), true)
		}
	}

	requests, problems := b.snapshot()
	require.Empty(t, problems, "console errors")
	var foreign []string
	for _, u := range requests {
		if !hasPrefixAny(u, base+"/", "data:", "about:", "blob:") {
			foreign = append(foreign, u)
		}
	}
	require.Empty(t, foreign, "requests to another host")
	testsummary.Printf("portal: %d operations listed (spec %d), %d pages and %d internal links 200, %d requests all to the server, 0 console errors, screenshots in %s (%.1fs)",
		listed, want, len(p.Paths()), len(links), len(requests), artifacts, time.Since(start).Seconds())
}
