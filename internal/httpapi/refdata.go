package httpapi

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/refdata"
)

// ListCaseTypes lists the active case types by display name.
func (s *Server) ListCaseTypes(ctx context.Context, _ api.ListCaseTypesRequestObject) (api.ListCaseTypesResponseObject, error) {
	types, err := s.RefData.ListCaseTypes(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(types, func(a, b refdata.CaseType) int {
		return cmp.Compare(strings.ToLower(a.Label()), strings.ToLower(b.Label()))
	})
	out := make([]api.CaseType, 0, len(types))
	for _, t := range types {
		out = append(out, api.CaseType{
			Id:          t.ID,
			Name:        t.Name,
			DisplayName: t.DisplayName,
			Explanation: t.Explanation,
			Category:    nilIfBlank(t.Category),
		})
	}
	return api.ListCaseTypes200JSONResponse{Body: api.CaseTypeListResponse{Data: out, Meta: meta(ctx)}}, nil
}

// ListJurisdictions lists every jurisdiction by code.
func (s *Server) ListJurisdictions(ctx context.Context, _ api.ListJurisdictionsRequestObject) (api.ListJurisdictionsResponseObject, error) {
	js, err := s.RefData.ListJurisdictions(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(js, func(a, b refdata.Jurisdiction) int { return cmp.Compare(a.Code, b.Code) })
	out := make([]api.Jurisdiction, 0, len(js))
	for _, j := range js {
		out = append(out, api.Jurisdiction{Code: j.Code, Name: j.Name})
	}
	return api.ListJurisdictions200JSONResponse{Body: api.JurisdictionListResponse{Data: out, Meta: meta(ctx)}}, nil
}

// ListCounties lists counties by jurisdiction code, then name, optionally only those of the
// jurisdictions in jurisdictionCodes.
func (s *Server) ListCounties(ctx context.Context, req api.ListCountiesRequestObject) (api.ListCountiesResponseObject, error) {
	var f refdata.CountyFilter
	if req.Params.JurisdictionCodes != nil {
		f.JurisdictionCodes = refdata.SplitCodes(*req.Params.JurisdictionCodes)
	}
	page, err := s.RefData.ListCounties(ctx, f)
	if err != nil {
		return nil, prefixFields(err, "query.", nil)
	}
	// The domain follows the order of the requested codes; the contract orders by code. The sort
	// is stable, so names stay in order within a jurisdiction.
	slices.SortStableFunc(page.Counties, func(a, b refdata.County) int {
		return cmp.Compare(a.JurisdictionCode, b.JurisdictionCode)
	})
	out := make([]api.County, 0, len(page.Counties))
	for _, c := range page.Counties {
		out = append(out, api.County{Id: c.ID, Name: c.Name, JurisdictionCode: c.JurisdictionCode})
	}
	return api.ListCounties200JSONResponse{Body: api.CountyListResponse{Data: out, Meta: meta(ctx)}}, nil
}

// ListCaseTypeFields lists the custom field definitions of an active case type.
func (s *Server) ListCaseTypeFields(ctx context.Context, req api.ListCaseTypeFieldsRequestObject) (api.ListCaseTypeFieldsResponseObject, error) {
	// GetCaseType rejects inactive types, which the contract treats as absent.
	if _, err := s.RefData.GetCaseType(ctx, req.CaseTypeId); err != nil {
		return nil, err
	}
	fields, err := s.RefData.ListCaseTypeFields(ctx, req.CaseTypeId)
	if err != nil {
		return nil, err
	}
	out := make([]api.CaseTypeFieldDefinition, 0, len(fields))
	for _, f := range fields {
		d := api.CaseTypeFieldDefinition{
			Id:           f.ID,
			CaseTypeId:   f.CaseTypeID,
			Name:         f.Name,
			DisplayName:  f.DisplayName,
			FieldType:    api.CaseTypeFieldDefinitionFieldType(f.FieldType),
			DisplayOrder: f.DisplayOrder,
			IsRequired:   f.IsRequired,
		}
		if f.EnumOptions != nil {
			opts := make([]api.CaseTypeFieldEnumOption, 0, len(f.EnumOptions))
			for _, o := range f.EnumOptions {
				opts = append(opts, api.CaseTypeFieldEnumOption{Label: o.Label, Value: o.Value})
			}
			d.EnumOptions = &opts
		}
		if r := f.ValidationRule; r != nil {
			d.ValidationRule = &api.CaseTypeFieldValidationRule{Min: float32Ptr(r.Min), Max: float32Ptr(r.Max), MaxLength: r.MaxLength}
		}
		out = append(out, d)
	}
	return api.ListCaseTypeFields200JSONResponse{Body: api.CaseTypeFieldListResponse{Data: out, Meta: meta(ctx)}}, nil
}

func float32Ptr(f *float64) *float32 {
	if f == nil {
		return nil
	}
	v := float32(*f)
	return &v
}
