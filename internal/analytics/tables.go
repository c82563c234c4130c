package analytics

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/apperr"
)

// The export tables are laid out here, from the typed results, with every metric's name and
// unit written next to the field it reads. The names and the row order are those of the
// category's JSON response (its fields in alphabetical order, as the contract lists them), so
// that a row can be looked up in the JSON; but they are spelled out here, so that renaming a
// field of the API does not silently rename, drop or re-unit a column of the exports.

// Category is one analytics export category; its name is the sheet name.
type Category string

// Export categories.
const (
	CategoryDashboard       Category = "dashboard"
	CategoryCases           Category = "cases"
	CategoryHomepage        Category = "homepage"
	CategoryReceived        Category = "received"
	CategorySent            Category = "sent"
	CategoryRevenueReceived Category = "revenue-received"
	CategoryRevenueSent     Category = "revenue-sent"
	CategoryReferrals       Category = "referrals"
)

// Categories lists the export categories in workbook order.
var Categories = []Category{CategoryDashboard, CategoryCases, CategoryHomepage, CategoryReceived, CategorySent,
	CategoryRevenueReceived, CategoryRevenueSent, CategoryReferrals}

// CheckExport validates the filters category reads: the homepage reads only the zone, the other
// categories every filter. It returns an apperr.ErrValidation error naming the query parameter,
// or apperr.ErrNotFound for an unknown category.
func (s *Service) CheckExport(ctx context.Context, firm uuid.UUID, category Category, f Filters) error {
	switch category {
	case CategoryHomepage:
		_, _, err := LoadZone(f.TimeZone)
		return err
	case CategoryDashboard, CategoryCases, CategoryReceived, CategorySent, CategoryRevenueReceived,
		CategoryRevenueSent, CategoryReferrals:
		return s.CheckFilters(ctx, firm, f)
	}
	return apperr.NotFound("analytics category")
}

// Export computes one category, as its own method does, and lays it out as its export table.
// It returns an apperr.ErrValidation error for invalid filters and apperr.ErrNotFound for an
// unknown category.
func (s *Service) Export(ctx context.Context, firm uuid.UUID, category Category, f Filters) (ExportSheet, error) {
	var rows []ExportRow
	switch category {
	case CategoryDashboard:
		d, err := s.Dashboard(ctx, firm, f)
		if err != nil {
			return ExportSheet{}, err
		}
		rows = DashboardRows(d)
	case CategoryCases:
		c, err := s.Cases(ctx, firm, f)
		if err != nil {
			return ExportSheet{}, err
		}
		rows = CasesRows(c)
	case CategoryHomepage:
		h, err := s.Homepage(ctx, firm, f.TimeZone)
		if err != nil {
			return ExportSheet{}, err
		}
		rows = HomepageRows(h)
	case CategoryReceived, CategorySent:
		fl, err := s.Flow(ctx, firm, Direction(category), f)
		if err != nil {
			return ExportSheet{}, err
		}
		rows = FlowRows(fl)
	case CategoryRevenueReceived, CategoryRevenueSent:
		r, err := s.Revenue(ctx, firm, Direction(strings.TrimPrefix(string(category), "revenue-")), f)
		if err != nil {
			return ExportSheet{}, err
		}
		rows = RevenueRows(r)
	case CategoryReferrals:
		r, err := s.Referrals(ctx, firm, f)
		if err != nil {
			return ExportSheet{}, err
		}
		rows = ReferralsRows(r)
	default:
		return ExportSheet{}, apperr.NotFound("analytics category")
	}
	return ExportSheet{Name: string(category), Rows: rows}, nil
}

// ExportAll computes every category from one snapshot (Report) and lays each out as a sheet, in
// workbook order. It returns an apperr.ErrValidation error for invalid filters.
func (s *Service) ExportAll(ctx context.Context, firm uuid.UUID, f Filters) ([]ExportSheet, error) {
	rep, err := s.Report(ctx, firm, f)
	if err != nil {
		return nil, err
	}
	return rep.Sheets(), nil
}

