package httpapi

import (
	"context"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/referrals"
)

func sentCaseListItem(c referrals.CaseSummary) api.SentCaseListItem {
	return api.SentCaseListItem{
		Id: c.ID, ReferenceNumber: &c.ReferenceNumber, CmsId: c.CMSID, SalesforceId: c.SalesforceID,
		Title: &c.Title, Status: api.LifecycleStatus(c.Status), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		ReceivingFirmId: c.PartnerFirmID, ReceivingFirmName: c.PartnerFirmName,
		ClosingStatus: enumOf[api.SentCaseListItemClosingStatus](c.ClosingStatus),
	}
}

func sentCaseDetail(v referrals.CaseView) api.SentCaseDetail {
	c := v.Case
	d := api.SentCaseDetail{
		Id:                   c.ID,
		ReferenceNumber:      &c.ReferenceNumber,
		CmsId:                c.CMSID(),
		SalesforceId:         c.SalesforceID,
		SalesforceObjectType: c.SalesforceObjectType,
		Title:                &c.Title,
		Description:          c.Description,
		CaseType:             &c.CaseType,
		Jurisdiction:         &c.Jurisdiction,
		County:               c.County,
		ClientFirstName:      c.ClientFirstName,
		ClientLastName:       c.ClientLastName,
		ClientEmail:          c.ClientEmail,
		ClientPhone:          c.ClientPhone,
		ClientDateOfBirth:    c.ClientDateOfBirth,
		IncidentDate:         c.IncidentDate,
		Notes:                c.Notes,
		Tier:                 c.Tier,
		Source:               c.Source,
		IsTestCase:           c.IsTestCase,
		IsRetainerSigned:     v.IsRetainerSigned(),
		CreatedBy:            c.CreatedBy(),
		CreatedAt:            c.CreatedAt,
		UpdatedAt:            c.UpdatedAt,
		Status:               api.LifecycleStatus(v.Status()),
		RequiresUpdate:       v.RequiresUpdate,
		CustomFields:         customFieldDTOs(c.CustomFields),
		Referrals:            make([]api.SentCaseReferralSummary, len(v.Referrals)),
	}
	if r := v.Current; r != nil {
		d.ClosingStatus = enumOf[api.SentCaseDetailClosingStatus](r.ClosingStatus)
		d.ClosureReason = r.ClosureReason
		d.ReceivingFirmId, d.ReceivingFirmName = r.ReferentFirmID, r.ReferentFirmName
		d.RatedTier, d.RatingNotes = r.RatedTier, r.RatingNotes
		d.SettlementAmount, d.AttorneyFees = r.SettlementAmount, r.AttorneyFees
		d.LeadAttorneyName = r.LeadAttorneyName
		d.ClientFeeAgreementPercentage, d.SendingFirmPercentage = r.ClientFeeAgreementPercentage, r.SendingFirmPercentage
		d.StatuteOfLimitationsExpiration = r.StatuteOfLimitationsExpiration
		d.EstimatedDateOfResolution, d.EstimatedDistributionDate = r.EstimatedDateOfResolution, r.EstimatedDistributionDate
		d.ProjectedSettlementAmount, d.Phase = r.ProjectedSettlementAmount, r.Phase
	}
	for i, r := range v.Referrals {
		ref := r.ReferenceNumber
		d.Referrals[i] = api.SentCaseReferralSummary{
			Id: r.ID, ReferenceNumber: &ref, SequenceNumber: r.SequenceNumber,
			ReferentFirmId: r.ReferentFirmID, ReferentFirmName: r.ReferentFirmName,
			Status: api.LifecycleStatus(r.Status), ClosingStatus: enumOf[api.SentCaseReferralSummaryClosingStatus](r.ClosingStatus),
			ClosureReason: r.ClosureReason, Notes: r.Notes,
			CreatedBy: refUUIDString(r.CreatedBy), LastUpdatedBy: refUUIDString(r.UpdatedBy),
			ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		}
	}
	return d
}

func sentCaseResponse(ctx context.Context, v referrals.CaseView) api.SentCaseResponse {
	return api.SentCaseResponse{Data: sentCaseDetail(v), Meta: meta(ctx)}
}

