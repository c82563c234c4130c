package tabular_test

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/casexchange/server/internal/tabular"
)

func TestNeutralize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                  "",
		"Bay Legal Group":   "Bay Legal Group",
		"=1+1":              "'=1+1",
		"+1":                "'+1",
		"-5":                "'-5",
		"@SUM(A1)":          "'@SUM(A1)",
		"\t=1":              "'\t=1",
		"\r=1":              "'\r=1",
		" =1":               " =1",
		"a=b":               "a=b",
		"'already quoted":   "'already quoted",
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
	} {
		require.Equal(t, want, tabular.Neutralize(in), "%q", in)
	}
}

func TestWriters(t *testing.T) {
	t.Parallel()
	jan := time.Date(2026, 1, 17, 0, 0, 0, 0, time.UTC)
	tier := 3
	row := []tabular.Cell{tabular.Text("=cmd"), tabular.Number(-2.5), tabular.Int(-7), tabular.Bool(true),
		tabular.Month(jan), tabular.Empty(), tabular.TextPtr(nil), tabular.IntPtr(&tier), tabular.Text("-5")}

	t.Run("CSVNeutralizesTextOnly", func(t *testing.T) {
		t.Parallel()
		b, err := tabular.CSVBytes(tabular.Texts([]string{"h"}), row)
		require.NoError(t, err)
		cr := csv.NewReader(bytes.NewReader(b))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		require.NoError(t, err)
		require.Equal(t, []string{"'=cmd", "-2.5", "-7", "true", "2026-01-01", "", "", "3", "'-5"}, recs[1])
	})

	t.Run("XLSXNeutralizesTextOnly", func(t *testing.T) {
		t.Parallel()
		wb, err := tabular.NewWorkbook()
		require.NoError(t, err)
		defer wb.Close()
		s, err := wb.AddSheet("data", []string{"a", "b"}, tabular.SheetOptions{BoldHeader: true, Filter: true})
		require.NoError(t, err)
		require.NoError(t, s.Row(row))
		var buf bytes.Buffer
		require.NoError(t, wb.Write(&buf, true))
		f, err := excelize.OpenReader(&buf)
		require.NoError(t, err)
		defer f.Close()
		get := func(cell string) string {
			v, err := f.GetCellValue("data", cell, excelize.Options{RawCellValue: true})
			require.NoError(t, err)
			return v
		}
		require.Equal(t, "'=cmd", get("A2"))
		require.Equal(t, "-2.5", get("B2"))
		require.Equal(t, "-7", get("C2"))
		require.Equal(t, "'-5", get("I2"))
		typ, err := f.GetCellType("data", "B2")
		require.NoError(t, err)
		require.NotEqual(t, excelize.CellTypeSharedString, typ)
		require.NotEqual(t, excelize.CellTypeInlineString, typ)
		formula, err := f.GetCellFormula("data", "A2")
		require.NoError(t, err)
		require.Empty(t, formula)
	})
}

func TestMoneyAndDates(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 9, 17, 30, 0, 0, time.UTC)
	// 999,999,999,999.99 is the largest amount the fee API takes; 0.10 and 0.07 have no exact
	// binary fraction.
	amounts := []int64{0, 7, 10, 123450, -1205, 3333002, 99_999_999_999_999}
	want := []string{"0.00", "0.07", "0.10", "1234.50", "-12.05", "33330.02", "999999999999.99"}
	for i, c := range amounts {
		require.Equal(t, want[i], tabular.FormatCents(c))
	}
	row := []tabular.Cell{tabular.Date(day), tabular.DatePtr(nil), tabular.CentsPtr(nil)}
	for _, c := range amounts {
		row = append(row, tabular.Cents(c))
	}

	t.Run("CSV", func(t *testing.T) {
		t.Parallel()
		b, err := tabular.CSVBytes(row)
		require.NoError(t, err)
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		require.NoError(t, err)
		require.Equal(t, append([]string{"2026-03-09", "", ""}, want...), recs[0])
	})

	t.Run("XLSXShowsTheSameTextOverNumberCells", func(t *testing.T) {
		t.Parallel()
		wb, err := tabular.NewWorkbook()
		require.NoError(t, err)
		defer wb.Close()
		s, err := wb.AddSheet("ledger", []string{"h"}, tabular.SheetOptions{})
		require.NoError(t, err)
		require.NoError(t, s.Row(row))
		var buf bytes.Buffer
		require.NoError(t, wb.Write(&buf, false))
		f, err := excelize.OpenReader(&buf)
		require.NoError(t, err)
		defer f.Close()
		cells, err := f.GetRows("ledger")
		require.NoError(t, err)
		require.Equal(t, append([]string{"2026-03-09", "", ""}, want...), cells[1])
		for i := range amounts {
			name, _ := excelize.CoordinatesToCellName(4+i, 2)
			typ, err := f.GetCellType("ledger", name)
			require.NoError(t, err)
			require.NotEqual(t, excelize.CellTypeSharedString, typ, name)
			require.NotEqual(t, excelize.CellTypeInlineString, typ, name)
		}
	})
}
