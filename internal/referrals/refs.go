package referrals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
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
		id, ok, err := s.resolveCaseType(ctx, q, key)
		switch {
		case err != nil:
			return out, err
		case !ok:
			f.add("body.caseType", "is not a known case type (see GET /case-types)")
		default:
			out.caseTypeID = id
			if out.info, err = s.caseType(ctx, q, id); err != nil {
				return out, err
			}
		}
	}
	if code := strings.ToUpper(strings.TrimSpace(jurisdiction)); code != "" {
		j, ok, err := s.resolveJurisdiction(ctx, q, code)
		switch {
		case err != nil:
			return out, err
		case !ok:
			f.add("body.jurisdiction", "is not a known jurisdiction code (see GET /jurisdictions)")
		default:
			out.jurisdiction = j
		}
	}
	if county != nil && out.jurisdiction != "" {
		name := strings.TrimSpace(*county)
		switch {
		case utf8.RuneCountInString(*county) > maxCounty:
			f.add("body.county", fmt.Sprintf("must be at most %d characters", maxCounty))
		case name != "":
			ok, err := s.countyExists(ctx, q, out.jurisdiction, name)
			if err != nil {
				return out, err
			}
			if !ok {
				f.add("body.county", "is not a county of the jurisdiction")
			}
		}
	}
	return out, nil
}

// refMemo remembers the reference data lookups that found something, so that a bulk import
// resolves each case type, jurisdiction and county once rather than once per case. Misses are
// not kept (they are errors, and unbounded).
type refMemo struct {
	mu            sync.Mutex
	caseTypes     map[string]uuid.UUID // lookup key -> active case type
	jurisdictions map[string]string    // upper-cased code -> code
	counties      map[string]bool      // "<code>/<lower-cased name>" -> exists
}

func memoGet[V any](m *refMemo, table map[string]V, key string) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := table[key]
	return v, ok
}

func memoPut[V any](m *refMemo, table map[string]V, key string, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	table[key] = v
}

// resolveCaseType finds the active case type key names (id, machine name or display name).
func (s *Service) resolveCaseType(ctx context.Context, q *db.Queries, key string) (uuid.UUID, bool, error) {
	if id, ok := memoGet(&s.refs, s.refs.caseTypes, key); ok {
		return id, true, nil
	}
	params := db.CaseTypeGetByNameOrIDParams{Key: key}
	if id, err := uuid.Parse(key); err == nil {
		params.ID = &id
	}
	ct, err := q.CaseTypeGetByNameOrID(ctx, params)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || (err == nil && !ct.IsActive):
		return uuid.Nil, false, nil
	case err != nil:
		return uuid.Nil, false, fmt.Errorf("resolve case type: %w", err)
	}
	memoPut(&s.refs, s.refs.caseTypes, key, ct.ID)
	return ct.ID, true, nil
}

// resolveJurisdiction finds the jurisdiction of an upper-cased two-letter code.
func (s *Service) resolveJurisdiction(ctx context.Context, q *db.Queries, code string) (string, bool, error) {
	if j, ok := memoGet(&s.refs, s.refs.jurisdictions, code); ok {
		return j, true, nil
	}
	if len(code) != 2 {
		return "", false, nil
	}
	j, err := q.JurisdictionGetByCode(ctx, code)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("resolve jurisdiction: %w", err)
	}
	memoPut(&s.refs, s.refs.jurisdictions, code, j.Code)
	return j.Code, true, nil
}

// countyExists reports whether name (full or short, any case) is a county of the jurisdiction.
func (s *Service) countyExists(ctx context.Context, q *db.Queries, code, name string) (bool, error) {
	key := code + "/" + strings.ToLower(name)
	if _, ok := memoGet(&s.refs, s.refs.counties, key); ok {
		return true, nil
	}
	_, err := q.CountyGetByJurisdictionAndName(ctx, db.CountyGetByJurisdictionAndNameParams{JurisdictionCode: code, Name: name})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("resolve county: %w", err)
	}
	memoPut(&s.refs, s.refs.counties, key, true)
	return true, nil
}
