package httpapi_test

// The pages of e-mailed account links in a real browser: headless Chromium from the
// distribution's packages, driven over the DevTools protocol (chromedp), opens the link from
// the delivered .eml file, fills the form, submits it, and the new password then signs in over
// the API. Screenshots of every step are kept under $CX_TEST_ARTIFACTS (default: the system's
// temporary directory) and named in the summary line.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/testsummary"
)

// chromiumPath finds the browser, or explains why the test cannot run. In CI (CI set) a missing
// browser is a failure: .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "browser (accounts): SKIPPED - Chromium is not installed (apt-get install chromium); the account pages were NOT tested in a browser"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI must install it: see .ci/run)")
	}
	testsummary.Printf("%s", msg)
	t.Skip(msg)
	return ""
}

// emlLink waits for an .eml file to addr in dir whose body links to path, and returns the link.
// skip names files already used.
func emlLink(t *testing.T, dir, addr, path string, skip map[string]bool) string {
	t.Helper()
	var link string
	require.Eventually(t, func() bool {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".eml") || skip[name] || !strings.Contains(name, strings.ToLower(addr)) {
				continue
			}
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				continue
			}
			body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if err != nil || !strings.Contains(string(body), path+"?token=") {
				continue
			}
			skip[name] = true
			text := strings.ReplaceAll(string(body), "\r\n", "\n")
			link, _ = linkToken(t, text, path)
			return true
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "no .eml to %s with a %s link in %s", addr, path, dir)
	return link
}

