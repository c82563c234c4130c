package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/tabular"
)

// Columns of the import file in template order: the required ones first, then the optional
// ones, then referenceNumber (read by updates only).
var Columns = []string{
	"title", "caseType", "jurisdiction", "clientFirstName", "clientLastName",
	"description", "county", "clientEmail", "clientPhone", "clientDateOfBirth", "incidentDate",
	"tier", "source", "notes", "cmsId", "salesforceId", "salesforceObjectType", "isRetainerSigned",
	"referenceNumber",
}

// Required are the columns a creating import needs in its header.
var Required = []string{"title", "caseType", "jurisdiction", "clientFirstName", "clientLastName"}

// Template is the CSV template: the header row alone, written by tabular's CSV writer like
// every file the server produces.
func Template() []byte {
	b, _ := tabular.CSVBytes(tabular.Texts(Columns)) // writes to memory: cannot fail
	return b
}

// header maps the file's column positions to known column names.
type header struct {
	index map[string]int // column name -> position
	line  int            // line of the header row
}

func (h header) has(col string) bool { _, ok := h.index[col]; return ok }

// parseHeader matches header cells to Columns, ignoring case and surrounding spaces; unknown
// columns are ignored, a known one given twice is an error.
func parseHeader(cells []string, mode Mode) (header, error) {
	canon := make(map[string]string, len(Columns))
	for _, c := range Columns {
		canon[strings.ToLower(c)] = c
	}
	h := header{index: map[string]int{}}
	for i, cell := range cells {
		name, ok := canon[strings.ToLower(strings.TrimSpace(cell))]
		if !ok {
			continue
		}
		if _, dup := h.index[name]; dup {
			return h, fileError(fmt.Sprintf("the header names the column %q twice", name))
		}
		h.index[name] = i
	}
	var missing []string
	if mode == Upsert {
		for _, c := range Required {
			if !h.has(c) {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return h, fileError("the header lacks required columns: " + strings.Join(missing, ", ") +
				" (download the template from GET /api/public/v1/import/cases/template)")
		}
	} else if !h.has("referenceNumber") && !h.has("cmsId") && !h.has("salesforceId") {
		return h, fileError("the header needs a column that identifies the case: referenceNumber, cmsId or salesforceId")
	}
	return h, nil
}

// fileError rejects the whole file (400 validation_error on body.file).
func fileError(msg string) error {
	return apperr.Validation("The file cannot be imported", apperr.FieldError{Field: "body.file", Message: msg})
}

func tooLarge(max int64) error {
	return &apperr.Error{
		Kind: apperr.ErrTooLarge, Message: "The file is too large",
		Details: []apperr.FieldError{{Field: "body.file", Message: fmt.Sprintf("must be at most %d bytes", max)}},
	}
}

// spool is a validated copy of the upload on local disk.
type spool struct {
	f      *os.File
	header header
	total  int      // data rows
	exts   []string // distinct external ids (cmsId, salesforceId) of the rows
	refs   []string // distinct reference numbers of the rows
}

func (s *spool) close() {
	if s != nil && s.f != nil {
		name := s.f.Name()
		_ = s.f.Close()
		_ = os.Remove(name)
	}
}

// prepare reads the whole input once: it checks size, encoding and CSV structure, the header and
// the row count, and keeps a copy in a temporary file for the second pass. Every whole-file
// problem is found here, before any row is written.
func prepare(r io.Reader, mode Mode, opts Options) (*spool, error) {
	f, err := os.CreateTemp(opts.TempDir, "cx-import-*.csv")
	if err != nil {
		return nil, fmt.Errorf("import: temporary file: %w", err)
	}
	sp := &spool{f: f}
	ok := false
	defer func() {
		if !ok {
			sp.close()
		}
	}()

	lim := &limitReader{r: r, max: opts.MaxBytes}
	br := bufio.NewReaderSize(lim, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	check := &textChecker{r: br}
	cr := csv.NewReader(io.TeeReader(check, f))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	fail := func(err error) error {
		switch {
		case lim.over:
			return tooLarge(opts.MaxBytes)
		case check.bad != "":
			return fileError(check.bad)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fileError(fmt.Sprintf("not a valid CSV file: line %d: %v", pe.Line, pe.Err))
		}
		return fmt.Errorf("import: read the file: %w", err)
	}

	cells, err := cr.Read()
	if err == io.EOF {
		if lim.over {
			return nil, tooLarge(opts.MaxBytes)
		}
		if check.bad != "" {
			return nil, fileError(check.bad)
		}
		return nil, fileError("the file is empty: it needs a header row")
	}
	if err != nil {
		return nil, fail(err)
	}
	line, _ := cr.FieldPos(0)
	if sp.header, err = parseHeader(cells, mode); err != nil {
		return nil, err
	}
	sp.header.line = line
	exts, refs := map[string]bool{}, map[string]bool{}
	cell := func(rec []string, col string) string {
		if i, ok := sp.header.index[col]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fail(err)
		}
		for _, col := range []string{"cmsId", "salesforceId"} {
			if v := cell(rec, col); v != "" && !exts[v] {
				exts[v] = true
				sp.exts = append(sp.exts, v)
			}
		}
		if v := cell(rec, "referenceNumber"); v != "" && !refs[v] {
			refs[v] = true
			sp.refs = append(sp.refs, v)
		}
		sp.total++
		if opts.MaxRows > 0 && sp.total > opts.MaxRows {
			// A file that is also too large is reported as such (413), whatever comes first.
			if _, err := io.Copy(io.Discard, lim); err != nil && lim.over {
				return nil, tooLarge(opts.MaxBytes)
			}
			return nil, fileError(fmt.Sprintf("the file has more than %d data rows; split it", opts.MaxRows))
		}
	}
	if lim.over {
		return nil, tooLarge(opts.MaxBytes)
	}
	if check.bad != "" {
		return nil, fileError(check.bad)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("import: rewind: %w", err)
	}
	ok = true
	return sp, nil
}

// limitReader fails once more than max bytes were read (max 0: no limit).
type limitReader struct {
	r    io.Reader
	max  int64
	read int64
	over bool
}

var errTooLarge = errors.New("file too large")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, errTooLarge
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	if l.max > 0 && l.read > l.max {
		l.over = true
		return 0, errTooLarge
	}
	return n, err
}

