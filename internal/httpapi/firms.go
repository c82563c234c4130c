package httpapi

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/firms"
)

// The directory page size defaults to the maximum so that clients that do not paginate see a
// whole directory of up to 100 firms.
const directoryDefaultLimit = 100

// ListFirmDirectory lists the active firms listed in the directory, by name.
func (s *Server) ListFirmDirectory(ctx context.Context, req api.ListFirmDirectoryRequestObject) (api.ListFirmDirectoryResponseObject, error) {
	q := req.Params
	in := firms.DirectoryQuery{Page: 1, Limit: directoryDefaultLimit}
	if q.Page != nil {
		in.Page = *q.Page
	}
	if q.Limit != nil {
		in.Limit = *q.Limit
	}
	if q.Search != nil {
		in.Search = *q.Search
	}
	if q.Jurisdiction != nil {
		in.Jurisdiction = *q.Jurisdiction
	}
	for _, v := range []*string{q.CaseType, q.Specialty} {
		if v != nil {
			in.CaseTypes = append(in.CaseTypes, *v)
		}
	}
	res, err := s.Firms.Directory(ctx, in)
	if err != nil {
		return nil, prefixFields(err, "query.", nil)
	}
	data, err := s.apiFirms(ctx, res.Firms)
	if err != nil {
		return nil, err
	}
	return api.ListFirmDirectory200JSONResponse{Body: api.FirmListResponse{
		Data:       data,
		Pagination: pagination(res.Page, res.Limit, int64(res.Total)),
		Meta:       meta(ctx),
	}}, nil
}

// GetOwnFirm returns the firm of the calling API key.
func (s *Server) GetOwnFirm(ctx context.Context, _ api.GetOwnFirmRequestObject) (api.GetOwnFirmResponseObject, error) {
	p, err := keyPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	f, err := s.Firms.Get(ctx, p.FirmID)
	if err != nil {
		return nil, err
	}
	out, err := s.apiFirm(ctx, f)
	if err != nil {
		return nil, err
	}
	return api.GetOwnFirm200JSONResponse{Body: api.FirmResponse{Data: out, Meta: meta(ctx)}}, nil
}

// firmFieldNames maps the domain's field names to the request's.
var firmFieldNames = map[string]string{
	"generalReferralInstructions": "referralInstructions",
	"caseTypeIds":                 "caseTypes",
}

// UpdateOwnFirm changes the profile of the calling key's firm; only the fields present change.
// Jurisdiction codes must exist and case types may be given by name, display name or id.
func (s *Server) UpdateOwnFirm(ctx context.Context, req api.UpdateOwnFirmRequestObject) (api.UpdateOwnFirmResponseObject, error) {
	p, err := keyPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	b := req.Body
	f, err := s.Firms.UpdateOwnProfile(ctx, p.FirmID, firms.ProfileChange{
		Update: firms.Update{
			Name:                        b.Name,
			Phone:                       b.Phone,
			Address:                     b.Address,
			City:                        b.City,
			State:                       b.State,
			Zip:                         b.Zip,
			Website:                     b.Website,
			Description:                 b.Description,
			GeneralReferralInstructions: b.ReferralInstructions,
		},
		JurisdictionCodes: b.Jurisdictions,
		CaseTypes:         b.CaseTypes,
	})
	if err != nil {
		return nil, prefixFields(err, "body.", firmFieldNames)
	}
	out, err := s.apiFirm(ctx, f)
	if err != nil {
		return nil, err
	}
	return api.UpdateOwnFirm200JSONResponse{Body: api.FirmResponse{Data: out, Meta: meta(ctx)}}, nil
}

// GetFirmById returns any active firm.
func (s *Server) GetFirmById(ctx context.Context, req api.GetFirmByIdRequestObject) (api.GetFirmByIdResponseObject, error) {
	f, err := s.Firms.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	if !f.IsActive {
		return nil, apperr.NotFound("firm")
	}
	out, err := s.apiFirm(ctx, f)
	if err != nil {
		return nil, err
	}
	return api.GetFirmById200JSONResponse{Body: api.FirmResponse{Data: out, Meta: meta(ctx)}}, nil
}

// keyPrincipalFrom returns the caller of a Public API request.
func keyPrincipalFrom(ctx context.Context) (*Principal, error) {
	p := PrincipalFrom(ctx)
	if p == nil || p.FirmID == uuid.Nil {
		return nil, apperr.Unauthenticated("invalid_api_key", "Missing X-API-Key header")
	}
	return p, nil
}

func (s *Server) apiFirm(ctx context.Context, f firms.Firm) (api.Firm, error) {
	out, err := s.apiFirms(ctx, []firms.Firm{f})
	if err != nil {
		return api.Firm{}, err
	}
	return out[0], nil
}

// apiFirms converts firms, naming their case types by display name with one lookup for all.
func (s *Server) apiFirms(ctx context.Context, fs []firms.Firm) ([]api.Firm, error) {
	var ids []uuid.UUID
	for _, f := range fs {
		for _, id := range f.CaseTypeIDs {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	labels := map[uuid.UUID]string{}
	if len(ids) > 0 {
		types, err := s.RefData.CaseTypesByIDs(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, t := range types {
			labels[t.ID] = t.Label()
		}
	}
	out := make([]api.Firm, 0, len(fs))
	for _, f := range fs {
		caseTypes := make([]string, 0, len(f.CaseTypeIDs))
		for _, id := range f.CaseTypeIDs {
			if l, ok := labels[id]; ok {
				caseTypes = append(caseTypes, l)
			}
		}
		jurisdictions := f.Jurisdictions
		if jurisdictions == nil {
			jurisdictions = []string{}
		}
		out = append(out, api.Firm{
			Id:                   f.ID,
			Name:                 f.Name,
			Phone:                f.Phone,
			Address:              f.Address,
			City:                 f.City,
			State:                f.State,
			Zip:                  f.Zip,
			Website:              f.Website,
			IsInternal:           f.IsInternal,
			Description:          f.Description,
			ReferralInstructions: f.GeneralReferralInstructions,
			Jurisdictions:        jurisdictions,
			CaseTypes:            caseTypes,
			ListedInDirectory:    f.IsPublic,
			CreatedAt:            f.CreatedAt.UTC(),
			UpdatedAt:            f.UpdatedAt.UTC(),
		})
	}
	return out, nil
}
