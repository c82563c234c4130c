package httpapi

import (
	"context"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/referrals"
)

// The record ids a sending firm keeps on a case (Salesforce, other CMS) are its own; the
// receiving side shows none (cmsId and salesforceId are null).

func receivedListItem(v referrals.ReferralView) api.ReceivedReferralListItem {
	r := v.Referral
	ref := r.ReferenceNumber
	return api.ReceivedReferralListItem{
		Id: r.ID, BaseCaseId: r.BaseCaseID, ReferenceNumber: &ref,
		SendingFirmId: r.ReferringFirmID, SendingFirmName: &v.Referral.ReferringFirmName,
		Status: api.LifecycleStatus(r.Status), ClosingStatus: enumOf[api.ReceivedReferralListItemClosingStatus](r.ClosingStatus),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func receivedDetail(v referrals.ReferralView) api.ReceivedReferralDetail {
	r, c := v.Referral, v.Case
	ref := r.ReferenceNumber
	return api.ReceivedReferralDetail{
		Id:                             r.ID,
		BaseCaseId:                     r.BaseCaseID,
		ReferenceNumber:                &ref,
		SequenceNumber:                 r.SequenceNumber,
		Status:                         api.LifecycleStatus(r.Status),
		ClosingStatus:                  enumOf[api.ReceivedReferralDetailClosingStatus](r.ClosingStatus),
		ClosureReason:                  r.ClosureReason,
		SendingFirmId:                  r.ReferringFirmID,
		SendingFirmName:                &v.Referral.ReferringFirmName,
		ReceivingFirmId:                r.ReferentFirmID,
		Title:                          &v.Case.Title,
		Description:                    c.Description,
		CaseType:                       &v.Case.CaseType,
		Jurisdiction:                   &v.Case.Jurisdiction,
		County:                         c.County,
		ClientFirstName:                c.ClientFirstName,
		ClientLastName:                 c.ClientLastName,
		ClientEmail:                    c.ClientEmail,
		ClientPhone:                    c.ClientPhone,
		ClientDateOfBirth:              c.ClientDateOfBirth,
		IncidentDate:                   c.IncidentDate,
		Notes:                          r.Notes,
		Tier:                           c.Tier,
		RatedTier:                      r.RatedTier,
		RatingNotes:                    r.RatingNotes,
		SettlementAmount:               r.SettlementAmount,
		AttorneyFees:                   r.AttorneyFees,
		LeadAttorneyName:               r.LeadAttorneyName,
		ClientFeeAgreementPercentage:   r.ClientFeeAgreementPercentage,
		SendingFirmPercentage:          r.SendingFirmPercentage,
		ProjectedSettlementAmount:      r.ProjectedSettlementAmount,
		EstimatedDateOfResolution:      r.EstimatedDateOfResolution,
		EstimatedDistributionDate:      r.EstimatedDistributionDate,
		StatuteOfLimitationsExpiration: r.StatuteOfLimitationsExpiration,
		Phase:                          r.Phase,
		IsRetainerSigned:               r.IsRetainerSigned,
		PiiMasked:                      v.Masked,
		AcknowledgedAt:                 r.AcknowledgedAt,
		CustomFields:                   customFieldDTOs(c.CustomFields),
		CreatedAt:                      r.CreatedAt,
		UpdatedAt:                      r.UpdatedAt,
	}
}

func receivedResponse(ctx context.Context, v referrals.ReferralView) api.ReceivedReferralResponse {
	return api.ReceivedReferralResponse{Data: receivedDetail(v), Meta: meta(ctx)}
}

func refTransitionInput(b *api.ReceivedReferralTransitionBody) referrals.ActionInput {
	if b == nil {
		return referrals.ActionInput{}
	}
	return referrals.ActionInput{Message: b.Message}
}

// ListReceivedReferrals lists the referrals addressed to the caller's firm.
func (s *Server) ListReceivedReferrals(ctx context.Context, req api.ListReceivedReferralsRequestObject) (api.ListReceivedReferralsResponseObject, error) {
	p := req.Params
	pg := refPage(p.Page, p.Limit)
	res, err := s.Referrals.ListReceived(ctx, actorOf(ctx), referrals.ReceivedQuery{
		Status: lifecycleQuery(p.Status), Search: strOf(p.Search), Sort: strOf(p.Sort),
		Ascending: strOf(p.Order) == "asc", Page: pg, Cursor: strOf(p.Cursor),
	})
	if err != nil {
		return nil, err
	}
	data := make([]api.ReceivedReferralListItem, len(res.Items))
	for i, v := range res.Items {
		data[i] = receivedListItem(v)
	}
	return api.ListReceivedReferrals200JSONResponse{Body: api.ReceivedReferralListResponse{
		Data: data, Pagination: referralPagination(pg, res), Meta: meta(ctx),
	}}, nil
}

// GetReceivedReferral returns a referral addressed to the caller's firm.
func (s *Server) GetReceivedReferral(ctx context.Context, req api.GetReceivedReferralRequestObject) (api.GetReceivedReferralResponseObject, error) {
	v, err := s.Referrals.GetReferral(ctx, actorOf(ctx), selReceived(req.Id))
	if err != nil {
		return nil, err
	}
	return api.GetReceivedReferral200JSONResponse{Body: receivedResponse(ctx, v)}, nil
}

// PatchReceivedReferral changes receiving-firm fields of a referral.
func (s *Server) PatchReceivedReferral(ctx context.Context, req api.PatchReceivedReferralRequestObject) (api.PatchReceivedReferralResponseObject, error) {
	var p referrals.ReferralPatch
	if b := req.Body; b != nil {
		p = referrals.ReferralPatch{
			Notes: optField(ctx, "notes", b.Notes), Phase: optField(ctx, "phase", b.Phase), LeadAttorneyName: optField(ctx, "leadAttorneyName", b.LeadAttorneyName),
			RatedTier: optField(ctx, "ratedTier", b.RatedTier), RatingNotes: optField(ctx, "ratingNotes", b.RatingNotes),
			SettlementAmount: optField(ctx, "settlementAmount", b.SettlementAmount), AttorneyFees: optField(ctx, "attorneyFees", b.AttorneyFees),
			ProjectedSettlementAmount:      optField(ctx, "projectedSettlementAmount", b.ProjectedSettlementAmount),
			ClientFeeAgreementPercentage:   optField(ctx, "clientFeeAgreementPercentage", b.ClientFeeAgreementPercentage),
			SendingFirmPercentage:          optField(ctx, "sendingFirmPercentage", b.SendingFirmPercentage),
			StatuteOfLimitationsExpiration: optField(ctx, "statuteOfLimitationsExpiration", b.StatuteOfLimitationsExpiration),
			EstimatedDateOfResolution:      optField(ctx, "estimatedDateOfResolution", b.EstimatedDateOfResolution),
			EstimatedDistributionDate:      optField(ctx, "estimatedDistributionDate", b.EstimatedDistributionDate),
		}
		p.CustomFields, p.SetCustomFields = customFieldInputs(b.CustomFields)
	}
	v, err := s.Referrals.PatchReceivedReferral(ctx, actorOf(ctx), selReceived(req.Id), p)
	if err != nil {
		return nil, err
	}
	return api.PatchReceivedReferral200JSONResponse{Body: receivedResponse(ctx, v)}, nil
}

// GetReceivedReferralAvailableStatuses lists what the receiving firm may do next.
func (s *Server) GetReceivedReferralAvailableStatuses(ctx context.Context, req api.GetReceivedReferralAvailableStatusesRequestObject) (api.GetReceivedReferralAvailableStatusesResponseObject, error) {
	av, err := s.Referrals.ReceivedAvailability(ctx, actorOf(ctx), selReceived(req.Id))
	if err != nil {
		return nil, err
	}
	return api.GetReceivedReferralAvailableStatuses200JSONResponse{Body: availabilityResponse(ctx, av)}, nil
}

// AcknowledgeReceivedReferral moves a received referral from sent to under_evaluation.
func (s *Server) AcknowledgeReceivedReferral(ctx context.Context, req api.AcknowledgeReceivedReferralRequestObject) (api.AcknowledgeReceivedReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selReceived(req.Id), referrals.ActionAcknowledge, referrals.ActionInput{})
	if err != nil {
		return nil, err
	}
	return api.AcknowledgeReceivedReferral200JSONResponse{Body: receivedResponse(ctx, v)}, nil
}

// BeginInvestigatingReceivedReferral moves a received referral to investigating.
func (s *Server) BeginInvestigatingReceivedReferral(ctx context.Context, req api.BeginInvestigatingReceivedReferralRequestObject) (api.BeginInvestigatingReceivedReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selReceived(req.Id), referrals.ActionBeginInvestigating, refTransitionInput(req.Body))
	if err != nil {
		return nil, err
	}
	return api.BeginInvestigatingReceivedReferral200JSONResponse{Body: receivedResponse(ctx, v)}, nil
}

