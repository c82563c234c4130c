package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/testsummary"
)

// TestTwoProcesses runs two Apps (two pools, two HTTP servers, both with background work
// started) on one database, as two server processes would: sessions and keys made on one
// work on the other, the postgres rate-limit store is shared, and a background job runs once.
func TestTwoProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// One summary line for the whole part, once every subtest has finished.
	var (
		summaryMu sync.Mutex
		summary   = map[string]string{}
	)
	note := func(part, s string) {
		summaryMu.Lock()
		defer summaryMu.Unlock()
		summary[part] = s
	}
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		testsummary.Printf("multiprocess: 2 servers on 1 database: %s; %s; %s\n", summary["session"], summary["rate"], summary["jobs"])
	})

	type testBundle struct {
		a, b       *app.App
		urlA, urlB string
		dataDir    string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		poolA, dsn := pgtest.NewDB(t)
		poolB, err := postgres.Open(ctx, dsn)
		require.NoError(t, err)
		cfg := testConfig(t)
		cfg.RateStore = "postgres"
		cfg.RateReadOnly = 5 // per minute
		// One data directory for both, as two processes sharing a volume: the .eml files of
		// either land in the same mail folder.
		a, b := newApp(t, cfg, poolA), newApp(t, cfg, poolB)
		bgCtx, stopBG := context.WithCancel(ctx)
		a.Start(bgCtx)
		b.Start(bgCtx)
		srvA, srvB := httptest.NewServer(a.Echo), httptest.NewServer(b.Echo)
		a.Config.PublicBaseURL, b.Config.PublicBaseURL = srvA.URL, srvB.URL
		t.Cleanup(func() {
			srvA.Close()
			srvB.Close()
			stopBG()
			a.Close()
			b.Close()
			poolB.Close()
		})
		return &testBundle{a: a, b: b, urlA: srvA.URL, urlB: srvB.URL, dataDir: cfg.DataDir}
	}

	t.Run("SessionAndKeyMadeOnOneWorkOnTheOther", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		f := newFirm(t, tb.a)

		login := call("POST", tb.urlA+"/api/v1/auth/login", map[string]string{"email": f.Email, "password": f.Password})
		require.Equal(t, http.StatusOK, login.Status, "%s", login.Body)
		var tokens struct {
			Data struct {
				AccessToken string `json:"accessToken"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(login.Body, &tokens))
		require.NotEmpty(t, tokens.Data.AccessToken)

		me := call("GET", tb.urlB+"/api/v1/auth/me", nil, "Authorization", "Bearer "+tokens.Data.AccessToken)
		require.Equal(t, http.StatusOK, me.Status, "session from A on B: %s", me.Body)
		require.Contains(t, string(me.Body), f.Email)

		created := call("POST", tb.urlA+"/api/v1/public-api-keys", map[string]string{"name": "made on A", "tier": "FULL"},
			"Authorization", "Bearer "+tokens.Data.AccessToken)
		require.Equal(t, http.StatusCreated, created.Status, "%s", created.Body)
		var key struct {
			Data struct {
				Key string `json:"key"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(created.Body, &key))
		require.NotEmpty(t, key.Data.Key)

		own := call("GET", tb.urlB+"/api/public/v1/firms/me", nil, "X-API-Key", key.Data.Key)
		require.Equal(t, http.StatusOK, own.Status, "key from A on B: %s", own.Body)
		require.Contains(t, string(own.Body), f.FirmID.String())

		// Logging out on B ends the session on A as well.
		out := call("POST", tb.urlB+"/api/v1/auth/logout", nil, "Authorization", "Bearer "+tokens.Data.AccessToken)
		require.Less(t, out.Status, 300, "logout on B: %d %s", out.Status, out.Body)
		me = call("GET", tb.urlA+"/api/v1/auth/me", nil, "Authorization", "Bearer "+tokens.Data.AccessToken)
		require.Equal(t, http.StatusUnauthorized, me.Status, "session ended on B still works on A: %s", me.Body)
		note("session", "session and key made on A work on B, logout on B ends the session on A")
	})

	t.Run("RateLimitIsShared", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		f := newFirm(t, tb.a)
		key := newKey(t, tb.a, f.FirmID, auth.TierReadOnly)

		urls := []string{tb.urlA, tb.urlB, tb.urlA, tb.urlB, tb.urlA}
		for i, u := range urls {
			r := call("GET", u+"/api/public/v1/firms/me", nil, "X-API-Key", key)
			require.Equal(t, http.StatusOK, r.Status, "request %d: %s", i+1, r.Body)
		}
		for _, u := range []string{tb.urlB, tb.urlA} {
			r := call("GET", u+"/api/public/v1/firms/me", nil, "X-API-Key", key)
			require.Equal(t, http.StatusTooManyRequests, r.Status, "%s after 5 requests over both: %s", u, r.Body)
			require.Equal(t, "rate_limited", r.Code)
		}
		note("rate", "shared rate limit: 5 requests over A and B passed, the 6th and 7th answered 429 on both")
	})

	t.Run("BackgroundJobRunsOnce", func(t *testing.T) {
		t.Parallel()
		if os.Getenv("CX_SMTP_ADDR") != "" {
			t.Skip("CX_SMTP_ADDR is set: mail does not go to files")
		}
		tb := setup(t)
		f := newFirm(t, tb.a)
		key := newKey(t, tb.a, f.FirmID, auth.TierFull)

		start := time.Now()
		invitee := "invitee-" + uuid.NewString()[:8] + "@example.test"
		r := call("POST", tb.urlA+"/api/public/v1/users", map[string]string{"email": invitee, "firstName": "In", "lastName": "Vitee"},
			"X-API-Key", key)
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)

		mailDir := filepath.Join(tb.dataDir, "mail")
		messages := func() []string {
			entries, err := os.ReadDir(mailDir)
			if os.IsNotExist(err) {
				return nil
			}
			require.NoError(t, err)
			var out []string
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".eml") && strings.Contains(e.Name(), invitee) {
					out = append(out, e.Name())
				}
			}
			return out
		}
		require.Eventually(t, func() bool { return len(messages()) > 0 }, 20*time.Second, 50*time.Millisecond, "no invitation e-mail")
		delivered := time.Since(start)

		// Give the other process every chance to run the job a second time.
		time.Sleep(2 * time.Second)
		require.Len(t, messages(), 1, "invitation e-mails for %s", invitee)

		var jobs, attempts int
		require.NoError(t, tb.a.Pool.QueryRow(ctx,
			`SELECT count(*), coalesce(sum(attempt), 0) FROM river_job WHERE state = 'completed'`).Scan(&jobs, &attempts))
		require.Equal(t, jobs, attempts, "a completed job was attempted more than once")
		note("jobs", fmt.Sprintf("invitation job ran once (1 e-mail %s after the request, %d completed jobs in %d attempts)",
			delivered.Round(time.Millisecond), jobs, attempts))
	})
}
