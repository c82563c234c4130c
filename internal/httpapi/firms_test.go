package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/refdata"
)

const (
	fdOwnFirmPath   = "/api/public/v1/firms/me"
	fdDirectoryPath = "/api/public/v1/firms/directory"
)

func TestFirms(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h            *apitest.Harness
		firmA, firmB *apitest.Firm
		keyA, keyB   string // read-only keys
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		a := h.NewFirm(apitest.FirmOpts{Name: "Alder Injury Law", Jurisdictions: []string{"NY", "NJ"},
			CaseTypeIDs: []uuid.UUID{refdata.PersonalInjuryID}, Instructions: "Call first."})
		b := h.NewFirm(apitest.FirmOpts{Name: "Birch Comp Partners", Jurisdictions: []string{"CA"},
			CaseTypeIDs: []uuid.UUID{refdata.WorkersCompensationID}})
		return &testBundle{h: h, firmA: a, firmB: b, keyA: h.Key(a, apitest.ReadOnly), keyB: h.Key(b, apitest.ReadOnly)}
	}
	getFirm := func(t *testing.T, b *testBundle, path, key string) api.Firm {
		t.Helper()
		r := b.h.Do("GET", path, apitest.APIKey(key))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var body api.FirmResponse
		r.Decode(&body)
		require.Equal(t, r.Header.Get("X-Request-Id"), body.Meta.RequestId)
		return body.Data
	}
	directory := func(t *testing.T, b *testBundle, key string, query ...string) api.FirmListResponse {
		t.Helper()
		r := b.h.Do("GET", fdDirectoryPath, apitest.APIKey(key), apitest.Query(query...))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var body api.FirmListResponse
		r.Decode(&body)
		return body
	}
	names := func(fs []api.Firm) []string {
		out := make([]string, 0, len(fs))
		for _, f := range fs {
			out = append(out, f.Name)
		}
		return out
	}

	t.Run("me is the firm of the calling key", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a := getFirm(t, b, fdOwnFirmPath, b.keyA)
		require.Equal(t, b.firmA.ID, a.Id)
		require.Equal(t, "Alder Injury Law", a.Name)
		require.Equal(t, []string{"NY", "NJ"}, a.Jurisdictions)
		require.Equal(t, []string{"Personal Injury"}, a.CaseTypes)
		require.NotNil(t, a.ReferralInstructions)
		require.Equal(t, "Call first.", *a.ReferralInstructions)
		require.True(t, a.ListedInDirectory)
		require.False(t, a.IsInternal)

		require.Equal(t, b.firmB.ID, getFirm(t, b, fdOwnFirmPath, b.keyB).Id)
	})

	t.Run("any active firm by id; unknown and deactivated firms are not found", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Equal(t, b.firmA.ID, getFirm(t, b, apitest.Path("/api/public/v1/firms", b.firmA.ID.String()), b.keyB).Id)

		private := b.h.NewFirm(apitest.FirmOpts{Private: true})
		require.False(t, getFirm(t, b, apitest.Path("/api/public/v1/firms", private.ID.String()), b.keyB).ListedInDirectory)

		r := b.h.Do("GET", apitest.Path("/api/public/v1/firms", uuid.NewString()), apitest.APIKey(b.keyA))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		require.Equal(t, "resource_not_found", r.ErrorCode())
		require.NotEmpty(t, r.Header.Get("X-RateLimit-Remaining"))

		gone := b.h.NewFirm(apitest.FirmOpts{})
		_, err := b.h.Pool.Exec(context.Background(), `UPDATE firms SET is_active = false WHERE id = $1`, gone.ID)
		require.NoError(t, err)
		r = b.h.Do("GET", apitest.Path("/api/public/v1/firms", gone.ID.String()), apitest.APIKey(b.keyA))
		require.Equal(t, http.StatusNotFound, r.StatusCode)

		r = b.h.Do("GET", "/api/public/v1/firms/not-a-uuid", apitest.APIKey(b.keyA))
		fdRequireValidation(t, r, "path.id")
	})

	t.Run("the directory lists active listed firms only, by name", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		private := b.h.NewFirm(apitest.FirmOpts{Name: "Aaron Private LLP", Private: true})
		inactive := b.h.NewFirm(apitest.FirmOpts{Name: "Aaron Closed LLP"})
		_, err := b.h.Pool.Exec(context.Background(), `UPDATE firms SET is_active = false WHERE id = $1`, inactive.ID)
		require.NoError(t, err)

		body := directory(t, b, b.keyA)
		require.Equal(t, []string{"Alder Injury Law", "Birch Comp Partners"}, names(body.Data))
		require.Equal(t, api.Pagination{Page: 1, Limit: 100, Total: 2, TotalPages: 1}, body.Pagination)
		for _, f := range body.Data {
			require.NotEqual(t, private.ID, f.Id)
			require.True(t, f.ListedInDirectory)
		}

		// A private firm's key still browses the directory.
		privKey := b.h.Key(private, apitest.ReadOnly)
		require.Len(t, directory(t, b, privKey).Data, 2)
	})

	t.Run("the directory searches, filters and pages", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range 3 {
			b.h.NewFirm(apitest.FirmOpts{Name: "Cedar Firm " + strconv.Itoa(i), Jurisdictions: []string{"NY"}})
		}

		require.Equal(t, []string{"Birch Comp Partners"}, names(directory(t, b, b.keyA, "search", "comp").Data))
		require.Empty(t, directory(t, b, b.keyA, "search", "50%").Data)

		ny := directory(t, b, b.keyA, "jurisdiction", "ny")
		require.Equal(t, []string{"Alder Injury Law", "Cedar Firm 0", "Cedar Firm 1", "Cedar Firm 2"}, names(ny.Data))
		require.Equal(t, 4, ny.Pagination.Total)

		require.Equal(t, []string{"Birch Comp Partners"}, names(directory(t, b, b.keyA, "caseType", "workers_compensation").Data))
		require.Equal(t, []string{"Alder Injury Law"}, names(directory(t, b, b.keyA, "specialty", refdata.PersonalInjuryID.String()).Data))
		require.Empty(t, directory(t, b, b.keyA, "caseType", "no such type").Data)
		require.Empty(t, directory(t, b, b.keyA, "caseType", "personal_injury", "jurisdiction", "CA").Data)

		page := directory(t, b, b.keyA, "jurisdiction", "NY", "limit", "3", "page", "2")
		require.Equal(t, []string{"Cedar Firm 2"}, names(page.Data))
		require.Equal(t, api.Pagination{Page: 2, Limit: 3, Total: 4, TotalPages: 2}, page.Pagination)

		page = directory(t, b, b.keyA, "limit", "2", "page", "3")
		require.Equal(t, []string{"Cedar Firm 2"}, names(page.Data))
		require.Equal(t, api.Pagination{Page: 3, Limit: 2, Total: 5, TotalPages: 3}, page.Pagination)

		for _, q := range [][]string{{"limit", "0"}, {"limit", "101"}, {"page", "0"}, {"limit", "x"}} {
			r := b.h.Do("GET", fdDirectoryPath, apitest.APIKey(b.keyA), apitest.Query(q...))
			fdRequireValidation(t, r, "query."+q[0])
		}
	})

	t.Run("filtered pages add up to the unpaged filtered list", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// 6 of the 11 new firms match jurisdiction NY and personal injury; the others interleave
		// with them in name order.
		for i := range 11 {
			o := apitest.FirmOpts{Name: fmt.Sprintf("Elm %02d Law", i), Jurisdictions: []string{"NY"},
				CaseTypeIDs: []uuid.UUID{refdata.PersonalInjuryID}}
			switch i % 3 {
			case 1:
				o.Jurisdictions = []string{"NJ"}
			case 2:
				if i > 6 {
					o.CaseTypeIDs = []uuid.UUID{refdata.WorkersCompensationID}
				}
			}
			b.h.NewFirm(o)
		}
		filter := []string{"jurisdiction", "NY", "caseType", "Personal Injury", "search", "l"}
		all := directory(t, b, b.keyA, filter...)
		require.Equal(t, 7, all.Pagination.Total, "Alder Injury Law and 6 Elm firms")
		require.Len(t, all.Data, 7)
		for _, limit := range []int{1, 3, 5} {
			var paged []string
			pages := (7 + limit - 1) / limit
			for p := 1; p <= pages+1; p++ {
				page := directory(t, b, b.keyA, append([]string{"limit", strconv.Itoa(limit), "page", strconv.Itoa(p)}, filter...)...)
				require.Equal(t, api.Pagination{Page: p, Limit: limit, Total: 7, TotalPages: pages}, page.Pagination, "limit %d page %d", limit, p)
				if p > pages {
					require.Empty(t, page.Data, "past the end")
				}
				paged = append(paged, names(page.Data)...)
			}
			require.Equal(t, names(all.Data), paged, "limit %d", limit)
		}
	})

	t.Run("updating the profile changes only the caller's firm", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		full := b.h.Key(b.firmA, apitest.Full)
		before := getFirm(t, b, fdOwnFirmPath, b.keyB)

		r := b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(full), apitest.JSON(map[string]any{
			"name":                 "Alder & Co",
			"phone":                "503-555-0199",
			"website":              "https://alder.example",
			"referralInstructions": "Email intake.",
			"jurisdictions":        []string{"or", "WA"},
			"caseTypes":            []string{"workers' compensation", "personal_injury", refdata.MedicalMalpracticeID.String()},
		}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var body api.FirmResponse
		r.Decode(&body)
		f := body.Data
		require.Equal(t, b.firmA.ID, f.Id)
		require.Equal(t, "Alder & Co", f.Name)
		require.Equal(t, "503-555-0199", *f.Phone)
		require.Equal(t, "https://alder.example", *f.Website)
		require.Equal(t, "Email intake.", *f.ReferralInstructions)
		require.Equal(t, []string{"OR", "WA"}, f.Jurisdictions)
		require.Len(t, f.CaseTypes, 3)
		require.Contains(t, f.CaseTypes, "Personal Injury")

		// Fields left out stay; an empty string clears.
		r = b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(full), apitest.JSON(map[string]any{"phone": ""}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		r.Decode(&body)
		require.Nil(t, body.Data.Phone)
		require.Equal(t, "Alder & Co", body.Data.Name)
		require.Equal(t, []string{"OR", "WA"}, body.Data.Jurisdictions)

		require.Equal(t, before, getFirm(t, b, fdOwnFirmPath, b.keyB))
		require.Equal(t, "Alder & Co", getFirm(t, b, fdOwnFirmPath, b.keyA).Name)
	})

	t.Run("only full keys update the profile", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		std := b.h.Key(b.firmA, apitest.Standard)
		for _, key := range []string{b.keyA, std} {
			r := b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(key), apitest.JSON(map[string]any{"name": "Hijacked"}))
			require.Equal(t, http.StatusForbidden, r.StatusCode)
			require.Equal(t, "insufficient_tier", r.ErrorCode())
		}
		require.Equal(t, "Alder Injury Law", getFirm(t, b, fdOwnFirmPath, b.keyA).Name)
	})

	t.Run("invalid profile updates name the field", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		full := b.h.Key(b.firmA, apitest.Full)
		for field, body := range map[string]map[string]any{
			"body.name":                 {"name": "   "},
			"body.jurisdictions":        {"jurisdictions": []string{"NY", "QQ"}},
			"body.caseTypes.1":          {"caseTypes": []string{"personal_injury", "underwater basket weaving"}},
			"body.website":              {"website": "ftp://alder.example"},
			"body.referralInstructions": {"referralInstructions": strings.Repeat("x", 5001)},
			"body.jurisdictions.0":      {"jurisdictions": []string{strings.Repeat("N", 11)}},
		} {
			r := b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(full), apitest.JSON(body))
			fdRequireValidation(t, r, field)
		}
		r := b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(full), apitest.JSON(map[string]any{"name": strings.Repeat("n", 201)}))
		fdRequireValidation(t, r, "body.name")
		r = b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(full), apitest.JSON(map[string]any{"name": 42}))
		fdRequireValidation(t, r, "body.name")
		r = b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(full), apitest.Body("application/json", []byte(`{"name": "x"`)))
		fdRequireValidation(t, r, "")
		r = b.h.Do("PUT", fdOwnFirmPath, apitest.APIKey(full), apitest.Body("text/plain", []byte(`name=x`)))
		fdRequireValidation(t, r, "")

		require.Equal(t, "Alder Injury Law", getFirm(t, b, fdOwnFirmPath, b.keyA).Name)
	})
}
