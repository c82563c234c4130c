package httpapi

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/analytics"
)

// ---- JSON endpoints -------------------------------------------------------------------------

// analyticsParams are the filter parameters every analytics operation shares, built with named
// fields from the generated parameter structs (six of them are dates of one type).
type analyticsParams struct {
	ReferralStartDate      *openapi_types.Date
	ReferralEndDate        *openapi_types.Date
	FirstReferralStartDate *openapi_types.Date
	FirstReferralEndDate   *openapi_types.Date
	SignedStartDate        *openapi_types.Date
	SignedEndDate          *openapi_types.Date
	CaseType               *string
	Jurisdiction           *string
	Tz                     *string
}

func (p analyticsParams) filters() analytics.Filters {
	return analytics.Filters{
		ReferralStart: dateOf(p.ReferralStartDate), ReferralEnd: dateOf(p.ReferralEndDate),
		FirstReferralStart: dateOf(p.FirstReferralStartDate), FirstReferralEnd: dateOf(p.FirstReferralEndDate),
		SignedStart: dateOf(p.SignedStartDate), SignedEnd: dateOf(p.SignedEndDate),
		CaseType: anString(p.CaseType), Jurisdiction: anString(p.Jurisdiction), TimeZone: anString(p.Tz),
	}
}

// GetDashboard returns the headline figures.
func (s *Server) GetDashboard(ctx context.Context, req api.GetDashboardRequestObject) (api.GetDashboardResponseObject, error) {
	d, err := s.Analytics.Dashboard(ctx, PrincipalFrom(ctx).FirmID, analyticsParams{
		ReferralStartDate: req.Params.ReferralStartDate, ReferralEndDate: req.Params.ReferralEndDate,
		FirstReferralStartDate: req.Params.FirstReferralStartDate, FirstReferralEndDate: req.Params.FirstReferralEndDate,
		SignedStartDate: req.Params.SignedStartDate, SignedEndDate: req.Params.SignedEndDate,
		CaseType: req.Params.CaseType, Jurisdiction: req.Params.Jurisdiction, Tz: req.Params.Tz,
	}.filters())
	if err != nil {
		return nil, err
	}
	return api.GetDashboard200JSONResponse{Body: api.DashboardAnalyticsResponse{Data: anDashboard(d), Meta: meta(ctx)}}, nil
}

// GetCaseAnalytics returns referral volumes; dateFrom / dateTo are the older names of the
// referral date filters and yield to them.
func (s *Server) GetCaseAnalytics(ctx context.Context, req api.GetCaseAnalyticsRequestObject) (api.GetCaseAnalyticsResponseObject, error) {
	p := req.Params
	f := analyticsParams{
		ReferralStartDate: p.ReferralStartDate, ReferralEndDate: p.ReferralEndDate,
		FirstReferralStartDate: p.FirstReferralStartDate, FirstReferralEndDate: p.FirstReferralEndDate,
		SignedStartDate: p.SignedStartDate, SignedEndDate: p.SignedEndDate,
		CaseType: p.CaseType, Jurisdiction: p.Jurisdiction, Tz: p.Tz,
	}.filters()
	if f.ReferralStart == nil && p.DateFrom != nil {
		f.ReferralStart, f.ReferralStartParam = dateOf(p.DateFrom), "dateFrom"
	}
	if f.ReferralEnd == nil && p.DateTo != nil {
		f.ReferralEnd, f.ReferralEndParam = dateOf(p.DateTo), "dateTo"
	}
	c, err := s.Analytics.Cases(ctx, PrincipalFrom(ctx).FirmID, f)
	if err != nil {
		return nil, err
	}
	return api.GetCaseAnalytics200JSONResponse{Body: api.CaseAnalyticsResponse{Data: anCases(c), Meta: meta(ctx)}}, nil
}

// GetHomepageAnalytics returns today, this week and this month with their comparisons.
func (s *Server) GetHomepageAnalytics(ctx context.Context, req api.GetHomepageAnalyticsRequestObject) (api.GetHomepageAnalyticsResponseObject, error) {
	h, err := s.Analytics.Homepage(ctx, PrincipalFrom(ctx).FirmID, anString(req.Params.Tz))
	if err != nil {
		return nil, err
	}
	return api.GetHomepageAnalytics200JSONResponse{Body: api.HomepageAnalyticsResponse{Data: anHomepage(h), Meta: meta(ctx)}}, nil
}

