package httpapi

// Fees: fee agreements, client consent and the fee ledger. Each method maps the
// request to internal/fees and the result to the contract; the rules live in the domain.

import (
	"context"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/fees"
	"github.com/casexchange/server/internal/tabular"
)

func feeProfileDTO(p fees.Profile) api.FeeRuleProfile {
	return api.FeeRuleProfile{Code: p.Code, Name: p.Name, ConsentMethod: api.FeeRuleProfileConsentMethod(p.ConsentMethod),
		ConsentDeadlineDays: p.ConsentDeadlineDays, BasisRequired: p.BasisRequired, TotalFeeMayChange: p.TotalFeeMayChange, Summary: p.Summary}
}

func feeAgreementDTO(ag fees.Agreement) api.FeeAgreement {
	out := api.FeeAgreement{
		ReferralId: ag.Referral.ID, ReferenceNumber: ag.Referral.ReferenceNumber, ReferringFirmId: ag.Referral.ReferringFirmID,
		ReceivingFirmId: ag.Referral.ReceivingFirmID, Profile: feeProfileDTO(ag.Profile),
		Versions: []api.FeeAgreementVersion{}, Consents: []api.FeeConsent{},
		Compliance: api.FeeCompliance{Status: api.FeeComplianceStatus(ag.Compliance.Status), Profile: ag.Compliance.Profile, Reasons: ag.Compliance.Reasons},
	}
	if f := ag.InForce(); f != nil {
		n := f.Version
		out.InForceVersion = &n
	}
	for _, v := range ag.Versions {
		st := api.FeeAgreementVersionStatusProposed
		switch {
		case v.SupersededAt != nil:
			st = api.FeeAgreementVersionStatusSuperseded
		case v.Accepted():
			st = api.FeeAgreementVersionStatusAccepted
		}
		out.Versions = append(out.Versions, api.FeeAgreementVersion{
			Version: v.Version, Id: v.ID, Status: st, Basis: api.FeeBasis(v.Terms.Basis),
			ShareKind:                   api.FeeAgreementVersionShareKind(v.Terms.ShareKind),
			ReferringFirmShare:          fees.ShareString(v.Terms.ShareKind, v.Terms.ReferringShare),
			ReceivingFirmShare:          fees.ShareString(v.Terms.ShareKind, v.Terms.ReceivingShare),
			ClientContingencyPercentage: fees.FormatCents(v.Terms.ClientContingencyBP), Notes: v.Terms.Notes,
			ProposedByFirmId: v.ProposedByFirmID, ProposedAt: v.ProposedAt, AcceptedByFirmId: v.AcceptedByFirmID,
			AcceptedAt: v.AcceptedAt, SupersededAt: v.SupersededAt,
		})
	}
	for _, c := range ag.Consents {
		out.Consents = append(out.Consents, api.FeeConsent{
			Id: c.ID, Version: c.Version, ConsentedOn: openapi_types.Date{Time: c.ConsentedOn}, Method: api.FeeConsentMethod(c.Method),
			SignerName: c.SignerName, DocumentId: c.DocumentID, RecordedByFirmId: c.RecordedByFirmID, RecordedAt: c.RecordedAt,
		})
	}
	return out
}

func feeAgreementResponse(ctx context.Context, ag fees.Agreement) api.FeeAgreementResponse {
	return api.FeeAgreementResponse{Data: feeAgreementDTO(ag), Meta: meta(ctx)}
}

func centsPtr(c *int64) *string {
	if c == nil {
		return nil
	}
	s := fees.FormatCents(*c)
	return &s
}