// Sheets lays the report out as one export sheet per category, in workbook order.
func (r Report) Sheets() []ExportSheet {
	return []ExportSheet{
		{Name: string(CategoryDashboard), Rows: DashboardRows(r.Dashboard)},
		{Name: string(CategoryCases), Rows: CasesRows(r.Cases)},
		{Name: string(CategoryHomepage), Rows: HomepageRows(r.Homepage)},
		{Name: string(CategoryReceived), Rows: FlowRows(r.Received)},
		{Name: string(CategorySent), Rows: FlowRows(r.Sent)},
		{Name: string(CategoryRevenueReceived), Rows: RevenueRows(r.RevenueReceived)},
		{Name: string(CategoryRevenueSent), Rows: RevenueRows(r.RevenueSent)},
		{Name: string(CategoryReferrals), Rows: ReferralsRows(r.Referrals)},
	}
}

// ---- one table per category -------------------------------------------------------------

// DashboardRows is the export table of the dashboard.
func DashboardRows(d Dashboard) []ExportRow {
	var t table
	sum := t.at("summary")
	sum.figure("averageDaysToAcknowledge", UnitDays, d.AverageDaysToAcknowledge)
	sum.figure("averageDaysToSign", UnitDays, d.AverageDaysToSign)
	sum.figure("averageResponseTimeHours", UnitHours, &d.AverageResponseHours)
	t.statusCounts("byStatus", d.ByStatus)
	t.conversion("receivedConversion", d.ReceivedConversion)
	sum.count("receivedCount", d.Received)
	t.conversion("sentConversion", d.SentConversion)
	sum.count("sentCount", d.Sent)
	t.buckets("statusBreakdown", d.Buckets)
	for _, c := range d.TopCaseTypes {
		t.entry("topCaseTypes", c.Label).count("count", c.Count)
	}
	for _, p := range d.TopPartnerFirms {
		e := t.entry("topPartnerFirms", p.Name)
		e.count("receivedCount", p.Received)
		e.count("referralCount", p.Sent+p.Received)
		e.count("sentCount", p.Sent)
	}
	sum.figure("totalAttorneyFees", UnitUSD, &d.TotalFees)
	sum.count("totalCases", d.Sent+d.Received)
	sum.figure("totalSettlementAmount", UnitUSD, &d.TotalSettlement)
	return t.rows
}

// CasesRows is the export table of the case volumes.
func CasesRows(c Cases) []ExportRow {
	var t table
	sum := t.at("summary")
	sum.figure("averageResponseTimeHours", UnitHours, &c.AverageResponseHours)
	t.statusCounts("byStatus", c.ByStatus)
	for _, v := range c.ByCaseType {
		t.volume(t.entry("caseTypeBreakdown", v.Label), v)
	}
	for _, v := range c.ByJurisdiction {
		// The jurisdiction's name, or its code when it has none.
		name := v.Label
		if name == "" {
			name = v.Key
		}
		t.volume(t.entry("jurisdictionBreakdown", name), v)
	}
	for _, m := range c.Monthly {
		t.volume(t.month("monthlySummary", m.Month), VolumeItem{Sent: m.Sent, Received: m.Received})
	}
	sum.count("receivedCount", c.Received)
	sum.count("sentCount", c.Sent)
	t.buckets("statusBreakdown", c.Buckets)
	sum.count("totalCases", c.Sent+c.Received)
	return t.rows
}

// HomepageRows is the export table of the homepage periods.
func HomepageRows(h Homepage) []ExportRow {
	var t table
	for _, p := range []struct {
		section string
		period  Period
	}{{"thisMonth", h.Month}, {"thisWeek", h.Week}, {"today", h.Today}} {
		for _, m := range []struct {
			item   string
			metric Metric
		}{{"received", p.period.Received}, {"sent", p.period.Sent}, {"signed", p.period.Signed}, {"won", p.period.Won}} {
			e := t.entry(p.section, m.item)
			e.count("change", m.metric.Change())
			e.figure("changeRatio", UnitRatio, m.metric.ChangeRatio())
			e.count("current", m.metric.Current)
			e.count("previous", m.metric.Previous)
		}
	}
	return t.rows
}

