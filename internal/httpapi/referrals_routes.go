package httpapi

// The referral lifecycle is served by one domain service, internal/referrals.Service. This file
// holds the mapping between it and the contract shared by every route family of the lifecycle
// (sentcases.go, received.go, cases.go, statusupdates.go, export.go), and the two referral route
// families: nested (/cases/{baseCaseId}/referrals/{id}/...) and top-level (/referrals/{id}/...),
// which differ only in how the referral is named.

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/referrals"
)

// ---- request side ---------------------------------------------------------------------------

// nested names a referral within a case; top names it alone.
func selNested(caseKey, key string) referrals.Selector {
	return referrals.Selector{Key: key, CaseKey: caseKey}
}

func selTop(key string) referrals.Selector { return referrals.Selector{Key: key} }

func selReceived(key string) referrals.Selector {
	return referrals.Selector{Key: key, Receiving: true}
}

// optField turns an optional body member into a partial-update field: absent keeps the stored
// value, an explicit null (see nullFieldsMiddleware) clears it, a value sets it.
func optField[T any](ctx context.Context, name string, p *T) referrals.Opt[T] {
	return referrals.Opt[T]{Set: p != nil || sentNull(ctx, name), Value: p}
}

func optDay(ctx context.Context, name string, d *openapi_types.Date) referrals.Opt[time.Time] {
	if d == nil {
		return referrals.Opt[time.Time]{Set: sentNull(ctx, name)}
	}
	t := d.Time
	return referrals.SetOpt(&t)
}

func customFieldInputs(in *[]api.CustomFieldUpdateInput) ([]referrals.CustomFieldInput, bool) {
	if in == nil {
		return nil, false
	}
	out := make([]referrals.CustomFieldInput, len(*in))
	for i, f := range *in {
		out[i] = referrals.CustomFieldInput{FieldID: f.FieldId, Value: f.Value}
	}
	return out, true
}

func parseStatusQuery(s *string) (referrals.StatusFilter, error) {
	if s == nil {
		return referrals.StatusFilter{}, nil
	}
	return referrals.ParseStatusFilter(*s)
}

func lifecycleQuery(s *api.LifecycleStatus) referrals.StatusFilter {
	if s == nil {
		return referrals.StatusFilter{}
	}
	st := referrals.Status(*s)
	return referrals.StatusFilter{Status: &st}
}

func refPage(p, l *int) referrals.Page {
	pg, lim := pageParams(p, l)
	return referrals.Page{Page: pg, Limit: lim}
}

func strOf[T ~string](v *T) string {
	if v == nil {
		return ""
	}
	return string(*v)
}

func referralPatch(ctx context.Context, b *api.UpdateReferralBody) referrals.ReferralPatch {
	if b == nil {
		return referrals.ReferralPatch{}
	}
	return referrals.ReferralPatch{
		Notes: optField(ctx, "notes", b.Notes), Phase: optField(ctx, "phase", b.Phase), LeadAttorneyName: optField(ctx, "leadAttorneyName", b.LeadAttorneyName),
		SettlementAmount: optField(ctx, "settlementAmount", b.SettlementAmount), AttorneyFees: optField(ctx, "attorneyFees", b.AttorneyFees),
		ProjectedSettlementAmount:      optField(ctx, "projectedSettlementAmount", b.ProjectedSettlementAmount),
		ClientFeeAgreementPercentage:   optField(ctx, "clientFeeAgreementPercentage", b.ClientFeeAgreementPercentage),
		SendingFirmPercentage:          optField(ctx, "sendingFirmPercentage", b.SendingFirmPercentage),
		StatuteOfLimitationsExpiration: optDay(ctx, "statuteOfLimitationsExpiration", b.StatuteOfLimitationsExpiration),
		EstimatedDateOfResolution:      optDay(ctx, "estimatedDateOfResolution", b.EstimatedDateOfResolution),
		EstimatedDistributionDate:      optDay(ctx, "estimatedDistributionDate", b.EstimatedDistributionDate),
		IsRetainerSigned:               optField(ctx, "isRetainerSigned", b.IsRetainerSigned),
	}
}

