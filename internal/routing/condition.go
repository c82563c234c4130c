// Package routing is a firm's routing rules: which receiving firms a case should go to. A rule
// has conditions on the case (all must hold) and weighted recipients; a firm's active rules are
// tried in priority order and the first match wins. Condition matching and the weighted choice
// of a recipient are pure functions of this file and pick.go; Service stores rules and evaluates
// them against the database.
package routing

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/apperr"
)

// Condition fields.
const (
	FieldCaseType     = "caseType"
	FieldJurisdiction = "jurisdiction"
	FieldCounty       = "county"
	FieldTier         = "tier"
	FieldTypeCategory = "typeCategory"
	FieldAttempt      = "attempt"
)

// Condition operators.
const (
	OpEq    = "eq"
	OpNeq   = "neq"
	OpIn    = "in"
	OpNotIn = "not_in"
	OpGte   = "gte"
	OpLte   = "lte"
)

// Limits on condition values.
const (
	maxValues   = 200
	maxValueLen = 200
	MinTier     = 1
	MaxTier     = 5
)

// Condition is one normalized test on a case. Text values keep what the client wrote (trimmed;
// jurisdiction codes upper-cased); caseType conditions also carry the resolved case type ids,
// which are what matching uses.
type Condition struct {
	Field    string
	Operator string
	Strings  []string    // caseType, jurisdiction, county, typeCategory
	Ints     []int       // tier, attempt
	IDs      []uuid.UUID // caseType: the case types the strings name
}

// Case is what rules are matched against. Nil optional values make conditions on them fail.
type Case struct {
	CaseTypeID   uuid.UUID
	Jurisdiction string
	County       *string
	Tier         *int
	TypeCategory *string
	Attempt      int
}

// Value is the condition's value as the API shows it: a single string or integer for eq, neq,
// gte and lte, a list for in and not_in.
func (c Condition) Value() any {
	list := c.Operator == OpIn || c.Operator == OpNotIn
	if isIntField(c.Field) {
		if list {
			return slices.Clone(c.Ints)
		}
		if len(c.Ints) == 0 {
			return nil
		}
		return c.Ints[0]
	}
	if list {
		return slices.Clone(c.Strings)
	}
	if len(c.Strings) == 0 {
		return nil
	}
	return c.Strings[0]
}

// Matches reports whether the condition holds for cs.
func (c Condition) Matches(cs Case) bool {
	switch c.Field {
	case FieldCaseType:
		return c.setTest(slices.Contains(c.IDs, cs.CaseTypeID))
	case FieldJurisdiction:
		return c.textTest(cs.Jurisdiction)
	case FieldCounty:
		if cs.County == nil {
			return false
		}
		return c.textTest(*cs.County)
	case FieldTypeCategory:
		if cs.TypeCategory == nil {
			return false
		}
		return c.textTest(*cs.TypeCategory)
	case FieldTier:
		if cs.Tier == nil {
			return false
		}
		return c.intTest(*cs.Tier)
	case FieldAttempt:
		return c.intTest(cs.Attempt)
	}
	return false
}

// MatchAll reports whether every condition holds for cs; no conditions match every case.
func MatchAll(conds []Condition, cs Case) bool {
	for _, c := range conds {
		if !c.Matches(cs) {
			return false
		}
	}
	return true
}

// setTest applies the operator to "the case's value is among the condition's values".
func (c Condition) setTest(member bool) bool {
	switch c.Operator {
	case OpEq, OpIn:
		return member
	case OpNeq, OpNotIn:
		return !member
	}
	return false
}

func (c Condition) textTest(v string) bool {
	v = strings.TrimSpace(v)
	return c.setTest(slices.ContainsFunc(c.Strings, func(s string) bool { return strings.EqualFold(s, v) }))
}

func (c Condition) intTest(v int) bool {
	switch c.Operator {
	case OpGte:
		return len(c.Ints) == 1 && v >= c.Ints[0]
	case OpLte:
		return len(c.Ints) == 1 && v <= c.Ints[0]
	}
	return c.setTest(slices.Contains(c.Ints, v))
}

