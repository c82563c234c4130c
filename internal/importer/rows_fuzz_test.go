package importer

// Fuzz target for the CSV import: the whole-file pass (size, encoding, CSV syntax, header,
// row count), the split into rows and the per-row cell checks. Reference data lookups are
// answered from the run's caches, filled before each row, so no database is needed. Plain `go
// test` runs the seeds and testdata/fuzz; `go test -run=^$ -fuzz=FuzzImportFile
// ./internal/importer` explores.

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/casexchange/server/internal/apperr"
)

func FuzzImportFile(f *testing.F) {
	header := strings.Join(Columns, ",") + "\n"
	for _, s := range []string{
		header,
		header + "Rear-end collision,Personal Injury,WA,Marcus,Delgado,,King,m@example.test,555-0100,1980-02-29,3/4/2025,3,web,,CMS-1,CMS-1,Case,yes,\n",
		"\xef\xbb\xbf" + header + "t,personal injury,wa,a,b\n",
		"TITLE , caseType,JURISDICTION,clientFirstName,clientLastName\n\"multi\nline\",x,y,z,w\n\n , , \n",
		header + "t,Personal Injury,WA,a,b,,,not-an-email,,2024-02-30,13/45/2024,6,,,a,b,,maybe,\n",
		"title,title,caseType\n",
		"referenceNumber,title\nCX-2026-000001,New title\n",
		"colour,size\nred,2\n",
		"title,caseType,jurisdiction,clientFirstName,clientLastName\n\"unterminated,x,WA,a,b\n",
		"title,caseType,jurisdiction,clientFirstName,clientLastName\na\x00b,x,WA,a,b\n",
		"title,caseType,jurisdiction,clientFirstName,clientLastName\n\xff\xfe,x,WA,a,b\n",
		"",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, update bool) {
		mode := Upsert
		if update {
			mode = UpdateOnly
		}
		sp, err := prepare(bytes.NewReader(data), mode, Options{MaxBytes: 256 << 10, MaxRows: 5000, TempDir: dir})
		if err != nil {
			var ae *apperr.Error
			switch {
			case errors.Is(err, apperr.ErrTooLarge):
			case errors.As(err, &ae) && errors.Is(err, apperr.ErrValidation) && len(ae.Details) == 1 && ae.Details[0].Field == "body.file":
				// Text is refused as "not UTF-8" or "binary" only when it is.
				msg := ae.Details[0].Message
				if (strings.Contains(msg, "UTF-8") || strings.Contains(msg, "binary")) && utf8.Valid(data) && bytes.IndexByte(data, 0) < 0 {
					t.Fatalf("valid UTF-8 text refused: %s", msg)
				}
			default:
				t.Fatalf("prepare: %v is neither a file error nor too large", err)
			}
			return
		}
		defer sp.close()
		if mode == Upsert {
			for _, c := range Required {
				if !sp.header.has(c) {
					t.Fatalf("accepted a header without %s", c)
				}
			}
		} else if !sp.header.has("referenceNumber") && !sp.header.has("cmsId") && !sp.header.has("salesforceId") {
			t.Fatal("accepted an update header that names no case")
		}

		q := make(chan row, sp.total+1)
		if err := dispatch(context.Background(), sp, mode, []chan row{q}); err != nil {
			t.Fatalf("dispatch of a prepared file: %v", err)
		}
		close(q)
		st := &runState{mode: mode, caseTypes: map[string]resolved{}, jurisdictions: map[string]resolved{}, counties: map[string]bool{}}
		n, last := 0, 0
		for rw := range q {
			n++
			if rw.num <= last {
				t.Fatalf("row number %d after %d", rw.num, last)
			}
			last = rw.num
			if rw.blank {
				continue
			}
			// The reference data a row names: "Personal Injury", "WA" and "King" exist.
			st.caseTypes[strings.ToLower(rw.get("caseType"))] = resolved{ok: strings.EqualFold(rw.get("caseType"), "Personal Injury")}
			st.jurisdictions[strings.ToUpper(rw.get("jurisdiction"))] = resolved{code: "WA", ok: strings.EqualFold(rw.get("jurisdiction"), "WA")}
			st.counties["WA/"+strings.ToLower(rw.get("county"))] = strings.EqualFold(rw.get("county"), "King")
			_, errs, err := st.parse(context.Background(), rw)
			if err != nil {
				t.Fatalf("row %d: %v", rw.num, err)
			}
			for _, e := range errs {
				if e.Row != rw.num || e.Message == "" || e.Column != nil && !slices.Contains(Columns, *e.Column) {
					t.Fatalf("row %d: error %+v", rw.num, e)
				}
			}
		}
		if n != sp.total {
			t.Fatalf("%d rows dispatched, %d counted", n, sp.total)
		}
	})
}