// referralReasonLimit is the length limit the referral routes document for `reason`: a bound
// of these routes' request bodies, which the spec states in words rather than as maxLength (the
// member stays optional in the schema for older clients).
const referralReasonLimit = 2000

// refReasonInput checks the routes' bound on reason; the referrals service checks the rest.
func refReasonInput(reason *string) (referrals.ActionInput, error) {
	if reason != nil && utf8.RuneCountInString(*reason) > referralReasonLimit {
		return referrals.ActionInput{}, apperr.Validation("", apperr.FieldError{
			Field: "body.reason", Message: fmt.Sprintf("must be at most %d characters", referralReasonLimit)})
	}
	return referrals.ActionInput{Reason: reason}, nil
}

func refCloseInput(b *api.CloseReferralBody) referrals.ActionInput {
	if b == nil {
		return referrals.ActionInput{}
	}
	return referrals.ActionInput{
		ClosingStatus: b.ClosingStatus, ClosureReason: b.ClosureReason, ClosingNotes: b.ClosingNotes,
		SettlementAmount: b.SettlementAmount, AttorneyFees: b.AttorneyFees,
		ClientFeeAgreementPercentage: b.ClientFeeAgreementPercentage,
	}
}

func refSendInput(b *api.SendReferralBody) referrals.ActionInput {
	if b == nil {
		return referrals.ActionInput{}
	}
	id := b.ReferentFirmId
	return referrals.ActionInput{ReferentFirmID: &id}
}

// ---- response side --------------------------------------------------------------------------

func enumOf[T ~string, S ~string](v *S) *T {
	if v == nil {
		return nil
	}
	t := T(*v)
	return &t
}

func refUUIDString(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	s := id.String()
	return &s
}

func referralDTO(v referrals.ReferralView) api.Referral {
	r := v.Referral
	return api.Referral{
		Id:                             r.ID,
		BaseCaseId:                     r.BaseCaseID,
		ReferenceNumber:                r.ReferenceNumber,
		SequenceNumber:                 r.SequenceNumber,
		Status:                         api.ReferralStatus(r.Status),
		ClosingStatus:                  enumOf[api.ReferralClosingStatus](r.ClosingStatus),
		ClosureReason:                  r.ClosureReason,
		ReferringFirmId:                r.ReferringFirmID,
		ReferringFirmName:              &r.ReferringFirmName,
		ReferentFirmId:                 r.ReferentFirmID,
		ReferentFirmName:               r.ReferentFirmName,
		SettlementAmount:               r.SettlementAmount,
		AttorneyFees:                   r.AttorneyFees,
		ProjectedSettlementAmount:      r.ProjectedSettlementAmount,
		EstimatedDateOfResolution:      apiDate(r.EstimatedDateOfResolution),
		EstimatedDistributionDate:      apiDate(r.EstimatedDistributionDate),
		StatuteOfLimitationsExpiration: apiDate(r.StatuteOfLimitationsExpiration),
		ClientFeeAgreementPercentage:   r.ClientFeeAgreementPercentage,
		SendingFirmPercentage:          r.SendingFirmPercentage,
		LeadAttorneyName:               r.LeadAttorneyName,
		Phase:                          r.Phase,
		Notes:                          r.Notes,
		IsRetainerSigned:               r.IsRetainerSigned,
		SentAt:                         r.SentAt,
		ExpiresAt:                      r.ExpiresAt,
		AcknowledgedAt:                 r.AcknowledgedAt,
		CreatedAt:                      r.CreatedAt,
		UpdatedAt:                      r.UpdatedAt,
	}
}

func referralResponse(ctx context.Context, v referrals.ReferralView) api.ReferralResponse {
	return api.ReferralResponse{Data: referralDTO(v), Meta: meta(ctx)}
}

