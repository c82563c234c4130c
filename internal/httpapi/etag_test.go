package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

func TestConditionalRequests(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h           *apitest.Harness
		me, partner *apitest.Firm
		ro, full    string // the caller's keys
		partnerStd  string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		b := &testBundle{h: h}
		b.me = h.NewFirm(apitest.FirmOpts{Name: "Polling Law", Jurisdictions: []string{"WA"}})
		b.partner = h.NewFirm(apitest.FirmOpts{Name: "Partner Law"})
		b.ro, b.full = h.Key(b.me, apitest.ReadOnly), h.Key(b.me, apitest.Full)
		b.partnerStd = h.Key(b.partner, apitest.Standard)
		return b
	}
	get := func(b *testBundle, path, key, ifNoneMatch string) *apitest.Response {
		opts := []apitest.Opt{apitest.APIKey(key)}
		if ifNoneMatch != "" {
			opts = append(opts, apitest.Header("If-None-Match", ifNoneMatch))
		}
		return b.h.Do("GET", path, opts...)
	}
	// tagOf requires a 200 with a strong ETag and returns it.
	tagOf := func(t *testing.T, r *apitest.Response) string {
		t.Helper()
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		tag := r.Header.Get("ETag")
		require.Regexp(t, `^"[0-9a-f]{32}"$`, tag)
		return tag
	}
	requireNotModified := func(t *testing.T, r *apitest.Response, tag string) {
		t.Helper()
		require.Equal(t, http.StatusNotModified, r.StatusCode, string(r.Body))
		require.Empty(t, r.Body)
		require.Equal(t, tag, r.Header.Get("ETag"))
		require.Empty(t, r.Header.Get("Content-Type"))
		for _, h := range []string{"X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			require.NotEmpty(t, r.Header.Get(h), h)
		}
	}
	const me = "/api/public/v1/firms/me"

	t.Run("an unchanged resource answers 304 without a body", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first := get(b, me, b.ro, "")
		tag := tagOf(t, first)
		second := get(b, me, b.ro, "")
		require.Equal(t, tag, tagOf(t, second), "meta changes on every response but is not part of the tag")
		require.NotEqual(t, string(first.Body), string(second.Body))

		r := get(b, me, b.ro, tag)
		requireNotModified(t, r, tag)
		remaining := r.Header.Get("X-RateLimit-Remaining")
		requireNotModified(t, get(b, me, b.ro, tag), tag)
		require.NotEqual(t, remaining, get(b, me, b.ro, tag).Header.Get("X-RateLimit-Remaining"), "a 304 still counts")
	})

	t.Run("a change gives a new tag", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		old := tagOf(t, get(b, me, b.ro, ""))
		r := b.h.Do("PUT", me, apitest.APIKey(b.full), apitest.JSON(map[string]any{"description": "Now with a description"}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Empty(t, r.Header.Get("ETag"), "writes carry no tag")

		r = get(b, me, b.ro, old)
		fresh := tagOf(t, r)
		require.NotEqual(t, old, fresh)
		var body api.FirmResponse
		r.Decode(&body)
		require.NotNil(t, body.Data.Description)
		requireNotModified(t, get(b, me, b.ro, fresh), fresh)
	})

	t.Run("weak, listed and wildcard validators match; others do not", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tag := tagOf(t, get(b, me, b.ro, ""))
		for _, inm := range []string{"W/" + tag, `"0000", ` + tag, `W/"1",W/` + tag + ` , "2"`, "*"} {
			requireNotModified(t, get(b, me, b.ro, inm), tag)
		}
		for _, inm := range []string{`"0000"`, strings.Trim(tag, `"`), `W/"0000", "1111"`} {
			require.Equal(t, tag, tagOf(t, get(b, me, b.ro, inm)), inm)
		}
	})

	t.Run("lists carry tags and change when an item appears", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tag := tagOf(t, get(b, "/api/public/v1/case-types", b.ro, ""))
		requireNotModified(t, get(b, "/api/public/v1/case-types", b.ro, tag), tag)

		const dir = "/api/public/v1/firms/directory"
		tag = tagOf(t, get(b, dir, b.ro, ""))
		requireNotModified(t, get(b, dir, b.ro, tag), tag)
		page2 := tagOf(t, get(b, dir+"?limit=1&page=2", b.ro, ""))
		require.NotEqual(t, tag, page2, "each page has its own tag")

		b.h.NewFirm(apitest.FirmOpts{Name: "Newcomer Law"})
		require.NotEqual(t, tag, tagOf(t, get(b, dir, b.ro, tag)))
	})

	t.Run("pollers get 304 while nothing changed and 200 after a change", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		idemConnect(t, b.h, b.me, b.partner)
		pollers := []struct {
			path, key string
		}{
			{"/api/public/v1/status-updates", b.ro},
			{"/api/public/v1/sent-cases", b.ro},
			{"/api/public/v1/received-referrals", b.partnerStd},
		}
		tags := map[string]string{}
		for _, p := range pollers {
			tags[p.path] = tagOf(t, get(b, p.path, p.key, ""))
			requireNotModified(t, get(b, p.path, p.key, tags[p.path]), tags[p.path])
		}

		r := b.h.Do("POST", "/api/public/v1/sent-cases", apitest.APIKey(b.full), apitest.JSON(map[string]any{
			"title": "Slip and fall at a grocery store", "caseType": "Personal Injury", "jurisdiction": "WA",
			"clientFirstName": "Dana", "clientLastName": "Whitfield", "referentFirmId": b.partner.ID.String(),
		}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))

		for _, p := range pollers {
			if p.path == "/api/public/v1/status-updates" {
				continue // sending a new case writes no status update
			}
			fresh := tagOf(t, get(b, p.path, p.key, tags[p.path]))
			require.NotEqual(t, tags[p.path], fresh, p.path)
			requireNotModified(t, get(b, p.path, p.key, fresh), fresh)
		}
	})

	t.Run("errors and non-JSON responses pass through untouched", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := get(b, "/api/public/v1/import/cases/template", b.full, "*")
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Empty(t, r.Header.Get("ETag"))
		require.NotEmpty(t, r.Body)

		r = get(b, apitest.Path("/api/public/v1/firms", uuid.NewString()), b.ro, "*")
		require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
		require.Empty(t, r.Header.Get("ETag"))

		r = b.h.Do("GET", "/api/public/v1/health", apitest.Header("If-None-Match", "*"))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Empty(t, r.Header.Get("ETag"), "anonymous routes are left alone")
	})

	t.Run("the contract documents conditional requests on every JSON read", func(t *testing.T) {
		t.Parallel()
		spec, err := api.GetSpec()
		require.NoError(t, err)
		for path, item := range spec.Paths.Map() {
			op := item.Get
			if !strings.HasPrefix(path, "/api/public/v1/") || op == nil || op.Security == nil || len(*op.Security) == 0 {
				continue
			}
			ok := op.Responses.Value("200")
			if ok == nil || ok.Value.Content.Get("application/json") == nil {
				continue
			}
			found := false
			for _, p := range op.Parameters {
				found = found || p.Ref == "#/components/parameters/IfNoneMatch"
			}
			require.True(t, found, "GET %s declares If-None-Match", path)
			require.NotNil(t, op.Responses.Value("304"), "GET %s declares 304", path)
			require.Contains(t, ok.Value.Headers, "ETag", "GET %s", path)
		}
	})
}