// textChecker fails the stream at the first byte that cannot be in a UTF-8 text file: invalid
// UTF-8 (runes cut between reads are carried over) or a NUL byte.
type textChecker struct {
	r     io.Reader
	carry []byte
	bad   string
}

var errNotText = errors.New("not UTF-8 text")

func (t *textChecker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		if bytes.IndexByte(p[:n], 0) >= 0 {
			t.bad = "not a CSV file: it contains binary data"
			return 0, errNotText
		}
		buf := make([]byte, 0, len(t.carry)+n)
		buf = append(append(buf, t.carry...), p[:n]...)
		cut := len(buf)
		for i := 1; i < utf8.UTFMax && i <= len(buf); i++ {
			c := buf[len(buf)-i]
			if c < 0x80 {
				break
			}
			if utf8.RuneStart(c) {
				if !utf8.FullRune(buf[len(buf)-i:]) {
					cut = len(buf) - i
				}
				break
			}
		}
		if !utf8.Valid(buf[:cut]) {
			t.bad = "the file is not UTF-8 text: save it as \"CSV UTF-8\""
			return 0, errNotText
		}
		t.carry = append(t.carry[:0], buf[cut:]...)
	}
	if err == io.EOF && len(t.carry) > 0 {
		t.bad = "the file is not UTF-8 text: save it as \"CSV UTF-8\""
		return n, errNotText
	}
	return n, err
}