func TestBrowserAccountPages(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	start := time.Now()

	artifacts := os.Getenv("CX_TEST_ARTIFACTS")
	if artifacts == "" {
		artifacts = os.TempDir()
	}
	artifacts = filepath.Join(artifacts, "browser-accounts-"+time.Now().UTC().Format("20060102T150405"))
	require.NoError(t, os.MkdirAll(artifacts, 0o755))

	h := apitest.New(t)
	require.NoError(t, h.App.Jobs.Start(context.WithoutCancel(t.Context())))
	mailDir := filepath.Join(h.App.Config.DataDir, "mail") // the development mail sink: no SMTP server set
	used := map[string]bool{}
	firm := h.NewFirm(apitest.FirmOpts{Name: "Wrenfield Partners"})
	key := h.Key(firm, apitest.Full)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(900, 700))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelTimeout()

	shots, steps := 0, 0
	shot := func(t *testing.T, name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		shots++
		require.NoError(t, os.WriteFile(filepath.Join(artifacts, fmt.Sprintf("%02d-%s.png", shots, name)), png, 0o644))
	}
	// submit fills both password fields of the page at link (or of the current page when link
	// is empty), submits, and returns the text of the outcome (#error or #done).
	submit := func(t *testing.T, link, pw, confirm, want string) string {
		t.Helper()
		steps++
		var actions []chromedp.Action[chromedp.Void]
		if link != "" {
			actions = append(actions, chromedp.Navigate(link))
		}
		// The outcome of an earlier submission is removed first, so that waiting for the
		// outcome waits for the page the form posts to.
		actions = append(actions,
			chromedp.WaitVisible(chromedp.ID("password")),
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#error,#done').forEach(e => e.remove())`),
			chromedp.SendKeys(chromedp.ID("password"), pw),
			chromedp.SendKeys(chromedp.ID("confirm"), confirm),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.ID(want)),
		)
		require.NoError(t, chromedp.Do(bctx, actions...))
		text, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID(want)))
		require.NoError(t, err)
		return text
	}
	login := func(email, pw string) int {
		return h.Do("POST", "/api/v1/auth/login", apitest.JSON(map[string]string{"email": email, "password": pw})).StatusCode
	}

	const email = "amara.quill@wrenfield.example"
	const password = "copper-kettle-meadow-91"
	t.Run("the invitation page activates the account", func(t *testing.T) {
		r := h.Do("POST", usersPath, apitest.APIKey(key), apitest.JSON(map[string]any{"email": email, "firstName": "Amara", "lastName": "Quill"}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		link := emlLink(t, mailDir, email, "/accept-invitation", used)
		require.True(t, strings.HasPrefix(link, h.URL+"/accept-invitation?token="), link)

		resp, err := http.Get(link)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		csp := resp.Header.Get("Content-Security-Policy")
		require.Contains(t, csp, "default-src 'none'")
		require.Contains(t, csp, "form-action 'self'")
		require.NotContains(t, csp, "script-src")
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))

		// The style block is allowed by its hash: the browser applied it.
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(link)))
		width, err := chromedp.Run(bctx, chromedp.Evaluate[string](`getComputedStyle(document.body).maxWidth`))
		require.NoError(t, err)
		require.Equal(t, "416px", width, "the page's own style passes the CSP")
		shot(t, "invitation-form")

		require.Contains(t, submit(t, "", password, password+"x", "error"), "do not match")
		shot(t, "invitation-mismatch")
		require.Contains(t, submit(t, "", "Password2024!", "Password2024!", "error"), "cannot be used")
		shot(t, "invitation-weak-password")
		require.NotEqual(t, http.StatusOK, login(email, password), "not active yet")
		require.Contains(t, submit(t, "", password, password, "done"), "Your account is active")
		shot(t, "invitation-done")
		require.Equal(t, http.StatusOK, login(email, password), "the chosen password signs in over the API")

		require.Contains(t, submit(t, link, password, password, "error"), "already active")
		shot(t, "invitation-reused")
	})

	t.Run("an expired invitation says so", func(t *testing.T) {
		const late = "late.joiner@wrenfield.example"
		r := h.Do("POST", usersPath, apitest.APIKey(key), apitest.JSON(map[string]any{"email": late, "firstName": "Lee", "lastName": "Late"}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		link := emlLink(t, mailDir, late, "/accept-invitation", used)
		_, err := h.Pool.Exec(t.Context(), "UPDATE users SET invitation_expires_at = now() - interval '1 minute' WHERE email = $1", late)
		require.NoError(t, err)
		require.Contains(t, submit(t, link, password, password, "error"), "expired")
		shot(t, "invitation-expired")
	})

	t.Run("the reset page sets a new password", func(t *testing.T) {
		r := h.Do("POST", forgotPasswordPath, apitest.JSON(map[string]any{"email": email}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		link := emlLink(t, mailDir, email, "/reset-password", used)
		require.True(t, strings.HasPrefix(link, h.URL+"/reset-password?token="), link)
		const next = "juniper-anchor-violin-58"
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("password"))))
		shot(t, "reset-form")
		require.Contains(t, submit(t, "", next, next, "done"), "password was changed")
		shot(t, "reset-done")
		require.Equal(t, http.StatusOK, login(email, next), "the new password signs in over the API")
		require.Equal(t, http.StatusUnauthorized, login(email, password), "the old one does not")
		require.Contains(t, submit(t, link, next+"-2", next+"-2", "error"), "not valid any more")
		shot(t, "reset-reused")
	})

	t.Run("a deactivated account cannot reset", func(t *testing.T) {
		u := h.NewUser(firm, auth.RoleMember)
		r := h.Do("POST", forgotPasswordPath, apitest.JSON(map[string]any{"email": u.Email}))
		require.Equal(t, http.StatusOK, r.StatusCode)
		link := emlLink(t, mailDir, u.Email, "/reset-password", used)
		_, err := h.Pool.Exec(t.Context(), "UPDATE users SET is_active = false WHERE id = $1", u.ID)
		require.NoError(t, err)
		require.Contains(t, submit(t, link, password, password, "error"), "deactivated")
		shot(t, "reset-deactivated")
	})

	line := fmt.Sprintf("browser (accounts): 2 pages, %d form submissions in headless Chromium, %d screenshots in %s (%s)",
		steps, shots, artifacts, time.Since(start).Round(time.Second))
	t.Log(line)
	if !t.Failed() {
		testsummary.Printf("%s", line)
	}
}
