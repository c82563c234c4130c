package analytics

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Export files hold one long table per category: one row per figure.

// ExportHeader is the header row of every export sheet and CSV file.
var ExportHeader = []string{"section", "item", "metric", "value", "unit"}

// Units of ExportRow.Unit.
const (
	UnitCount = "count"
	UnitDays  = "days"
	UnitHours = "hours"
	UnitUSD   = "USD"
	UnitRatio = "ratio"
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
	Unit      string
}

// ExportSheet is one category's table.
type ExportSheet struct {
	Name string
	Rows []ExportRow
}

// WriteWorkbook writes sheets as an .xlsx workbook to w, streaming each sheet: a bold header
// row, frozen under the header, with an autofilter over the table; values are numbers, months
// are dates shown as yyyy-mm.
func WriteWorkbook(w io.Writer, sheets []ExportSheet) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	monthFmt := "yyyy-mm"
	month, err := f.NewStyle(&excelize.Style{CustomNumFmt: &monthFmt})
	if err != nil {
		return err
	}
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.Name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(sh.Name); err != nil {
			return err
		}
		if err := writeSheet(f, sh, bold, month); err != nil {
			return fmt.Errorf("sheet %s: %w", sh.Name, err)
		}
	}
	f.SetActiveSheet(0)
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return &sortedZip{out: w} })
	return f.Write(w)
}

// sortedZip is the zip writer of WriteWorkbook. excelize writes streamed worksheets in map
// order, so the same data could give workbooks whose entries differ in order; sortedZip holds
// the entries (the workbook is built in memory anyway) and writes them sorted by name on Close,
// so that equal data gives byte-identical files. "[Content_Types].xml" sorts first, where
// spreadsheet programs look for it.
type sortedZip struct {
	out     io.Writer
	entries []*zipEntry
}

type zipEntry struct {
	name string
	body bytes.Buffer
}

func (z *sortedZip) Create(name string) (io.Writer, error) {
	e := &zipEntry{name: name}
	z.entries = append(z.entries, e)
	return &e.body, nil
}

// AddFS is not used by excelize when writing a workbook.
func (z *sortedZip) AddFS(fs.FS) error {
	return fmt.Errorf("analytics: sortedZip does not add file systems")
}

func (z *sortedZip) Close() error {
	slices.SortStableFunc(z.entries, func(a, b *zipEntry) int { return strings.Compare(a.name, b.name) })
	zw := zip.NewWriter(z.out)
	for _, e := range z.entries {
		w, err := zw.Create(e.name)
		if err != nil {
			return err
		}
		if _, err := w.Write(e.body.Bytes()); err != nil {
			return err
		}
	}
	return zw.Close()
}

func writeSheet(f *excelize.File, sh ExportSheet, bold, month int) error {
	sw, err := f.NewStreamWriter(sh.Name)
	if err != nil {
		return err
	}
	// Set last to first: the writer lists columns in the reverse order of the calls, and
	// spreadsheet programs expect them ascending.
	widths := []float64{22, 34, 30, 16, 8}
	for col := len(widths); col >= 1; col-- {
		if err := sw.SetColWidth(col, col, widths[col-1]); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	header := make([]any, len(ExportHeader))
	for i, h := range ExportHeader {
		header[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for i, r := range sh.Rows {
		var item any = r.Item
		if r.ItemMonth != nil {
			item = excelize.Cell{StyleID: month, Value: *r.ItemMonth}
		}
		var value any // nil: an empty cell
		if r.Value != nil {
			value = *r.Value
			if r.Integer {
				value = int64(*r.Value)
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{r.Section, item, r.Metric, value, r.Unit}); err != nil {
			return err
		}
	}
	last, _ := excelize.CoordinatesToCellName(len(ExportHeader), len(sh.Rows)+1)
	// The filter is part of the sheet's XML, which the stream writer assembles at Flush.
	if err := f.AutoFilter(sh.Name, "A1:"+last, nil); err != nil {
		return err
	}
	return sw.Flush()
}

// WriteCSV writes one table as UTF-8 CSV with a header row. Months are written YYYY-MM-DD (their
// first day), numbers in plain decimal notation.
func WriteCSV(w io.Writer, rows []ExportRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ExportHeader); err != nil {
		return err
	}
	for _, r := range rows {
		item := r.Item
		if r.ItemMonth != nil {
			item = r.ItemMonth.Format(time.DateOnly)
		}
		value := ""
		if r.Value != nil {
			value = strconv.FormatFloat(*r.Value, 'f', -1, 64)
		}
		if err := cw.Write([]string{r.Section, item, r.Metric, value, r.Unit}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