func isIntField(f string) bool { return f == FieldTier || f == FieldAttempt }

var fields = []string{FieldCaseType, FieldJurisdiction, FieldCounty, FieldTier, FieldTypeCategory, FieldAttempt}

var operators = []string{OpEq, OpNeq, OpIn, OpNotIn, OpGte, OpLte}

// ParseCondition checks the shape of a condition as written (field, operator and a value
// decoded from JSON: string, number, or a list of them) and normalizes it. It does not look
// anything up: case types still need resolving (IDs is empty) and jurisdiction codes and type
// categories checking against the reference data. Errors are ErrValidation naming
// prefix+".field", ".operator" or ".value".
func ParseCondition(prefix, field, operator string, value any) (Condition, error) {
	c := Condition{Field: field, Operator: operator}
	if !slices.Contains(fields, field) {
		return c, apperr.Field(prefix+".field", "must be one of "+strings.Join(fields, ", "))
	}
	if !slices.Contains(operators, operator) {
		return c, apperr.Field(prefix+".operator", "must be one of "+strings.Join(operators, ", "))
	}
	if (operator == OpGte || operator == OpLte) && !isIntField(field) {
		return c, apperr.Field(prefix+".operator", operator+" applies to tier and attempt only")
	}
	vfield := prefix + ".value"
	var raw []any
	if operator == OpIn || operator == OpNotIn {
		list, ok := value.([]any)
		if !ok {
			return c, apperr.Field(vfield, "must be a list for "+operator)
		}
		if len(list) == 0 {
			return c, apperr.Field(vfield, "must not be empty")
		}
		if len(list) > maxValues {
			return c, apperr.Field(vfield, fmt.Sprintf("must have at most %d values", maxValues))
		}
		raw = list
	} else {
		if _, isList := value.([]any); isList || value == nil {
			return c, apperr.Field(vfield, "must be a single value for "+operator)
		}
		raw = []any{value}
	}
	for i, v := range raw {
		at := vfield
		if len(raw) > 1 || operator == OpIn || operator == OpNotIn {
			at = fmt.Sprintf("%s.%d", vfield, i)
		}
		if isIntField(field) {
			n, ok := toInt(v)
			if !ok {
				return c, apperr.Field(at, "must be an integer")
			}
			if field == FieldTier && (n < MinTier || n > MaxTier) {
				return c, apperr.Field(at, fmt.Sprintf("tier must be between %d and %d", MinTier, MaxTier))
			}
			if field == FieldAttempt && n < 1 {
				return c, apperr.Field(at, "attempt must be at least 1")
			}
			if !slices.Contains(c.Ints, n) {
				c.Ints = append(c.Ints, n)
			}
			continue
		}
		s, ok := v.(string)
		s = strings.TrimSpace(s)
		if !ok || s == "" {
			return c, apperr.Field(at, "must be a non-empty string")
		}
		if utf8.RuneCountInString(s) > maxValueLen {
			return c, apperr.Field(at, fmt.Sprintf("must be at most %d characters", maxValueLen))
		}
		if field == FieldJurisdiction {
			s = strings.ToUpper(s)
		}
		if !slices.ContainsFunc(c.Strings, func(x string) bool { return strings.EqualFold(x, s) }) {
			c.Strings = append(c.Strings, s)
		}
	}
	return c, nil
}

// toInt accepts the integer forms a JSON decoder or a client may produce: integral numbers and
// strings of digits.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int32:
		return int(n), true
	case int64:
		return int(n), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1e9 {
			return 0, false
		}
		return int(n), true
	case float32:
		return toInt(float64(n))
	case json.Number:
		i, err := n.Int64()
		if err != nil || i > 1e9 || i < -1e9 {
			return 0, false
		}
		return int(i), true
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || i > 1e9 || i < -1e9 {
			return 0, false
		}
		return i, true
	}
	return 0, false
}
