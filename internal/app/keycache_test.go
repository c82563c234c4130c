package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/testsummary"
)

// TestTwoProcessesKeyCache runs two Apps on one database, both with their background work
// (the key cache listener) started, and checks the API key cache across them: cached keys
// cost no lookup, a revocation made through A refuses the very next request on B, and while
// B's listener is down B reads the database and recovers (flushed) once it reconnects.
func TestTwoProcessesKeyCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		a, b       *app.App
		urlA, urlB string
		blockB     *atomic.Bool // B's listener cannot connect while true
		token      string       // access token of a firm admin, for revocations through A
		firm       fixture
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		poolA, dsn := pgtest.NewDB(t)
		poolB, err := postgres.Open(ctx, dsn)
		require.NoError(t, err)
		cfg := testConfig(t)
		blockB := &atomic.Bool{}
		a := newApp(t, cfg, poolA)
		b, err := app.New(ctx, cfg, poolB, quietLog(t), app.Options{
			PasswordCost: auth.TestPasswordParams,
			AuthOptions: []auth.Option{auth.WithKeyListenerDial(func(ctx context.Context, cc *pgx.ConnConfig) (*pgx.Conn, error) {
				if blockB.Load() {
					return nil, errors.New("blocked by the test")
				}
				return pgx.ConnectConfig(ctx, cc)
			})},
		})
		require.NoError(t, err)
		bgCtx, stopBG := context.WithCancel(ctx)
		a.Start(bgCtx)
		b.Start(bgCtx)
		srvA, srvB := httptest.NewServer(a.Echo), httptest.NewServer(b.Echo)
		t.Cleanup(func() {
			srvA.Close()
			srvB.Close()
			stopBG()
			a.Close()
			b.Close()
			poolB.Close()
		})
		for _, x := range []*app.App{a, b} {
			require.Eventually(t, func() bool { return x.Auth.KeyCacheStats().Live }, 10*time.Second, 5*time.Millisecond, "listener never connected")
		}
		f := newFirm(t, a)
		login := call("POST", srvA.URL+"/api/v1/auth/login", map[string]string{"email": f.Email, "password": f.Password})
		require.Equal(t, http.StatusOK, login.Status, "%s", login.Body)
		var tokens struct {
			Data struct {
				AccessToken string `json:"accessToken"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(login.Body, &tokens))
		return &testBundle{a: a, b: b, urlA: srvA.URL, urlB: srvB.URL, blockB: blockB, token: tokens.Data.AccessToken, firm: f}
	}
	newKeyID := func(t *testing.T, tb *testBundle) (key, id string) {
		t.Helper()
		k, err := tb.a.Auth.CreateKeyForFirm(ctx, tb.firm.FirmID, auth.KeyInput{Name: "cached", Tier: auth.TierFull})
		require.NoError(t, err)
		return k.Key, k.ID.String()
	}
	me := func(url, key string) result { return call("GET", url+"/api/public/v1/firms/me", nil, "X-API-Key", key) }
	revokeOnA := func(t *testing.T, tb *testBundle, id string) time.Duration {
		t.Helper()
		r := call("DELETE", tb.urlA+"/api/v1/public-api-keys/"+id, nil, "Authorization", "Bearer "+tb.token)
		require.Less(t, r.Status, 300, "revoke: %d %s", r.Status, r.Body)
		return r.Took
	}
	lookupsOf := func(a *app.App) int64 { return a.Auth.KeyCacheStats().Lookups }

	var revokeTook, outageRevokeTook time.Duration
	var cachedN int
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		testsummary.Printf("multiprocess: key cache: %d cached requests on B did 0 key lookups; revocation on A (waits for both listeners) took %s and the next request on B was 401; with B's listener killed, B read the database (revocation on A took %s, next request on B 401) and cached again after reconnecting\n",
			cachedN, revokeTook.Round(100*time.Microsecond), outageRevokeTook.Round(100*time.Microsecond))
	})

	t.Run("CachedKeyRevokedOnAIsRefusedOnBAtOnce", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		key, id := newKeyID(t, tb)
		for _, u := range []string{tb.urlA, tb.urlB} {
			r := me(u, key)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		}
		before := lookupsOf(tb.b)
		const n = 200
		for i := range n {
			r := me(tb.urlB, key)
			require.Equal(t, http.StatusOK, r.Status, "request %d: %s", i, r.Body)
		}
		require.Equal(t, before, lookupsOf(tb.b), "%d cached requests on B read the key from the database", n)
		cachedN = n
		// The metrics have a listener of their own, not the API port.
		require.Equal(t, http.StatusNotFound, call("GET", tb.urlB+"/metrics", nil).Status)
		rec := httptest.NewRecorder()
		tb.b.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), "casexchange_api_key_cache_listener_up 1")
		require.Contains(t, rec.Body.String(), "casexchange_api_key_cache_entries 1")

		revokeTook = revokeOnA(t, tb, id)
		r := me(tb.urlB, key)
		require.Equal(t, http.StatusUnauthorized, r.Status, "revoked on A, still accepted by B: %s", r.Body)
		require.Equal(t, "invalid_api_key", r.Code)
		r = me(tb.urlA, key)
		require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
	})

	t.Run("WhileBsListenerIsDownBReadsTheDatabase", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		k1, id1 := newKeyID(t, tb)
		k2, id2 := newKeyID(t, tb)
		for _, k := range []string{k1, k2, k1, k2} {
			r := me(tb.urlB, k)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		}
		require.Equal(t, 2, tb.b.Auth.KeyCacheStats().Entries)

		// Kill B's listener connection, found by its application_name, and keep it down.
		tb.blockB.Store(true)
		var pids []int32
		rows, err := tb.a.Pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
			auth.KeyListenerApplicationName)
		require.NoError(t, err)
		pids, err = pgx.CollectRows(rows, pgx.RowTo[int32])
		require.NoError(t, err)
		require.Len(t, pids, 2, "one listener per process")
		pidB := tb.b.Auth.KeyCacheStats().ListenerPID
		require.True(t, slices.Contains(pids, pidB), "B's listener pid %d among %v", pidB, pids)
		var killed bool
		require.NoError(t, tb.a.Pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pidB).Scan(&killed))
		require.True(t, killed)
		require.Eventually(t, func() bool { return !tb.b.Auth.KeyCacheStats().Live }, 10*time.Second, 5*time.Millisecond, "B never noticed")
		require.Equal(t, 0, tb.b.Auth.KeyCacheStats().Entries, "the cache is flushed when the listener goes")

		// Down: every request on B reads the database, and a revocation through A (whose
		// notification B cannot hear) is seen on the next request.
		before := lookupsOf(tb.b)
		for range 3 {
			r := me(tb.urlB, k2)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		}
		require.Equal(t, before+3, lookupsOf(tb.b), "bypassed while down")
		outageRevokeTook = revokeOnA(t, tb, id1)
		r := me(tb.urlB, k1)
		require.Equal(t, http.StatusUnauthorized, r.Status, "revoked on A while B's listener is down: %s", r.Body)
		// k2 was cached before the outage and is revoked while B cannot hear it: after the
		// reconnection B must not serve anything it held before.
		revokeOnA(t, tb, id2)

		connects := tb.b.Auth.KeyCacheStats().Connects
		tb.blockB.Store(false)
		require.Eventually(t, func() bool {
			st := tb.b.Auth.KeyCacheStats()
			return st.Live && st.Connects > connects
		}, 20*time.Second, 5*time.Millisecond, "B never reconnected")
		r = me(tb.urlB, k2)
		require.Equal(t, http.StatusUnauthorized, r.Status, "revoked during the outage, accepted after it: %s", r.Body)

		k3, _ := newKeyID(t, tb)
		r = me(tb.urlB, k3)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		before = lookupsOf(tb.b)
		for range 5 {
			r := me(tb.urlB, k3)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		}
		require.Equal(t, before, lookupsOf(tb.b), "cached again after reconnecting")
	})
}