func referralListResponse(ctx context.Context, pg referrals.Page, p referrals.ReferralPage) api.ReferralListResponse {
	data := make([]api.Referral, len(p.Items))
	for i, v := range p.Items {
		data[i] = referralDTO(v)
	}
	return api.ReferralListResponse{Data: data, Pagination: referralPagination(pg, p), Meta: meta(ctx)}
}

// referralPagination describes a page of a referral list: its page number is the cursor's when
// the request had one.
func referralPagination(pg referrals.Page, p referrals.ReferralPage) api.Pagination {
	page := pg.Page
	if p.Page > 0 {
		page = p.Page
	}
	out := pagination(page, pg.Limit, int64(p.Total))
	out.NextCursor = p.NextCursor
	return out
}

func historyEntry(u referrals.StatusUpdate) api.ReferralStatusHistoryEntry {
	ref := u.ReferralReferenceNumber
	return api.ReferralStatusHistoryEntry{
		Id:              u.ID,
		ReferralId:      u.ReferralID,
		BaseCaseId:      u.BaseCaseID,
		ReferenceNumber: &ref,
		Status:          api.ReferralStatus(u.Status),
		Message:         u.Message,
		Notes:           u.Message,
		IsMessage:       u.IsMessage,
		RequestedStatus: enumOf[api.ReferralStatusHistoryEntryRequestedStatus](u.RequestedStatus),
		Source:          api.ReferralStatusHistoryEntrySource(u.Source),
		CreatedAt:       u.CreatedAt,
		CreatedBy:       u.AuthorName(),
		CreatedByName:   u.PersonName(),
	}
}

func historyEntries(us []referrals.StatusUpdate) []api.ReferralStatusHistoryEntry {
	out := make([]api.ReferralStatusHistoryEntry, len(us))
	for i, u := range us {
		out[i] = historyEntry(u)
	}
	return out
}

func statusUpdateDTO(u referrals.StatusUpdate) api.PublicStatusUpdateDto {
	ref := u.ReferralReferenceNumber
	return api.PublicStatusUpdateDto{
		Id:              u.ID,
		ReferralId:      u.ReferralID,
		BaseCaseId:      u.BaseCaseID,
		ReferenceNumber: &ref,
		Status:          api.LifecycleStatus(u.Status),
		Message:         u.Message,
		IsMessage:       u.IsMessage,
		RequestedStatus: enumOf[api.PublicStatusUpdateDtoRequestedStatus](u.RequestedStatus),
		Source:          api.StatusUpdateSource(u.Source),
		CreatedAt:       u.CreatedAt,
		CreatedByName:   u.ActorName,
		CreatedByFirmId: u.ActorFirmID,
	}
}

func statusUpdateDTOs(us []referrals.StatusUpdate) []api.PublicStatusUpdateDto {
	out := make([]api.PublicStatusUpdateDto, len(us))
	for i, u := range us {
		out[i] = statusUpdateDTO(u)
	}
	return out
}

func customFieldDTOs(cfs []referrals.CustomField) []api.CustomFieldValue {
	out := make([]api.CustomFieldValue, len(cfs))
	for i, f := range cfs {
		out[i] = api.CustomFieldValue{
			FieldId: f.FieldID, FieldName: f.Name, DisplayName: f.DisplayName,
			FieldType: api.CustomFieldValueFieldType(f.Type), Value: f.Value,
		}
	}
	return out
}

func availabilityResponse(ctx context.Context, av referrals.Availability) api.AvailableStatusesEnvelope {
	ts := make([]api.AvailableStatusTransition, len(av.Rules))
	for i, r := range av.Rules {
		ts[i] = api.AvailableStatusTransition{
			Status: api.LifecycleStatus(r.To), Label: r.Label, Action: api.AvailableStatusTransitionAction(r.Action),
			RequiresReason: r.RequiresReason, RequiresClosingStatus: r.RequiresClosingStatus,
		}
	}
	return api.AvailableStatusesEnvelope{
		Data: api.AvailableStatusesResponse{CurrentStatus: api.LifecycleStatus(av.Current), ReferralId: av.ReferralID, AvailableTransitions: ts},
		Meta: meta(ctx),
	}
}

