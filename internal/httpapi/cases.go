package httpapi

import (
	"context"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/referrals"
)

func caseDTO(v referrals.CaseView) api.Case {
	c := v.Case
	out := api.Case{
		Id:                   c.ID,
		ReferenceNumber:      c.ReferenceNumber,
		CmsId:                c.CMSID(),
		SalesforceId:         c.SalesforceID,
		SalesforceObjectType: c.SalesforceObjectType,
		Title:                c.Title,
		Description:          c.Description,
		Status:               api.ReferralStatus(v.Status()),
		CaseType:             c.CaseType,
		Jurisdiction:         c.Jurisdiction,
		County:               c.County,
		// Omitted (not null) while masked: the 2026-04-01 contract declares them non-nullable.
		ClientFirstName:   c.ClientFirstName,
		ClientLastName:    c.ClientLastName,
		ClientEmail:       (*openapi_types.Email)(c.ClientEmail),
		ClientPhone:       c.ClientPhone,
		ClientDateOfBirth: apiDate(c.ClientDateOfBirth),
		IncidentDate:      apiDate(c.IncidentDate),
		Notes:             c.Notes,
		Tier:              c.Tier,
		Source:            c.Source,
		IsRetainerSigned:  v.IsRetainerSigned(),
		RequiresUpdate:    v.RequiresUpdate,
		PiiMasked:         v.Masked,
		SendingFirmId:     c.OwnerFirmID,
		SendingFirmName:   &v.Case.OwnerFirmName,
		CustomFields:      customFieldDTOs(c.CustomFields),
		CreatedAt:         c.CreatedAt,
		UpdatedAt:         c.UpdatedAt,
	}
	if r := v.Current; r != nil {
		out.ClosingStatus = enumOf[api.ReferralClosingStatus](r.ClosingStatus)
		out.ClosureReason, out.Phase = r.ClosureReason, r.Phase
		out.RatedTier, out.RatingNotes = r.RatedTier, r.RatingNotes
		out.ReceivingFirmId, out.ReceivingFirmName = r.ReferentFirmID, r.ReferentFirmName
		id := r.ID
		out.CurrentReferralId = &id
	}
	return out
}

func caseResponse(ctx context.Context, v referrals.CaseView) api.CaseResponse {
	return api.CaseResponse{Data: caseDTO(v), Meta: meta(ctx)}
}

// dayRange turns inclusive calendar days into [from, before) instants (UTC).
func caseDayRange(from, to *openapi_types.Date) (*time.Time, *time.Time) {
	var f, b *time.Time
	if from != nil {
		t := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
		f = &t
	}
	if to != nil {
		t := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
		b = &t
	}
	return f, b
}

// ListCases lists the cases the caller's firm sees, each from its side.
func (s *Server) ListCases(ctx context.Context, req api.ListCasesRequestObject) (api.ListCasesResponseObject, error) {
	p := req.Params
	f, err := parseStatusQuery(p.Status)
	if err != nil {
		return nil, err
	}
	pg := refPage(p.Page, p.Limit)
	from, before := caseDayRange(p.DateFrom, p.DateTo)
	res, err := s.Referrals.ListCases(ctx, actorOf(ctx), referrals.CaseQuery{
		View: strOf(p.View), Status: f, Search: strOf(p.Search), CreatedFrom: from, CreatedBefore: before,
		Sort: strOf(p.Sort), Ascending: strOf(p.Order) == "asc", Page: pg, Cursor: strOf(p.Cursor),
	})
	if err != nil {
		return nil, err
	}
	items := make([]api.Case, len(res.Items))
	for i, v := range res.Items {
		items[i] = caseDTO(v)
	}
	pag := pagination(res.Page, pg.Limit, int64(res.Total))
	pag.NextCursor = res.NextCursor
	return api.ListCases200JSONResponse{Body: api.CaseListResponse{
		Data:       api.CaseListPage{Items: items, Total: pag.Total, Page: pag.Page, Limit: pag.Limit, TotalPages: pag.TotalPages},
		Pagination: pag, Meta: meta(ctx),
	}}, nil
}

// CreateCase creates a case with its first referral, a draft or sent at once.
func (s *Server) CreateCase(ctx context.Context, req api.CreateCaseRequestObject) (api.CreateCaseResponseObject, error) {
	v, err := s.Referrals.CreateCase(ctx, actorOf(ctx), createCaseInput(req.Body, true))
	if err != nil {
		return nil, err
	}
	return api.CreateCase201JSONResponse{Body: caseResponse(ctx, v)}, nil
}

