package refdata_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/refdata"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type testBundle struct {
	svc *refdata.Service
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool, _ := pgtest.NewDB(t)
	return &testBundle{svc: refdata.NewService(pool)}
}

func TestCaseTypes(t *testing.T) {
	t.Parallel()

	t.Run("ListsActiveTypesInDisplayOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cts, err := b.svc.ListCaseTypes(t.Context())
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(cts), 20)
		require.Equal(t, refdata.PersonalInjuryID, cts[0].ID)
		require.Equal(t, "personal_injury", cts[0].Name)
		require.Equal(t, "Personal Injury", cts[0].Label())
		require.Equal(t, "personal_injury", cts[0].Category)
		require.NotNil(t, cts[0].Explanation)
		for _, ct := range cts {
			require.True(t, ct.IsActive)
		}
	})

	t.Run("ResolvesByIDNameOrDisplayName", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, key := range []string{
			refdata.MedicalMalpracticeID.String(),
			"medical_malpractice",
			"Medical Malpractice",
			"  MEDICAL malpractice ",
			"MEDICAL_MALPRACTICE",
		} {
			ct, err := b.svc.ResolveCaseType(t.Context(), key)
			require.NoError(t, err, key)
			require.Equal(t, refdata.MedicalMalpracticeID, ct.ID, key)
		}
		ct, err := b.svc.ResolveCaseType(t.Context(), "Workers' Compensation")
		require.NoError(t, err)
		require.Equal(t, refdata.WorkersCompensationID, ct.ID)
	})

	t.Run("UnknownCaseTypeIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, key := range []string{"", "nope", uuid.NewString()} {
			_, err := b.svc.ResolveCaseType(t.Context(), key)
			require.ErrorIs(t, err, apperr.ErrNotFound, key)
		}
		_, err := b.svc.GetCaseType(t.Context(), uuid.New())
		require.ErrorIs(t, err, apperr.ErrNotFound)
	})

	t.Run("LooksUpSeveralByID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cts, err := b.svc.CaseTypesByIDs(t.Context(), []uuid.UUID{refdata.MassTortID, uuid.New(), refdata.PersonalInjuryID})
		require.NoError(t, err)
		require.Len(t, cts, 2)
		require.Equal(t, refdata.PersonalInjuryID, cts[0].ID)
		require.Equal(t, refdata.MassTortID, cts[1].ID)
	})
}

func TestCaseTypeFields(t *testing.T) {
	t.Parallel()

	t.Run("ListsFieldsInDisplayOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		fields, err := b.svc.ListCaseTypeFields(t.Context(), refdata.PersonalInjuryID)
		require.NoError(t, err)
		require.NotEmpty(t, fields)
		require.Equal(t, "num_people_involved", fields[0].Name)
		require.Equal(t, refdata.FieldNumber, fields[0].FieldType)
		require.NotNil(t, fields[0].ValidationRule)
		require.NotNil(t, fields[0].ValidationRule.Min)
		require.InDelta(t, 1, *fields[0].ValidationRule.Min, 0)
		require.True(t, slices.IsSortedFunc(fields, func(a, b refdata.CaseTypeField) int { return a.DisplayOrder - b.DisplayOrder }))
		for _, f := range fields {
			require.Equal(t, refdata.PersonalInjuryID, f.CaseTypeID)
		}
	})

	t.Run("DecodesEnumOptions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		fields, err := b.svc.ListCaseTypeFields(t.Context(), refdata.MedicalMalpracticeID)
		require.NoError(t, err)
		i := slices.IndexFunc(fields, func(f refdata.CaseTypeField) bool { return f.FieldType == refdata.FieldEnum })
		require.GreaterOrEqual(t, i, 0)
		require.NotEmpty(t, fields[i].EnumOptions)
		require.NotEmpty(t, fields[i].EnumOptions[0].Label)
		require.NotEmpty(t, fields[i].EnumOptions[0].Value)
		require.Nil(t, fields[i].ValidationRule)
	})

	t.Run("CaseTypeWithoutFieldsIsEmpty", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ct, err := b.svc.ResolveCaseType(t.Context(), "dog_bite")
		require.NoError(t, err)
		fields, err := b.svc.ListCaseTypeFields(t.Context(), ct.ID)
		require.NoError(t, err)
		require.NotNil(t, fields)
		require.Empty(t, fields)
	})

	t.Run("UnknownCaseTypeIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.ListCaseTypeFields(t.Context(), uuid.New())
		require.ErrorIs(t, err, apperr.ErrNotFound)
	})
}

