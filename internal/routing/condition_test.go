package routing

import (
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
)

func TestParseCondition(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		field, op string
		value     any
		want      Condition
		wantField string // error field; "" means success
	}{
		{name: "jurisdiction eq is upper-cased", field: FieldJurisdiction, op: OpEq, value: " ca ",
			want: Condition{Field: FieldJurisdiction, Operator: OpEq, Strings: []string{"CA"}}},
		{name: "jurisdiction in dedupes ignoring case", field: FieldJurisdiction, op: OpIn, value: []any{"wa", "OR", "WA"},
			want: Condition{Field: FieldJurisdiction, Operator: OpIn, Strings: []string{"WA", "OR"}}},
		{name: "case type keeps what was written", field: FieldCaseType, op: OpIn, value: []any{"Personal Injury"},
			want: Condition{Field: FieldCaseType, Operator: OpIn, Strings: []string{"Personal Injury"}}},
		{name: "tier from a JSON number", field: FieldTier, op: OpGte, value: float64(3),
			want: Condition{Field: FieldTier, Operator: OpGte, Ints: []int{3}}},
		{name: "tier from a digit string", field: FieldTier, op: OpIn, value: []any{"1", float64(2)},
			want: Condition{Field: FieldTier, Operator: OpIn, Ints: []int{1, 2}}},
		{name: "attempt lte", field: FieldAttempt, op: OpLte, value: float64(2),
			want: Condition{Field: FieldAttempt, Operator: OpLte, Ints: []int{2}}},
		{name: "unknown field", field: "color", op: OpEq, value: "red", wantField: "c.field"},
		{name: "unknown operator", field: FieldTier, op: "gt", value: float64(1), wantField: "c.operator"},
		{name: "gte on text", field: FieldCounty, op: OpGte, value: "Kings", wantField: "c.operator"},
		{name: "list for eq", field: FieldJurisdiction, op: OpEq, value: []any{"CA"}, wantField: "c.value"},
		{name: "scalar for in", field: FieldJurisdiction, op: OpIn, value: "CA", wantField: "c.value"},
		{name: "empty list", field: FieldJurisdiction, op: OpNotIn, value: []any{}, wantField: "c.value"},
		{name: "null value", field: FieldCounty, op: OpEq, value: nil, wantField: "c.value"},
		{name: "blank string", field: FieldCounty, op: OpEq, value: "  ", wantField: "c.value"},
		{name: "number for text", field: FieldCounty, op: OpIn, value: []any{"Kings", float64(4)}, wantField: "c.value.1"},
		{name: "fractional tier", field: FieldTier, op: OpEq, value: 2.5, wantField: "c.value"},
		{name: "tier out of range", field: FieldTier, op: OpEq, value: float64(6), wantField: "c.value"},
		{name: "attempt zero", field: FieldAttempt, op: OpEq, value: float64(0), wantField: "c.value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseCondition("c", tt.field, tt.op, tt.value)
			if tt.wantField != "" {
				require.ErrorIs(t, err, apperr.ErrValidation)
				var ae *apperr.Error
				require.True(t, errors.As(err, &ae))
				require.Equal(t, tt.wantField, ae.Details[0].Field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestConditionValueShape(t *testing.T) {
	t.Parallel()

	require.Equal(t, "CA", Condition{Field: FieldJurisdiction, Operator: OpEq, Strings: []string{"CA"}}.Value())
	require.Equal(t, []string{"CA"}, Condition{Field: FieldJurisdiction, Operator: OpIn, Strings: []string{"CA"}}.Value())
	require.Equal(t, 3, Condition{Field: FieldTier, Operator: OpGte, Ints: []int{3}}.Value())
	require.Equal(t, []int{1, 2}, Condition{Field: FieldTier, Operator: OpNotIn, Ints: []int{1, 2}}.Value())
}

func TestConditionMatches(t *testing.T) {
	t.Parallel()

	pi, mm := uuid.New(), uuid.New()
	ptr := func(s string) *string { return &s }
	tier := func(n int) *int { return &n }
	base := Case{CaseTypeID: pi, Jurisdiction: "CA", County: ptr("Los Angeles"), Tier: tier(2), TypeCategory: ptr("personal_injury"), Attempt: 1}

	tests := []struct {
		name string
		cond Condition
		cs   Case
		want bool
	}{
		{"case type in", Condition{Field: FieldCaseType, Operator: OpIn, IDs: []uuid.UUID{mm, pi}}, base, true},
		{"case type eq other", Condition{Field: FieldCaseType, Operator: OpEq, IDs: []uuid.UUID{mm}}, base, false},
		{"case type neq other", Condition{Field: FieldCaseType, Operator: OpNeq, IDs: []uuid.UUID{mm}}, base, true},
		{"case type not_in own", Condition{Field: FieldCaseType, Operator: OpNotIn, IDs: []uuid.UUID{pi}}, base, false},
		{"jurisdiction eq", Condition{Field: FieldJurisdiction, Operator: OpEq, Strings: []string{"CA"}}, base, true},
		{"jurisdiction in miss", Condition{Field: FieldJurisdiction, Operator: OpIn, Strings: []string{"NY", "NJ"}}, base, false},
		{"county ignores case", Condition{Field: FieldCounty, Operator: OpEq, Strings: []string{"los angeles"}}, base, true},
		{"county absent fails eq", Condition{Field: FieldCounty, Operator: OpEq, Strings: []string{"Kings"}}, Case{CaseTypeID: pi, Attempt: 1}, false},
		{"county absent fails neq too", Condition{Field: FieldCounty, Operator: OpNeq, Strings: []string{"Kings"}}, Case{CaseTypeID: pi, Attempt: 1}, false},
		{"tier gte holds", Condition{Field: FieldTier, Operator: OpGte, Ints: []int{2}}, base, true},
		{"tier gte fails", Condition{Field: FieldTier, Operator: OpGte, Ints: []int{3}}, base, false},
		{"tier lte holds", Condition{Field: FieldTier, Operator: OpLte, Ints: []int{2}}, base, true},
		{"tier absent fails", Condition{Field: FieldTier, Operator: OpLte, Ints: []int{5}}, Case{CaseTypeID: pi, Attempt: 1}, false},
		{"tier not_in", Condition{Field: FieldTier, Operator: OpNotIn, Ints: []int{1, 3}}, base, true},
		{"type category ignores case", Condition{Field: FieldTypeCategory, Operator: OpEq, Strings: []string{"Personal_Injury"}}, base, true},
		{"type category absent fails", Condition{Field: FieldTypeCategory, Operator: OpEq, Strings: []string{"personal_injury"}}, Case{CaseTypeID: pi, Attempt: 1}, false},
		{"attempt eq 1", Condition{Field: FieldAttempt, Operator: OpEq, Ints: []int{1}}, base, true},
		{"attempt gte 2 on first", Condition{Field: FieldAttempt, Operator: OpGte, Ints: []int{2}}, base, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.cond.Matches(tt.cs))
		})
	}

	t.Run("no conditions match every case", func(t *testing.T) {
		t.Parallel()
		require.True(t, MatchAll(nil, base))
	})
	t.Run("all conditions must hold", func(t *testing.T) {
		t.Parallel()
		conds := []Condition{
			{Field: FieldJurisdiction, Operator: OpEq, Strings: []string{"CA"}},
			{Field: FieldTier, Operator: OpGte, Ints: []int{3}},
		}
		require.False(t, MatchAll(conds, base))
		conds[1].Ints = []int{1}
		require.True(t, MatchAll(conds, base))
	})
}

func TestReplaceField(t *testing.T) {
	t.Parallel()

	j := Condition{Field: FieldJurisdiction, Operator: OpEq, Strings: []string{"CA"}}
	c1 := Condition{Field: FieldCaseType, Operator: OpEq, Strings: []string{"a"}}
	c2 := Condition{Field: FieldCaseType, Operator: OpNeq, Strings: []string{"b"}}
	tier := Condition{Field: FieldTier, Operator: OpEq, Ints: []int{1}}
	repl := Condition{Field: FieldCaseType, Operator: OpIn, Strings: []string{"x"}}

	t.Run("takes the place of the first replaced", func(t *testing.T) {
		t.Parallel()
		got := replaceField([]Condition{j, c1, tier, c2}, FieldCaseType, &repl)
		require.Equal(t, []Condition{j, repl, tier}, got)
	})
	t.Run("appends when there was none", func(t *testing.T) {
		t.Parallel()
		got := replaceField([]Condition{j}, FieldCaseType, &repl)
		require.Equal(t, []Condition{j, repl}, got)
	})
	t.Run("nil removes", func(t *testing.T) {
		t.Parallel()
		got := replaceField([]Condition{c1, j, c2}, FieldCaseType, nil)
		require.Equal(t, []Condition{j}, got)
	})
}
