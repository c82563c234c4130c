package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/casexchange/server/internal/fees"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/tabular"
)

// The fee ledger's reads beyond one page: the cursor walk, the CSV and XLSX export (checked cell
// by cell against the JSON list) and the fee analytics (checked against sums made by hand), from
// both firms' sides.

// feeDeal makes a referral from the firm of fromKey to firm to (whose key toKey acknowledges and
// investigates it), with terms accepted by the receiving firm when shares are given (referring
// and receiving percentages), closed won with fees by the receiving firm's full key toFull. It
// returns the ledger entry's id as the referring firm sees it.
func (f *feeBundle) deal(t *testing.T, fromKey string, to *apitest.Firm, toKey, toFull string, shares []float64, fee float64) string {
	t.Helper()
	caseID := newCase(t, f.h, fromKey, &to.ID, map[string]any{"jurisdiction": "WA"})
	receivedAction(t, f.h, toKey, caseID, "acknowledge", nil)
	receivedAction(t, f.h, toKey, caseID, "begin-investigating", nil)
	ref := caseID.String()
	if shares != nil {
		f.propose(t, fromKey, ref, map[string]any{"basis": "proportional", "referringFirmPercentage": shares[0],
			"receivingFirmPercentage": shares[1], "clientContingencyPercentage": 33.33}, http.StatusOK)
		f.accept(t, toKey, ref, "1", http.StatusOK)
	}
	r := f.h.Do("POST", apitest.Path(feeBase+"/referrals", ref, "close"), apitest.APIKey(toFull),
		apitest.JSON(map[string]any{"closingStatus": "won_settled", "attorneyFees": fee}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var id string
	require.NoError(t, f.h.Pool.QueryRow(t.Context(), `SELECT e.id::text FROM fee_ledger_entries e JOIN referrals r ON r.id = e.referral_id
		WHERE r.base_case_id = $1`, caseID).Scan(&id))
	return id
}

func (f *feeBundle) pay(t *testing.T, key, entry, amount, paidOn string) {
	t.Helper()
	r := f.h.Do("POST", apitest.Path(feeBase+"/fees/ledger", entry, "payments"), apitest.APIKey(key),
		apitest.JSON(map[string]any{"amount": amount, "paidOn": paidOn, "method": "wire", "reference": "W-" + amount}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
}

// ledgerJSON returns the data of one ledger list request as generic JSON objects.
func ledgerJSON(t *testing.T, h *apitest.Harness, key string, query ...string) ([]map[string]any, map[string]any) {
	t.Helper()
	r := h.Do("GET", feeBase+"/fees/ledger", apitest.APIKey(key), apitest.Query(query...))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var out struct {
		Data       []map[string]any `json:"data"`
		Pagination map[string]any   `json:"pagination"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &out))
	return out.Data, out.Pagination
}

// exportFile downloads the ledger export and checks the headers of a file download.
func exportFile(t *testing.T, h *apitest.Harness, key, format string, query ...string) []byte {
	t.Helper()
	r := h.Do("GET", feeBase+"/fees/ledger/export", apitest.APIKey(key), apitest.Query(append([]string{"format", format}, query...)...))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	require.Equal(t, "false", r.Header.Get("X-Export-Truncated"))
	require.Contains(t, r.Header.Get("Content-Disposition"), `attachment; filename="fee-ledger-`)
	require.Contains(t, r.Header.Get("Content-Disposition"), "."+format+`"`)
	if format == "csv" {
		require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv"), r.Header.Get("Content-Type"))
	} else {
		require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
	}
	return r.Body
}

var (
	feeMoneyColumns = map[string]bool{"attorneyFees": true, "amountDue": true, "amountPaid": true, "amountOutstanding": true}
	feeDateColumns  = map[string]bool{"closedOn": true, "dueDate": true, "lastPaidOn": true}
	feeTimeColumns  = map[string]bool{"createdAt": true, "updatedAt": true}
)

// wantCell is the text a cell of column col must show for the JSON entry e: the JSON value,
// text neutralised as the writers do, amounts and days as the JSON spells them.
func wantCell(t *testing.T, e map[string]any, col string) string {
	t.Helper()
	payments, _ := e["payments"].([]any)
	switch col {
	case "paymentCount":
		return strconv.Itoa(len(payments))
	case "lastPaidOn":
		last := ""
		for _, p := range payments {
			last = max(last, p.(map[string]any)["paidOn"].(string))
		}
		return last
	}
	v, ok := e[col]
	require.True(t, ok, "the JSON entry has no field %s", col)
	if v == nil {
		return ""
	}
	s, ok := v.(string)
	require.True(t, ok, "%s is %T", col, v)
	if feeMoneyColumns[col] || feeDateColumns[col] || feeTimeColumns[col] {
		return s
	}
	return tabular.Neutralize(s)
}

// requireRowsMatch compares the rows of a file (header first) with the JSON entries, cell by cell.
func requireRowsMatch(t *testing.T, format string, rows [][]string, entries []map[string]any) {
	t.Helper()
	require.Equal(t, fees.ExportColumns, rows[0], "%s header", format)
	require.Len(t, rows[1:], len(entries), "%s rows", format)
	for i, e := range entries {
		row := rows[i+1]
		for len(row) < len(fees.ExportColumns) {
			row = append(row, "") // XLSX rows end at their last non-empty cell
		}
		for j, col := range fees.ExportColumns {
			want := wantCell(t, e, col)
			if feeTimeColumns[col] {
				wt, err := time.Parse(time.RFC3339Nano, want)
				require.NoError(t, err)
				gt, err := time.Parse(time.RFC3339Nano, row[j])
				require.NoError(t, err, "%s row %d %s", format, i+1, col)
				require.True(t, wt.Equal(gt), "%s row %d %s: %s, JSON %s", format, i+1, col, row[j], want)
				continue
			}
			require.Equal(t, want, row[j], "%s row %d column %s", format, i+1, col)
		}
	}
}

func parseCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	require.True(t, bytes.Contains(b, []byte("\r\n")), "CRLF line ends")
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	require.NoError(t, err)
	return rows
}

// parseXLSX returns the sheet's cells as shown, and checks that the money cells are numbers
// whose value is the amount to the cent and that no cell is a formula.
func parseXLSX(t *testing.T, b []byte, entries []map[string]any) [][]string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	require.NoError(t, err)
	defer x.Close()
	rows, err := x.GetRows("Sheet1")
	require.NoError(t, err)
	for i, e := range entries {
		for j, col := range fees.ExportColumns {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+2)
			formula, err := x.GetCellFormula("Sheet1", cell)
			require.NoError(t, err)
			require.Empty(t, formula, cell)
			if !feeMoneyColumns[col] || e[col] == nil {
				continue
			}
			typ, err := x.GetCellType("Sheet1", cell)
			require.NoError(t, err)
			require.NotEqual(t, excelize.CellTypeSharedString, typ, "%s (%s) is a number cell", cell, col)
			require.NotEqual(t, excelize.CellTypeInlineString, typ, "%s (%s) is a number cell", cell, col)
			raw, err := x.GetCellValue("Sheet1", cell, excelize.Options{RawCellValue: true})
			require.NoError(t, err)
			v, err := strconv.ParseFloat(raw, 64)
			require.NoError(t, err, "%s raw %q", cell, raw)
			cents, err := fees.ParseAmount(e[col].(string))
			require.NoError(t, err)
			require.Equal(t, cents, int64(math.Round(v*100)), "%s (%s): %s", cell, col, raw)
			require.Equal(t, fees.FormatCents(cents), strconv.FormatFloat(v, 'f', 2, 64))
		}
	}
	return rows
}

func TestFeeLedgerExport(t *testing.T) {
	t.Parallel()
	f := feeSetup(t, false)
	h := f.h
	// A partner whose name a spreadsheet would read as a formula.
	d := h.NewFirm(apitest.FirmOpts{Name: "@Risky Partners LLP"})
	dStd, dFull := h.Key(d, apitest.Standard), h.Key(d, apitest.Full)
	connectFirms(t, h, f.a, d)
	aRO := h.Key(f.a, apitest.ReadOnly)

	// A is owed: 33,330.02 by B, partly paid; 500.01 by B, disputed with a formula as reason;
	// an entry of B's waiting for an agreement; 625.03 by D, paid in full.
	e1 := f.deal(t, f.aStd, f.b, f.bStd, f.bFull, []float64{33.33, 66.67}, 100000.05)
	f.pay(t, f.bStd, e1, "10000.00", today())
	e2 := f.deal(t, f.aStd, f.b, f.bStd, f.bFull, []float64{50, 50}, 1000.01)
	r := h.Do("POST", apitest.Path(feeBase+"/fees/ledger", e2, "dispute"), apitest.APIKey(f.bStd),
		apitest.JSON(map[string]any{"reason": `=HYPERLINK("https://evil.example","check")`}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	f.deal(t, f.aStd, f.b, f.bStd, f.bFull, nil, 9000)
	e4 := f.deal(t, f.aStd, d, dStd, dFull, []float64{25, 75}, 2500.10)
	f.pay(t, dStd, e4, "600.00", today())
	f.pay(t, dStd, e4, "25.03", today())

	entries, pag := ledgerJSON(t, h, aRO, "limit", "100")
	require.Len(t, entries, 4)
	require.EqualValues(t, 4, pag["total"])
	byID := map[string]map[string]any{}
	for _, e := range entries {
		byID[e["id"].(string)] = e
	}
	require.Equal(t, "33330.02", byID[e1]["amountDue"])
	require.Equal(t, "23330.02", byID[e1]["amountOutstanding"])
	require.Equal(t, "500.01", byID[e2]["amountDue"])
	require.Equal(t, "625.03", byID[e4]["amountDue"], "2,500.10 at 25 %: 625.025, the tied half cent to the referring firm")
	require.Equal(t, "paid", byID[e4]["status"])
	require.Equal(t, "needs_agreement", entries[3]["status"], "entries without a due date come last")

	t.Run("CSV and XLSX match the JSON list cell by cell, to the cent", func(t *testing.T) {
		t.Parallel()
		csvRows := parseCSV(t, exportFile(t, h, aRO, "csv"))
		requireRowsMatch(t, "csv", csvRows, entries)
		xlsxRows := parseXLSX(t, exportFile(t, h, aRO, "xlsx"), entries)
		requireRowsMatch(t, "xlsx", xlsxRows, entries)

		col := slices.Index(fees.ExportColumns, "disputeReason")
		row := slices.IndexFunc(entries, func(e map[string]any) bool { return e["id"] == e2 })
		require.Equal(t, `'=HYPERLINK("https://evil.example","check")`, csvRows[row+1][col])
		require.Equal(t, `'=HYPERLINK("https://evil.example","check")`, xlsxRows[row+1][col])
		col = slices.Index(fees.ExportColumns, "receivingFirmName")
		row = slices.IndexFunc(entries, func(e map[string]any) bool { return e["id"] == e4 })
		require.Equal(t, "'@Risky Partners LLP", csvRows[row+1][col])
		require.Equal(t, "2", csvRows[row+1][slices.Index(fees.ExportColumns, "paymentCount")])
	})

	t.Run("the other side and the filters export what the list shows", func(t *testing.T) {
		t.Parallel()
		for _, q := range [][]string{
			{"direction", "i_owe"},
			{"direction", "i_owe", "status", "disputed"},
			{"direction", "i_owe", "partnerFirmId", f.a.ID.String(), "aging", "current"},
			{"direction", "i_owe", "dueFrom", time.Now().UTC().Format(time.DateOnly)},
		} {
			want, _ := ledgerJSON(t, h, f.bRO, append([]string{"limit", "100"}, q...)...)
			requireRowsMatch(t, "csv", parseCSV(t, exportFile(t, h, f.bRO, "csv", q...)), want)
			requireRowsMatch(t, "xlsx", parseXLSX(t, exportFile(t, h, f.bRO, "xlsx", q...), want), want)
		}
		want, _ := ledgerJSON(t, h, f.aStd, "partnerFirmId", d.ID.String())
		require.Len(t, want, 1)
		requireRowsMatch(t, "csv", parseCSV(t, exportFile(t, h, f.aStd, "csv", "partnerFirmId", d.ID.String())), want)
	})

	t.Run("a stranger's export holds nothing of theirs; bad filters name the parameter", func(t *testing.T) {
		t.Parallel()
		for _, dir := range []string{"owed_to_me", "i_owe"} {
			rows := parseCSV(t, exportFile(t, h, f.cStd, "csv", "direction", dir))
			require.Len(t, rows, 1, "only the header")
		}
		r := h.Do("GET", feeBase+"/fees/ledger/export", apitest.APIKey(aRO), apitest.Query("dueFrom", "2026-03-02", "dueTo", "2026-03-01"))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		require.Contains(t, errorFields(t, r), "query.dueTo")
		r = h.Do("GET", feeBase+"/fees/ledger/export", apitest.APIKey(aRO), apitest.Query("format", "pdf"))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		r = h.Do("GET", feeBase+"/fees/ledger/export")
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	})
}

func TestFeeLedgerCursor(t *testing.T) {
	t.Parallel()
	f := feeSetup(t, false)
	h := f.h
	// Nine entries owed to A: seven with due dates spread over the past (by moving them, as time
	// would), two waiting for an agreement.
	var ids []string
	for i := 0; i < 7; i++ {
		ids = append(ids, f.deal(t, f.aStd, f.b, f.bStd, f.bFull, []float64{40, 60}, float64(1000+i)))
	}
	for i := 0; i < 2; i++ {
		ids = append(ids, f.deal(t, f.aStd, f.b, f.bStd, f.bFull, nil, 500))
	}
	for i, days := range []int{70, 45, 45, 10, 100, 0, 3} {
		_, err := h.Pool.Exec(t.Context(), `UPDATE fee_ledger_entries SET due_date = (now() AT TIME ZONE 'UTC')::date - $2::int WHERE id = $1`, ids[i], days)
		require.NoError(t, err)
	}

	all, pag := ledgerJSON(t, h, f.aStd, "limit", "100")
	require.Len(t, all, 9)
	require.EqualValues(t, 9, pag["total"])
	require.Nil(t, pag["nextCursor"])
	var order []string
	for _, e := range all {
		order = append(order, e["id"].(string))
	}
	for i := 1; i < 7; i++ {
		require.LessOrEqual(t, all[i-1]["dueDate"].(string), all[i]["dueDate"].(string), "by due date")
	}
	require.Nil(t, all[7]["dueDate"])
	require.Nil(t, all[8]["dueDate"])

	// walk follows nextCursor from the first page of query and returns the ids seen and the
	// pages' numbers.
	walk := func(key string, query ...string) ([]string, []float64) {
		var seen []string
		var pages []float64
		cursor := ""
		for n := 0; n < 20; n++ {
			q := append([]string{"limit", "2"}, query...)
			if cursor != "" {
				q = append(q, "cursor", cursor)
			}
			data, pag := ledgerJSON(t, h, key, q...)
			pages = append(pages, pag["page"].(float64))
			require.EqualValues(t, pag["total"], len(all), "the total on every page")
			for _, e := range data {
				seen = append(seen, e["id"].(string))
			}
			next, _ := pag["nextCursor"].(string)
			if next == "" {
				return seen, pages
			}
			cursor = next
		}
		t.Fatal("the walk does not end")
		return nil, nil
	}

	t.Run("a walk by cursor returns every entry once, in the list's order, past the entries without a due date", func(t *testing.T) {
		t.Parallel()
		seen, pages := walk(f.aStd)
		require.Equal(t, order, seen)
		require.Equal(t, []float64{1, 2, 3, 4, 5}, pages)
		// The same pages by number.
		for p := 1; p <= 5; p++ {
			data, _ := ledgerJSON(t, h, f.aStd, "limit", "2", "page", strconv.Itoa(p))
			for i, e := range data {
				require.Equal(t, order[(p-1)*2+i], e["id"])
			}
		}
	})

	t.Run("filters and totals: counters, or the index range of the filter", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			query []string
			n     int
		}{
			{[]string{"status", "due"}, 7},
			{[]string{"status", "needs_agreement"}, 2},
			{[]string{"partnerFirmId", f.b.ID.String()}, 9},
			{[]string{"partnerFirmId", f.c.ID.String()}, 0},
			{[]string{"aging", "31_60"}, 2},
			{[]string{"aging", "61_90"}, 1},
			{[]string{"aging", "over_90"}, 1},
			{[]string{"aging", "current"}, 1},
			{[]string{"dueFrom", time.Now().UTC().AddDate(0, 0, -45).Format(time.DateOnly)}, 5},
			{[]string{"dueTo", time.Now().UTC().AddDate(0, 0, -45).Format(time.DateOnly)}, 4},
			{[]string{"partnerFirmId", f.b.ID.String(), "status", "due", "dueTo", time.Now().UTC().AddDate(0, 0, -45).Format(time.DateOnly)}, 4},
		} {
			data, pag := ledgerJSON(t, h, f.aStd, append([]string{"limit", "100"}, c.query...)...)
			require.Len(t, data, c.n, "%v", c.query)
			require.EqualValues(t, c.n, pag["total"], "%v", c.query)
		}
		// A filtered walk by cursor.
		data, _ := ledgerJSON(t, h, f.aStd, "limit", "100", "status", "due")
		var want []string
		for _, e := range data {
			want = append(want, e["id"].(string))
		}
		var seen []string
		cursor := ""
		for {
			q := []string{"limit", "3", "status", "due"}
			if cursor != "" {
				q = append(q, "cursor", cursor)
			}
			page, pag := ledgerJSON(t, h, f.aStd, q...)
			for _, e := range page {
				seen = append(seen, e["id"].(string))
			}
			next, _ := pag["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		require.Equal(t, want, seen)
		// From B's side, the same nine entries.
		data, pag := ledgerJSON(t, h, f.bRO, "direction", "i_owe", "limit", "100")
		require.Len(t, data, 9)
		require.EqualValues(t, 9, pag["total"])
	})

	t.Run("a cursor is refused with other filters, another limit, or when it is not one", func(t *testing.T) {
		t.Parallel()
		_, pag := ledgerJSON(t, h, f.aStd, "limit", "2")
		cursor := pag["nextCursor"].(string)
		for _, q := range [][]string{
			{"limit", "2", "status", "due", "cursor", cursor},
			{"limit", "3", "cursor", cursor},
			{"limit", "2", "direction", "i_owe", "cursor", cursor},
			{"limit", "2", "cursor", "not-a-cursor"},
			{"limit", "2", "cursor", cursor[:len(cursor)-4]},
		} {
			r := h.Do("GET", feeBase+"/fees/ledger", apitest.APIKey(f.aStd), apitest.Query(q...))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, "%v: %s", q, r.Body)
			require.Contains(t, errorFields(t, r), "query.cursor", "%v", q)
		}
		// The stranger's cursor walk of the same shape sees only its own (empty) list.
		data, pag := ledgerJSON(t, h, f.cStd, "limit", "2")
		require.Empty(t, data)
		require.Nil(t, pag["nextCursor"])
		require.EqualValues(t, 0, pag["total"])
	})
}

// requireFeeCounters compares the ledger counters with count(*) of the entries.
func requireFeeCounters(t *testing.T, h *apitest.Harness) {
	t.Helper()
	var bad int
	require.NoError(t, h.Pool.QueryRow(t.Context(), `
		WITH want AS (
			SELECT referring_firm_id AS f, 'fee_owed_to_me' AS l, status AS s, count(*) AS n FROM fee_ledger_entries GROUP BY 1, 2, 3
			UNION ALL
			SELECT receiving_firm_id, 'fee_i_owe', status, count(*) FROM fee_ledger_entries GROUP BY 1, 2, 3
		), have AS (
			SELECT firm_id AS f, list AS l, status AS s, sum(n) AS n FROM list_counts
			WHERE list LIKE 'fee_%' GROUP BY 1, 2, 3 HAVING sum(n) <> 0
		)
		SELECT count(*) FROM (SELECT * FROM want EXCEPT SELECT * FROM have UNION ALL SELECT * FROM have EXCEPT SELECT * FROM want) d`).Scan(&bad))
	require.Zero(t, bad, "list_counts differ from count(*) of the entries")
}

func TestFeeLedgerCounters(t *testing.T) {
	t.Parallel()
	f := feeSetup(t, false)
	h := f.h
	total := func(key string, query ...string) float64 {
		_, pag := ledgerJSON(t, h, key, query...)
		return pag["total"].(float64)
	}
	e1 := f.deal(t, f.aStd, f.b, f.bStd, f.bFull, []float64{50, 50}, 1000)
	e2 := f.deal(t, f.aStd, f.b, f.bStd, f.bFull, []float64{50, 50}, 2000)
	e3 := f.deal(t, f.aStd, f.b, f.bStd, f.bFull, nil, 3000)
	requireFeeCounters(t, h)
	require.EqualValues(t, 3, total(f.aStd))
	require.EqualValues(t, 2, total(f.bStd, "direction", "i_owe", "status", "due"))

	// Status changes move an entry between counters: paid, disputed, then written off.
	f.pay(t, f.bStd, e1, "500.00", today())
	r := h.Do("POST", apitest.Path(feeBase+"/fees/ledger", e2, "dispute"), apitest.APIKey(f.bStd), apitest.JSON(map[string]any{"reason": "late"}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	requireFeeCounters(t, h)
	require.EqualValues(t, 1, total(f.aStd, "status", "paid"))
	require.EqualValues(t, 1, total(f.aStd, "status", "disputed"))
	require.EqualValues(t, 0, total(f.aStd, "status", "due"))
	r = h.Do("POST", apitest.Path(feeBase+"/fees/ledger", e2, "write-off"), apitest.APIKey(f.bFull), apitest.JSON(map[string]any{}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	// An agreement accepted after closing makes the waiting entry due.
	f.propose(t, f.aStd, entryReferral(t, h, e3), map[string]any{"basis": "proportional", "referringFirmPercentage": 10,
		"receivingFirmPercentage": 90, "clientContingencyPercentage": 30}, http.StatusOK)
	f.accept(t, f.bStd, entryReferral(t, h, e3), "1", http.StatusOK)
	requireFeeCounters(t, h)
	require.EqualValues(t, 1, total(f.bStd, "direction", "i_owe", "status", "due"))
	require.EqualValues(t, 0, total(f.bStd, "direction", "i_owe", "status", "needs_agreement"))

	// A deleted entry (its referral deleted) leaves the counters.
	_, err := h.Pool.Exec(t.Context(), `DELETE FROM fee_ledger_entries WHERE id = $1`, e1)
	require.NoError(t, err)
	requireFeeCounters(t, h)
	require.EqualValues(t, 2, total(f.aStd))
	require.EqualValues(t, 2, total(f.bStd, "direction", "i_owe"))
}

// entryReferral is the referral id of a ledger entry.
func entryReferral(t *testing.T, h *apitest.Harness, entry string) string {
	t.Helper()
	var ref string
	require.NoError(t, h.Pool.QueryRow(t.Context(), `SELECT referral_id::text FROM fee_ledger_entries WHERE id = $1`, entry).Scan(&ref))
	return ref
}

func TestFeeAnalytics(t *testing.T) {
	t.Parallel()
	f := feeSetup(t, false)
	h := f.h
	d := h.NewFirm(apitest.FirmOpts{Name: "Ridgeway Co-Counsel"})
	dStd, dFull := h.Key(d, apitest.Standard), h.Key(d, apitest.Full)
	connectFirms(t, h, f.a, d)
	connectFirms(t, h, f.b, f.a)
	connectFirms(t, h, f.c, d)
	aFullKey := f.aFull
	cFull := h.Key(f.c, apitest.Full)

	now := time.Now().UTC()
	m0 := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	m1, m2 := m0.AddDate(0, -1, 0), m0.AddDate(0, -2, 0)
	ymd := func(t time.Time) string { return t.Format(time.DateOnly) }
	day2, day1 := ymd(m2.AddDate(0, 0, 3)), ymd(m1.AddDate(0, 0, 14))
	old := ymd(m0.AddDate(0, -14, 5)) // before the default range (the last twelve months)

	// A refers to B: 33,330.02 due, B pays 10,000.00 two months ago and 12,345.67 last month.
	e1 := f.deal(t, f.aStd, f.b, f.bStd, f.bFull, []float64{33.33, 66.67}, 100000.05)
	f.pay(t, f.bStd, e1, "10000.00", day2)
	f.pay(t, f.bStd, e1, "12345.67", day1)
	// B refers to A: 625.03 due (2,500.10 at 25 %), A pays it today.
	e2 := f.deal(t, f.bStd, f.a, f.aStd, aFullKey, []float64{25, 75}, 2500.10)
	f.pay(t, f.aStd, e2, "625.03", today())
	// A refers to D: 500.01 due, D pays 0.01 last month and 500.00 today.
	e3 := f.deal(t, f.aStd, d, dStd, dFull, []float64{50, 50}, 1000.01)
	f.pay(t, dStd, e3, "0.01", day1)
	f.pay(t, dStd, e3, "500.00", today())
	// A refers to B: 2,000.00 due, paid fourteen months ago.
	e4 := f.deal(t, f.aStd, f.b, f.bStd, f.bFull, []float64{40, 60}, 5000)
	f.pay(t, f.bStd, e4, "2000.00", old)
	// C and D, strangers to A: D pays C 77.77 today.
	e5 := f.deal(t, cFull, d, dStd, dFull, []float64{10, 90}, 777.70)
	f.pay(t, dStd, e5, "77.77", today())

	get := func(key string, query ...string) map[string]any {
		t.Helper()
		r := h.Do("GET", feeBase+"/analytics/fees", apitest.APIKey(key), apitest.Query(query...))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		return r.Map()["data"].(map[string]any)
	}
	flow := func(rec, paid, net string, nr, np int) map[string]any {
		return map[string]any{"received": rec, "paid": paid, "net": net, "paymentsReceived": float64(nr), "paymentsMade": float64(np)}
	}
	figures := func(m map[string]any) map[string]any {
		return map[string]any{"received": m["received"], "paid": m["paid"], "net": m["net"], "paymentsReceived": m["paymentsReceived"], "paymentsMade": m["paymentsMade"]}
	}
	month := func(m time.Time, rec, paid, net string, nr, np int) map[string]any {
		out := flow(rec, paid, net, nr, np)
		out["month"], out["periodStart"] = m.Format("2006-01"), ymd(m)
		return out
	}
	aRO := h.Key(f.a, apitest.ReadOnly)

	t.Run("the referring firm's side, the default range: the last twelve months", func(t *testing.T) {
		t.Parallel()
		an := get(aRO)
		require.Equal(t, ymd(m0.AddDate(0, -11, 0)), an["dateFrom"])
		require.Equal(t, ymd(now), an["dateTo"])
		require.Equal(t, "USD", an["currency"])
		// 10,000.00 + 12,345.67 + 0.01 + 500.00 received; 625.03 paid.
		require.Equal(t, flow("22845.68", "625.03", "22220.65", 4, 1), an["totals"])
		months := an["byMonth"].([]any)
		require.Len(t, months, 12)
		for i, m := range months {
			mm := m.(map[string]any)
			start := m0.AddDate(0, i-11, 0)
			require.Equal(t, start.Format("2006-01"), mm["month"])
			switch start {
			case m2:
				require.Equal(t, month(m2, "10000.00", "0.00", "10000.00", 1, 0), mm)
			case m1:
				require.Equal(t, month(m1, "12345.68", "0.00", "12345.68", 2, 0), mm)
			case m0:
				require.Equal(t, month(m0, "500.00", "625.03", "-125.03", 1, 1), mm)
			default:
				require.Equal(t, month(start, "0.00", "0.00", "0.00", 0, 0), mm)
			}
		}
		partners := an["byPartnerFirm"].([]any)
		require.Len(t, partners, 2)
		b, dd := partners[0].(map[string]any), partners[1].(map[string]any)
		require.Equal(t, "Lakeshore Trial Lawyers", b["firmName"])
		require.Equal(t, f.b.ID.String(), b["firmId"])
		require.Equal(t, flow("22345.67", "625.03", "21720.64", 2, 1), figures(b))
		require.Equal(t, []any{
			month(m2, "10000.00", "0.00", "10000.00", 1, 0), month(m1, "12345.67", "0.00", "12345.67", 1, 0),
			month(m0, "0.00", "625.03", "-625.03", 0, 1),
		}, b["months"])
		require.Equal(t, "Ridgeway Co-Counsel", dd["firmName"])
		require.Equal(t, flow("500.01", "0.00", "500.01", 2, 0), figures(dd))
		require.Equal(t, []any{month(m1, "0.01", "0.00", "0.01", 1, 0), month(m0, "500.00", "0.00", "500.00", 1, 0)}, dd["months"])
	})

	t.Run("the receiving firm's side mirrors it; a wider range takes the older payment", func(t *testing.T) {
		t.Parallel()
		an := get(f.bRO)
		require.Equal(t, flow("625.03", "22345.67", "-21720.64", 1, 2), an["totals"])
		partners := an["byPartnerFirm"].([]any)
		require.Len(t, partners, 1)
		require.Equal(t, "Harborview Referral Law", partners[0].(map[string]any)["firmName"])

		from := ymd(m0.AddDate(0, -14, 0))
		an = get(f.bRO, "dateFrom", from, "dateTo", ymd(now))
		require.Equal(t, from, an["dateFrom"])
		require.Len(t, an["byMonth"].([]any), 15)
		require.Equal(t, flow("625.03", "24345.67", "-23720.64", 1, 3), an["totals"])
		an = get(aRO, "dateFrom", from)
		require.Equal(t, flow("24845.68", "625.03", "24220.65", 5, 1), an["totals"])
		// One day: only the payments dated on it.
		an = get(aRO, "dateFrom", day1, "dateTo", day1)
		require.Equal(t, flow("12345.68", "0.00", "12345.68", 2, 0), an["totals"])
		require.Len(t, an["byMonth"].([]any), 1)
	})

	t.Run("each firm sees only the money it received or paid", func(t *testing.T) {
		t.Parallel()
		r := h.Do("GET", feeBase+"/analytics/fees", apitest.APIKey(f.cStd))
		require.Equal(t, http.StatusOK, r.StatusCode)
		for _, leak := range []string{f.a.ID.String(), f.b.ID.String(), "Harborview", "Lakeshore", "22345.67", "625.03"} {
			require.NotContains(t, string(r.Body), leak)
		}
		an := r.Map()["data"].(map[string]any)
		require.Equal(t, flow("77.77", "0.00", "77.77", 1, 0), an["totals"])
		partners := an["byPartnerFirm"].([]any)
		require.Len(t, partners, 1)
		require.Equal(t, d.ID.String(), partners[0].(map[string]any)["firmId"])
		// D paid both A and C.
		an = get(dStd)
		require.Equal(t, flow("0.00", "577.78", "-577.78", 0, 3), an["totals"])
	})

	t.Run("bad ranges name the parameter", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			query []string
			field string
		}{
			{[]string{"dateFrom", "2026-03-02", "dateTo", "2026-03-01"}, "query.dateTo"},
			{[]string{"dateFrom", "2000-01-01", "dateTo", "2026-03-01"}, "query.dateFrom"},
		} {
			r := h.Do("GET", feeBase+"/analytics/fees", apitest.APIKey(aRO), apitest.Query(c.query...))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
			require.Contains(t, errorFields(t, r), c.field)
		}
		r := h.Do("GET", feeBase+"/analytics/fees", apitest.APIKey(aRO), apitest.Query("dateFrom", "yesterday"))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		// 240 months exactly is allowed.
		r = h.Do("GET", feeBase+"/analytics/fees", apitest.APIKey(aRO), apitest.Query("dateFrom", "2007-01-01", "dateTo", "2026-12-31"))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Len(t, r.Map()["data"].(map[string]any)["byMonth"].([]any), 240)
	})
}
