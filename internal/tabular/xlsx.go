package tabular

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Workbook builds an .xlsx workbook sheet by sheet, one sheet open at a time. Rows are written
// as they come into the compressed package, which is kept in a temporary file (not memory)
// until Write copies it out, so memory stays flat whatever the number of rows.
//
// The package is the minimal SpreadsheetML a spreadsheet program needs: a workbook, a style
// sheet and one worksheet part per sheet, with text as inline strings (no shared-string table
// to hold in memory). Its bytes depend only on the data: entries carry a fixed time.
type Workbook struct {
	tmp    *os.File
	buf    *bufio.Writer
	zw     *zip.Writer
	sheets []*Sheet
	open   *Sheet
	done   bool
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
	w      *bufio.Writer
	next   int // next row number
	cols   int
	filter bool
	num    []byte // scratch for numbers
}

// The cell styles of styles.xml, by index.
const (
	styleBold  = 1
	styleMonth = 2
	styleDate  = 3
	styleMoney = 4
)

// maxCellChars is the most characters a spreadsheet cell holds; longer text is cut there.
const maxCellChars = 32767

// zipTime is the modification time of every entry, so that equal data gives equal files.
var zipTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewWorkbook returns an empty workbook; Close releases it.
func NewWorkbook() (*Workbook, error) {
	tmp, err := os.CreateTemp("", "cx-xlsx-*")
	if err != nil {
		return nil, fmt.Errorf("xlsx: temporary file: %w", err)
	}
	b := &Workbook{tmp: tmp, buf: bufio.NewWriterSize(tmp, 256<<10)}
	b.zw = zip.NewWriter(b.buf)
	// The fastest level: the sheet XML is repetitive, so it still shrinks several times.
	b.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	// The package's fixed parts come first: [Content_Types].xml leads, where some readers
	// look for it. Its default type for .xml parts is the worksheet's, so it does not depend
	// on the number of sheets.
	if err := b.part("[Content_Types].xml", contentTypesXML); err != nil {
		b.Close()
		return nil, err
	}
	if err := b.part("_rels/.rels", rootRelsXML); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Workbook) part(name, body string) error {
	w, err := b.entry(name)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, body)
	return err
}

func (b *Workbook) entry(name string) (io.Writer, error) {
	return b.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime})
}

// AddSheet finishes the open sheet, if any, and starts sheet name with its header row. A name
// must be unique in the workbook, at most 31 characters, without any of []:*?/\.
func (b *Workbook) AddSheet(name string, header []string, o SheetOptions) (*Sheet, error) {
	if b.done {
		return nil, errors.New("xlsx: workbook already written")
	}
	if err := b.finish(); err != nil {
		return nil, err
	}
	if name == "" || utf8.RuneCountInString(name) > 31 || strings.ContainsAny(name, `[]:*?/\`) {
		return nil, fmt.Errorf("xlsx: invalid sheet name %q", name)
	}
	for _, s := range b.sheets {
		if strings.EqualFold(s.name, name) {
			return nil, fmt.Errorf("xlsx: sheet %q twice", name)
		}
	}
	ew, err := b.entry(fmt.Sprintf("xl/worksheets/sheet%d.xml", len(b.sheets)+1))
	if err != nil {
		return nil, err
	}
	s := &Sheet{b: b, name: name, w: bufio.NewWriterSize(ew, 64<<10), next: 1, cols: len(header), filter: o.Filter}
	w := s.w
	w.WriteString(xmlHeader)
	w.WriteString(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetViews><sheetView workbookViewId="0"`)
	if len(b.sheets) == 0 {
		w.WriteString(` tabSelected="1"`)
	}
	w.WriteString(`>`)
	if o.FreezeHeader {
		w.WriteString(`<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>`)
	}
	w.WriteString(`</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>`)
	if len(o.Widths) > 0 {
		w.WriteString(`<cols>`)
		for i, wd := range o.Widths {
			fmt.Fprintf(w, `<col min="%d" max="%d" width="%s" customWidth="1"/>`, i+1, i+1, strconv.FormatFloat(wd, 'f', -1, 64))
		}
		w.WriteString(`</cols>`)
	}
	w.WriteString(`<sheetData>`)
	b.sheets = append(b.sheets, s)
	b.open = s
	cells := make([]Cell, len(header))
	for i, h := range header {
		cells[i] = Text(h)
	}
	style := 0
	if o.BoldHeader {
		style = styleBold
	}
	if err := s.row(cells, style); err != nil {
		return nil, err
	}
	return s, nil
}

