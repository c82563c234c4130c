package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

const fdKeysPath = "/api/v1/public-api-keys"

func TestPublicAPIKeys(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h     *apitest.Harness
		firm  *apitest.Firm
		admin string // access token of the firm's admin
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		firm := h.NewFirm(apitest.FirmOpts{})
		access, _ := h.Login(firm.Admin)
		return &testBundle{h: h, firm: firm, admin: access}
	}
	create := func(t *testing.T, b *testBundle, name string, tier api.PublicApiKeyTier) api.PublicApiKeyCreated {
		t.Helper()
		r := b.h.Do("POST", fdKeysPath, apitest.Bearer(b.admin), apitest.JSON(map[string]string{"name": name, "tier": string(tier)}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		var body api.PublicApiKeyCreatedResponse
		r.Decode(&body)
		require.True(t, body.Success)
		require.True(t, body.Meta.Success)
		return body.Data
	}
	list := func(t *testing.T, b *testBundle, token string) []api.PublicApiKey {
		t.Helper()
		r := b.h.Do("GET", fdKeysPath, apitest.Bearer(token))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var body api.PublicApiKeyListResponse
		r.Decode(&body)
		return body.Data
	}

	t.Run("create returns the secret once under key and plainKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		k := create(t, b, "Intake sync", api.PublicApiKeyTierSTANDARD)
		require.Equal(t, k.Key, k.PlainKey)
		require.True(t, strings.HasPrefix(k.Key, "cxp_std_"), k.Key)
		require.True(t, strings.HasPrefix(k.Key, k.KeyPrefix))
		require.Equal(t, "Intake sync", k.Name)
		require.Equal(t, api.PublicApiKeyTierSTANDARD, k.Tier)
		require.Equal(t, b.firm.ID, k.FirmId)
		require.True(t, k.IsActive)
		require.Nil(t, k.RevokedAt)
		require.Nil(t, k.LastUsedAt)
		require.NotNil(t, k.CreatedById)
		require.Equal(t, b.firm.Admin.ID, *k.CreatedById)
		require.NotNil(t, k.CreatedBy)
		require.Equal(t, b.firm.Admin.Email, string(k.CreatedBy.Email))

		// The key works at once, on its own firm.
		r := b.h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(k.Key))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var firm api.FirmResponse
		r.Decode(&firm)
		require.Equal(t, b.firm.ID, firm.Data.Id)

		for tier, prefix := range map[api.PublicApiKeyTier]string{
			api.PublicApiKeyTierREADONLY: "cxp_ro_", api.PublicApiKeyTierFULL: "cxp_full_",
		} {
			require.True(t, strings.HasPrefix(create(t, b, "k", tier).Key, prefix))
		}
	})

	t.Run("list shows every key newest first and never the secret", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first := create(t, b, "first", api.PublicApiKeyTierREADONLY)
		second := create(t, b, "second", api.PublicApiKeyTierFULL)
		r := b.h.Do("DELETE", apitest.Path(fdKeysPath, first.Id.String()), apitest.Bearer(b.admin))
		require.Equal(t, http.StatusNoContent, r.StatusCode)

		raw := b.h.Do("GET", fdKeysPath, apitest.Bearer(b.admin))
		require.NotContains(t, string(raw.Body), first.Key)
		require.NotContains(t, string(raw.Body), `"plainKey"`)

		keys := list(t, b, b.admin)
		require.Len(t, keys, 2)
		require.Equal(t, second.Id, keys[0].Id)
		require.True(t, keys[0].IsActive)
		require.Equal(t, first.Id, keys[1].Id)
		require.False(t, keys[1].IsActive)
		require.NotNil(t, keys[1].RevokedAt)
		require.NotNil(t, keys[1].CreatedBy)
	})

	t.Run("keys created from the command line have no creator", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.h.Key(b.firm, apitest.ReadOnly)
		keys := list(t, b, b.admin)
		require.Len(t, keys, 1)
		require.Nil(t, keys[0].CreatedById)
		require.Nil(t, keys[0].CreatedBy)
	})

	t.Run("invalid create bodies are validation_error", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for field, body := range map[string]string{
			"body.tier": `{"name":"x","tier":"SUPER"}`,
			"body.name": `{"name":"","tier":"FULL"}`,
		} {
			r := b.h.Do("POST", fdKeysPath, apitest.Bearer(b.admin), apitest.Body("application/json", []byte(body)))
			fdRequireValidation(t, r, field)
		}
		r := b.h.Do("POST", fdKeysPath, apitest.Bearer(b.admin), apitest.JSON(map[string]string{"tier": "FULL"}))
		fdRequireValidation(t, r, "body.name")
		r = b.h.Do("POST", fdKeysPath, apitest.Bearer(b.admin), apitest.JSON(map[string]string{"name": "   ", "tier": "FULL"}))
		fdRequireValidation(t, r, "body.name")
		r = b.h.Do("POST", fdKeysPath, apitest.Bearer(b.admin), apitest.Body("application/json", []byte(`{"name":`)))
		fdRequireValidation(t, r, "")
		require.Empty(t, list(t, b, b.admin))
	})

	t.Run("users who do not administer the firm get permission_denied", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		k := create(t, b, "k", api.PublicApiKeyTierFULL)
		for _, role := range []auth.Role{auth.RoleMember, auth.RoleViewer} {
			u := b.h.NewUser(b.firm, role)
			access, _ := b.h.Login(u)
			for _, req := range []struct {
				method, path string
				opts         []apitest.Opt
			}{
				{"GET", fdKeysPath, nil},
				{"POST", fdKeysPath, []apitest.Opt{apitest.JSON(map[string]string{"name": "mine", "tier": "FULL"})}},
				{"GET", apitest.Path(fdKeysPath, k.Id.String(), "usage"), nil},
				{"DELETE", apitest.Path(fdKeysPath, k.Id.String()), nil},
			} {
				r := b.h.Do(req.method, req.path, append(req.opts, apitest.Bearer(access))...)
				require.Equal(t, http.StatusForbidden, r.StatusCode, "%s %s as %s", req.method, req.path, role)
				require.Equal(t, "permission_denied", r.ErrorCode())
			}
		}
		// Nothing changed.
		keys := list(t, b, b.admin)
		require.Len(t, keys, 1)
		require.True(t, keys[0].IsActive)
	})

	t.Run("key management needs a session", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.h.Key(b.firm, apitest.Full)
		r := b.h.Do("GET", fdKeysPath)
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "no_token", r.ErrorCode())
		// A Public API key is not a session.
		r = b.h.Do("GET", fdKeysPath, apitest.Bearer(key))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "token_invalid", r.ErrorCode())
	})

	t.Run("a revoked key is refused at once and revoking again changes nothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		k := create(t, b, "to revoke", api.PublicApiKeyTierFULL)
		require.Equal(t, http.StatusOK, b.h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(k.Key)).StatusCode)

		r := b.h.Do("DELETE", apitest.Path(fdKeysPath, k.Id.String()), apitest.Bearer(b.admin))
		require.Equal(t, http.StatusNoContent, r.StatusCode)
		require.Empty(t, r.Body)

		r = b.h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(k.Key))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "invalid_api_key", r.ErrorCode())

		keys := list(t, b, b.admin)
		require.Len(t, keys, 1)
		revokedAt := keys[0].RevokedAt
		require.NotNil(t, revokedAt)

		r = b.h.Do("DELETE", apitest.Path(fdKeysPath, k.Id.String()), apitest.Bearer(b.admin))
		require.Equal(t, http.StatusNoContent, r.StatusCode)
		require.True(t, revokedAt.Equal(*list(t, b, b.admin)[0].RevokedAt))
	})

	t.Run("usage counts requests per UTC day over the window", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		k := create(t, b, "busy", api.PublicApiKeyTierREADONLY)
		for range 3 {
			require.Equal(t, http.StatusOK, b.h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(k.Key)).StatusCode)
		}
		require.NoError(t, b.h.App.Auth.FlushUsage(context.Background()))

		r := b.h.Do("GET", apitest.Path(fdKeysPath, k.Id.String(), "usage"), apitest.Bearer(b.admin), apitest.Query("days", "3"))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var body api.PublicApiKeyUsageResponse
		r.Decode(&body)
		u := body.Data
		require.Equal(t, k.Id, u.KeyId)
		require.EqualValues(t, 3, u.TotalRequests)
		require.EqualValues(t, 3, u.RequestsInPeriod)
		require.NotNil(t, u.LastUsedAt)
		require.Len(t, u.Daily, 3)
		today := time.Now().UTC().Format(time.DateOnly)
		require.Equal(t, today, u.To.Format(time.DateOnly))
		require.Equal(t, today, u.Daily[2].Date.Format(time.DateOnly))
		require.Equal(t, u.Daily[0].Date.Format(time.DateOnly), u.From.Format(time.DateOnly))
		require.Equal(t, 3, u.Daily[2].Count)
		require.Equal(t, 0, u.Daily[0].Count)

		// The default window is 30 days.
		r = b.h.Do("GET", apitest.Path(fdKeysPath, k.Id.String(), "usage"), apitest.Bearer(b.admin))
		require.Equal(t, http.StatusOK, r.StatusCode)
		r.Decode(&body)
		require.Len(t, body.Data.Daily, 30)

		for _, days := range []string{"0", "91", "many"} {
			r = b.h.Do("GET", apitest.Path(fdKeysPath, k.Id.String(), "usage"), apitest.Bearer(b.admin), apitest.Query("days", days))
			fdRequireValidation(t, r, "query.days")
		}
		r = b.h.Do("GET", apitest.Path(fdKeysPath, "not-a-uuid", "usage"), apitest.Bearer(b.admin))
		fdRequireValidation(t, r, "path.id")
		r = b.h.Do("GET", apitest.Path(fdKeysPath, uuid.NewString(), "usage"), apitest.Bearer(b.admin))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		require.Equal(t, "resource_not_found", r.ErrorCode())
	})

	t.Run("an admin never sees or touches another firm's keys", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		aKey := create(t, b, "firm A key", api.PublicApiKeyTierFULL)

		other := b.h.NewFirm(apitest.FirmOpts{})
		otherAccess, _ := b.h.Login(other.Admin)
		require.Empty(t, list(t, b, otherAccess))

		r := b.h.Do("GET", apitest.Path(fdKeysPath, aKey.Id.String(), "usage"), apitest.Bearer(otherAccess))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		require.Equal(t, "resource_not_found", r.ErrorCode())
		r = b.h.Do("DELETE", apitest.Path(fdKeysPath, aKey.Id.String()), apitest.Bearer(otherAccess))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		require.Equal(t, "resource_not_found", r.ErrorCode())

		// Firm A's key still works and still belongs to firm A.
		keys := list(t, b, b.admin)
		require.Len(t, keys, 1)
		require.True(t, keys[0].IsActive)
		r = b.h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(aKey.Key))
		require.Equal(t, http.StatusOK, r.StatusCode)
	})
}
