package tabular

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Workbook builds an .xlsx workbook sheet by sheet. Each sheet is filled through excelize's
// stream writer (rows go to a temporary file, not memory); one sheet is open at a time.
type Workbook struct {
	f                        *excelize.File
	bold, month, date, money int
	sheets                   int
	open                     *Sheet
}

// SheetOptions lay out a sheet. The zero value is a plain table under a plain header row.
type SheetOptions struct {
	Widths       []float64 // column widths, from column A
	BoldHeader   bool
	FreezeHeader bool // keep the header row in view when scrolling
	Filter       bool // an autofilter over the table
}

// Sheet is one worksheet being written.
type Sheet struct {
	b      *Workbook
	name   string
	sw     *excelize.StreamWriter
	next   int // next row number
	cols   int
	filter bool
}

// NewWorkbook returns an empty workbook; Close releases it.
func NewWorkbook() (*Workbook, error) {
	f := excelize.NewFile()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		f.Close()
		return nil, err
	}
	monthFmt := "yyyy-mm"
	month, err := f.NewStyle(&excelize.Style{CustomNumFmt: &monthFmt})
	if err != nil {
		f.Close()
		return nil, err
	}
	dateFmt := "yyyy-mm-dd"
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		f.Close()
		return nil, err
	}
	// Built-in number format 2 is "0.00": no thousands separator, so the shown text of a money
	// cell is the API's decimal string.
	money, err := f.NewStyle(&excelize.Style{NumFmt: 2})
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Workbook{f: f, bold: bold, month: month, date: date, money: money}, nil
}

// AddSheet finishes the open sheet, if any, and starts sheet name with its header row.
func (b *Workbook) AddSheet(name string, header []string, o SheetOptions) (*Sheet, error) {
	if err := b.finish(); err != nil {
		return nil, err
	}
	if b.sheets == 0 {
		if name != "Sheet1" {
			if err := b.f.SetSheetName("Sheet1", name); err != nil {
				return nil, err
			}
		}
	} else if _, err := b.f.NewSheet(name); err != nil {
		return nil, err
	}
	b.sheets++
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return nil, err
	}
	// Set last to first: the writer lists columns in the reverse order of the calls, and
	// spreadsheet programs expect them ascending.
	for col := len(o.Widths); col >= 1; col-- {
		if err := sw.SetColWidth(col, col, o.Widths[col-1]); err != nil {
			return nil, err
		}
	}
	if o.FreezeHeader {
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return nil, err
		}
	}
	s := &Sheet{b: b, name: name, sw: sw, next: 1, cols: len(header), filter: o.Filter}
	b.open = s
	values := make([]any, len(header))
	for i, h := range header {
		values[i] = Neutralize(h)
		if o.BoldHeader {
			values[i] = excelize.Cell{StyleID: b.bold, Value: values[i]}
		}
	}
	if err := s.write(values); err != nil {
		return nil, err
	}
	return s, nil
}

// Row writes one row: text neutralized, numbers and booleans as values, months as dates shown
// as yyyy-mm, dates shown as yyyy-mm-dd, money as numbers shown with two decimals, empty cells
// as nothing.
func (s *Sheet) Row(cells []Cell) error {
	values := make([]any, len(cells))
	for i, c := range cells {
		switch c.kind {
		case kindText:
			values[i] = Neutralize(c.text)
		case kindNumber:
			values[i] = c.num
		case kindInt:
			values[i] = c.n
		case kindBool:
			values[i] = c.flag
		case kindMonth:
			values[i] = excelize.Cell{StyleID: s.b.month, Value: c.at}
		case kindDate:
			values[i] = excelize.Cell{StyleID: s.b.date, Value: c.at}
		case kindCents:
			values[i] = excelize.Cell{StyleID: s.b.money, Value: float64(c.n) / 100}
		}
	}
	return s.write(values)
}

func (s *Sheet) write(values []any) error {
	cell, err := excelize.CoordinatesToCellName(1, s.next)
	if err != nil {
		return err
	}
	s.next++
	return s.sw.SetRow(cell, values)
}

// finish flushes the open sheet.
func (b *Workbook) finish() error {
	s := b.open
	if s == nil {
		return nil
	}
	b.open = nil
	if s.filter && s.cols > 0 {
		last, _ := excelize.CoordinatesToCellName(s.cols, s.next-1)
		// The filter is part of the sheet's XML, which the stream writer assembles at Flush.
		if err := b.f.AutoFilter(s.name, "A1:"+last, nil); err != nil {
			return fmt.Errorf("sheet %s: %w", s.name, err)
		}
	}
	return s.sw.Flush()
}

// Write finishes the open sheet and writes the workbook to w, the first sheet active. With
// deterministic, equal data gives byte-identical files (the entries are held in memory and
// written sorted; use it for small workbooks).
func (b *Workbook) Write(w io.Writer, deterministic bool) error {
	if err := b.finish(); err != nil {
		return err
	}
	b.f.SetActiveSheet(0)
	if deterministic {
		b.f.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return &sortedZip{out: w} })
	}
	return b.f.Write(w)
}

// Close releases the workbook's temporary files.
func (b *Workbook) Close() error { return b.f.Close() }

// sortedZip is the zip writer of a deterministic Write. excelize writes streamed worksheets in
// map order, so the same data could give workbooks whose entries differ in order; sortedZip
// holds the entries and writes them sorted by name on Close. "[Content_Types].xml" sorts first,
// where spreadsheet programs look for it.
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
	return fmt.Errorf("tabular: sortedZip does not add file systems")
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
