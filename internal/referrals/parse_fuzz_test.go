package referrals

// Fuzz targets for the hand-written parsers of client input: flexible ids, search text, list
// filters and sort keys, status filters and feed cursors. Plain `go test` runs the seeds below
// and the corpus in testdata/fuzz; `go test -run=^$ -fuzz=FuzzX ./internal/referrals` explores.

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/apperr"
)

// fieldOf returns the first field an apperr validation error names.
func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || !errors.Is(err, apperr.ErrValidation) || len(ae.Details) == 0 {
		t.Fatalf("want a validation error naming a field, got %v", err)
	}
	return ae.Details[0].Field
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"", " ", "3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60", " 3F1C2A9E-8B7D-4C6E-9F0A-1B2C3D4E5F60 ",
		"{3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60}", "urn:uuid:3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60", "cx-2026-000123",
		"SF-0012", "a\x00b", "\xff\xfe", "ünï ✓"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		k := parseKey(key)
		trimmed := strings.TrimSpace(key)
		if k.ext != trimmed {
			t.Fatalf("ext %q, want the trimmed key %q", k.ext, trimmed)
		}
		if k.ref != strings.ToUpper(trimmed) {
			t.Fatalf("ref %q is not the upper-cased key", k.ref)
		}
		id, err := uuid.Parse(trimmed)
		if (err == nil) != (k.id != nil) || err == nil && *k.id != id {
			t.Fatalf("id %v for %q (parse error %v)", k.id, trimmed, err)
		}
	})
}

// unescapeLike reverses the escaping of searchPattern's middle part and reports whether it
// contains an unescaped wildcard.
func unescapeLike(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 == len(s) {
				return "", false
			}
			i++
			b.WriteByte(s[i])
		case '%', '_':
			return "", false
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), true
}

func FuzzSearchPattern(f *testing.F) {
	for _, s := range []string{"", "   ", "smith", " 100% _sure\\ ", `\\%`, strings.Repeat("é", 250), "a\x00b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := searchPattern(s)
		trimmed := strings.TrimSpace(s)
		if trimmed == "" {
			if p != nil {
				t.Fatalf("pattern %q for blank text", *p)
			}
			return
		}
		if p == nil || len(*p) < 3 || !strings.HasPrefix(*p, "%") || !strings.HasSuffix(*p, "%") {
			t.Fatalf("pattern %v is not %%...%%", p)
		}
		mid, ok := unescapeLike((*p)[1 : len(*p)-1])
		if !ok {
			t.Fatalf("pattern %q has an unescaped wildcard or a dangling escape", *p)
		}
		if !utf8.ValidString(s) {
			return
		}
		want := trimmed
		if utf8.RuneCountInString(want) > maxSearch {
			want = string([]rune(want)[:maxSearch])
		}
		if mid != want {
			t.Fatalf("pattern %q matches %q literally, want %q", *p, mid, want)
		}
	})
}

func FuzzCaseQueryParams(f *testing.F) {
	f.Add("", "", "", 0, 0, "")
	f.Add("sent", "title", "smith", 2, 50, "")
	f.Add("received", "referenceNumber", "%", -5, 1000, "")
	f.Add("all", "status", "", 2147483648, 100, "")
	f.Add("everything", "createdAt", "", 9223372036854775807, 20, "")
	f.Add("sent", "password", "x", 1, 1, "")
	f.Add("all", "title", "x", 3, 20, "garbage")
	f.Fuzz(func(t *testing.T, view, sort, search string, page, limit int, cursor string) {
		cq := CaseQuery{View: view, Sort: sort, Search: search, Page: Page{Page: page, Limit: limit}, Cursor: cursor}
		p, _, err := cq.spec(uuid.New())
		if err != nil {
			if field := fieldOf(t, err); field != "query.view" && field != "query.sort" && field != "query.cursor" {
				t.Fatalf("error names %s", field)
			}
			return
		}
		if p.limit < 1 || p.limit > 100 {
			t.Fatalf("limit %d", p.limit)
		}
		if p.offset < 0 {
			t.Fatalf("negative offset %d for page %d, limit %d", p.offset, page, limit)
		}
		if _, ok := sortColumns[p.sort]; !ok {
			t.Fatalf("sort %q reaches the query", p.sort)
		}
		if len(p.sides) == 0 {
			t.Fatalf("view %q includes nothing", view)
		}
		sql, args := p.pageSQL()
		if n := strings.Count(sql, "$"); n < len(args) {
			t.Fatalf("%d placeholders for %d args", n, len(args))
		}
	})
}

func FuzzParseStatusFilter(f *testing.F) {
	for _, s := range []string{"", "received", "won", "lost", "sent", "closed", "draft", "SENT", "bogus", "under_evaluation\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		sf, err := ParseStatusFilter(v)
		if err != nil {
			if field := fieldOf(t, err); field != "query.status" {
				t.Fatalf("error names %s", field)
			}
			return
		}
		if v == "" {
			if sf.Status != nil || sf.Closing != nil {
				t.Fatalf("filter %+v for no value", sf)
			}
			return
		}
		if sf.Status == nil || !sf.Status.Valid() {
			t.Fatalf("filter %+v for %q", sf, v)
		}
		if sf.Closing != nil && (*sf.Status != StatusClosed || !sf.Closing.Valid()) {
			t.Fatalf("closing filter %+v for %q", sf, v)
		}

		a, err := ActionForStatus(v)
		if err != nil && !errors.Is(err, apperr.ErrValidation) && !errors.Is(err, apperr.ErrInvalidTransition) {
			t.Fatalf("ActionForStatus(%q): %v", v, err)
		}
		if err == nil {
			if _, ok := RuleFor(a); !ok {
				t.Fatalf("ActionForStatus(%q) = %q, which has no rule", v, a)
			}
		}
	})
}

func FuzzDecodeCursor(f *testing.F) {
	good := Cursor{At: time.Date(2026, 4, 1, 12, 30, 0, 123456000, time.UTC), ID: uuid.MustParse("3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60")}
	for _, s := range []string{good.Encode(), "", "v1.", "v2." + good.Encode()[3:], "v1.bm90IGEgY3Vyc29y", "v1.LTEuMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw", "v1.====", "v1.\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s)
		if err != nil {
			if field := fieldOf(t, err); field != "query.cursor" {
				t.Fatalf("error names %s", field)
			}
			return
		}
		again, err := DecodeCursor(c.Encode())
		if err != nil || !again.At.Equal(c.At) || again.ID != c.ID {
			t.Fatalf("cursor %q decodes to %+v, which does not survive a round trip (%+v, %v)", s, c, again, err)
		}
	})
}