func TestJurisdictions(t *testing.T) {
	t.Parallel()

	t.Run("ListsStatesDCAndTerritoriesByName", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		js, err := b.svc.ListJurisdictions(t.Context())
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(js), 56)
		require.True(t, slices.IsSortedFunc(js, func(a, b refdata.Jurisdiction) int {
			return strings.Compare(a.Name, b.Name)
		}))
		codes := make([]string, len(js))
		for i, j := range js {
			codes[i] = j.Code
		}
		for _, c := range []string{"AL", "CA", "DC", "NY", "WY", "PR", "GU", "VI", "AS", "MP"} {
			require.Contains(t, codes, c)
		}
	})

	t.Run("ResolvesCodeIgnoringCase", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		j, err := b.svc.ResolveJurisdiction(t.Context(), " ny")
		require.NoError(t, err)
		require.Equal(t, refdata.Jurisdiction{Code: "NY", Name: "New York", FIPSCode: "36", Kind: "state"}, j)
	})

	t.Run("UnknownCodeIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, c := range []string{"", "XX", "New York", "N1"} {
			_, err := b.svc.ResolveJurisdiction(t.Context(), c)
			require.ErrorIs(t, err, apperr.ErrNotFound, c)
		}
	})

	t.Run("ReportsUnknownCodes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		unknown, err := b.svc.UnknownJurisdictionCodes(t.Context(), []string{"ca", "ZZ", "NY", "QQ"})
		require.NoError(t, err)
		require.Equal(t, []string{"ZZ", "QQ"}, unknown)
		unknown, err = b.svc.UnknownJurisdictionCodes(t.Context(), []string{"CA", "NV"})
		require.NoError(t, err)
		require.Empty(t, unknown)
	})
}

func TestCounties(t *testing.T) {
	t.Parallel()

	t.Run("ListsAllWithoutFilter", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		page, err := b.svc.ListCounties(t.Context(), refdata.CountyFilter{})
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(page.Counties), 3200)
		require.Equal(t, len(page.Counties), page.Total)
	})

	t.Run("FiltersByCodesInRequestOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		page, err := b.svc.ListCounties(t.Context(), refdata.CountyFilter{JurisdictionCodes: refdata.SplitCodes("ny,NJ")})
		require.NoError(t, err)
		require.Len(t, page.Counties, 62+21)
		require.Equal(t, "NY", page.Counties[0].JurisdictionCode)
		require.Equal(t, "NJ", page.Counties[len(page.Counties)-1].JurisdictionCode)
		names := make([]string, 0, len(page.Counties))
		for _, c := range page.Counties {
			names = append(names, c.Name)
		}
		require.Contains(t, names, "Kings County")
		require.Contains(t, names, "Bergen County")
	})

	t.Run("UnknownCodeMatchesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		page, err := b.svc.ListCounties(t.Context(), refdata.CountyFilter{JurisdictionCodes: []string{"ZZ"}})
		require.NoError(t, err)
		require.Empty(t, page.Counties)
		require.Zero(t, page.Total)
	})

	t.Run("MalformedCodeIsValidationError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.ListCounties(t.Context(), refdata.CountyFilter{JurisdictionCodes: []string{"NY", "New York"}})
		require.ErrorIs(t, err, apperr.ErrValidation)
		e, ok := apperr.As(err)
		require.True(t, ok)
		require.Equal(t, "jurisdictionCodes", e.Details[0].Field)
	})

	t.Run("SearchesByNamePrefix", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		page, err := b.svc.ListCounties(t.Context(), refdata.CountyFilter{JurisdictionCodes: []string{"NY"}, Search: "KIN"})
		require.NoError(t, err)
		require.Len(t, page.Counties, 1)
		require.Equal(t, "Kings County", page.Counties[0].Name)
		require.Equal(t, "Kings", page.Counties[0].ShortName)
		require.Equal(t, "36047", page.Counties[0].FIPSCode)

		// LIKE wildcards in the search are literal.
		page, err = b.svc.ListCounties(t.Context(), refdata.CountyFilter{Search: "%"})
		require.NoError(t, err)
		require.Empty(t, page.Counties)
	})

	t.Run("PagesWithTotal", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		all, err := b.svc.ListCounties(t.Context(), refdata.CountyFilter{JurisdictionCodes: []string{"TX"}})
		require.NoError(t, err)
		require.Len(t, all.Counties, 254)

		page, err := b.svc.ListCounties(t.Context(), refdata.CountyFilter{JurisdictionCodes: []string{"TX"}, Limit: 10, Offset: 250})
		require.NoError(t, err)
		require.Equal(t, 254, page.Total)
		require.Equal(t, all.Counties[250:], page.Counties)

		_, err = b.svc.ListCounties(t.Context(), refdata.CountyFilter{Limit: -1})
		require.ErrorIs(t, err, apperr.ErrValidation)
	})

	t.Run("ResolvesByFullOrShortName", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, tc := range []struct{ code, name, want string }{
			{"NY", "New York", "New York County"},
			{"ny", "kings county", "Kings County"},
			{"FL", "Miami-Dade", "Miami-Dade County"},
			{"LA", "Orleans", "Orleans Parish"},
			{"VA", "Richmond", "Richmond County"},
			{"VA", "Richmond city", "Richmond city"},
			{"DC", "District of Columbia", "District of Columbia"},
		} {
			c, err := b.svc.ResolveCounty(t.Context(), tc.code, tc.name)
			require.NoError(t, err, tc)
			require.Equal(t, tc.want, c.Name, tc)
		}
		_, err := b.svc.ResolveCounty(t.Context(), "NJ", "Kings")
		require.ErrorIs(t, err, apperr.ErrNotFound)
	})
}