// ListSentCases lists the cases the caller's firm owns.
func (s *Server) ListSentCases(ctx context.Context, req api.ListSentCasesRequestObject) (api.ListSentCasesResponseObject, error) {
	p := req.Params
	pg := refPage(p.Page, p.Limit)
	sort := strOf(p.Sort)
	if sort == "" {
		sort = referrals.SortUpdatedAt
	}
	res, err := s.Referrals.ListSentCaseSummaries(ctx, actorOf(ctx), referrals.CaseQuery{
		Status: lifecycleQuery(p.Status), Search: strOf(p.Search),
		Sort: sort, Ascending: strOf(p.Order) == "asc", Page: pg, Cursor: strOf(p.Cursor),
	})
	if err != nil {
		return nil, err
	}
	data := make([]api.SentCaseListItem, len(res.Items))
	for i, v := range res.Items {
		data[i] = sentCaseListItem(v)
	}
	pag := pagination(res.Page, pg.Limit, int64(res.Total))
	pag.NextCursor = res.NextCursor
	return api.ListSentCases200JSONResponse{Body: api.SentCaseListResponse{
		Data: data, Pagination: pag, Meta: meta(ctx),
	}}, nil
}

// CreateSentCase creates a case, in draft or sent at once to referentFirmId.
func (s *Server) CreateSentCase(ctx context.Context, req api.CreateSentCaseRequestObject) (api.CreateSentCaseResponseObject, error) {
	v, err := s.Referrals.CreateCase(ctx, actorOf(ctx), createCaseInput((*api.CreateCaseBody)(req.Body), false))
	if err != nil {
		return nil, err
	}
	return api.CreateSentCase201JSONResponse{Body: sentCaseResponse(ctx, v)}, nil
}

// GetSentCase returns a case the caller's firm owns.
func (s *Server) GetSentCase(ctx context.Context, req api.GetSentCaseRequestObject) (api.GetSentCaseResponseObject, error) {
	v, err := s.Referrals.GetSentCase(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetSentCase200JSONResponse{Body: sentCaseResponse(ctx, v)}, nil
}

// PatchSentCase changes sender-owned fields of a case.
func (s *Server) PatchSentCase(ctx context.Context, req api.PatchSentCaseRequestObject) (api.PatchSentCaseResponseObject, error) {
	var p referrals.SentCasePatch
	if b := req.Body; b != nil {
		p = referrals.SentCasePatch{
			Tier: optField(ctx, "tier", b.Tier), Source: optField(ctx, "source", b.Source), SalesforceID: optField(ctx, "salesforceId", b.SalesforceId),
			SalesforceObjectType: optField(ctx, "salesforceObjectType", b.SalesforceObjectType),
		}
		p.CustomFields, p.SetCustomFields = customFieldInputs(b.CustomFields)
	}
	v, err := s.Referrals.PatchSentCase(ctx, actorOf(ctx), req.Id, p)
	if err != nil {
		return nil, err
	}
	return api.PatchSentCase200JSONResponse{Body: sentCaseResponse(ctx, v)}, nil
}

// GetSentCaseAvailableStatuses lists what the sending firm may do next with a case.
func (s *Server) GetSentCaseAvailableStatuses(ctx context.Context, req api.GetSentCaseAvailableStatusesRequestObject) (api.GetSentCaseAvailableStatusesResponseObject, error) {
	av, err := s.Referrals.SentCaseAvailability(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetSentCaseAvailableStatuses200JSONResponse{Body: availabilityResponse(ctx, av)}, nil
}

// ReferSentCase sends a draft case or re-refers a case to another firm.
func (s *Server) ReferSentCase(ctx context.Context, req api.ReferSentCaseRequestObject) (api.ReferSentCaseResponseObject, error) {
	var in referrals.ReferInput
	if b := req.Body; b != nil {
		in = referrals.ReferInput{ReferentFirmID: b.ReferentFirmId, Notes: b.Notes, SentExpirationHours: b.SentExpirationHours}
	}
	v, err := s.Referrals.Refer(ctx, actorOf(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.ReferSentCase200JSONResponse{Body: sentCaseResponse(ctx, v)}, nil
}