// ---- nested referral routes: /cases/{baseCaseId}/referrals/... ------------------------------

// ListReferrals lists the referrals of one case the caller is party to.
func (s *Server) ListReferrals(ctx context.Context, req api.ListReferralsRequestObject) (api.ListReferralsResponseObject, error) {
	f, err := parseStatusQuery(req.Params.Status)
	if err != nil {
		return nil, err
	}
	pg := refPage(req.Params.Page, req.Params.Limit)
	p, err := s.Referrals.ListReferrals(ctx, actorOf(ctx), req.BaseCaseId, f, pg, strOf(req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	return api.ListReferrals200JSONResponse{Body: referralListResponse(ctx, pg, p)}, nil
}

// GetReferral returns one referral of a case.
func (s *Server) GetReferral(ctx context.Context, req api.GetReferralRequestObject) (api.GetReferralResponseObject, error) {
	v, err := s.Referrals.GetReferral(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id))
	if err != nil {
		return nil, err
	}
	return api.GetReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// UpdateReferral changes the working fields of a referral of a case.
func (s *Server) UpdateReferral(ctx context.Context, req api.UpdateReferralRequestObject) (api.UpdateReferralResponseObject, error) {
	v, err := s.Referrals.UpdateReferral(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id), referralPatch(ctx, req.Body))
	if err != nil {
		return nil, err
	}
	return api.UpdateReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// DeleteReferral removes a draft referral of a case.
func (s *Server) DeleteReferral(ctx context.Context, req api.DeleteReferralRequestObject) (api.DeleteReferralResponseObject, error) {
	if err := s.Referrals.Delete(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id)); err != nil {
		return nil, err
	}
	return api.DeleteReferral204Response{}, nil
}

// SendReferral sends a draft referral of a case.
func (s *Server) SendReferral(ctx context.Context, req api.SendReferralRequestObject) (api.SendReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id), referrals.ActionSend, refSendInput(req.Body))
	if err != nil {
		return nil, err
	}
	return api.SendReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// AcknowledgeReferral moves a referral of a case from sent to under_evaluation.
func (s *Server) AcknowledgeReferral(ctx context.Context, req api.AcknowledgeReferralRequestObject) (api.AcknowledgeReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id), referrals.ActionAcknowledge, referrals.ActionInput{})
	if err != nil {
		return nil, err
	}
	return api.AcknowledgeReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// BeginInvestigatingReferral moves a referral of a case to investigating.
func (s *Server) BeginInvestigatingReferral(ctx context.Context, req api.BeginInvestigatingReferralRequestObject) (api.BeginInvestigatingReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id), referrals.ActionBeginInvestigating, referrals.ActionInput{})
	if err != nil {
		return nil, err
	}
	return api.BeginInvestigatingReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// SignReferral records a signed retainer on a referral of a case.
func (s *Server) SignReferral(ctx context.Context, req api.SignReferralRequestObject) (api.SignReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id), referrals.ActionSign, referrals.ActionInput{})
	if err != nil {
		return nil, err
	}
	return api.SignReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// StartLitigationReferral moves a referral of a case to in_litigation.
func (s *Server) StartLitigationReferral(ctx context.Context, req api.StartLitigationReferralRequestObject) (api.StartLitigationReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id), referrals.ActionStartLitigation, referrals.ActionInput{})
	if err != nil {
		return nil, err
	}
	return api.StartLitigationReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// CloseReferral closes a referral of a case with an outcome.
func (s *Server) CloseReferral(ctx context.Context, req api.CloseReferralRequestObject) (api.CloseReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id), referrals.ActionClose, refCloseInput(req.Body))
	if err != nil {
		return nil, err
	}
	return api.CloseReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// RejectReferral declines a referral of a case.