// SignReceivedReferral records a signed retainer on a received referral.
func (s *Server) SignReceivedReferral(ctx context.Context, req api.SignReceivedReferralRequestObject) (api.SignReceivedReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selReceived(req.Id), referrals.ActionSign, refTransitionInput(req.Body))
	if err != nil {
		return nil, err
	}
	return api.SignReceivedReferral200JSONResponse{Body: receivedResponse(ctx, v)}, nil
}

// StartLitigationReceivedReferral moves a received referral to in_litigation.
func (s *Server) StartLitigationReceivedReferral(ctx context.Context, req api.StartLitigationReceivedReferralRequestObject) (api.StartLitigationReceivedReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selReceived(req.Id), referrals.ActionStartLitigation, refTransitionInput(req.Body))
	if err != nil {
		return nil, err
	}
	return api.StartLitigationReceivedReferral200JSONResponse{Body: receivedResponse(ctx, v)}, nil
}

// CloseReceivedReferral closes a received referral with an outcome.
func (s *Server) CloseReceivedReferral(ctx context.Context, req api.CloseReceivedReferralRequestObject) (api.CloseReceivedReferralResponseObject, error) {
	var in referrals.ActionInput
	if b := req.Body; b != nil {
		in = referrals.ActionInput{
			ClosingStatus: string(b.ClosingStatus), ClosureReason: b.ClosureReason, ClosingNotes: b.ClosingNotes,
			SettlementAmount: b.SettlementAmount, AttorneyFees: b.AttorneyFees,
			ClientFeeAgreementPercentage: b.ClientFeeAgreementPercentage, SendingFirmPercentage: b.SendingFirmPercentage,
		}
	}
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selReceived(req.Id), referrals.ActionClose, in)
	if err != nil {
		return nil, err
	}
	return api.CloseReceivedReferral200JSONResponse{Body: receivedResponse(ctx, v)}, nil
}

// RejectReceivedReferral declines a received referral.
func (s *Server) RejectReceivedReferral(ctx context.Context, req api.RejectReceivedReferralRequestObject) (api.RejectReceivedReferralResponseObject, error) {
	var in referrals.ActionInput
	if b := req.Body; b != nil {
		reason := b.Reason
		in.Reason = &reason
	}
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selReceived(req.Id), referrals.ActionReject, in)
	if err != nil {
		return nil, err
	}
	return api.RejectReceivedReferral200JSONResponse{Body: receivedResponse(ctx, v)}, nil
}
