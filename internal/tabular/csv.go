package tabular

import (
	"bytes"
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// CSV writes rows as UTF-8 CSV.
type CSV struct{ w *csv.Writer }

// NewCSV returns a CSV writer on w; crlf ends lines with CRLF (RFC 4180) instead of LF.
func NewCSV(w io.Writer, crlf bool) *CSV {
	cw := csv.NewWriter(w)
	cw.UseCRLF = crlf
	return &CSV{w: cw}
}

// Row writes one row: text neutralized, numbers in plain decimal notation, booleans as
// true/false, months as their first day (YYYY-MM-DD), dates as YYYY-MM-DD, money with two
// decimals, empty cells as nothing.
func (c *CSV) Row(cells []Cell) error {
	rec := make([]string, len(cells))
	for i, cell := range cells {
		switch cell.kind {
		case kindText:
			rec[i] = Neutralize(cell.text)
		case kindNumber:
			rec[i] = strconv.FormatFloat(cell.num, 'f', -1, 64)
		case kindInt:
			rec[i] = strconv.FormatInt(cell.n, 10)
		case kindBool:
			rec[i] = strconv.FormatBool(cell.flag)
		case kindMonth, kindDate:
			rec[i] = cell.at.Format(time.DateOnly)
		case kindCents:
			rec[i] = FormatCents(cell.n)
		}
	}
	return c.w.Write(rec)
}

// Close flushes the rows written and returns the first write error.
func (c *CSV) Close() error {
	c.w.Flush()
	return c.w.Error()
}

// CSVBytes returns rows as CSV with LF line ends (small files such as the import template).
func CSVBytes(rows ...[]Cell) ([]byte, error) {
	var b bytes.Buffer
	w := NewCSV(&b, false)
	for _, r := range rows {
		if err := w.Row(r); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