// GetCasesByStatus lists the referrals behind one status count.
func (s *Server) GetCasesByStatus(ctx context.Context, req api.GetCasesByStatusRequestObject) (api.GetCasesByStatusResponseObject, error) {
	dir := analytics.Sent
	if req.Params.Context == api.GetCasesByStatusParamsContextReceived {
		dir = analytics.Received
	}
	items, err := s.Analytics.CasesByStatus(ctx, PrincipalFrom(ctx).FirmID, req.Params.Status, dir, req.Params.Limit)
	if err != nil {
		return nil, err
	}
	data := make([]api.CasesByStatusItem, 0, len(items))
	for _, it := range items {
		data = append(data, api.CasesByStatusItem{
			Id: it.ID, CaseId: it.CaseID, ReferralId: it.ReferralID,
			ReferenceNumber: anOptString(it.ReferenceNumber),
			Title:           it.Title,
			FirmId:          it.FirmID,
			FirmName:        it.FirmName,
			ReferredOn:      it.ReferredOn,
			Status:          it.Status,
			CaseType:        anOptString(it.CaseType),
			Jurisdiction:    anOptString(it.Jurisdiction),
		})
	}
	return api.GetCasesByStatus200JSONResponse{Body: api.CasesByStatusResponse{Data: data, Meta: meta(ctx)}}, nil
}

// GetReceivedAnalytics returns the figures of the referrals sent to the caller's firm.
func (s *Server) GetReceivedAnalytics(ctx context.Context, req api.GetReceivedAnalyticsRequestObject) (api.GetReceivedAnalyticsResponseObject, error) {
	f, err := s.Analytics.Flow(ctx, PrincipalFrom(ctx).FirmID, analytics.Received, analyticsParams{
		ReferralStartDate: req.Params.ReferralStartDate, ReferralEndDate: req.Params.ReferralEndDate,
		FirstReferralStartDate: req.Params.FirstReferralStartDate, FirstReferralEndDate: req.Params.FirstReferralEndDate,
		SignedStartDate: req.Params.SignedStartDate, SignedEndDate: req.Params.SignedEndDate,
		CaseType: req.Params.CaseType, Jurisdiction: req.Params.Jurisdiction, Tz: req.Params.Tz,
	}.filters())
	if err != nil {
		return nil, err
	}
	return api.GetReceivedAnalytics200JSONResponse{Body: api.ReferralFlowAnalyticsResponse{Data: anFlow(f), Meta: meta(ctx)}}, nil
}

// GetSentAnalytics returns the figures of the referrals the caller's firm sent.
func (s *Server) GetSentAnalytics(ctx context.Context, req api.GetSentAnalyticsRequestObject) (api.GetSentAnalyticsResponseObject, error) {
	f, err := s.Analytics.Flow(ctx, PrincipalFrom(ctx).FirmID, analytics.Sent, analyticsParams{
		ReferralStartDate: req.Params.ReferralStartDate, ReferralEndDate: req.Params.ReferralEndDate,
		FirstReferralStartDate: req.Params.FirstReferralStartDate, FirstReferralEndDate: req.Params.FirstReferralEndDate,
		SignedStartDate: req.Params.SignedStartDate, SignedEndDate: req.Params.SignedEndDate,
		CaseType: req.Params.CaseType, Jurisdiction: req.Params.Jurisdiction, Tz: req.Params.Tz,
	}.filters())
	if err != nil {
		return nil, err
	}
	return api.GetSentAnalytics200JSONResponse{Body: api.ReferralFlowAnalyticsResponse{Data: anFlow(f), Meta: meta(ctx)}}, nil
}

// GetRevenueReceivedAnalytics returns the money on referrals the caller's firm received and won.
func (s *Server) GetRevenueReceivedAnalytics(ctx context.Context, req api.GetRevenueReceivedAnalyticsRequestObject) (api.GetRevenueReceivedAnalyticsResponseObject, error) {
	r, err := s.Analytics.Revenue(ctx, PrincipalFrom(ctx).FirmID, analytics.Received, analyticsParams{
		ReferralStartDate: req.Params.ReferralStartDate, ReferralEndDate: req.Params.ReferralEndDate,
		FirstReferralStartDate: req.Params.FirstReferralStartDate, FirstReferralEndDate: req.Params.FirstReferralEndDate,
		SignedStartDate: req.Params.SignedStartDate, SignedEndDate: req.Params.SignedEndDate,
		CaseType: req.Params.CaseType, Jurisdiction: req.Params.Jurisdiction, Tz: req.Params.Tz,
	}.filters())
	if err != nil {
		return nil, err
	}
	return api.GetRevenueReceivedAnalytics200JSONResponse{Body: api.RevenueAnalyticsResponse{Data: anRevenue(r), Meta: meta(ctx)}}, nil
}