// GetCaseById returns a case as the caller's firm sees it.
func (s *Server) GetCaseById(ctx context.Context, req api.GetCaseByIdRequestObject) (api.GetCaseByIdResponseObject, error) {
	v, err := s.Referrals.GetCase(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetCaseById200JSONResponse{Body: caseResponse(ctx, v)}, nil
}

// UpdateCase changes fields of a case; who may change what is decided by the service.
func (s *Server) UpdateCase(ctx context.Context, req api.UpdateCaseRequestObject) (api.UpdateCaseResponseObject, error) {
	var p referrals.CasePatch
	if b := req.Body; b != nil {
		p = referrals.CasePatch{
			Title: optField(ctx, "title", b.Title), Description: optField(ctx, "description", b.Description), CaseType: optField(ctx, "caseType", b.CaseType),
			Jurisdiction: optField(ctx, "jurisdiction", b.Jurisdiction), County: optField(ctx, "county", b.County),
			ClientFirstName: optField(ctx, "clientFirstName", b.ClientFirstName), ClientLastName: optField(ctx, "clientLastName", b.ClientLastName),
			ClientEmail: optField(ctx, "clientEmail", (*string)(b.ClientEmail)), ClientPhone: optField(ctx, "clientPhone", b.ClientPhone),
			ClientDateOfBirth: optDay(ctx, "clientDateOfBirth", b.ClientDateOfBirth), IncidentDate: optDay(ctx, "incidentDate", b.IncidentDate),
			Notes: optField(ctx, "notes", b.Notes), Source: optField(ctx, "source", b.Source), Tier: optField(ctx, "tier", b.Tier),
			SalesforceID: optField(ctx, "salesforceId", b.SalesforceId), SalesforceObjectType: optField(ctx, "salesforceObjectType", b.SalesforceObjectType),
			Phase: optField(ctx, "phase", b.Phase), RatedTier: optField(ctx, "ratedTier", b.RatedTier), RatingNotes: optField(ctx, "ratingNotes", b.RatingNotes),
		}
		p.CustomFields, p.SetCustomFields = customFieldInputs(b.CustomFields)
	}
	v, err := s.Referrals.UpdateCase(ctx, actorOf(ctx), req.Id, p)
	if err != nil {
		return nil, err
	}
	return api.UpdateCase200JSONResponse{Body: caseResponse(ctx, v)}, nil
}

// AcknowledgeCase acknowledges the caller's current referral of a case.
func (s *Server) AcknowledgeCase(ctx context.Context, req api.AcknowledgeCaseRequestObject) (api.AcknowledgeCaseResponseObject, error) {
	v, err := s.Referrals.ActOnCase(ctx, actorOf(ctx), req.Id, referrals.ActionAcknowledge, referrals.ActionInput{})
	if err != nil {
		return nil, err
	}
	return api.AcknowledgeCase200JSONResponse{Body: caseResponse(ctx, v)}, nil
}

// UpdateCaseStatus moves the caller's current referral of a case to another status, with the
// rules of the matching action.
func (s *Server) UpdateCaseStatus(ctx context.Context, req api.UpdateCaseStatusRequestObject) (api.UpdateCaseStatusResponseObject, error) {
	b := req.Body
	if b == nil {
		b = &api.UpdateCaseStatusBody{}
	}
	action, err := referrals.ActionForStatus(b.Status)
	if err != nil {
		return nil, err
	}
	// Moving to closed needs a full key: the spec's x-access-tier-by-field rule of this
	// operation, enforced by fieldTierMiddleware.
	in := referrals.ActionInput{
		Message: b.Notes, Reason: b.Notes,
		ClosingStatus: strOf(b.ClosingStatus), ClosureReason: b.ClosureReason,
	}
	v, err := s.Referrals.ActOnCase(ctx, actorOf(ctx), req.Id, action, in)
	if err != nil {
		// This route sends the reason of a reject or withdraw as notes.
		return nil, renameField(err, "body.reason", "body.notes")
	}
	return api.UpdateCaseStatus200JSONResponse{Body: caseResponse(ctx, v)}, nil
}

// CloseCase closes the caller's current referral of a case with an outcome.
func (s *Server) CloseCase(ctx context.Context, req api.CloseCaseRequestObject) (api.CloseCaseResponseObject, error) {
	var in referrals.ActionInput
	if b := req.Body; b != nil {
		in = referrals.ActionInput{
			ClosingStatus: b.ClosingStatus, ClosingNotes: b.ClosingNotes, ClosureReason: b.ClosureReason,
			SettlementAmount: b.SettlementAmount, AttorneyFees: b.AttorneyFees,
			ClientFeeAgreementPercentage: b.ClientFeeAgreementPercentage,
		}
	}
	v, err := s.Referrals.ActOnCase(ctx, actorOf(ctx), req.Id, referrals.ActionClose, in)
	if err != nil {
		return nil, err
	}
	return api.CloseCase200JSONResponse{Body: caseResponse(ctx, v)}, nil
}

// GetCaseStatusHistory lists the entries of every referral of a case the caller may see.
func (s *Server) GetCaseStatusHistory(ctx context.Context, req api.GetCaseStatusHistoryRequestObject) (api.GetCaseStatusHistoryResponseObject, error) {
	us, err := s.Referrals.CaseHistory(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetCaseStatusHistory200JSONResponse{Body: api.CaseStatusHistoryResponse{Data: historyEntries(us), Meta: meta(ctx)}}, nil
}