func (s *Server) RejectReferral(ctx context.Context, req api.RejectReferralRequestObject) (api.RejectReferralResponseObject, error) {
	var reason *string
	if req.Body != nil {
		reason = req.Body.Reason
	}
	in, err := refReasonInput(reason)
	if err != nil {
		return nil, err
	}
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id), referrals.ActionReject, in)
	if err != nil {
		return nil, err
	}
	return api.RejectReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// WithdrawReferral takes a referral of a case back.
func (s *Server) WithdrawReferral(ctx context.Context, req api.WithdrawReferralRequestObject) (api.WithdrawReferralResponseObject, error) {
	var reason *string
	if req.Body != nil {
		reason = req.Body.Reason
	}
	in, err := refReasonInput(reason)
	if err != nil {
		return nil, err
	}
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id), referrals.ActionWithdraw, in)
	if err != nil {
		return nil, err
	}
	return api.WithdrawReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// GetReferralStatusHistory lists the entries of a referral of a case.
func (s *Server) GetReferralStatusHistory(ctx context.Context, req api.GetReferralStatusHistoryRequestObject) (api.GetReferralStatusHistoryResponseObject, error) {
	us, err := s.Referrals.ReferralHistory(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id))
	if err != nil {
		return nil, err
	}
	return api.GetReferralStatusHistory200JSONResponse{Body: api.ReferralStatusHistoryResponse{Data: historyEntries(us), Meta: meta(ctx)}}, nil
}

// ---- top-level referral routes: /referrals/... ----------------------------------------------

