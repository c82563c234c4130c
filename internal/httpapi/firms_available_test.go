package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/refdata"
)

func TestListAvailableFirms(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h   *apitest.Harness
		key string // the caller's read-only key
		// network only (private), both (public + network), directory only (public),
		// pending (public, relationship not yet accepted), hidden (private, no relationship).
		network, both, directory, pending, hidden *apitest.Firm
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		me := h.NewFirm(apitest.FirmOpts{Name: "Caller Firm"})
		b := &testBundle{h: h, key: h.Key(me, apitest.ReadOnly)}
		b.network = h.NewFirm(apitest.FirmOpts{
			Name: "Apex Network Partners", Private: true, Jurisdictions: []string{"CA"},
			CaseTypeIDs: []uuid.UUID{refdata.PersonalInjuryID}, Instructions: "General apex instructions",
		})
		b.both = h.NewFirm(apitest.FirmOpts{
			Name: "Beacon Both Law", Jurisdictions: []string{"NY", "CA"},
			CaseTypeIDs: []uuid.UUID{refdata.MedicalMalpracticeID, refdata.PersonalInjuryID}, Instructions: "General beacon instructions",
		})
		b.directory = h.NewFirm(apitest.FirmOpts{
			Name: "Cobalt Directory Group", Jurisdictions: []string{"NY"},
			CaseTypeIDs: []uuid.UUID{refdata.MedicalMalpracticeID}, Instructions: "General cobalt instructions",
		})
		b.pending = h.NewFirm(apitest.FirmOpts{Name: "Delta Pending Partners", Jurisdictions: []string{"TX"}})
		b.hidden = h.NewFirm(apitest.FirmOpts{Name: "Echo Hidden LLP", Private: true})

		nwConnect(t, h, me, b.network, "")
		nwConnect(t, h, me, b.both, "Relationship instructions for beacon")
		r := h.Do("PUT", nwPath("outbound", b.pending.ID), apitest.APIKey(h.Key(me, apitest.Standard)))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		r = h.Do("PUT", nwPath("outbound", b.hidden.ID), apitest.APIKey(h.Key(me, apitest.Standard)))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		return b
	}
	list := func(t *testing.T, b *testBundle, query ...string) api.AvailableFirmListResponse {
		t.Helper()
		r := b.h.Do("GET", "/api/public/v1/firms/available", apitest.APIKey(b.key), apitest.Query(query...))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.AvailableFirmListResponse
		r.Decode(&out)
		return out
	}
	names := func(res api.AvailableFirmListResponse) []string {
		out := []string{}
		for _, f := range res.Data {
			out = append(out, f.Name)
		}
		return out
	}

	// Other firms of the harness database (none besides ours) would show up in the directory;
	// each subtest has its own database, so the lists are exact.
	t.Run("a cursor walks the list page by page with exact totals", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var seen []string
		res := list(t, b, "limit", "1")
		for page := 1; ; page++ {
			require.Equal(t, page, res.Pagination.Page)
			require.Equal(t, 4, res.Pagination.Total, "the total counts the whole list on every page")
			seen = append(seen, names(res)...)
			if res.Pagination.NextCursor == nil {
				break
			}
			require.Less(t, page, 4, "the last page carries no cursor")
			res = list(t, b, "limit", "1", "cursor", *res.Pagination.NextCursor)
		}
		require.Equal(t, []string{"Apex Network Partners", "Beacon Both Law", "Cobalt Directory Group", "Delta Pending Partners"}, seen)

		first := list(t, b, "limit", "1")
		r := b.h.Do("GET", "/api/public/v1/firms/available", apitest.APIKey(b.key),
			apitest.Query("limit", "2", "cursor", *first.Pagination.NextCursor))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, "a cursor of other filters is refused: %s", r.Body)
		require.Contains(t, string(r.Body), "query.cursor")
	})

	t.Run("merges network and directory with the source of each firm", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := list(t, b)
		require.Equal(t, []string{"Apex Network Partners", "Beacon Both Law", "Cobalt Directory Group", "Delta Pending Partners"}, names(res))
		require.Equal(t, api.Pagination{Page: 1, Limit: 25, Total: 4, TotalPages: 1}, res.Pagination)

		byName := map[string]api.AvailableFirm{}
		for _, f := range res.Data {
			byName[f.Name] = f
		}
		apex := byName["Apex Network Partners"]
		require.Equal(t, api.AvailableFirmSource("private_network"), apex.Source)
		require.Equal(t, b.network.ID, apex.Id)
		require.Equal(t, []string{"CA"}, apex.Jurisdictions)
		require.Equal(t, []string{"Personal Injury"}, apex.CaseTypes)
		require.Equal(t, "General apex instructions", *apex.ReferralInstructions, "no relationship instructions: the firm's own")

		beacon := byName["Beacon Both Law"]
		require.Equal(t, api.AvailableFirmSource("both"), beacon.Source)
		require.Equal(t, "Relationship instructions for beacon", *beacon.ReferralInstructions)
		require.ElementsMatch(t, []string{"Personal Injury", "Medical Malpractice"}, beacon.CaseTypes)

		require.Equal(t, api.AvailableFirmSource("public_directory"), byName["Cobalt Directory Group"].Source)
		require.Equal(t, "General cobalt instructions", *byName["Cobalt Directory Group"].ReferralInstructions)
		// A pending relationship does not put a firm in the network.
		require.Equal(t, api.AvailableFirmSource("public_directory"), byName["Delta Pending Partners"].Source)
	})

	t.Run("source filter keeps one side, both included", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Equal(t, []string{"Apex Network Partners", "Beacon Both Law"}, names(list(t, b, "source", "network")))
		require.Equal(t, []string{"Beacon Both Law", "Cobalt Directory Group", "Delta Pending Partners"}, names(list(t, b, "source", "directory")))
	})

	t.Run("search, jurisdiction and case type filter", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Equal(t, []string{"Beacon Both Law"}, names(list(t, b, "search", "BOTH")))
		require.Equal(t, []string{"Apex Network Partners", "Delta Pending Partners"}, names(list(t, b, "search", "partners")))
		require.Empty(t, names(list(t, b, "search", "%")))
		require.Equal(t, []string{"Apex Network Partners", "Beacon Both Law"}, names(list(t, b, "jurisdiction", "ca")))
		require.Equal(t, []string{"Beacon Both Law", "Cobalt Directory Group"}, names(list(t, b, "caseType", "Medical Malpractice")))
		require.Equal(t, []string{"Beacon Both Law", "Cobalt Directory Group"}, names(list(t, b, "caseType", refdata.MedicalMalpracticeID.String())))
		require.Equal(t, []string{"Beacon Both Law"}, names(list(t, b, "caseType", "medical_malpractice", "jurisdiction", "CA")))
		require.Equal(t, []string{"Apex Network Partners"}, names(list(t, b, "source", "network", "jurisdiction", "CA", "caseType", "personal_injury", "search", "apex")))
		// Unknown values match nothing, as in the directory.
		require.Empty(t, list(t, b, "caseType", "no such type").Data)
		require.Empty(t, list(t, b, "jurisdiction", "ZZ").Data)
	})

	t.Run("paginates the merged list", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p1 := list(t, b, "limit", "3")
		require.Equal(t, []string{"Apex Network Partners", "Beacon Both Law", "Cobalt Directory Group"}, names(p1))
		require.NotNil(t, p1.Pagination.NextCursor, "a page with more after it carries a cursor")
		p1.Pagination.NextCursor = nil
		require.Equal(t, api.Pagination{Page: 1, Limit: 3, Total: 4, TotalPages: 2}, p1.Pagination)
		p2 := list(t, b, "limit", "3", "page", "2")
		require.Equal(t, []string{"Delta Pending Partners"}, names(p2))
		require.Equal(t, 4, p2.Pagination.Total)
		p3 := list(t, b, "limit", "3", "page", "3")
		require.Empty(t, p3.Data)
		require.Equal(t, api.Pagination{Page: 3, Limit: 3, Total: 4, TotalPages: 2}, p3.Pagination)
	})

	t.Run("bad parameters are rejected", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, q := range [][]string{{"source", "everything"}, {"limit", "101"}, {"limit", "0"}, {"page", "0"}} {
			r := b.h.Do("GET", "/api/public/v1/firms/available", apitest.APIKey(b.key), apitest.Query(q...))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, "%v: %s", q, r.Body)
			require.Equal(t, "validation_error", r.ErrorCode())
		}
	})
}