// Row writes one row: text neutralized, numbers and booleans as values, months as dates shown
// as yyyy-mm, dates shown as yyyy-mm-dd, money as numbers shown with two decimals, empty cells
// as nothing. A number that is not finite is written as an empty cell.
func (s *Sheet) Row(cells []Cell) error {
	if s.b.open != s {
		return fmt.Errorf("xlsx: sheet %q is finished", s.name)
	}
	return s.row(cells, 0)
}

// row writes cells as row s.next; textStyle is the style of its text cells (0: none).
func (s *Sheet) row(cells []Cell, textStyle int) error {
	w := s.w
	r := strconv.Itoa(s.next)
	w.WriteString(`<row r="`)
	w.WriteString(r)
	w.WriteString(`">`)
	for i, c := range cells {
		if c.kind == kindEmpty {
			continue
		}
		w.WriteString(`<c r="`)
		w.WriteString(columnName(i + 1))
		w.WriteString(r)
		w.WriteByte('"')
		switch c.kind {
		case kindText:
			if textStyle != 0 {
				fmt.Fprintf(w, ` s="%d"`, textStyle)
			}
			text := Neutralize(c.text)
			w.WriteString(` t="inlineStr"><is><t`)
			if text != strings.TrimSpace(text) {
				w.WriteString(` xml:space="preserve"`)
			}
			w.WriteByte('>')
			writeText(w, text)
			w.WriteString(`</t></is></c>`)
		case kindNumber:
			if math.IsNaN(c.num) || math.IsInf(c.num, 0) {
				w.WriteString(`/>`)
				continue
			}
			s.value(strconv.AppendFloat(s.num[:0], c.num, 'f', -1, 64), 0)
		case kindInt:
			s.value(strconv.AppendInt(s.num[:0], c.n, 10), 0)
		case kindBool:
			v := []byte("0")
			if c.flag {
				v = []byte("1")
			}
			w.WriteString(` t="b"`)
			s.value(v, 0)
		case kindMonth:
			s.value(strconv.AppendInt(s.num[:0], serialDay(c.at), 10), styleMonth)
		case kindDate:
			s.value(strconv.AppendInt(s.num[:0], serialDay(c.at), 10), styleDate)
		case kindCents:
			s.value(strconv.AppendFloat(s.num[:0], float64(c.n)/100, 'f', -1, 64), styleMoney)
		}
	}
	w.WriteString(`</row>`)
	s.next++
	return nil
}

// value ends an open <c> element with a value and, when not 0, a style.
func (s *Sheet) value(v []byte, style int) {
	w := s.w
	if style != 0 {
		w.WriteString(` s="`)
		w.WriteString(strconv.Itoa(style))
		w.WriteByte('"')
	}
	w.WriteString(`><v>`)
	w.Write(v)
	w.WriteString(`</v></c>`)
	s.num = v[:0]
}

// serialDay is the spreadsheet serial number of t's day: days since 1899-12-30.
func serialDay(t time.Time) int64 {
	const day = 24 * 60 * 60
	return (t.Unix() - time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).Unix()) / day
}

// writeText writes s escaped for XML, without the characters XML cannot carry (most control
// characters, invalid UTF-8), and cut to maxCellChars characters.
func writeText(w *bufio.Writer, s string) {
	n := 0
	for _, r := range s {
		if n == maxCellChars {
			return
		}
		n++
		switch {
		case r == '<':
			w.WriteString("&lt;")
		case r == '>':
			w.WriteString("&gt;")
		case r == '&':
			w.WriteString("&amp;")
		case r == '"':
			w.WriteString("&quot;")
		case r == '\t' || r == '\n' || r == '\r':
			w.WriteRune(r)
		case r < 0x20 || r == utf8.RuneError || r == 0xFFFE || r == 0xFFFF:
			n--
		default:
			w.WriteRune(r)
		}
	}
}