// GetRevenueSentAnalytics returns the money on referrals the caller's firm sent that were won.
func (s *Server) GetRevenueSentAnalytics(ctx context.Context, req api.GetRevenueSentAnalyticsRequestObject) (api.GetRevenueSentAnalyticsResponseObject, error) {
	r, err := s.Analytics.Revenue(ctx, PrincipalFrom(ctx).FirmID, analytics.Sent, analyticsParams{
		ReferralStartDate: req.Params.ReferralStartDate, ReferralEndDate: req.Params.ReferralEndDate,
		FirstReferralStartDate: req.Params.FirstReferralStartDate, FirstReferralEndDate: req.Params.FirstReferralEndDate,
		SignedStartDate: req.Params.SignedStartDate, SignedEndDate: req.Params.SignedEndDate,
		CaseType: req.Params.CaseType, Jurisdiction: req.Params.Jurisdiction, Tz: req.Params.Tz,
	}.filters())
	if err != nil {
		return nil, err
	}
	return api.GetRevenueSentAnalytics200JSONResponse{Body: api.RevenueAnalyticsResponse{Data: anRevenue(r), Meta: meta(ctx)}}, nil
}

// GetReferralsAnalytics returns referral volume in both directions.
func (s *Server) GetReferralsAnalytics(ctx context.Context, req api.GetReferralsAnalyticsRequestObject) (api.GetReferralsAnalyticsResponseObject, error) {
	r, err := s.Analytics.Referrals(ctx, PrincipalFrom(ctx).FirmID, analyticsParams{
		ReferralStartDate: req.Params.ReferralStartDate, ReferralEndDate: req.Params.ReferralEndDate,
		FirstReferralStartDate: req.Params.FirstReferralStartDate, FirstReferralEndDate: req.Params.FirstReferralEndDate,
		SignedStartDate: req.Params.SignedStartDate, SignedEndDate: req.Params.SignedEndDate,
		CaseType: req.Params.CaseType, Jurisdiction: req.Params.Jurisdiction, Tz: req.Params.Tz,
	}.filters())
	if err != nil {
		return nil, err
	}
	return api.GetReferralsAnalytics200JSONResponse{Body: api.ReferralsAnalyticsResponse{Data: anReferrals(r), Meta: meta(ctx)}}, nil
}

// ---- exports --------------------------------------------------------------------------------

// Export budget per API key, on top of the general rate limit.
const (
	analyticsExportLimit  = 10
	analyticsExportWindow = time.Minute
)

// ExportAllAnalytics streams a workbook with one sheet per category.
// Invalid filters are refused before the export budget is touched: a 400 costs no export.
func (s *Server) ExportAllAnalytics(ctx context.Context, req api.ExportAllAnalyticsRequestObject) (api.ExportAllAnalyticsResponseObject, error) {
	firm := PrincipalFrom(ctx).FirmID
	f := analyticsParams{
		ReferralStartDate: req.Params.ReferralStartDate, ReferralEndDate: req.Params.ReferralEndDate,
		FirstReferralStartDate: req.Params.FirstReferralStartDate, FirstReferralEndDate: req.Params.FirstReferralEndDate,
		SignedStartDate: req.Params.SignedStartDate, SignedEndDate: req.Params.SignedEndDate,
		CaseType: req.Params.CaseType, Jurisdiction: req.Params.Jurisdiction, Tz: req.Params.Tz,
	}.filters()
	if err := s.Analytics.CheckFilters(ctx, firm, f); err != nil {
		return nil, err
	}
	if limited := s.takeAnalyticsExport(ctx); limited != nil {
		return api.ExportAllAnalytics429JSONResponse{AnalyticsExportRateLimitedJSONResponse: *limited}, nil
	}
	sheets, err := s.Analytics.ExportAll(ctx, firm, f)
	if err != nil {
		return nil, err
	}
	cd := `attachment; filename="analytics-export.xlsx"`
	return api.ExportAllAnalytics200ApplicationvndOpenxmlformatsOfficedocumentSpreadsheetmlSheetResponse{
		Body:    anStreamed(func(w io.Writer) error { return analytics.WriteWorkbook(w, sheets) }),
		Headers: api.ExportAllAnalytics200ResponseHeaders{ContentDisposition: &cd},
	}, nil
}

