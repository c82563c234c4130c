package refdata

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
)

// interpret turns "no rows" into a not-found error for what; other errors are wrapped as is.
func interpret(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.NotFound(what)
	}
	return fmt.Errorf("get %s: %w", what, err)
}

func mapSlice[R, T any](rows []R, f func(R) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}

func caseTypeFromRow(r db.CaseType) CaseType {
	return CaseType{
		ID:          r.ID,
		Name:        r.Name,
		DisplayName: r.DisplayName,
		Explanation: r.Explanation,
		Category:    r.TypeCategory,
		IsActive:    r.IsActive,
	}
}

func caseTypeFieldFromRow(r db.CaseTypeField) (CaseTypeField, error) {
	f := CaseTypeField{
		ID:           r.ID,
		CaseTypeID:   r.CaseTypeID,
		Name:         r.Name,
		DisplayName:  r.DisplayName,
		FieldType:    r.FieldType,
		DisplayOrder: int(r.DisplayOrder),
		IsRequired:   r.IsRequired,
	}
	if r.EnumOptions != nil {
		if err := json.Unmarshal(r.EnumOptions, &f.EnumOptions); err != nil {
			return CaseTypeField{}, fmt.Errorf("case type field %s: enum options: %w", r.ID, err)
		}
	}
	if r.ValidationRule != nil {
		f.ValidationRule = new(ValidationRule)
		if err := json.Unmarshal(r.ValidationRule, f.ValidationRule); err != nil {
			return CaseTypeField{}, fmt.Errorf("case type field %s: validation rule: %w", r.ID, err)
		}
	}
	return f, nil
}

func jurisdictionFromRow(r db.Jurisdiction) Jurisdiction {
	return Jurisdiction{Code: r.Code, Name: r.Name, FIPSCode: r.FipsCode, Kind: r.Kind}
}

func countyFromRow(r db.County) County {
	return County{
		ID:               r.ID,
		Name:             r.Name,
		ShortName:        r.ShortName,
		JurisdictionCode: r.JurisdictionCode,
		FIPSCode:         r.FipsCode,
	}
}
