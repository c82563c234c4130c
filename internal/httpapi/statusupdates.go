package httpapi

import (
	"context"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/referrals"
)

// ListAllStatusUpdates lists the feed of the caller's referrals, for browsing or polling.
func (s *Server) ListAllStatusUpdates(ctx context.Context, req api.ListAllStatusUpdatesRequestObject) (api.ListAllStatusUpdatesResponseObject, error) {
	p := req.Params
	pg := refPage(p.Page, p.Limit)
	fq := referrals.FeedQuery{
		DateFrom: p.DateFrom, DateTo: p.DateTo, Since: p.UpdatedSince, Before: p.UpdatedBefore,
		Cursor: strOf(p.Cursor), Page: pg,
	}
	if p.Status != nil {
		st := referrals.Status(*p.Status)
		fq.Status = &st
	}
	if p.Source != nil {
		src := string(*p.Source)
		fq.Source = &src
	}
	res, err := s.Referrals.Feed(ctx, actorOf(ctx), fq)
	if err != nil {
		return nil, err
	}
	return api.ListAllStatusUpdates200JSONResponse{Body: api.PublicStatusUpdateListResponse{
		Data: statusUpdateDTOs(res.Items), Pagination: pagination(pg.Page, pg.Limit, int64(res.Total)),
		NextCursor: res.NextCursor, Meta: meta(ctx),
	}}, nil
}

// LookupStatusUpdates lists every entry of one referral or case.
func (s *Server) LookupStatusUpdates(ctx context.Context, req api.LookupStatusUpdatesRequestObject) (api.LookupStatusUpdatesResponseObject, error) {
	us, err := s.Referrals.Lookup(ctx, actorOf(ctx), req.Params.Id)
	if err != nil {
		return nil, err
	}
	return api.LookupStatusUpdates200JSONResponse{Body: api.PublicStatusUpdateLookupResponse{Data: statusUpdateDTOs(us), Meta: meta(ctx)}}, nil
}

// SendMessage writes a message to the partner firm of a referral.
func (s *Server) SendMessage(ctx context.Context, req api.SendMessageRequestObject) (api.SendMessageResponseObject, error) {
	var in referrals.MessageInput
	if b := req.Body; b != nil {
		in = referrals.MessageInput{Key: b.Id, Message: b.Message}
		if b.RequestedStatus != nil {
			st := referrals.Status(*b.RequestedStatus)
			in.RequestedStatus = &st
		}
	}
	u, err := s.Referrals.SendMessage(ctx, actorOf(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.SendMessage201JSONResponse{Body: api.PublicStatusUpdateResponse{Data: statusUpdateDTO(u), Meta: meta(ctx)}}, nil
}