// ExportAnalyticsCategory streams one category as a single-sheet workbook or as CSV.
// Invalid filters are refused before the export budget is touched: a 400 costs no export.
func (s *Server) ExportAnalyticsCategory(ctx context.Context, req api.ExportAnalyticsCategoryRequestObject) (api.ExportAnalyticsCategoryResponseObject, error) {
	p := req.Params
	firm, category := PrincipalFrom(ctx).FirmID, analytics.Category(req.Category)
	f := analyticsParams{
		ReferralStartDate: p.ReferralStartDate, ReferralEndDate: p.ReferralEndDate,
		FirstReferralStartDate: p.FirstReferralStartDate, FirstReferralEndDate: p.FirstReferralEndDate,
		SignedStartDate: p.SignedStartDate, SignedEndDate: p.SignedEndDate,
		CaseType: p.CaseType, Jurisdiction: p.Jurisdiction, Tz: p.Tz,
	}.filters()
	if err := s.Analytics.CheckExport(ctx, firm, category, f); err != nil {
		return nil, err
	}
	if limited := s.takeAnalyticsExport(ctx); limited != nil {
		return api.ExportAnalyticsCategory429JSONResponse{AnalyticsExportRateLimitedJSONResponse: *limited}, nil
	}
	sheet, err := s.Analytics.Export(ctx, firm, category, f)
	if err != nil {
		return nil, err
	}
	if p.Format != nil && *p.Format == api.ExportAnalyticsCategoryParamsFormatCsv {
		cd := fmt.Sprintf(`attachment; filename="%s-export.csv"`, category)
		return api.ExportAnalyticsCategory200TextcsvResponse{
			Body:    anStreamed(func(w io.Writer) error { return analytics.WriteCSV(w, sheet.Rows) }),
			Headers: api.ExportAnalyticsCategory200ResponseHeaders{ContentDisposition: &cd},
		}, nil
	}
	cd := fmt.Sprintf(`attachment; filename="%s-export.xlsx"`, category)
	return api.ExportAnalyticsCategory200ApplicationvndOpenxmlformatsOfficedocumentSpreadsheetmlSheetResponse{
		Body:    anStreamed(func(w io.Writer) error { return analytics.WriteWorkbook(w, []analytics.ExportSheet{sheet}) }),
		Headers: api.ExportAnalyticsCategory200ResponseHeaders{ContentDisposition: &cd},
	}, nil
}

// takeAnalyticsExport counts one export against the caller's export budget and returns the 429 to send
// when it is spent. A failing limiter store lets the export through.
func (s *Server) takeAnalyticsExport(ctx context.Context) *api.AnalyticsExportRateLimitedJSONResponse {
	if s.limiter == nil {
		return nil
	}
	p := PrincipalFrom(ctx)
	key := "analytics-export:" + p.KeyID.String()
	if p.KeyID == uuid.Nil {
		key = "analytics-export:user:" + p.UserID.String()
	}
	res, err := s.limiter.Take(ctx, key, analyticsExportLimit, analyticsExportWindow)
	if err != nil {
		s.log.Warn("export limiter unavailable", "error", err.Error(), "request_id", RequestIDFrom(ctx))
		return nil
	}
	if res.Allowed {
		return nil
	}
	retry := int((res.RetryAfter(time.Now()) + time.Second - 1) / time.Second)
	return &api.AnalyticsExportRateLimitedJSONResponse{
		Body: api.Error{
			Error: api.ErrorBody{Code: "rate_limited", Message: fmt.Sprintf(
				"Export limit reached: %d exports per minute per API key; retry after the window resets", analyticsExportLimit)},
			Meta: meta(ctx),
		},
		Headers: api.AnalyticsExportRateLimitedResponseHeaders{RetryAfter: &retry},
	}
}

// anStreamed runs write in the background and returns what it writes as a stream. Closing the
// stream (the client went away) stops the writer.
func anStreamed(write func(io.Writer) error) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(write(pw)) }()
	return pr
}