// ListTopLevelReferrals lists every referral the caller's firm is party to.
func (s *Server) ListTopLevelReferrals(ctx context.Context, req api.ListTopLevelReferralsRequestObject) (api.ListTopLevelReferralsResponseObject, error) {
	f, err := parseStatusQuery(req.Params.Status)
	if err != nil {
		return nil, err
	}
	pg := refPage(req.Params.Page, req.Params.Limit)
	p, err := s.Referrals.ListReferrals(ctx, actorOf(ctx), "", f, pg, strOf(req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	return api.ListTopLevelReferrals200JSONResponse{Body: referralListResponse(ctx, pg, p)}, nil
}

// GetTopLevelReferral returns one referral.
func (s *Server) GetTopLevelReferral(ctx context.Context, req api.GetTopLevelReferralRequestObject) (api.GetTopLevelReferralResponseObject, error) {
	v, err := s.Referrals.GetReferral(ctx, actorOf(ctx), selTop(req.Id))
	if err != nil {
		return nil, err
	}
	return api.GetTopLevelReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// UpdateTopLevelReferral changes the working fields of a referral.
func (s *Server) UpdateTopLevelReferral(ctx context.Context, req api.UpdateTopLevelReferralRequestObject) (api.UpdateTopLevelReferralResponseObject, error) {
	v, err := s.Referrals.UpdateReferral(ctx, actorOf(ctx), selTop(req.Id), referralPatch(ctx, req.Body))
	if err != nil {
		return nil, err
	}
	return api.UpdateTopLevelReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// DeleteTopLevelReferral removes a draft referral.
func (s *Server) DeleteTopLevelReferral(ctx context.Context, req api.DeleteTopLevelReferralRequestObject) (api.DeleteTopLevelReferralResponseObject, error) {
	if err := s.Referrals.Delete(ctx, actorOf(ctx), selTop(req.Id)); err != nil {
		return nil, err
	}
	return api.DeleteTopLevelReferral204Response{}, nil
}

// SendTopLevelReferral sends a draft referral.
func (s *Server) SendTopLevelReferral(ctx context.Context, req api.SendTopLevelReferralRequestObject) (api.SendTopLevelReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selTop(req.Id), referrals.ActionSend, refSendInput(req.Body))
	if err != nil {
		return nil, err
	}
	return api.SendTopLevelReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// AcknowledgeTopLevelReferral moves a referral from sent to under_evaluation.
func (s *Server) AcknowledgeTopLevelReferral(ctx context.Context, req api.AcknowledgeTopLevelReferralRequestObject) (api.AcknowledgeTopLevelReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selTop(req.Id), referrals.ActionAcknowledge, referrals.ActionInput{})
	if err != nil {
		return nil, err
	}
	return api.AcknowledgeTopLevelReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// BeginInvestigatingTopLevelReferral moves a referral to investigating.
func (s *Server) BeginInvestigatingTopLevelReferral(ctx context.Context, req api.BeginInvestigatingTopLevelReferralRequestObject) (api.BeginInvestigatingTopLevelReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selTop(req.Id), referrals.ActionBeginInvestigating, referrals.ActionInput{})
	if err != nil {
		return nil, err
	}
	return api.BeginInvestigatingTopLevelReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// SignTopLevelReferral records a signed retainer.
func (s *Server) SignTopLevelReferral(ctx context.Context, req api.SignTopLevelReferralRequestObject) (api.SignTopLevelReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selTop(req.Id), referrals.ActionSign, referrals.ActionInput{})
	if err != nil {
		return nil, err
	}
	return api.SignTopLevelReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// StartLitigationTopLevelReferral moves a referral to in_litigation.
func (s *Server) StartLitigationTopLevelReferral(ctx context.Context, req api.StartLitigationTopLevelReferralRequestObject) (api.StartLitigationTopLevelReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selTop(req.Id), referrals.ActionStartLitigation, referrals.ActionInput{})
	if err != nil {
		return nil, err
	}
	return api.StartLitigationTopLevelReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// CloseTopLevelReferral closes a referral with an outcome.
func (s *Server) CloseTopLevelReferral(ctx context.Context, req api.CloseTopLevelReferralRequestObject) (api.CloseTopLevelReferralResponseObject, error) {
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selTop(req.Id), referrals.ActionClose, refCloseInput(req.Body))
	if err != nil {
		return nil, err
	}
	return api.CloseTopLevelReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// RejectTopLevelReferral declines a referral.
func (s *Server) RejectTopLevelReferral(ctx context.Context, req api.RejectTopLevelReferralRequestObject) (api.RejectTopLevelReferralResponseObject, error) {
	var reason *string
	if req.Body != nil {
		reason = req.Body.Reason
	}
	in, err := refReasonInput(reason)
	if err != nil {
		return nil, err
	}
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selTop(req.Id), referrals.ActionReject, in)
	if err != nil {
		return nil, err
	}
	return api.RejectTopLevelReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// WithdrawTopLevelReferral takes a referral back.
func (s *Server) WithdrawTopLevelReferral(ctx context.Context, req api.WithdrawTopLevelReferralRequestObject) (api.WithdrawTopLevelReferralResponseObject, error) {
	var reason *string
	if req.Body != nil {
		reason = req.Body.Reason
	}
	in, err := refReasonInput(reason)
	if err != nil {
		return nil, err
	}
	v, err := s.Referrals.Act(ctx, actorOf(ctx), selTop(req.Id), referrals.ActionWithdraw, in)
	if err != nil {
		return nil, err
	}
	return api.WithdrawTopLevelReferral200JSONResponse{Body: referralResponse(ctx, v)}, nil
}

// GetTopLevelReferralStatusHistory lists the entries of a referral.
func (s *Server) GetTopLevelReferralStatusHistory(ctx context.Context, req api.GetTopLevelReferralStatusHistoryRequestObject) (api.GetTopLevelReferralStatusHistoryResponseObject, error) {
	us, err := s.Referrals.ReferralHistory(ctx, actorOf(ctx), selTop(req.Id))
	if err != nil {
		return nil, err
	}
	return api.GetTopLevelReferralStatusHistory200JSONResponse{Body: api.ReferralStatusHistoryResponse{Data: historyEntries(us), Meta: meta(ctx)}}, nil
}
