package httpapi

import (
	"context"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/network"
)

// GetOutboundNetworkFirmDetail shows a firm as a destination of the caller's referrals.
func (s *Server) GetOutboundNetworkFirmDetail(ctx context.Context, req api.GetOutboundNetworkFirmDetailRequestObject) (api.GetOutboundNetworkFirmDetailResponseObject, error) {
	d, err := s.Network.Outbound(ctx, PrincipalFrom(ctx).FirmID, req.FirmId)
	if err != nil {
		return nil, err
	}
	return api.GetOutboundNetworkFirmDetail200JSONResponse{Body: networkDetailResponse(ctx, d)}, nil
}

// UpsertOutboundNetworkRelationship creates (201) or replaces (200) the caller's outbound
// relationship with a firm.
func (s *Server) UpsertOutboundNetworkRelationship(ctx context.Context, req api.UpsertOutboundNetworkRelationshipRequestObject) (api.UpsertOutboundNetworkRelationshipResponseObject, error) {
	d, created, err := s.Network.ReplaceOutbound(ctx, PrincipalFrom(ctx).FirmID, req.FirmId, senderSettings(req.Body))
	if err != nil {
		return nil, err
	}
	if created {
		return api.UpsertOutboundNetworkRelationship201JSONResponse{Body: networkDetailResponse(ctx, d)}, nil
	}
	return api.UpsertOutboundNetworkRelationship200JSONResponse{Body: networkDetailResponse(ctx, d)}, nil
}

// UpdateOutboundNetworkRelationship changes some of the caller's settings on an outbound
// relationship.
func (s *Server) UpdateOutboundNetworkRelationship(ctx context.Context, req api.UpdateOutboundNetworkRelationshipRequestObject) (api.UpdateOutboundNetworkRelationshipResponseObject, error) {
	d, err := s.Network.UpdateOutbound(ctx, PrincipalFrom(ctx).FirmID, req.FirmId, senderSettings(req.Body))
	if err != nil {
		return nil, err
	}
	return api.UpdateOutboundNetworkRelationship200JSONResponse{Body: networkDetailResponse(ctx, d)}, nil
}

// GetInboundNetworkFirmDetail shows a firm as a source of referrals to the caller.
func (s *Server) GetInboundNetworkFirmDetail(ctx context.Context, req api.GetInboundNetworkFirmDetailRequestObject) (api.GetInboundNetworkFirmDetailResponseObject, error) {
	d, err := s.Network.Inbound(ctx, PrincipalFrom(ctx).FirmID, req.FirmId)
	if err != nil {
		return nil, err
	}
	return api.GetInboundNetworkFirmDetail200JSONResponse{Body: networkDetailResponse(ctx, d)}, nil
}

// UpdateInboundNetworkRelationship accepts, pauses or annotates a relationship in which a firm
// sends cases to the caller.
func (s *Server) UpdateInboundNetworkRelationship(ctx context.Context, req api.UpdateInboundNetworkRelationshipRequestObject) (api.UpdateInboundNetworkRelationshipResponseObject, error) {
	var in network.ReceiverUpdate
	if b := req.Body; b != nil {
		in.Description = b.Description
		in.ReferralInstructions = b.ReferralInstructions
		if b.Status != nil {
			st := string(*b.Status)
			in.Status = &st
		}
	}
	d, err := s.Network.UpdateInbound(ctx, PrincipalFrom(ctx).FirmID, req.FirmId, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateInboundNetworkRelationship200JSONResponse{Body: networkDetailResponse(ctx, d)}, nil
}

// ListPendingNetworkRelationships lists the caller's relationships waiting for acceptance.
func (s *Server) ListPendingNetworkRelationships(ctx context.Context, _ api.ListPendingNetworkRelationshipsRequestObject) (api.ListPendingNetworkRelationshipsResponseObject, error) {
	ps, err := s.Network.Pending(ctx, PrincipalFrom(ctx).FirmID)
	if err != nil {
		return nil, err
	}
	data := make([]api.PendingRelationship, 0, len(ps))
	for _, p := range ps {
		data = append(data, api.PendingRelationship{
			FirmId:        p.FirmID,
			FirmName:      p.FirmName,
			RequestedDate: p.RequestedAt.UTC(),
			Direction:     api.PendingRelationshipDirection(p.Direction),
		})
	}
	return api.ListPendingNetworkRelationships200JSONResponse{Body: api.PendingRelationshipListResponse{Data: data, Meta: meta(ctx)}}, nil
}

func senderSettings(b *api.OutboundRelationshipInput) network.SenderSettings {
	if b == nil {
		return network.SenderSettings{}
	}
	in := network.SenderSettings{
		Description:            b.Description,
		DaysForUnderEvaluation: b.DaysForUnderEvaluation,
		DaysForInvestigating:   b.DaysForInvestigating,
	}
	if b.SendingPercentage != nil {
		p := float64(*b.SendingPercentage)
		in.SendingPercentage = &p
	}
	return in
}

func networkDetailResponse(ctx context.Context, d network.Detail) api.NetworkFirmDetailResponse {
	out := api.NetworkFirmDetail{
		FirmId:                      d.Firm.ID,
		FirmName:                    d.Firm.Name,
		Jurisdictions:               d.Firm.Jurisdictions,
		CaseTypes:                   d.Firm.CaseTypes,
		GeneralReferralInstructions: d.Firm.GeneralReferralInstructions,
		InNetwork:                   d.InNetwork(),
	}
	if r := d.Relationship; r != nil {
		rel := api.NetworkRelationship{
			Description:            d.Description(),
			DaysForUnderEvaluation: r.DaysForUnderEvaluation,
			DaysForInvestigating:   r.DaysForInvestigating,
			ReferralInstructions:   r.ReferralInstructions,
			Status:                 api.NetworkRelationshipStatus(r.Status),
			CreatedAt:              r.CreatedAt.UTC(),
			UpdatedAt:              r.UpdatedAt.UTC(),
		}
		if r.SendingPercentage != nil {
			p := float32(*r.SendingPercentage)
			rel.SendingPercentage = &p
		}
		out.Relationship = &rel
	}
	return api.NetworkFirmDetailResponse{Data: out, Meta: meta(ctx)}
}