// FlowRows is the export table of one direction's referral figures.
func FlowRows(f Flow) []ExportRow {
	var t table
	sum := t.at("summary")
	sum.count("activeReferrals", f.Active)
	t.breakdowns("byCaseType", f.ByCaseType)
	cl := t.at("byClosingStatus")
	cl.count("lost", f.ByClosingStatus.Lost)
	cl.count("no_longer_pursuing", f.ByClosingStatus.NoLongerPursuing)
	cl.count("unspecified", f.ByClosingStatus.Unspecified)
	cl.count("won_settled", f.ByClosingStatus.WonSettled)
	t.breakdowns("byJurisdiction", f.ByJurisdiction)
	t.breakdowns("byPartnerFirm", f.ByPartnerFirm)
	t.statusCounts("byStatus", f.ByStatus)
	t.conversion("conversion", f.Conversion)
	tm := t.at("timing")
	tm.figure("averageDaysToAcknowledge", UnitDays, f.Timing.AverageDaysToAcknowledge)
	tm.figure("averageDaysToSign", UnitDays, f.Timing.AverageDaysToSign)
	for _, d := range f.Timing.TimeInStatus {
		e := t.entry("timing.timeInStatus", d.Status)
		e.figure("averageDays", UnitDays, &d.AverageDays)
		e.figure("medianDays", UnitDays, &d.MedianDays)
		e.count("referralCount", d.Stays)
	}
	sum.count("totalReferrals", f.Total)
	for _, p := range f.Trend {
		e := t.month("trend", p.Month)
		e.count("referrals", p.Referrals)
		e.count("signed", p.Signed)
		e.count("won", p.Won)
	}
	return t.rows
}

// RevenueRows is the export table of one direction's money.
func RevenueRows(r Revenue) []ExportRow {
	var t table
	sum := t.at("summary")
	sum.figure("averageAttorneyFees", UnitUSD, r.AverageFees)
	sum.figure("averageSettlementAmount", UnitUSD, r.AverageSettlement)
	t.revenueItems("byCaseType", r.ByCaseType)
	t.revenueItems("byJurisdiction", r.ByJurisdiction)
	t.revenueItems("byPartnerFirm", r.ByPartnerFirm)
	fs := t.at("feeSplit")
	fs.figure("averageSendingFirmShareRatio", UnitRatio, r.Split.AverageSendingFirmShareRatio)
	fs.figure("receivingFirmShare", UnitUSD, &r.Split.ReceivingFirmShare)
	fs.count("referralsWithoutSplit", r.Split.ReferralsWithoutSplit)
	fs.figure("sendingFirmShare", UnitUSD, &r.Split.SendingFirmShare)
	sum.count("openReferralsWithProjection", r.OpenWithProjection)
	sum.figure("projectedSettlementAmount", UnitUSD, &r.Projected)
	sum.figure("totalAttorneyFees", UnitUSD, &r.TotalFees)
	sum.figure("totalSettlementAmount", UnitUSD, &r.TotalSettlement)
	for _, p := range r.Trend {
		e := t.month("trend", p.Month)
		e.figure("attorneyFees", UnitUSD, &p.AttorneyFees)
		e.figure("settlementAmount", UnitUSD, &p.Settlement)
		e.count("wonCount", p.Won)
	}
	sum.count("wonCount", r.Won)
	return t.rows
}

// ReferralsRows is the export table of the referral volumes in both directions.
func ReferralsRows(r Referrals) []ExportRow {
	var t table
	sum := t.at("summary")
	sum.figure("averageReferralsPerCase", UnitCount, r.AverageReferralsPerCase)
	for _, list := range []struct {
		section string
		items   []VolumeItem
	}{{"byCaseType", r.ByCaseType}, {"byJurisdiction", r.ByJurisdiction}, {"byPartnerFirm", r.ByPartnerFirm}} {
		for _, v := range list.items {
			t.volume(t.entry(list.section, v.Label), v)
		}
	}
	sum.count("casesReferred", r.CasesReferred)
	sum.count("reReferredCases", r.ReReferred)
	t.statusCounts("receivedByStatus", r.ReceivedByStatus)
	sum.count("receivedCount", r.Received)
	t.statusCounts("sentByStatus", r.SentByStatus)
	sum.count("sentCount", r.Sent)
	sum.count("totalReferrals", r.Sent+r.Received)
	for _, p := range r.Trend {
		t.volume(t.month("trend", p.Month), VolumeItem{Sent: p.Sent, Received: p.Received})
	}
	return t.rows
}

