package analytics

import (
	"fmt"
	"io"
	"time"

	"github.com/casexchange/server/internal/tabular"
)

// Export files hold one long table per category: one row per figure.

// ExportHeader is the header row of every export sheet and CSV file.
var ExportHeader = []string{"section", "item", "metric", "value", "unit"}

// Unit is what an exported figure measures, written in the unit column. Each figure's unit is
// stated where its table is laid out (tables.go), never derived from its name.
type Unit string

// Units of the exports.
const (
	UnitCount Unit = "count" // referrals, cases or status stays (also their average per case)
	UnitDays  Unit = "days"  // a duration in fractional days
	UnitHours Unit = "hours" // a duration in fractional hours
	UnitUSD   Unit = "USD"   // money in US dollars
	UnitRatio Unit = "ratio" // a fraction: 0.25 is 25%
)

// ExportRow is one figure. ItemMonth, when set, is the calendar month the row is about and is
// written as a date; otherwise Item is text (possibly empty). Value nil is an empty cell (a
// figure that had nothing to measure).
type ExportRow struct {
	Section   string
	Item      string
	ItemMonth *time.Time
	Metric    string
	Value     *float64
	Integer   bool // Value is a whole count
	Unit      Unit
}

// ExportSheet is one category's table.
type ExportSheet struct {
	Name string
	Rows []ExportRow
}

// WriteWorkbook writes sheets as an .xlsx workbook to w (tabular's writer, which neutralizes
// text against formulas): a bold header row, frozen under the header, with an autofilter over the
// table; values are numbers, months are dates shown as yyyy-mm. Equal data gives byte-identical
// files.
func WriteWorkbook(w io.Writer, sheets []ExportSheet) error {
	b, err := tabular.NewWorkbook()
	if err != nil {
		return err
	}
	defer b.Close()
	opts := tabular.SheetOptions{Widths: []float64{22, 34, 30, 16, 8}, BoldHeader: true, FreezeHeader: true, Filter: true}
	for _, sh := range sheets {
		s, err := b.AddSheet(sh.Name, ExportHeader, opts)
		if err != nil {
			return fmt.Errorf("sheet %s: %w", sh.Name, err)
		}
		for _, r := range sh.Rows {
			if err := s.Row(r.cells()); err != nil {
				return fmt.Errorf("sheet %s: %w", sh.Name, err)
			}
		}
	}
	return b.Write(w, true)
}

// WriteCSV writes one table as UTF-8 CSV with a header row (tabular's writer, which
// neutralizes text against formulas). Months are written YYYY-MM-DD (their first day), numbers
// in plain decimal notation.
func WriteCSV(w io.Writer, rows []ExportRow) error {
	cw := tabular.NewCSV(w, false)
	if err := cw.Row(tabular.Texts(ExportHeader)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Row(r.cells()); err != nil {
			return err
		}
	}
	return cw.Close()
}

// cells lays out r in the columns of ExportHeader.
func (r ExportRow) cells() []tabular.Cell {
	item := tabular.Text(r.Item)
	if r.ItemMonth != nil {
		item = tabular.Month(*r.ItemMonth)
	}
	value := tabular.Empty()
	if r.Value != nil {
		value = tabular.Number(*r.Value)
		if r.Integer {
			value = tabular.Int(int64(*r.Value))
		}
	}
	return []tabular.Cell{tabular.Text(r.Section), item, tabular.Text(r.Metric), value, tabular.Text(string(r.Unit))}
}
