package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

const idemRulesPath = "/api/public/v1/routing/rules"

// idemConnect makes an active relationship in which from sends cases to to.
func idemConnect(t *testing.T, h *apitest.Harness, from, to *apitest.Firm) {
	t.Helper()
	r := h.Do("PUT", apitest.Path("/api/public/v1/network/outbound", to.ID.String()), apitest.APIKey(h.Key(from, apitest.Standard)))
	require.Contains(t, []int{http.StatusCreated, http.StatusOK}, r.StatusCode, string(r.Body))
	r = h.Do("PATCH", apitest.Path("/api/public/v1/network/inbound", from.ID.String()),
		apitest.APIKey(h.Key(to, apitest.Standard)), apitest.JSON(map[string]any{"status": "active"}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
}

// idemErrorField returns the field of the first error detail ("" if none).
func idemErrorField(t *testing.T, r *apitest.Response) string {
	t.Helper()
	var env struct {
		Error struct {
			Details []struct {
				Field string `json:"field"`
			} `json:"details"`
		} `json:"error"`
	}
	r.Decode(&env)
	if len(env.Error.Details) == 0 {
		return ""
	}
	return env.Error.Details[0].Field
}

func TestIdempotentWrites(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h          *apitest.Harness
		me, target *apitest.Firm
		full       string // the caller's key
		targetStd  string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		b := &testBundle{h: h}
		b.me = h.NewFirm(apitest.FirmOpts{Name: "Idempotent Law"})
		b.target = h.NewFirm(apitest.FirmOpts{Name: "Target Law"})
		idemConnect(t, h, b.me, b.target)
		b.full, b.targetStd = h.Key(b.me, apitest.Full), h.Key(b.target, apitest.Standard)
		return b
	}
	ruleBody := func(b *testBundle, name string) map[string]any {
		return map[string]any{"name": name, "targetFirmId": b.target.ID}
	}
	create := func(b *testBundle, key string, body any) *apitest.Response {
		opts := []apitest.Opt{apitest.APIKey(b.full), apitest.JSON(body)}
		if key != "" {
			opts = append(opts, apitest.Header("Idempotency-Key", key))
		}
		return b.h.Do("POST", idemRulesPath, opts...)
	}
	countRules := func(t *testing.T, b *testBundle) int {
		t.Helper()
		r := b.h.Do("GET", idemRulesPath, apitest.APIKey(b.full))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.RoutingRuleListResponse
		r.Decode(&out)
		return len(out.Data)
	}
	requireReplayOf := func(t *testing.T, first, r *apitest.Response) {
		t.Helper()
		require.Equal(t, first.StatusCode, r.StatusCode, string(r.Body))
		require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
		require.Equal(t, string(first.Body), string(r.Body), "the stored body, byte for byte")
		require.Equal(t, first.Header.Get("Content-Type"), r.Header.Get("Content-Type"))
		require.Equal(t, first.Header.Get("Location"), r.Header.Get("Location"))
	}

	t.Run("a retry with the same key replays the stored response byte for byte", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first := create(b, "retry-1", ruleBody(b, "Everything to Target"))
		require.Equal(t, http.StatusCreated, first.StatusCode, string(first.Body))
		require.Empty(t, first.Header.Get("Idempotent-Replayed"))

		again := create(b, "retry-1", ruleBody(b, "Everything to Target"))
		requireReplayOf(t, first, again)
		require.NotEqual(t, first.Header.Get("X-Request-Id"), again.Header.Get("X-Request-Id"), "the replay is a new request")
		require.NotEmpty(t, again.Header.Get("X-RateLimit-Remaining"))
		require.Equal(t, 1, countRules(t, b), "the work was done once")
	})

	t.Run("the same key with another body is refused with 422", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first := create(b, "reuse-1", ruleBody(b, "First"))
		require.Equal(t, http.StatusCreated, first.StatusCode, string(first.Body))

		r := create(b, "reuse-1", ruleBody(b, "Second"))
		require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, string(r.Body))
		require.Equal(t, "idempotency_key_reused", r.ErrorCode())
		require.Empty(t, r.Header.Get("Idempotent-Replayed"))

		// Another operation with the same key is another request as well.
		r = b.h.Do("PATCH", apitest.Path("/api/public/v1/network/outbound", b.target.ID.String()), apitest.APIKey(b.full),
			apitest.Header("Idempotency-Key", "reuse-1"), apitest.JSON(map[string]any{"status": "active"}))
		require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, string(r.Body))
		require.Equal(t, 1, countRules(t, b))
	})

	t.Run("keys belong to the firm that sent them", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first := create(b, "shared-key", ruleBody(b, "Mine"))
		require.Equal(t, http.StatusCreated, first.StatusCode, string(first.Body))
		r := b.h.Do("PATCH", apitest.Path("/api/public/v1/network/inbound", b.me.ID.String()), apitest.APIKey(b.targetStd),
			apitest.Header("Idempotency-Key", "shared-key"), apitest.JSON(map[string]any{"referralInstructions": "Call us"}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Empty(t, r.Header.Get("Idempotent-Replayed"))
	})

	t.Run("PATCH requests are replayed too", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		patch := func() *apitest.Response {
			return b.h.Do("PATCH", apitest.Path("/api/public/v1/network/inbound", b.me.ID.String()), apitest.APIKey(b.targetStd),
				apitest.Header("Idempotency-Key", "patch-1"), apitest.JSON(map[string]any{"referralInstructions": "Email first"}))
		}
		first := patch()
		require.Equal(t, http.StatusOK, first.StatusCode, string(first.Body))
		requireReplayOf(t, first, patch())
	})

	t.Run("writes without a key are not deduplicated", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for range 2 {
			r := create(b, "", ruleBody(b, "Twice"))
			require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
			require.Empty(t, r.Header.Get("Idempotent-Replayed"))
		}
		require.Equal(t, 2, countRules(t, b))
	})

	t.Run("a malformed key is a validation error naming the header", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for name, key := range map[string]string{
			"too long":      strings.Repeat("k", 256),
			"not ASCII":     "clé-1",
			"control chars": "a\tb",
			"empty":         "",
		} {
			r := b.h.Do("POST", idemRulesPath, apitest.APIKey(b.full), apitest.JSON(ruleBody(b, "Bad key")),
				apitest.Header("Idempotency-Key", key))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, name+": "+string(r.Body))
			require.Equal(t, "validation_error", r.ErrorCode(), name)
			require.Equal(t, "header.Idempotency-Key", idemErrorField(t, r), name)
		}
		r := create(b, strings.Repeat("k", 255), ruleBody(b, "Longest key"))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		require.Equal(t, 1, countRules(t, b))
	})

	t.Run("client errors of the handler are stored and replayed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		bad := map[string]any{"name": "To myself", "targetFirmId": b.me.ID}
		first := create(b, "bad-1", bad)
		require.Equal(t, http.StatusBadRequest, first.StatusCode, string(first.Body))
		requireReplayOf(t, first, create(b, "bad-1", bad))
	})

	t.Run("concurrent duplicates have exactly one effect", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 10
		responses := make([]*apitest.Response, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				responses[i] = create(b, "burst-1", ruleBody(b, "Burst"))
			}()
		}
		close(start)
		wg.Wait()

		var original *apitest.Response
		for _, r := range responses {
			if r.StatusCode == http.StatusCreated && r.Header.Get("Idempotent-Replayed") == "" {
				require.Nil(t, original, "only one request did the work")
				original = r
			}
		}
		require.NotNil(t, original)
		replays, conflicts := 0, 0
		for _, r := range responses {
			switch {
			case r == original:
			case r.StatusCode == http.StatusConflict:
				require.Equal(t, "conflict", r.ErrorCode())
				conflicts++
			default:
				requireReplayOf(t, original, r)
				replays++
			}
		}
		t.Logf("one 201, %d replays, %d conflicts", replays, conflicts)
		require.Equal(t, 1, countRules(t, b))
		requireReplayOf(t, original, create(b, "burst-1", ruleBody(b, "Burst")))
	})

	t.Run("a retry while the first request runs is a conflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := context.Background()
		// Hold the first request inside its handler: the rule insert waits for this lock.
		tx, err := b.h.Pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		_, err = tx.Exec(ctx, `LOCK TABLE routing_rules IN ACCESS EXCLUSIVE MODE`)
		require.NoError(t, err)

		done := make(chan *apitest.Response, 1)
		go func() { done <- create(b, "slow-1", ruleBody(b, "Slow")) }()
		require.Eventually(t, func() bool {
			var n int
			err := b.h.Pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys WHERE idem_key = 'slow-1' AND state = 'pending'`).Scan(&n)
			return err == nil && n == 1
		}, 10*time.Second, 10*time.Millisecond)

		r := create(b, "slow-1", ruleBody(b, "Slow"))
		require.Equal(t, http.StatusConflict, r.StatusCode, string(r.Body))
		require.Equal(t, "conflict", r.ErrorCode())
		r = create(b, "slow-1", ruleBody(b, "Not the same"))
		require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "a different request is refused even while the first runs")

		require.NoError(t, tx.Rollback(ctx))
		first := <-done
		require.Equal(t, http.StatusCreated, first.StatusCode, string(first.Body))
		requireReplayOf(t, first, create(b, "slow-1", ruleBody(b, "Slow")))
		require.Equal(t, 1, countRules(t, b))
	})

	t.Run("server errors are not stored, so the retry runs again", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := context.Background()
		_, err := b.h.Pool.Exec(ctx, `
			CREATE FUNCTION idem_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'induced failure'; END $$;
			CREATE TRIGGER idem_test_fail BEFORE INSERT ON routing_rules
			FOR EACH ROW EXECUTE FUNCTION idem_test_fail();`)
		require.NoError(t, err)

		r := create(b, "flaky-1", ruleBody(b, "Flaky"))
		require.Equal(t, http.StatusInternalServerError, r.StatusCode, string(r.Body))
		var n int
		require.NoError(t, b.h.Pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&n))
		require.Zero(t, n, "the claim was released")

		_, err = b.h.Pool.Exec(ctx, `DROP TRIGGER idem_test_fail ON routing_rules`)
		require.NoError(t, err)
		r = create(b, "flaky-1", ruleBody(b, "Flaky"))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		require.Empty(t, r.Header.Get("Idempotent-Replayed"))
		require.Equal(t, 1, countRules(t, b))
	})

	t.Run("the contract documents idempotency on every Public API write", func(t *testing.T) {
		t.Parallel()
		spec, err := api.GetSpec()
		require.NoError(t, err)
		for path, item := range spec.Paths.Map() {
			if !strings.HasPrefix(path, "/api/public/v1/") {
				continue
			}
			for method, op := range item.Operations() {
				if (method != http.MethodPost && method != http.MethodPatch) || op.Security == nil || len(*op.Security) == 0 {
					continue
				}
				name := method + " " + path
				found := false
				for _, p := range op.Parameters {
					found = found || p.Ref == "#/components/parameters/IdempotencyKey"
				}
				require.True(t, found, "%s declares the Idempotency-Key header", name)
				for _, code := range []string{"409", "422"} {
					require.NotNil(t, op.Responses.Value(code), "%s declares %s", name, code)
				}
				for code, resp := range op.Responses.Map() {
					if strings.HasPrefix(code, "2") {
						require.Contains(t, resp.Value.Headers, "Idempotent-Replayed", "%s %s", name, code)
					}
				}
			}
		}
	})
}