// ---- shared parts -----------------------------------------------------------------------

// exportStatuses are AllStatuses in the order of the byStatus objects: alphabetical, so that a
// new status needs no edit here.
var exportStatuses = slices.Sorted(slices.Values(AllStatuses))

func (t *table) statusCounts(section string, c StatusCounts) {
	a := t.at(section)
	for _, st := range exportStatuses {
		a.count(st, c[st])
	}
}

func (t *table) buckets(section string, b Buckets) {
	a := t.at(section)
	a.count("accepted", b.Accepted)
	a.count("closed", b.Closed)
	a.count("inProgress", b.InProgress)
	a.count("pending", b.Pending)
	a.count("rejected", b.Rejected)
}

func (t *table) conversion(section string, c Conversion) {
	a := t.at(section)
	a.count("referredCount", c.Referred)
	a.count("rejectedCount", c.Rejected)
	a.count("resolvedAfterSigningCount", c.ResolvedAfterSigning)
	a.figure("sentToSignedRate", UnitRatio, c.SentToSignedRate)
	a.count("signedCount", c.Signed)
	a.figure("signedToWonRate", UnitRatio, c.SignedToWonRate)
	a.count("wonCount", c.Won)
}

func (t *table) breakdowns(section string, items []Breakdown) {
	for _, b := range items {
		e := t.entry(section, b.Label)
		e.count("referrals", b.Referrals)
		e.figure("sentToSignedRate", UnitRatio, b.SentToSignedRate)
		e.count("signed", b.Signed)
		e.count("won", b.Won)
	}
}

func (t *table) revenueItems(section string, items []RevenueItem) {
	for _, it := range items {
		e := t.entry(section, it.Label)
		e.figure("attorneyFees", UnitUSD, &it.AttorneyFees)
		e.figure("receivingFirmShare", UnitUSD, &it.ReceivingFirmShare)
		e.figure("sendingFirmShare", UnitUSD, &it.SendingFirmShare)
		e.figure("settlementAmount", UnitUSD, &it.Settlement)
		e.count("wonCount", it.Won)
	}
}

// volume writes the received, sent and total counts of one group or month.
func (t *table) volume(e place, v VolumeItem) {
	e.count("received", v.Received)
	e.count("sent", v.Sent)
	e.count("total", v.Sent+v.Received)
}

// ---- table builder ----------------------------------------------------------------------

// table collects the rows of one export table.
type table struct{ rows []ExportRow }

// place is where the next figures sit: their section, and the list entry or object (item) or
// month they belong to.
type place struct {
	t       *table
	section string
	item    string
	month   *time.Time
}

// at is a section of its own (or "summary", the top level).
func (t *table) at(section string) place { return place{t: t, section: section} }

// entry is one entry of a list, or one object inside a section, named by item.
func (t *table) entry(section, item string) place { return place{t: t, section: section, item: item} }

// month is one calendar month of a series.
func (t *table) month(section string, m time.Time) place {
	return place{t: t, section: section, item: m.Format(time.DateOnly), month: &m}
}

// count writes a whole number of referrals, cases or stays.
func (p place) count(metric string, n int) {
	v := float64(n)
	p.t.rows = append(p.t.rows, ExportRow{Section: p.section, Item: p.item, ItemMonth: p.month, Metric: metric,
		Value: &v, Integer: true, Unit: UnitCount})
}

// figure writes a measured value in unit; nil (nothing to measure) is an empty value.
func (p place) figure(metric string, unit Unit, v *float64) {
	var value *float64
	if v != nil {
		x := *v
		value = &x
	}
	p.t.rows = append(p.t.rows, ExportRow{Section: p.section, Item: p.item, ItemMonth: p.month, Metric: metric,
		Value: value, Unit: unit})
}
