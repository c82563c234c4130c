package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/refdata"
)

func TestReferenceData(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	firm := h.NewFirm(apitest.FirmOpts{})
	key := h.Key(firm, apitest.ReadOnly)

	t.Run("case types are the active ones ordered by display name", func(t *testing.T) {
		r := h.Do("GET", "/api/public/v1/case-types", apitest.APIKey(key))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var body api.CaseTypeListResponse
		r.Decode(&body)
		require.NotEmpty(t, body.Data)
		labels := make([]string, 0, len(body.Data))
		var pi *api.CaseType
		for i, ct := range body.Data {
			label := ct.Name
			if ct.DisplayName != nil {
				label = *ct.DisplayName
			}
			labels = append(labels, strings.ToLower(label))
			if ct.Id == refdata.PersonalInjuryID {
				pi = &body.Data[i]
			}
		}
		require.True(t, slices.IsSorted(labels), labels)
		require.NotNil(t, pi)
		require.Equal(t, "personal_injury", pi.Name)
	})

	t.Run("jurisdictions are ordered by code", func(t *testing.T) {
		r := h.Do("GET", "/api/public/v1/jurisdictions", apitest.APIKey(key))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var body api.JurisdictionListResponse
		r.Decode(&body)
		require.GreaterOrEqual(t, len(body.Data), 51)
		codes := make([]string, 0, len(body.Data))
		for _, j := range body.Data {
			codes = append(codes, j.Code)
		}
		require.True(t, slices.IsSorted(codes))
		require.Contains(t, body.Data, api.Jurisdiction{Code: "NY", Name: "New York"})
	})

	t.Run("counties filter by jurisdiction codes and sort by code then name", func(t *testing.T) {
		r := h.Do("GET", "/api/public/v1/counties", apitest.APIKey(key), apitest.Query("jurisdictionCodes", "ny, nj"))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var body api.CountyListResponse
		r.Decode(&body)
		require.NotEmpty(t, body.Data)
		seen := map[string]int{}
		for i, c := range body.Data {
			seen[c.JurisdictionCode]++
			if i > 0 {
				prev := body.Data[i-1]
				require.True(t, prev.JurisdictionCode < c.JurisdictionCode ||
					(prev.JurisdictionCode == c.JurisdictionCode && prev.Name <= c.Name), "%v before %v", prev, c)
			}
		}
		require.Len(t, seen, 2)
		require.Positive(t, seen["NJ"])
		require.Positive(t, seen["NY"])
		require.Equal(t, "NJ", body.Data[0].JurisdictionCode)

		all := h.Do("GET", "/api/public/v1/counties", apitest.APIKey(key))
		require.Equal(t, http.StatusOK, all.StatusCode)
		var allBody api.CountyListResponse
		all.Decode(&allBody)
		require.Greater(t, len(allBody.Data), len(body.Data))
	})

	t.Run("an unknown jurisdiction code matches nothing, a malformed one is rejected", func(t *testing.T) {
		r := h.Do("GET", "/api/public/v1/counties", apitest.APIKey(key), apitest.Query("jurisdictionCodes", "ZZ"))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var body api.CountyListResponse
		r.Decode(&body)
		require.Empty(t, body.Data)

		r = h.Do("GET", "/api/public/v1/counties", apitest.APIKey(key), apitest.Query("jurisdictionCodes", "NY,New York"))
		fdRequireValidation(t, r, "query.jurisdictionCodes")
	})

	t.Run("case type fields of a case type, 404 for an unknown one", func(t *testing.T) {
		r := h.Do("GET", apitest.Path("/api/public/v1/reference/case-types", refdata.PersonalInjuryID.String(), "fields"), apitest.APIKey(key))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var body api.CaseTypeFieldListResponse
		r.Decode(&body)
		for i, f := range body.Data {
			require.Equal(t, refdata.PersonalInjuryID, f.CaseTypeId)
			require.Equal(t, f.FieldType == api.CaseTypeFieldDefinitionFieldTypeENUM, f.EnumOptions != nil, f.Name)
			if i > 0 {
				require.LessOrEqual(t, body.Data[i-1].DisplayOrder, f.DisplayOrder)
			}
		}

		r = h.Do("GET", apitest.Path("/api/public/v1/reference/case-types", uuid.NewString(), "fields"), apitest.APIKey(key))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		require.Equal(t, "resource_not_found", r.ErrorCode())

		r = h.Do("GET", "/api/public/v1/reference/case-types/not-a-uuid/fields", apitest.APIKey(key))
		fdRequireValidation(t, r, "path.caseTypeId")
	})

	t.Run("reference data needs a valid key", func(t *testing.T) {
		revoked := h.Key(firm, apitest.ReadOnly)
		require.Equal(t, http.StatusOK, h.Do("GET", "/api/public/v1/jurisdictions", apitest.APIKey(revoked)).StatusCode)
		_, err := h.App.Auth.RevokeKeyForFirm(t.Context(), firm.ID, fdKeyIDOf(t, h, firm, revoked))
		require.NoError(t, err)

		for name, opts := range map[string][]apitest.Opt{
			"missing":   nil,
			"malformed": {apitest.APIKey("hello")},
			"unknown":   {apitest.APIKey("cxp_ro_" + strings.Repeat("A", 40))},
			"revoked":   {apitest.APIKey(revoked)},
		} {
			for _, path := range []string{"/api/public/v1/case-types", "/api/public/v1/jurisdictions", "/api/public/v1/counties"} {
				r := h.Do("GET", path, opts...)
				require.Equal(t, http.StatusUnauthorized, r.StatusCode, "%s %s", name, path)
				require.Equal(t, "invalid_api_key", r.ErrorCode(), "%s %s", name, path)
			}
		}
	})
}

// fdKeyIDOf finds the id of a firm's key from its plaintext, through the stored hash.
func fdKeyIDOf(t *testing.T, h *apitest.Harness, firm *apitest.Firm, key string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	err := h.Pool.QueryRow(t.Context(),
		`SELECT id FROM api_keys WHERE firm_id = $1 AND key_hash = $2`, firm.ID, auth.HashKey(key)).Scan(&id)
	require.NoError(t, err)
	return id
}
