package routing

// Fuzz targets for routing conditions (as clients write them in JSON) and the weighted choice of
// a recipient. Plain `go test` runs the seeds and testdata/fuzz; `go test -run=^$
// -fuzz=FuzzParseCondition ./internal/routing` explores.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/apperr"
)

func FuzzParseCondition(f *testing.F) {
	f.Add("jurisdiction", "eq", []byte(`" ca "`))
	f.Add("jurisdiction", "in", []byte(`["wa","OR","WA"]`))
	f.Add("caseType", "not_in", []byte(`["Personal Injury"]`))
	f.Add("tier", "gte", []byte(`3`))
	f.Add("tier", "in", []byte(`["1", 2, 2.0]`))
	f.Add("attempt", "lte", []byte(`1e9`))
	f.Add("attempt", "eq", []byte(`-1e10`))
	f.Add("county", "eq", []byte(`null`))
	f.Add("county", "neq", []byte(`{"a":1}`))
	f.Add("typeCategory", "in", []byte(`[]`))
	f.Add("tier", "eq", []byte(`"  4 "`))
	f.Add("color", "gt", []byte(`"red"`))
	f.Add("county", "in", []byte(`["a\u0000b", "   "]`))
	f.Fuzz(func(t *testing.T, field, operator string, raw []byte) {
		var value any
		if json.Unmarshal(raw, &value) != nil {
			return
		}
		c, err := ParseCondition("c", field, operator, value)
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || !errors.Is(err, apperr.ErrValidation) || len(ae.Details) != 1 ||
				!strings.HasPrefix(ae.Details[0].Field, "c.") {
				t.Fatalf("error %v is not one field error under c.", err)
			}
			return
		}
		if !slices.Contains(fields, c.Field) || !slices.Contains(operators, c.Operator) {
			t.Fatalf("accepted %q %q", c.Field, c.Operator)
		}
		list := c.Operator == OpIn || c.Operator == OpNotIn
		n := len(c.Strings) + len(c.Ints)
		if n == 0 || !list && n != 1 || len(c.Strings) > maxValues || len(c.Ints) > maxValues {
			t.Fatalf("%d values for %s", n, c.Operator)
		}
		if isIntField(c.Field) {
			for _, i := range c.Ints {
				if c.Field == FieldTier && (i < MinTier || i > MaxTier) || c.Field == FieldAttempt && i < 1 {
					t.Fatalf("%s value %d out of range", c.Field, i)
				}
			}
		}
		for i, s := range c.Strings {
			if s == "" || s != strings.TrimSpace(s) || utf8.RuneCountInString(s) > maxValueLen {
				t.Fatalf("value %q kept as is", s)
			}
			if c.Field == FieldJurisdiction && s != strings.ToUpper(s) {
				t.Fatalf("jurisdiction %q not upper-cased", s)
			}
			for _, other := range c.Strings[:i] {
				if strings.EqualFold(s, other) {
					t.Fatalf("duplicate values %q and %q", other, s)
				}
			}
		}

		// What the API shows back parses to the same condition.
		shown := must(json.Marshal(c.Value()))
		var back any
		if err := json.Unmarshal(shown, &back); err != nil {
			t.Fatal(err)
		}
		again, err := ParseCondition("c", c.Field, c.Operator, back)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("shown value %s parses to %+v (%v), want %+v", shown, again, err, c)
		}

		// Matching never fails on any case.
		tier := 3
		county := "Kings"
		for _, cs := range []Case{{}, {CaseTypeID: uuid.New(), Jurisdiction: " ca ", County: &county, Tier: &tier, TypeCategory: &county, Attempt: 2}} {
			_ = c.Matches(cs)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func FuzzPickWeighted(f *testing.F) {
	f.Add([]byte{1, 0, 2, 0}, "case-1", 1)
	f.Add([]byte{0xe8, 0x03, 0xe8, 0x03, 0x01, 0x00}, "", 0)
	f.Add([]byte{0xff, 0xff}, "x", -7)
	f.Add([]byte{}, "none", 1)
	f.Fuzz(func(t *testing.T, raw []byte, key string, attempt int) {
		// Weights as the API allows them (1-1000), and below (which count as 1).
		var weights []int
		for i := 0; i+1 < len(raw) && len(weights) < 64; i += 2 {
			weights = append(weights, int(int16(binary.LittleEndian.Uint16(raw[i:])))%1001)
		}
		i := PickWeighted(weights, key, attempt)
		if len(weights) == 0 {
			if i != -1 {
				t.Fatalf("index %d of nothing", i)
			}
			return
		}
		if i < 0 || i >= len(weights) {
			t.Fatalf("index %d of %d weights", i, len(weights))
		}
		if PickWeighted(weights, key, attempt) != i {
			t.Fatal("not deterministic")
		}
		order := ByWeight(weights)
		if len(order) != len(weights) {
			t.Fatalf("order %v", order)
		}
		for j := 1; j < len(order); j++ {
			if weights[order[j-1]] < weights[order[j]] {
				t.Fatalf("order %v is not by weight %v", order, weights)
			}
		}
		if h := Heaviest(weights); weights[h] != slices.Max(weights) {
			t.Fatalf("heaviest %d of %v", h, weights)
		}
	})
}