// columnName is the letters of column n (1: A, 27: AA); those of the first 702 columns are
// computed once, since every cell of a row names its column.
func columnName(n int) string {
	if n <= len(columnNames) {
		return columnNames[n-1]
	}
	return columnLetters(n)
}

func columnLetters(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('A' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

var columnNames = func() []string {
	out := make([]string, 26*27)
	for i := range out {
		out[i] = columnLetters(i + 1)
	}
	return out
}()

// finish ends the open sheet's XML, with its autofilter when asked.
func (b *Workbook) finish() error {
	s := b.open
	if s == nil {
		return nil
	}
	b.open = nil
	s.w.WriteString(`</sheetData>`)
	if ref := s.filterRef(); ref != "" {
		fmt.Fprintf(s.w, `<autoFilter ref="%s"/>`, ref)
	}
	s.w.WriteString(`</worksheet>`)
	return s.w.Flush()
}

// filterRef is the range of the sheet's autofilter ("" for none): the header and every row.
func (s *Sheet) filterRef() string {
	if !s.filter || s.cols == 0 {
		return ""
	}
	return "$A$1:$" + columnName(s.cols) + "$" + strconv.Itoa(s.next-1)
}

// Write finishes the open sheet and writes the workbook to w, the first sheet active. Equal
// data gives byte-identical files; deterministic is accepted for callers of the earlier writer
// and has no further effect.
func (b *Workbook) Write(w io.Writer, deterministic bool) error {
	_ = deterministic
	if b.done {
		return errors.New("xlsx: workbook already written")
	}
	if err := b.finish(); err != nil {
		return err
	}
	if len(b.sheets) == 0 {
		return errors.New("xlsx: a workbook needs a sheet")
	}
	b.done = true
	var wb, rels strings.Builder
	wb.WriteString(xmlHeader)
	wb.WriteString(`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView activeTab="0"/></bookViews><sheets>`)
	rels.WriteString(xmlHeader)
	rels.WriteString(`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	var names strings.Builder
	for i, s := range b.sheets {
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, attr(s.name), i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
		if ref := s.filterRef(); ref != "" {
			fmt.Fprintf(&names, `<definedName name="_xlnm._FilterDatabase" localSheetId="%d" hidden="1">%s!%s</definedName>`,
				i, attr("'"+strings.ReplaceAll(s.name, "'", "''")+"'"), ref)
		}
	}
	wb.WriteString(`</sheets>`)
	if names.Len() > 0 {
		wb.WriteString(`<definedNames>` + names.String() + `</definedNames>`)
	}
	wb.WriteString(`</workbook>`)
	fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`, len(b.sheets)+1)
	for _, p := range []struct{ name, body string }{
		{"xl/workbook.xml", wb.String()},
		{"xl/_rels/workbook.xml.rels", rels.String()},
		{"xl/styles.xml", stylesXML},
	} {
		if err := b.part(p.name, p.body); err != nil {
			return err
		}
	}
	if err := b.zw.Close(); err != nil {
		return err
	}
	if err := b.buf.Flush(); err != nil {
		return err
	}
	if _, err := b.tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, b.tmp)
	return err
}

// attr escapes s for an XML attribute.
func attr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// Close releases the workbook's temporary file.
func (b *Workbook) Close() error {
	if b.tmp == nil {
		return nil
	}
	name := b.tmp.Name()
	err := b.tmp.Close()
	b.tmp = nil
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"

const contentTypesXML = xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
	`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
	`<Default Extension="xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
	`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
	`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
	`</Types>`

const rootRelsXML = xmlHeader + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
	`</Relationships>`

// stylesXML holds the cell styles, in the order of the style* constants: none, bold, yyyy-mm,
// yyyy-mm-dd, and built-in format 2 ("0.00": no thousands separator, so a money cell shows
// the API's decimal string).
const stylesXML = xmlHeader + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
	`<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>` +
	`<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
	`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="5">` +
	`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
	`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
	`</cellXfs>` +
	`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
	`</styleSheet>`
