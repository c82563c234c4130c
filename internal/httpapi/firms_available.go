package httpapi

import (
	"context"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/network"
)

// ListAvailableFirms lists the firms the caller can refer to: its active network merged with
// the public directory.
func (s *Server) ListAvailableFirms(ctx context.Context, req api.ListAvailableFirmsRequestObject) (api.ListAvailableFirmsResponseObject, error) {
	p := req.Params
	in := network.AvailableQuery{}
	if p.Source != nil {
		in.Source = string(*p.Source)
	}
	if p.Search != nil {
		in.Search = *p.Search
	}
	if p.Jurisdiction != nil {
		in.Jurisdiction = *p.Jurisdiction
	}
	if p.CaseType != nil {
		in.CaseType = *p.CaseType
	}
	if p.Page != nil {
		in.Page = *p.Page
	}
	if p.Limit != nil {
		in.Limit = *p.Limit
	}
	if p.Cursor != nil {
		in.Cursor = *p.Cursor
	}
	res, err := s.Network.Available(ctx, PrincipalFrom(ctx).FirmID, in)
	if err != nil {
		return nil, err
	}
	data := make([]api.AvailableFirm, 0, len(res.Firms))
	for _, f := range res.Firms {
		data = append(data, api.AvailableFirm{
			Id:                   f.ID,
			Name:                 f.Name,
			Description:          f.Description,
			Jurisdictions:        f.Jurisdictions,
			CaseTypes:            f.CaseTypes,
			ReferralInstructions: f.ReferralInstructions,
			Source:               api.AvailableFirmSource(f.Source),
		})
	}
	pag := pagination(res.Page, res.Limit, int64(res.Total))
	pag.NextCursor = res.NextCursor
	return api.ListAvailableFirms200JSONResponse{Body: api.AvailableFirmListResponse{
		Data:       data,
		Pagination: pag,
		Meta:       meta(ctx),
	}}, nil
}
