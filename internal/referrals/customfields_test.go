package referrals

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/ptr"
	"github.com/casexchange/server/internal/refdata"
)

func TestCustomFields(t *testing.T) {
	t.Parallel()

	one, hundred, five := 1.0, 100.0, 5
	defs := []refdata.CaseTypeField{
		{ID: uuid.New(), Name: "people", DisplayName: "People", FieldType: refdata.FieldNumber,
			ValidationRule: &refdata.ValidationRule{Min: &one, Max: &hundred}},
		{ID: uuid.New(), Name: "amount", DisplayName: "Amount", FieldType: refdata.FieldDecimal},
		{ID: uuid.New(), Name: "filed", DisplayName: "Filed", FieldType: refdata.FieldBoolean},
		{ID: uuid.New(), Name: "when", DisplayName: "When", FieldType: refdata.FieldDate},
		{ID: uuid.New(), Name: "kind", DisplayName: "Kind", FieldType: refdata.FieldEnum,
			EnumOptions: []refdata.EnumOption{{Label: "Car", Value: "car"}}},
		{ID: uuid.New(), Name: "note", DisplayName: "Note", FieldType: refdata.FieldText,
			ValidationRule: &refdata.ValidationRule{MaxLength: &five}},
	}

	tests := []struct {
		field int
		in    string
		want  string
		ok    bool
	}{
		{0, "3", "3", true}, {0, " 7 ", "7", true}, {0, "0", "", false}, {0, "2.5", "", false}, {0, "many", "", false},
		{1, "12.50", "12.5", true}, {1, "NaN", "", false},
		{2, "TRUE", "true", true}, {2, "yes", "", false},
		{3, "2026-01-31", "2026-01-31", true}, {3, "31/01/2026", "", false},
		{4, "car", "car", true}, {4, "Car", "", false},
		{5, "short", "short", true}, {5, "too long", "", false},
	}
	for _, tt := range tests {
		got, err := normalizeCustomValue(defs[tt.field], tt.in)
		if !tt.ok {
			require.Error(t, err, "%s %q", defs[tt.field].Name, tt.in)
			continue
		}
		require.NoError(t, err, "%s %q", defs[tt.field].Name, tt.in)
		require.Equal(t, tt.want, got)
	}

	t.Run("ApplyMergesClearsAndNamesBadEntries", func(t *testing.T) {
		t.Parallel()
		stored := map[string]string{defs[0].ID.String(): "2", defs[2].ID.String(): "true"}
		out, err := applyCustomFields("body.customFields", defs, stored, []CustomFieldInput{
			{FieldID: defs[0].ID, Value: ptr.To("4")}, {FieldID: defs[2].ID},
		})
		require.NoError(t, err)
		require.Equal(t, map[string]string{defs[0].ID.String(): "4"}, out)
		require.Equal(t, "2", stored[defs[0].ID.String()], "the input map is not modified")

		_, err = applyCustomFields("body.customFields", defs, nil, []CustomFieldInput{
			{FieldID: defs[0].ID, Value: ptr.To("1")}, {FieldID: uuid.New(), Value: ptr.To("x")}, {FieldID: defs[4].ID, Value: ptr.To("bus")},
		})
		e, ok := apperr.As(err)
		require.True(t, ok)
		require.Equal(t, []apperr.FieldError{
			{Field: "body.customFields[1]", Message: "fieldId is not a field of the case's case type"},
			{Field: "body.customFields[2]", Message: "value must be one of the field's options"},
		}, e.Details)
	})

	t.Run("RenderListsEveryDefinedField", func(t *testing.T) {
		t.Parallel()
		got := renderCustomFields(defs, map[string]string{defs[1].ID.String(): "9.5", uuid.NewString(): "stale"})
		require.Len(t, got, len(defs))
		require.Nil(t, got[0].Value)
		require.Equal(t, "9.5", *got[1].Value)
		require.Equal(t, "DECIMAL", got[1].Type)
	})
}