func feeEntryDTO(e fees.Entry) api.FeeLedgerEntry {
	out := api.FeeLedgerEntry{
		Id: e.ID, ReferralId: e.ReferralID, BaseCaseId: e.BaseCaseID, ReferenceNumber: e.ReferenceNumber,
		ReferringFirmId: e.ReferringFirmID, ReferringFirmName: e.ReferringFirmName, ReceivingFirmId: e.ReceivingFirmID,
		ReceivingFirmName: e.ReceivingFirmName, AgreementVersionId: e.VersionID, Status: api.FeeLedgerStatus(e.Status),
		AttorneyFees: fees.FormatCents(e.AttorneyFeesCents), AmountDue: centsPtr(e.AmountDueCents), AmountPaid: fees.FormatCents(e.PaidCents),
		AmountOutstanding: centsPtr(e.OutstandingCents()), ClosedOn: openapi_types.Date{Time: e.ClosedOn}, DueDate: apiDate(e.DueDate),
		AgingBucket: enumOf[api.FeeLedgerEntryAgingBucket](e.AgingBucket), DisputeReason: e.DisputeReason,
		WrittenOffReason: e.WrittenOffReason, Payments: []api.FeePayment{}, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
	for _, p := range e.Payments {
		out.Payments = append(out.Payments, api.FeePayment{Id: p.ID, Amount: fees.FormatCents(p.AmountCents),
			PaidOn: openapi_types.Date{Time: p.PaidOn}, Method: api.FeePaymentMethod(p.Method), Reference: p.Reference,
			RecordedByFirmId: p.RecordedByFirmID, CreatedAt: p.CreatedAt})
	}
	return out
}

func feeEntryResponse(ctx context.Context, e fees.Entry) api.FeeLedgerEntryResponse {
	return api.FeeLedgerEntryResponse{Data: feeEntryDTO(e), Meta: meta(ctx)}
}

// ListFeeRuleProfiles lists the jurisdiction rule profiles.
func (s *Server) ListFeeRuleProfiles(ctx context.Context, _ api.ListFeeRuleProfilesRequestObject) (api.ListFeeRuleProfilesResponseObject, error) {
	ps, err := s.Fees.Profiles(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.FeeRuleProfile, len(ps))
	for i, p := range ps {
		out[i] = feeProfileDTO(p)
	}
	return api.ListFeeRuleProfiles200JSONResponse{Body: api.FeeRuleProfileListResponse{Data: out, Meta: meta(ctx)}}, nil
}

// GetReferralFeeAgreement returns a referral's fee agreement.
func (s *Server) GetReferralFeeAgreement(ctx context.Context, req api.GetReferralFeeAgreementRequestObject) (api.GetReferralFeeAgreementResponseObject, error) {
	ag, err := s.Fees.Get(ctx, actorOf(ctx), selTop(req.Id))
	if err != nil {
		return nil, err
	}
	return api.GetReferralFeeAgreement200JSONResponse{Body: feeAgreementResponse(ctx, ag)}, nil
}

// GetCaseReferralFeeAgreement is GetReferralFeeAgreement on the nested route family.
func (s *Server) GetCaseReferralFeeAgreement(ctx context.Context, req api.GetCaseReferralFeeAgreementRequestObject) (api.GetCaseReferralFeeAgreementResponseObject, error) {
	ag, err := s.Fees.Get(ctx, actorOf(ctx), selNested(req.BaseCaseId, req.Id))
	if err != nil {
		return nil, err
	}
	return api.GetCaseReferralFeeAgreement200JSONResponse{Body: feeAgreementResponse(ctx, ag)}, nil
}

// ProposeReferralFeeAgreement records the next version of a referral's fee agreement.
func (s *Server) ProposeReferralFeeAgreement(ctx context.Context, req api.ProposeReferralFeeAgreementRequestObject) (api.ProposeReferralFeeAgreementResponseObject, error) {
	b := req.Body
	in := fees.ProposeInput{
		Basis: string(b.Basis), ReferringFirmPercentage: b.ReferringFirmPercentage, ReceivingFirmPercentage: b.ReceivingFirmPercentage,
		ReferringFirmAmount: b.ReferringFirmAmount, ReceivingFirmAmount: b.ReceivingFirmAmount,
		ClientContingencyPercentage: b.ClientContingencyPercentage, Notes: b.Notes,
	}
	ag, err := s.Fees.Propose(ctx, actorOf(ctx), selTop(req.Id), in)
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	return api.ProposeReferralFeeAgreement200JSONResponse{Body: feeAgreementResponse(ctx, ag)}, nil
}

// AcceptReferralFeeAgreement accepts a version of a referral's fee agreement.
func (s *Server) AcceptReferralFeeAgreement(ctx context.Context, req api.AcceptReferralFeeAgreementRequestObject) (api.AcceptReferralFeeAgreementResponseObject, error) {
	ag, err := s.Fees.Accept(ctx, actorOf(ctx), selTop(req.Id), req.Version)
	if err != nil {
		return nil, err
	}
	return api.AcceptReferralFeeAgreement200JSONResponse{Body: feeAgreementResponse(ctx, ag)}, nil
}

// RecordReferralFeeConsent records the client's consent to a referral's fee division.
func (s *Server) RecordReferralFeeConsent(ctx context.Context, req api.RecordReferralFeeConsentRequestObject) (api.RecordReferralFeeConsentResponseObject, error) {
	b := req.Body
	ag, err := s.Fees.RecordConsent(ctx, actorOf(ctx), selTop(req.Id), fees.ConsentInput{
		ConsentedOn: b.ConsentedOn.Time, Method: string(b.Method), SignerName: b.SignerName, DocumentID: b.DocumentId,
	})
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	return api.RecordReferralFeeConsent200JSONResponse{Body: feeAgreementResponse(ctx, ag)}, nil
}

// ListFeeLedger lists one side of the caller's fee ledger.
func (s *Server) ListFeeLedger(ctx context.Context, req api.ListFeeLedgerRequestObject) (api.ListFeeLedgerResponseObject, error) {
	p := req.Params
	page, limit := pageParams(p.Page, p.Limit)
	in := fees.ListInput{Direction: strOf(p.Direction), Status: (*string)(p.Status), Partner: p.PartnerFirmId,
		DueFrom: dateOf(p.DueFrom), DueTo: dateOf(p.DueTo), Aging: (*string)(p.Aging), Page: page, Limit: limit, Cursor: strOf(p.Cursor)}
	res, err := s.Fees.List(ctx, actorOf(ctx), in)
	if err != nil {
		return nil, prefixFields(err, "query.", nil)
	}
	out := make([]api.FeeLedgerEntry, len(res.Items))
	for i, e := range res.Items {
		out[i] = feeEntryDTO(e)
	}
	pag := pagination(res.Page, limit, res.Total)
	pag.NextCursor = res.NextCursor
	return api.ListFeeLedger200JSONResponse{Body: api.FeeLedgerListResponse{Data: out, Pagination: pag, Meta: meta(ctx)}}, nil
}

// ExportFeeLedger streams one side of the caller's fee ledger as CSV or XLSX: the list's entries
// and filters, laid out by fees.ExportCells.
func (s *Server) ExportFeeLedger(ctx context.Context, req api.ExportFeeLedgerRequestObject) (api.ExportFeeLedgerResponseObject, error) {
	p := req.Params
	direction := strOf(p.Direction)
	if direction == "" {
		direction = fees.OwedToMe
	}
	in := fees.ListInput{Direction: direction, Status: (*string)(p.Status), Partner: p.PartnerFirmId,
		DueFrom: dateOf(p.DueFrom), DueTo: dateOf(p.DueTo), Aging: (*string)(p.Aging)}
	xlsx := strOf(p.Format) == "xlsx"
	a := actorOf(ctx)
	body, truncated, err := streamExport(xlsx, fees.ExportColumns, func(begin func(bool) error, row func([]tabular.Cell) error) error {
		return s.Fees.Export(ctx, a, in, begin, func(e fees.Entry) error { return row(fees.ExportCells(e)) })
	})
	if err != nil {
		return nil, prefixFields(err, "query.", nil)
	}
	name := "fee-ledger-" + direction + "-" + time.Now().UTC().Format(time.DateOnly)
	headers := api.ExportFeeLedger200ResponseHeaders{XExportTruncated: &truncated}
	headers.ContentDisposition = exportDisposition(name, xlsx)
	if xlsx {
		return api.ExportFeeLedger200ApplicationvndOpenxmlformatsOfficedocumentSpreadsheetmlSheetResponse{Body: body, Headers: headers}, nil
	}
	return api.ExportFeeLedger200TextcsvResponse{Body: body, Headers: headers}, nil
}

func feeFlowMonthDTO(m fees.MonthFlow) api.FeeAnalyticsMonth {
	return api.FeeAnalyticsMonth{Month: m.Month.Format("2006-01"), PeriodStart: openapi_types.Date{Time: m.Month},
		Received: fees.FormatCents(m.ReceivedCents), Paid: fees.FormatCents(m.PaidCents), Net: fees.FormatCents(m.NetCents()),
		PaymentsReceived: int(m.PaymentsReceived), PaymentsMade: int(m.PaymentsMade)}
}

// GetFeeAnalytics returns the fees the caller's firm received and paid, per partner firm and
// month.
func (s *Server) GetFeeAnalytics(ctx context.Context, req api.GetFeeAnalyticsRequestObject) (api.GetFeeAnalyticsResponseObject, error) {
	an, err := s.Fees.Analytics(ctx, actorOf(ctx), fees.AnalyticsInput{From: dateOf(req.Params.DateFrom), To: dateOf(req.Params.DateTo)})
	if err != nil {
		return nil, prefixFields(err, "query.", nil)
	}
	t := an.Total
	out := api.FeeAnalytics{
		DateFrom: openapi_types.Date{Time: an.From}, DateTo: openapi_types.Date{Time: an.To}, Currency: api.FeeAnalyticsCurrencyUSD,
		Totals: api.FeeFlowFigures{Received: fees.FormatCents(t.ReceivedCents), Paid: fees.FormatCents(t.PaidCents),
			Net: fees.FormatCents(t.NetCents()), PaymentsReceived: int(t.PaymentsReceived), PaymentsMade: int(t.PaymentsMade)},
		ByMonth:       make([]api.FeeAnalyticsMonth, 0, len(an.Months)),
		ByPartnerFirm: make([]api.FeeAnalyticsPartner, 0, len(an.Partners)),
	}
	for _, m := range an.Months {
		out.ByMonth = append(out.ByMonth, feeFlowMonthDTO(m))
	}
	for _, p := range an.Partners {
		dto := api.FeeAnalyticsPartner{FirmId: p.FirmID, FirmName: p.FirmName, Received: fees.FormatCents(p.ReceivedCents),
			Paid: fees.FormatCents(p.PaidCents), Net: fees.FormatCents(p.NetCents()), PaymentsReceived: int(p.PaymentsReceived),
			PaymentsMade: int(p.PaymentsMade), Months: make([]api.FeeAnalyticsMonth, 0, len(p.Months))}
		for _, m := range p.Months {
			dto.Months = append(dto.Months, feeFlowMonthDTO(m))
		}
		out.ByPartnerFirm = append(out.ByPartnerFirm, dto)
	}
	return api.GetFeeAnalytics200JSONResponse{Body: api.FeeAnalyticsResponse{Data: out, Meta: meta(ctx)}}, nil
}

// GetFeeLedgerEntry returns one ledger entry.
func (s *Server) GetFeeLedgerEntry(ctx context.Context, req api.GetFeeLedgerEntryRequestObject) (api.GetFeeLedgerEntryResponseObject, error) {
	e, err := s.Fees.GetEntry(ctx, actorOf(ctx), uuid.UUID(req.EntryId))
	if err != nil {
		return nil, err
	}
	return api.GetFeeLedgerEntry200JSONResponse{Body: feeEntryResponse(ctx, e)}, nil
}

// RecordFeePayment records a payment on a ledger entry.
func (s *Server) RecordFeePayment(ctx context.Context, req api.RecordFeePaymentRequestObject) (api.RecordFeePaymentResponseObject, error) {
	b := req.Body
	e, err := s.Fees.RecordPayment(ctx, actorOf(ctx), uuid.UUID(req.EntryId), fees.PaymentInput{
		Amount: b.Amount, PaidOn: b.PaidOn.Time, Method: string(b.Method), Reference: b.Reference,
	})
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	return api.RecordFeePayment200JSONResponse{Body: feeEntryResponse(ctx, e)}, nil
}

// DisputeFeeLedgerEntry marks a ledger entry disputed.
func (s *Server) DisputeFeeLedgerEntry(ctx context.Context, req api.DisputeFeeLedgerEntryRequestObject) (api.DisputeFeeLedgerEntryResponseObject, error) {
	e, err := s.Fees.Dispute(ctx, actorOf(ctx), uuid.UUID(req.EntryId), req.Body.Reason)
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	return api.DisputeFeeLedgerEntry200JSONResponse{Body: feeEntryResponse(ctx, e)}, nil
}

// WriteOffFeeLedgerEntry marks a ledger entry written off.
func (s *Server) WriteOffFeeLedgerEntry(ctx context.Context, req api.WriteOffFeeLedgerEntryRequestObject) (api.WriteOffFeeLedgerEntryResponseObject, error) {
	var reason *string
	if req.Body != nil {
		reason = req.Body.Reason
	}
	e, err := s.Fees.WriteOff(ctx, actorOf(ctx), uuid.UUID(req.EntryId), reason)
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	return api.WriteOffFeeLedgerEntry200JSONResponse{Body: feeEntryResponse(ctx, e)}, nil
}