// ---- mapping --------------------------------------------------------------------------------

func anString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func anOptString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func anMonth(t time.Time) openapi_types.Date { return openapi_types.Date{Time: t} }

func anFilters(a analytics.Applied) api.AnalyticsAppliedFilters {
	return api.AnalyticsAppliedFilters{
		ReferralStartDate: apiDate(a.ReferralStart), ReferralEndDate: apiDate(a.ReferralEnd),
		FirstReferralStartDate: apiDate(a.FirstReferralStart), FirstReferralEndDate: apiDate(a.FirstReferralEnd),
		SignedStartDate: apiDate(a.SignedStart), SignedEndDate: apiDate(a.SignedEnd),
		CaseType: a.CaseType, Jurisdiction: a.Jurisdiction, TimeZone: a.TimeZone,
	}
}

func anStatusCounts(c analytics.StatusCounts) api.AnalyticsStatusCounts {
	return api.AnalyticsStatusCounts{
		Draft: c["draft"], Sent: c["sent"], Received: c["received"], UnderEvaluation: c["under_evaluation"],
		Investigating: c["investigating"], Signed: c["signed"], InLitigation: c["in_litigation"], Closing: c["closing"],
		Won: c["won"], Lost: c["lost"], Rejected: c["rejected"], Withdrawn: c["withdrawn"], Closed: c["closed"],
	}
}

func anBuckets(b analytics.Buckets) api.AnalyticsStatusBuckets {
	return api.AnalyticsStatusBuckets{Pending: b.Pending, InProgress: b.InProgress, Accepted: b.Accepted, Rejected: b.Rejected, Closed: b.Closed}
}

func anConversion(c analytics.Conversion) api.AnalyticsConversion {
	rejected := c.Rejected
	return api.AnalyticsConversion{
		ReferredCount: c.Referred, SignedCount: c.Signed, WonCount: c.Won, ResolvedAfterSigningCount: c.ResolvedAfterSigning,
		RejectedCount: &rejected, SentToSignedRate: c.SentToSignedRate, SignedToWonRate: c.SignedToWonRate,
	}
}

func anDashboard(d analytics.Dashboard) api.DashboardAnalytics {
	byStatus, filters := anStatusCounts(d.ByStatus), anFilters(d.Filters)
	sent, recv := anConversion(d.SentConversion), anConversion(d.ReceivedConversion)
	settlement, fees := d.TotalSettlement, d.TotalFees
	out := api.DashboardAnalytics{
		TotalCases: d.Sent + d.Received, SentCount: d.Sent, ReceivedCount: d.Received,
		StatusBreakdown: anBuckets(d.Buckets), ByStatus: &byStatus,
		AverageResponseTimeHours: d.AverageResponseHours,
		AverageDaysToAcknowledge: d.AverageDaysToAcknowledge, AverageDaysToSign: d.AverageDaysToSign,
		SentConversion: &sent, ReceivedConversion: &recv,
		TotalSettlementAmount: &settlement, TotalAttorneyFees: &fees,
		TopCaseTypes:    make([]api.DashboardCaseTypeCount, 0, len(d.TopCaseTypes)),
		TopPartnerFirms: make([]api.DashboardPartnerFirm, 0, len(d.TopPartnerFirms)),
		PeriodStart:     d.PeriodStart, PeriodEnd: d.PeriodEnd, Filters: &filters,
	}
	for _, c := range d.TopCaseTypes {
		out.TopCaseTypes = append(out.TopCaseTypes, api.DashboardCaseTypeCount{CaseType: c.Label, CaseTypeName: anOptString(c.Name), Count: c.Count})
	}
	for _, p := range d.TopPartnerFirms {
		sent, recv := p.Sent, p.Received
		out.TopPartnerFirms = append(out.TopPartnerFirms, api.DashboardPartnerFirm{
			FirmId: p.FirmID, FirmName: p.Name, ReferralCount: p.Sent + p.Received, SentCount: &sent, ReceivedCount: &recv,
		})
	}
	return out
}

