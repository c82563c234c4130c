package httpapi_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/casexchange/server/internal/httpapi/apitest"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestAnalyticsExportGolden pins every analytics export, as CSV and as a workbook, over the
// analytics dataset (fixed clock, three filter sets) to files under testdata/analytics-export.
// CSV files are compared byte for byte; workbooks cell by cell (type, raw value and number
// format of every cell of every sheet), since the zip bytes are not what a reader sees.
// Run with -update to rewrite the files after a deliberate change of the output.
func TestAnalyticsExportGolden(t *testing.T) {
	t.Parallel()
	w := anSetup(t)
	queries := map[string][]string{
		"default": nil,
		"chicago": {"tz", "America/Chicago", "referralStartDate", "2026-01-09", "caseType", "personal_injury", "jurisdiction", "IL"},
		// Nothing matches: every average and rate has nothing to measure and is an empty value.
		"empty": {"jurisdiction", "WY"},
	}
	cats := []string{"dashboard", "cases", "homepage", "received", "sent", "revenue-received", "revenue-sent", "referrals"}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Every export gets a fresh key: the export budget is per key.
			get := func(path string, kv ...string) []byte {
				t.Helper()
				r := w.h.Do("GET", anBase+path, apitest.APIKey(w.h.Key(w.alder, apitest.ReadOnly)), apitest.Query(kv...))
				require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
				return r.Body
			}
			anGolden(t, filepath.Join(name, "all.xlsx.txt"), anDumpWorkbook(t, get("/export", q...)))
			for _, cat := range cats {
				anGolden(t, filepath.Join(name, cat+".csv"), get("/"+cat+"/export", append(q[:len(q):len(q)], "format", "csv")...))
				anGolden(t, filepath.Join(name, cat+".xlsx.txt"), anDumpWorkbook(t, get("/"+cat+"/export", q...)))
			}
		})
	}
}

// anGolden compares got with the golden file name (or rewrites it under -update).
func anGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "analytics-export", name)
	if *updateGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run with -update")
	require.Equal(t, string(want), string(got), "%s differs from the golden file", path)
}

// anDumpWorkbook writes every cell of every sheet of an xlsx as one line: sheet, reference,
// cell type, number format and raw value.
func anDumpWorkbook(t *testing.T, body []byte) []byte {
	t.Helper()
	book, err := excelize.OpenReader(bytes.NewReader(body))
	require.NoError(t, err)
	defer book.Close()
	var out strings.Builder
	for _, sheet := range book.GetSheetList() {
		panes, err := book.GetPanes(sheet)
		require.NoError(t, err)
		fmt.Fprintf(&out, "sheet %s freeze=%v ysplit=%d\n", sheet, panes.Freeze, panes.YSplit)
		rows, err := book.GetRows(sheet, excelize.Options{RawCellValue: true})
		require.NoError(t, err)
		for r, row := range rows {
			for c, raw := range row {
				ref, err := excelize.CoordinatesToCellName(c+1, r+1)
				require.NoError(t, err)
				typ, err := book.GetCellType(sheet, ref)
				require.NoError(t, err)
				style, err := book.GetCellStyle(sheet, ref)
				require.NoError(t, err)
				numFmt := ""
				if style != 0 {
					st, err := book.GetStyle(style)
					require.NoError(t, err)
					numFmt = fmt.Sprintf("%d", st.NumFmt)
					if st.CustomNumFmt != nil {
						numFmt = *st.CustomNumFmt
					}
					if st.Font != nil && st.Font.Bold {
						numFmt += " bold"
					}
				}
				fmt.Fprintf(&out, "%s\t%d\t%s\t%q\n", ref, typ, numFmt, raw)
			}
		}
	}
	return []byte(out.String())
}
