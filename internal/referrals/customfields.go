package referrals

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/refdata"
)

// CustomFieldInput sets one custom field; a nil Value clears it.
type CustomFieldInput struct {
	FieldID uuid.UUID
	Value   *string
}

// maxCustomValue bounds a custom field value when its definition sets no maxLength.
const maxCustomValue = 10000

// applyCustomFields validates inputs against the case type's field definitions and returns the
// stored values with the inputs applied. A field the type does not define or a value that does
// not parse as the field's type is an apperr.ErrValidation error naming <field>[i].
func applyCustomFields(field string, defs []refdata.CaseTypeField, stored map[string]string, in []CustomFieldInput) (map[string]string, error) {
	out := make(map[string]string, len(stored)+len(in))
	for k, v := range stored {
		out[k] = v
	}
	var details []apperr.FieldError
	for i, f := range in {
		name := fmt.Sprintf("%s[%d]", field, i)
		def, ok := findField(defs, f.FieldID)
		if !ok {
			details = append(details, apperr.FieldError{Field: name, Message: "fieldId is not a field of the case's case type"})
			continue
		}
		if f.Value == nil {
			delete(out, f.FieldID.String())
			continue
		}
		v, err := normalizeCustomValue(def, *f.Value)
		if err != nil {
			details = append(details, apperr.FieldError{Field: name, Message: err.Error()})
			continue
		}
		out[f.FieldID.String()] = v
	}
	if len(details) > 0 {
		return nil, apperr.Validation("", details...)
	}
	return out, nil
}

func findField(defs []refdata.CaseTypeField, id uuid.UUID) (refdata.CaseTypeField, bool) {
	for _, d := range defs {
		if d.ID == id {
			return d, true
		}
	}
	return refdata.CaseTypeField{}, false
}

// normalizeCustomValue checks v against the field's type and rule and returns its canonical text.
func normalizeCustomValue(def refdata.CaseTypeField, v string) (string, error) {
	v = strings.TrimSpace(v)
	maxLen := maxCustomValue
	if def.ValidationRule != nil && def.ValidationRule.MaxLength != nil {
		maxLen = *def.ValidationRule.MaxLength
	}
	if utf8.RuneCountInString(v) > maxLen {
		return "", fmt.Errorf("value is longer than %d characters", maxLen)
	}
	checkRange := func(n float64) error {
		if r := def.ValidationRule; r != nil {
			if r.Min != nil && n < *r.Min {
				return fmt.Errorf("value must be at least %v", *r.Min)
			}
			if r.Max != nil && n > *r.Max {
				return fmt.Errorf("value must be at most %v", *r.Max)
			}
		}
		return nil
	}
	switch def.FieldType {
	case refdata.FieldNumber:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", fmt.Errorf("value must be a whole number")
		}
		return strconv.FormatInt(n, 10), checkRange(float64(n))
	case refdata.FieldDecimal:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return "", fmt.Errorf("value must be a decimal number")
		}
		return strconv.FormatFloat(n, 'f', -1, 64), checkRange(n)
	case refdata.FieldBoolean:
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			return "", fmt.Errorf("value must be \"true\" or \"false\"")
		}
		return strconv.FormatBool(b), nil
	case refdata.FieldDate:
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return "", fmt.Errorf("value must be a date (YYYY-MM-DD)")
		}
		return d.Format(time.DateOnly), nil
	case refdata.FieldEnum:
		for _, o := range def.EnumOptions {
			if o.Value == v {
				return v, nil
			}
		}
		return "", fmt.Errorf("value must be one of the field's options")
	}
	return v, nil
}

// renderCustomFields lists every defined field of the case type with its stored value or nil.
func renderCustomFields(defs []refdata.CaseTypeField, stored map[string]string) []CustomField {
	out := make([]CustomField, 0, len(defs))
	for _, d := range defs {
		cf := CustomField{FieldID: d.ID, Name: d.Name, DisplayName: d.DisplayName, Type: d.FieldType}
		if v, ok := stored[d.ID.String()]; ok {
			cf.Value = &v
		}
		out = append(out, cf)
	}
	return out
}

// keepDefined drops stored values of fields the definitions do not list (after a case type change).
func keepDefined(defs []refdata.CaseTypeField, stored map[string]string) map[string]string {
	out := map[string]string{}
	for _, d := range defs {
		if v, ok := stored[d.ID.String()]; ok {
			out[d.ID.String()] = v
		}
	}
	return out
}

func decodeCustomFields(raw []byte) map[string]string {
	m := map[string]string{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m) // the column is a JSON object of strings by construction
	}
	return m
}

func encodeCustomFields(m map[string]string) []byte {
	if m == nil {
		m = map[string]string{}
	}
	b, _ := json.Marshal(m)
	return b
}