func anCases(c analytics.Cases) api.CaseAnalytics {
	byStatus, filters := anStatusCounts(c.ByStatus), anFilters(c.Filters)
	out := api.CaseAnalytics{
		DateFrom: apiDate(c.Filters.ReferralStart), DateTo: apiDate(c.Filters.ReferralEnd),
		TotalCases: c.Sent + c.Received, SentCount: c.Sent, ReceivedCount: c.Received,
		StatusBreakdown: anBuckets(c.Buckets), ByStatus: &byStatus,
		MonthlySummary:           make([]api.CaseAnalyticsMonth, 0, len(c.Monthly)),
		CaseTypeBreakdown:        make([]api.CaseAnalyticsCaseType, 0, len(c.ByCaseType)),
		AverageResponseTimeHours: c.AverageResponseHours,
		Filters:                  &filters,
	}
	for _, m := range c.Monthly {
		out.MonthlySummary = append(out.MonthlySummary, api.CaseAnalyticsMonth{Month: m.Month.Format("2006-01"), Sent: m.Sent, Received: m.Received, Total: m.Sent + m.Received})
	}
	for _, v := range c.ByCaseType {
		out.CaseTypeBreakdown = append(out.CaseTypeBreakdown, api.CaseAnalyticsCaseType{
			CaseType: v.Label, CaseTypeName: anOptString(v.Key), Sent: v.Sent, Received: v.Received, Total: v.Sent + v.Received,
		})
	}
	juris := make([]api.CaseAnalyticsJurisdiction, 0, len(c.ByJurisdiction))
	for _, v := range c.ByJurisdiction {
		juris = append(juris, api.CaseAnalyticsJurisdiction{
			Jurisdiction: v.Key, JurisdictionName: anOptString(v.Label), Sent: v.Sent, Received: v.Received, Total: v.Sent + v.Received,
		})
	}
	out.JurisdictionBreakdown = &juris
	return out
}

func anHomepage(h analytics.Homepage) api.HomepageAnalytics {
	metric := func(m analytics.Metric) api.AnalyticsPeriodMetric {
		return api.AnalyticsPeriodMetric{Current: m.Current, Previous: m.Previous, Change: m.Change(), ChangeRatio: m.ChangeRatio()}
	}
	period := func(p analytics.Period) api.HomepagePeriod {
		return api.HomepagePeriod{
			PeriodStart: p.Start, PeriodEnd: p.End, PreviousPeriodStart: p.PreviousStart, PreviousPeriodEnd: p.PreviousEnd,
			Sent: metric(p.Sent), Received: metric(p.Received), Signed: metric(p.Signed), Won: metric(p.Won),
		}
	}
	return api.HomepageAnalytics{TimeZone: h.TimeZone, Today: period(h.Today), ThisWeek: period(h.Week), ThisMonth: period(h.Month)}
}

func anFlow(f analytics.Flow) api.ReferralFlowAnalytics {
	breakdowns := func(in []analytics.Breakdown) []api.AnalyticsBreakdownItem {
		out := make([]api.AnalyticsBreakdownItem, 0, len(in))
		for _, b := range in {
			out = append(out, api.AnalyticsBreakdownItem{Key: b.Key, Label: b.Label, Referrals: b.Referrals, Signed: b.Signed, Won: b.Won, SentToSignedRate: b.SentToSignedRate})
		}
		return out
	}
	out := api.ReferralFlowAnalytics{
		Direction:      api.ReferralFlowAnalyticsDirection(f.Direction),
		Filters:        anFilters(f.Filters),
		TotalReferrals: f.Total, ActiveReferrals: f.Active,
		ByStatus: anStatusCounts(f.ByStatus),
		ByClosingStatus: api.AnalyticsClosingStatusCounts{
			WonSettled: f.ByClosingStatus.WonSettled, Lost: f.ByClosingStatus.Lost,
			NoLongerPursuing: f.ByClosingStatus.NoLongerPursuing, Unspecified: f.ByClosingStatus.Unspecified,
		},
		Conversion: anConversion(f.Conversion),
		Timing: api.AnalyticsTiming{
			AverageDaysToAcknowledge: f.Timing.AverageDaysToAcknowledge, AverageDaysToSign: f.Timing.AverageDaysToSign,
			TimeInStatus: make([]api.AnalyticsStatusDuration, 0, len(f.Timing.TimeInStatus)),
		},
		ByPartnerFirm: breakdowns(f.ByPartnerFirm), ByCaseType: breakdowns(f.ByCaseType), ByJurisdiction: breakdowns(f.ByJurisdiction),
		Trend: make([]api.AnalyticsTrendPoint, 0, len(f.Trend)),
	}
	for _, d := range f.Timing.TimeInStatus {
		median := d.MedianDays
		out.Timing.TimeInStatus = append(out.Timing.TimeInStatus, api.AnalyticsStatusDuration{
			Status: d.Status, AverageDays: d.AverageDays, MedianDays: &median, ReferralCount: d.Stays,
		})
	}
	for _, p := range f.Trend {
		out.Trend = append(out.Trend, api.AnalyticsTrendPoint{
			Period: p.Month.Format("2006-01"), PeriodStart: anMonth(p.Month), Referrals: p.Referrals, Signed: p.Signed, Won: p.Won,
		})
	}
	return out
}

