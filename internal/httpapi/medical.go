package httpapi

import (
	"context"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/medical"
)

func apiMedicalReferral(r medical.Referral) api.MedicalReferral {
	firm := r.FirmID
	return api.MedicalReferral{
		Id: r.ID, CaseId: r.CaseID, BaseCaseId: r.CaseID, ProviderId: r.ProviderID, ProviderName: r.ProviderName,
		ReferralType: r.ReferralType, Status: api.MedicalReferralStatus(r.Status),
		AppointmentDate: apiDate(r.AppointmentDate), ClientFirstName: r.ClientFirstName, ClientLastName: r.ClientLastName,
		ClientEmail: (*openapi_types.Email)(r.ClientEmail), ClientPhone: r.ClientPhone, DateOfInjury: apiDate(r.DateOfInjury),
		InjuryDescription: r.InjuryDescription, Notes: r.Notes, FirmId: &firm,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// medOpt turns an optional body member into a partial-update field: absent keeps the stored
// value, an explicit null (see nullFieldsMiddleware) clears it, a value sets it.
func medOpt[T any](ctx context.Context, name string, p *T) medical.Opt[T] {
	return medical.Opt[T]{Set: p != nil || sentNull(ctx, name), Value: p}
}

// ListMedicalReferrals pages through the firm's medical referrals.
func (s *Server) ListMedicalReferrals(ctx context.Context, req api.ListMedicalReferralsRequestObject) (api.ListMedicalReferralsResponseObject, error) {
	a, err := requireActor(ctx)
	if err != nil {
		return nil, err
	}
	page, limit := pageParams(req.Params.Page, req.Params.Limit)
	f := medical.ListFilter{CaseID: req.Params.CaseId, Page: page, Limit: limit}
	if req.Params.Status != nil {
		st := medical.Status(*req.Params.Status)
		f.Status = &st
	}
	rows, total, err := s.Medical.List(ctx, a, f)
	if err != nil {
		return nil, err
	}
	out := make([]api.MedicalReferral, 0, len(rows))
	for _, r := range rows {
		out = append(out, apiMedicalReferral(r))
	}
	return api.ListMedicalReferrals200JSONResponse{Body: api.MedicalReferralListResponse{
		Data: out, Pagination: pagination(page, limit, total), Meta: meta(ctx),
	}}, nil
}

// CreateMedicalReferral records a medical referral for a case the firm may use.
func (s *Server) CreateMedicalReferral(ctx context.Context, req api.CreateMedicalReferralRequestObject) (api.CreateMedicalReferralResponseObject, error) {
	a, err := requireActor(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	b := req.Body
	in := medical.CreateInput{
		CaseID: b.CaseId, BaseCaseID: b.BaseCaseId, ProviderName: b.ProviderName, ProviderID: b.ProviderId,
		ReferralType: b.ReferralType, AppointmentDate: dateOf(b.AppointmentDate),
		ClientFirstName: b.ClientFirstName, ClientLastName: b.ClientLastName, ClientEmail: (*string)(b.ClientEmail),
		ClientPhone: b.ClientPhone, DateOfInjury: dateOf(b.DateOfInjury), InjuryDescription: b.InjuryDescription,
		Notes: b.Notes,
	}
	if b.Status != nil {
		st := medical.Status(*b.Status)
		in.Status = &st
	}
	r, err := s.Medical.Create(ctx, a, in)
	if err != nil {
		return nil, err
	}
	return api.CreateMedicalReferral201JSONResponse{Body: api.MedicalReferralResponse{Data: apiMedicalReferral(r), Meta: meta(ctx)}}, nil
}

// GetMedicalReferralById returns one of the firm's medical referrals.
func (s *Server) GetMedicalReferralById(ctx context.Context, req api.GetMedicalReferralByIdRequestObject) (api.GetMedicalReferralByIdResponseObject, error) {
	a, err := requireActor(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.Medical.Get(ctx, a, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetMedicalReferralById200JSONResponse{Body: api.MedicalReferralResponse{Data: apiMedicalReferral(r), Meta: meta(ctx)}}, nil
}

// UpdateMedicalReferral changes the fields present in the body; null clears a nullable field.
func (s *Server) UpdateMedicalReferral(ctx context.Context, req api.UpdateMedicalReferralRequestObject) (api.UpdateMedicalReferralResponseObject, error) {
	a, err := requireActor(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	b := req.Body
	in := medical.UpdateInput{
		ProviderName:      medOpt(ctx, "providerName", b.ProviderName),
		ProviderID:        medOpt(ctx, "providerId", (*uuid.UUID)(b.ProviderId)),
		ReferralType:      medOpt(ctx, "referralType", b.ReferralType),
		AppointmentDate:   medOpt(ctx, "appointmentDate", dateOf(b.AppointmentDate)),
		ClientFirstName:   medOpt(ctx, "clientFirstName", b.ClientFirstName),
		ClientLastName:    medOpt(ctx, "clientLastName", b.ClientLastName),
		ClientEmail:       medOpt(ctx, "clientEmail", (*string)(b.ClientEmail)),
		ClientPhone:       medOpt(ctx, "clientPhone", b.ClientPhone),
		DateOfInjury:      medOpt(ctx, "dateOfInjury", dateOf(b.DateOfInjury)),
		InjuryDescription: medOpt(ctx, "injuryDescription", b.InjuryDescription),
		Notes:             medOpt(ctx, "notes", b.Notes),
	}
	if b.Status != nil {
		st := medical.Status(*b.Status)
		in.Status = medical.Opt[medical.Status]{Set: true, Value: &st}
	}
	r, err := s.Medical.Update(ctx, a, req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateMedicalReferral200JSONResponse{Body: api.MedicalReferralResponse{Data: apiMedicalReferral(r), Meta: meta(ctx)}}, nil
}
