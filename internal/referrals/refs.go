package referrals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/refdata"
)

// Reference data is read through the caller's *db.Queries rather than refdata.Service (which
// reads through the pool): a transaction that needed a second connection of the pool could wait
// forever once every connection is held by such a transaction.

// caseType returns (and caches) the label and custom fields of a case type. Reference data never
// changes at run time.
func (s *Service) caseType(ctx context.Context, q *db.Queries, id uuid.UUID) (caseTypeInfo, error) {
	s.typesMu.Lock()
	info, ok := s.types[id]
	s.typesMu.Unlock()
	if ok {
		return info, nil
	}
	ct, err := q.CaseTypeGetByID(ctx, id)
	if err != nil {
		return caseTypeInfo{}, fmt.Errorf("case type %s: %w", id, err)
	}
	rows, err := q.CaseTypeFieldList(ctx, id)
	if err != nil {
		return caseTypeInfo{}, fmt.Errorf("case type %s fields: %w", id, err)
	}
	info = caseTypeInfo{label: ct.Name, fields: make([]refdata.CaseTypeField, 0, len(rows))}
	if ct.DisplayName != nil {
		info.label = *ct.DisplayName
	}
	for _, r := range rows {
		f := refdata.CaseTypeField{
			ID: r.ID, CaseTypeID: r.CaseTypeID, Name: r.Name, DisplayName: r.DisplayName,
			FieldType: r.FieldType, DisplayOrder: int(r.DisplayOrder), IsRequired: r.IsRequired,
		}
		if r.EnumOptions != nil {
			if err := json.Unmarshal(r.EnumOptions, &f.EnumOptions); err != nil {
				return caseTypeInfo{}, fmt.Errorf("case type field %s: %w", r.ID, err)
			}
		}
		if r.ValidationRule != nil {
			f.ValidationRule = new(refdata.ValidationRule)
			if err := json.Unmarshal(r.ValidationRule, f.ValidationRule); err != nil {
				return caseTypeInfo{}, fmt.Errorf("case type field %s: %w", r.ID, err)
			}
		}
		info.fields = append(info.fields, f)
	}
	s.typesMu.Lock()
	s.types[id] = info
	s.typesMu.Unlock()
	return info, nil
}

// resolvedRefs are the reference data a case names.
type resolvedRefs struct {
	caseTypeID   uuid.UUID
	jurisdiction string
	info         caseTypeInfo
}

// resolveRefs checks caseType (id, machine name or display name of an active type),
// jurisdiction (two-letter code) and county (full or short name, within the jurisdiction);
// unknown values become field errors in f. Empty values are skipped.
func (s *Service) resolveRefs(ctx context.Context, q *db.Queries, f *fieldChecker, caseType, jurisdiction string, county *string) (resolvedRefs, error) {
	var out resolvedRefs
	if key := strings.TrimSpace(caseType); key != "" {
		params := db.CaseTypeGetByNameOrIDParams{Key: key}
		if id, err := uuid.Parse(key); err == nil {
			params.ID = &id
		}
		ct, err := q.CaseTypeGetByNameOrID(ctx, params)
		switch {
		case errors.Is(err, pgx.ErrNoRows) || (err == nil && !ct.IsActive):
			f.add("body.caseType", "is not a known case type (see GET /case-types)")
		case err != nil:
			return out, fmt.Errorf("resolve case type: %w", err)
		default:
			out.caseTypeID = ct.ID
			if out.info, err = s.caseType(ctx, q, ct.ID); err != nil {
				return out, err
			}
		}
	}
	if code := strings.ToUpper(strings.TrimSpace(jurisdiction)); code != "" {
		j, err := q.JurisdictionGetByCode(ctx, code)
		switch {
		case errors.Is(err, pgx.ErrNoRows) || (err == nil && len(code) != 2):
			f.add("body.jurisdiction", "is not a known jurisdiction code (see GET /jurisdictions)")
		case err != nil:
			return out, fmt.Errorf("resolve jurisdiction: %w", err)
		default:
			out.jurisdiction = j.Code
		}
	}
	if county != nil && out.jurisdiction != "" {
		name := strings.TrimSpace(*county)
		switch {
		case utf8.RuneCountInString(*county) > maxCounty:
			f.add("body.county", fmt.Sprintf("must be at most %d characters", maxCounty))
		case name != "":
			_, err := q.CountyGetByJurisdictionAndName(ctx, db.CountyGetByJurisdictionAndNameParams{JurisdictionCode: out.jurisdiction, Name: name})
			if errors.Is(err, pgx.ErrNoRows) {
				f.add("body.county", "is not a county of the jurisdiction")
			} else if err != nil {
				return out, fmt.Errorf("resolve county: %w", err)
			}
		}
	}
	return out, nil
}