func anRevenue(r analytics.Revenue) api.RevenueAnalytics {
	items := func(in []analytics.RevenueItem) []api.RevenueBreakdownItem {
		out := make([]api.RevenueBreakdownItem, 0, len(in))
		for _, it := range in {
			out = append(out, api.RevenueBreakdownItem{
				Key: it.Key, Label: it.Label, WonCount: it.Won, SettlementAmount: it.Settlement, AttorneyFees: it.AttorneyFees,
				SendingFirmShare: it.SendingFirmShare, ReceivingFirmShare: it.ReceivingFirmShare,
			})
		}
		return out
	}
	open := r.OpenWithProjection
	out := api.RevenueAnalytics{
		Direction: api.RevenueAnalyticsDirection(r.Direction), Filters: anFilters(r.Filters),
		Currency: api.RevenueAnalyticsCurrencyUSD, WonCount: r.Won,
		TotalSettlementAmount: r.TotalSettlement, TotalAttorneyFees: r.TotalFees,
		AverageSettlementAmount: r.AverageSettlement, AverageAttorneyFees: r.AverageFees,
		FeeSplit: api.RevenueFeeSplit{
			SendingFirmShare: r.Split.SendingFirmShare, ReceivingFirmShare: r.Split.ReceivingFirmShare,
			AverageSendingFirmShareRatio: r.Split.AverageSendingFirmShareRatio, ReferralsWithoutSplit: r.Split.ReferralsWithoutSplit,
		},
		ProjectedSettlementAmount: r.Projected, OpenReferralsWithProjection: &open,
		ByPartnerFirm: items(r.ByPartnerFirm), ByCaseType: items(r.ByCaseType), ByJurisdiction: items(r.ByJurisdiction),
		Trend: make([]api.RevenueTrendPoint, 0, len(r.Trend)),
	}
	for _, p := range r.Trend {
		out.Trend = append(out.Trend, api.RevenueTrendPoint{
			Period: p.Month.Format("2006-01"), PeriodStart: anMonth(p.Month), WonCount: p.Won,
			SettlementAmount: p.Settlement, AttorneyFees: p.AttorneyFees,
		})
	}
	return out
}

func anReferrals(r analytics.Referrals) api.ReferralsAnalytics {
	volumes := func(in []analytics.VolumeItem) []api.AnalyticsVolumeItem {
		out := make([]api.AnalyticsVolumeItem, 0, len(in))
		for _, v := range in {
			out = append(out, api.AnalyticsVolumeItem{Key: v.Key, Label: v.Label, Sent: v.Sent, Received: v.Received, Total: v.Sent + v.Received})
		}
		return out
	}
	out := api.ReferralsAnalytics{
		Filters:        anFilters(r.Filters),
		TotalReferrals: r.Sent + r.Received, SentCount: r.Sent, ReceivedCount: r.Received,
		CasesReferred: r.CasesReferred, ReReferredCases: r.ReReferred, AverageReferralsPerCase: r.AverageReferralsPerCase,
		SentByStatus: anStatusCounts(r.SentByStatus), ReceivedByStatus: anStatusCounts(r.ReceivedByStatus),
		ByPartnerFirm: volumes(r.ByPartnerFirm), ByCaseType: volumes(r.ByCaseType), ByJurisdiction: volumes(r.ByJurisdiction),
		Trend: make([]api.ReferralsTrendPoint, 0, len(r.Trend)),
	}
	for _, p := range r.Trend {
		out.Trend = append(out.Trend, api.ReferralsTrendPoint{
			Period: p.Month.Format("2006-01"), PeriodStart: anMonth(p.Month), Sent: p.Sent, Received: p.Received, Total: p.Sent + p.Received,
		})
	}
	return out
}
