package analytics_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/casexchange/server/internal/analytics"
)

func TestWriteWorkbook(t *testing.T) {
	t.Parallel()

	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	five, ratio := 5.0, 0.375
	sheets := []analytics.ExportSheet{
		{Name: "sent", Rows: []analytics.ExportRow{
			{Section: "summary", Metric: "totalReferrals", Value: &five, Integer: true, Unit: analytics.UnitCount},
			{Section: "conversion", Metric: "sentToSignedRate", Value: &ratio, Unit: analytics.UnitRatio},
			{Section: "conversion", Metric: "signedToWonRate", Unit: analytics.UnitRatio},
			{Section: "trend", Item: "2026-01-01", ItemMonth: &jan, Metric: "referrals", Value: &five, Integer: true, Unit: analytics.UnitCount},
		}},
		{Name: "revenue-sent", Rows: nil},
	}
	var buf bytes.Buffer
	require.NoError(t, analytics.WriteWorkbook(&buf, sheets))
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	defer f.Close()

	t.Run("has one sheet per table in order", func(t *testing.T) {
		require.Equal(t, []string{"sent", "revenue-sent"}, f.GetSheetList())
	})

	t.Run("starts with a header row even when empty", func(t *testing.T) {
		for _, sh := range []string{"sent", "revenue-sent"} {
			rows, err := f.GetRows(sh)
			require.NoError(t, err)
			require.Equal(t, analytics.ExportHeader, rows[0])
		}
	})

	t.Run("writes numbers as numbers and months as dates", func(t *testing.T) {
		typ, err := f.GetCellType("sent", "D2")
		require.NoError(t, err)
		require.NotEqual(t, excelize.CellTypeSharedString, typ)
		require.NotEqual(t, excelize.CellTypeInlineString, typ)
		raw, err := f.GetCellValue("sent", "D3", excelize.Options{RawCellValue: true})
		require.NoError(t, err)
		require.Equal(t, "0.375", raw)
		empty, err := f.GetCellValue("sent", "D4")
		require.NoError(t, err)
		require.Empty(t, empty)

		raw, err = f.GetCellValue("sent", "B5", excelize.Options{RawCellValue: true})
		require.NoError(t, err)
		require.Equal(t, "46023", raw) // the serial day number of 2026-01-01
		shown, err := f.GetCellValue("sent", "B5")
		require.NoError(t, err)
		require.Equal(t, "2026-01", shown)
	})

	t.Run("freezes the header and filters the table", func(t *testing.T) {
		panes, err := f.GetPanes("sent")
		require.NoError(t, err)
		require.True(t, panes.Freeze)
		require.Equal(t, 1, panes.YSplit)
		xml := sheetXML(t, buf.Bytes(), "xl/worksheets/sheet1.xml")
		require.Contains(t, xml, `<autoFilter ref="$A$1:$E$5"`)
		require.Contains(t, xml, `<cols><col min="1" max="1"`)
		xml = sheetXML(t, buf.Bytes(), "xl/worksheets/sheet2.xml")
		require.Contains(t, xml, `<autoFilter ref="$A$1:$E$1"`)
	})
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()

	feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	amount := 1234.5
	var buf bytes.Buffer
	require.NoError(t, analytics.WriteCSV(&buf, []analytics.ExportRow{
		{Section: "trend", Item: "2026-02-01", ItemMonth: &feb, Metric: "settlementAmount", Value: &amount, Unit: analytics.UnitUSD},
		{Section: "summary", Metric: "averageSettlementAmount", Unit: analytics.UnitUSD},
	}))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Equal(t, [][]string{
		{"section", "item", "metric", "value", "unit"},
		{"trend", "2026-02-01", "settlementAmount", "1234.5", "USD"},
		{"summary", "", "averageSettlementAmount", "", "USD"},
	}, rows)
}

func sheetXML(t *testing.T, book []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	require.NoError(t, err)
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			require.NoError(t, err)
			defer rc.Close()
			b, err := io.ReadAll(rc)
			require.NoError(t, err)
			return string(b)
		}
	}
	t.Fatalf("no %s in the workbook", name)
	return ""
}

func TestWriteWorkbookIsDeterministic(t *testing.T) {
	t.Parallel()

	one := 1.0
	var sheets []analytics.ExportSheet
	for _, name := range []string{"dashboard", "cases", "homepage", "received", "sent", "revenue-received", "revenue-sent", "referrals"} {
		sheets = append(sheets, analytics.ExportSheet{Name: name, Rows: []analytics.ExportRow{
			{Section: "summary", Metric: "total", Value: &one, Integer: true, Unit: analytics.UnitCount},
		}})
	}
	write := func() []byte {
		var buf bytes.Buffer
		require.NoError(t, analytics.WriteWorkbook(&buf, sheets))
		return buf.Bytes()
	}
	first := write()
	names := zipNames(t, first)
	require.Equal(t, "[Content_Types].xml", names[0])
	// Several runs: any order that depended on a map would show.
	for range 10 {
		again := write()
		require.Equal(t, names, zipNames(t, again))
		require.Equal(t, first, again, "the same data gives the same bytes")
	}
	f, err := excelize.OpenReader(bytes.NewReader(first))
	require.NoError(t, err)
	defer f.Close()
	require.Len(t, f.GetSheetList(), len(sheets))
}

func zipNames(t *testing.T, book []byte) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	require.NoError(t, err)
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	return names
}
