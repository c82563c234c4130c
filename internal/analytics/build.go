package analytics

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
)

// The builders shape group rows into results. They only add up what the SQL aggregated and
// divide sums for averages and rates.

const secondsPerDay = 86400

func buildDashboard(g groups, sc scope, in include, now time.Time) Dashboard {
	status := g.pick(dimStatus, in)
	t := sum(status)
	d := Dashboard{
		Filters:                  sc.applied,
		ByStatus:                 statusCounts(status),
		AverageDaysToAcknowledge: ratio(t.responseSeconds/secondsPerDay, t.responded),
		AverageDaysToSign:        ratio(t.signSeconds/secondsPerDay, t.signed),
		SentConversion:           conversion(ofDirection(status, Sent)),
		ReceivedConversion:       conversion(ofDirection(status, Received)),
		TotalSettlement:          t.settlement,
		TotalFees:                t.fees,
		TopCaseTypes:             []CaseTypeCount{},
		TopPartnerFirms:          []PartnerCount{},
	}
	d.Buckets = bucketsOf(d.ByStatus)
	d.Sent, d.Received = directionTotals(status)
	if h := ratio(t.responseSeconds/3600, t.responded); h != nil {
		d.AverageResponseHours = *h
	}
	for _, k := range byKey(g.pick(dimCaseType, in)) {
		d.TopCaseTypes = append(d.TopCaseTypes, CaseTypeCount{Name: k.key, Label: k.label, Count: int(k.all.referrals)})
	}
	slices.SortStableFunc(d.TopCaseTypes, func(a, b CaseTypeCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Label, b.Label))
	})
	d.TopCaseTypes = d.TopCaseTypes[:min(5, len(d.TopCaseTypes))]
	for _, k := range byKey(g.pick(dimPartner, in)) {
		id, err := uuid.Parse(k.key)
		if err != nil {
			continue
		}
		d.TopPartnerFirms = append(d.TopPartnerFirms, PartnerCount{
			FirmID: id, Name: k.label, Sent: int(k.dir(Sent).referrals), Received: int(k.dir(Received).referrals),
		})
	}
	slices.SortStableFunc(d.TopPartnerFirms, func(a, b PartnerCount) int {
		return cmp.Or(cmp.Compare(b.Sent+b.Received, a.Sent+a.Received), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.FirmID.String(), b.FirmID.String()))
	})
	d.TopPartnerFirms = d.TopPartnerFirms[:min(5, len(d.TopPartnerFirms))]

	switch {
	case sc.applied.ReferralStart != nil:
		d.PeriodStart = startOfDay(*sc.applied.ReferralStart, sc.loc)
	case t.referrals > 0:
		d.PeriodStart = t.firstAt
	default:
		d.PeriodStart = now
	}
	d.PeriodEnd = now
	if e := sc.applied.ReferralEnd; e != nil {
		// The last instant of the end day in the zone.
		d.PeriodEnd = startOfDay(e.AddDate(0, 0, 1), sc.loc).Add(-time.Millisecond)
	}
	d.PeriodStart, d.PeriodEnd = d.PeriodStart.UTC(), d.PeriodEnd.UTC()
	return d
}

func buildCases(g groups, sc scope, in include) Cases {
	status := g.pick(dimStatus, in)
	t := sum(status)
	c := Cases{Filters: sc.applied, ByStatus: statusCounts(status)}
	c.Buckets = bucketsOf(c.ByStatus)
	c.Sent, c.Received = directionTotals(status)
	if h := ratio(t.responseSeconds/3600, t.responded); h != nil {
		c.AverageResponseHours = *h
	}
	monthly := months(g.pick(dimReferralMonth, in))
	c.Monthly = []VolumePoint{}
	for _, m := range monthRange(monthly) {
		k := monthTally(monthly, m)
		c.Monthly = append(c.Monthly, VolumePoint{Month: m, Sent: int(k.dir(Sent).referrals), Received: int(k.dir(Received).referrals)})
	}
	c.ByCaseType = volumes(g.pick(dimCaseType, in))
	c.ByJurisdiction = volumes(g.pick(dimJurisdiction, in))
	return c
}

func buildFlow(g groups, stays db.AnalyticsTimeInStatusRow, sc scope, dir Direction) Flow {
	in := include{sent: dir == Sent, received: dir == Received, drafts: dir == Sent}
	status := g.pick(dimStatus, in)
	t := sum(status)
	f := Flow{
		Direction:       dir,
		Filters:         sc.applied,
		Total:           int(t.referrals),
		ByStatus:        statusCounts(status),
		ByClosingStatus: closingCounts(status),
		Conversion:      conversion(status),
		Timing: Timing{
			AverageDaysToAcknowledge: ratio(t.responseSeconds/secondsPerDay, t.responded),
			AverageDaysToSign:        ratio(t.signSeconds/secondsPerDay, t.signed),
			TimeInStatus:             timeInStatus(stays),
		},
		ByPartnerFirm:  breakdowns(g.pick(dimPartner, in)),
		ByCaseType:     breakdowns(g.pick(dimCaseType, in)),
		ByJurisdiction: breakdowns(g.pick(dimJurisdiction, in)),
		Trend:          []TrendPoint{},
	}
	for _, r := range status {
		if !ended(r.Status) {
			f.Active += int(r.Referrals)
		}
	}
	refs, signed, won := months(g.pick(dimReferralMonth, in)), months(g.pick(dimSignedMonth, in)), months(g.pick(dimWonMonth, in))
	for _, m := range monthRange(refs, signed, won) {
		f.Trend = append(f.Trend, TrendPoint{
			Month:     m,
			Referrals: int(monthTally(refs, m).all.referrals),
			Signed:    int(monthTally(signed, m).all.signed),
			Won:       int(monthTally(won, m).all.won),
		})
	}
	return f
}

func buildRevenue(g groups, sc scope, dir Direction) Revenue {
	in := include{sent: dir == Sent, received: dir == Received}
	t := sum(g.pick(dimStatus, in))
	r := Revenue{
		Direction:         dir,
		Filters:           sc.applied,
		Won:               int(t.won),
		TotalSettlement:   t.settlement,
		TotalFees:         t.fees,
		AverageSettlement: ratio(t.settlement, t.withSettlement),
		AverageFees:       ratio(t.fees, t.withFees),
		Split: FeeSplit{
			SendingFirmShare:             t.sendingShare,
			ReceivingFirmShare:           t.receivingShare,
			AverageSendingFirmShareRatio: ratio(t.shareRatioSum, t.withSplit),
			ReferralsWithoutSplit:        int(t.withoutSplit),
		},
		Projected:          t.projected,
		OpenWithProjection: int(t.withProjection),
		ByPartnerFirm:      revenueItems(g.pick(dimPartner, in)),
		ByCaseType:         revenueItems(g.pick(dimCaseType, in)),
		ByJurisdiction:     revenueItems(g.pick(dimJurisdiction, in)),
		Trend:              []RevenuePoint{},
	}
	won := months(g.pick(dimWonMonth, in))
	for _, m := range monthRange(won) {
		k := monthTally(won, m)
		r.Trend = append(r.Trend, RevenuePoint{Month: m, Won: int(k.all.won), Settlement: k.all.settlement, AttorneyFees: k.all.fees})
	}
	return r
}

func buildReferrals(g groups, cc db.AnalyticsCaseCountsRow, sc scope) Referrals {
	in := include{sent: true, received: true}
	status := g.pick(dimStatus, in)
	r := Referrals{
		Filters:          sc.applied,
		CasesReferred:    int(cc.CasesReferred),
		ReReferred:       int(cc.ReReferred),
		SentByStatus:     statusCounts(ofDirection(status, Sent)),
		ReceivedByStatus: statusCounts(ofDirection(status, Received)),
		ByPartnerFirm:    volumes(g.pick(dimPartner, in)),
		ByCaseType:       volumes(g.pick(dimCaseType, in)),
		ByJurisdiction:   volumes(g.pick(dimJurisdiction, in)),
		Trend:            []VolumePoint{},
	}
	r.Sent, r.Received = directionTotals(status)
	r.AverageReferralsPerCase = ratio(float64(r.Sent), cc.CasesReferred)
	monthly := months(g.pick(dimReferralMonth, in))
	for _, m := range monthRange(monthly) {
		k := monthTally(monthly, m)
		r.Trend = append(r.Trend, VolumePoint{Month: m, Sent: int(k.dir(Sent).referrals), Received: int(k.dir(Received).referrals)})
	}
	return r
}

func buildHomepage(r db.AnalyticsHomepageRow, zone string) Homepage {
	period := func(from, prevFrom, prevTo time.Time, sent, sentPrev, recv, recvPrev, signed, signedPrev, won, wonPrev int64) Period {
		return Period{
			Start: from.UTC(), End: r.NowAt.UTC(), PreviousStart: prevFrom.UTC(), PreviousEnd: prevTo.UTC(),
			Sent:     Metric{int(sent), int(sentPrev)},
			Received: Metric{int(recv), int(recvPrev)},
			Signed:   Metric{int(signed), int(signedPrev)},
			Won:      Metric{int(won), int(wonPrev)},
		}
	}
	return Homepage{
		TimeZone: zone,
		Today: period(r.DayFrom, r.PrevDayFrom, r.PrevDayTo, r.SentDay, r.SentPrevDay, r.ReceivedDay, r.ReceivedPrevDay,
			r.SignedDay, r.SignedPrevDay, r.WonDay, r.WonPrevDay),
		Week: period(r.WeekFrom, r.PrevWeekFrom, r.PrevWeekTo, r.SentWeek, r.SentPrevWeek, r.ReceivedWeek, r.ReceivedPrevWeek,
			r.SignedWeek, r.SignedPrevWeek, r.WonWeek, r.WonPrevWeek),
		Month: period(r.MonthFrom, r.PrevMonthFrom, r.PrevMonthTo, r.SentMonth, r.SentPrevMonth, r.ReceivedMonth,
			r.ReceivedPrevMonth, r.SignedMonth, r.SignedPrevMonth, r.WonMonth, r.WonPrevMonth),
	}
}

// ---- pieces ---------------------------------------------------------------------------------

func ratio(num float64, den int64) *float64 {
	if den == 0 {
		return nil
	}
	v := num / float64(den)
	return &v
}

func ofDirection(rows []db.AnalyticsGroupsRow, d Direction) []db.AnalyticsGroupsRow {
	var out []db.AnalyticsGroupsRow
	for _, r := range rows {
		if r.Direction == string(d) {
			out = append(out, r)
		}
	}
	return out
}

func directionTotals(status []db.AnalyticsGroupsRow) (sent, received int) {
	for _, r := range status {
		if r.Direction == string(Sent) {
			sent += int(r.Referrals)
		} else {
			received += int(r.Referrals)
		}
	}
	return sent, received
}

func statusCounts(status []db.AnalyticsGroupsRow) StatusCounts {
	out := StatusCounts{}
	for _, s := range AllStatuses {
		out[s] = 0
	}
	for _, r := range status {
		out[r.Status] += int(r.Referrals)
	}
	return out
}

func bucketsOf(c StatusCounts) Buckets {
	return Buckets{
		Pending:    c["draft"] + c["sent"] + c["received"],
		InProgress: c["under_evaluation"] + c["investigating"],
		Accepted:   c["signed"] + c["in_litigation"] + c["closing"],
		Rejected:   c["rejected"] + c["withdrawn"],
		Closed:     c["won"] + c["lost"] + c["closed"],
	}
}

func closingCounts(status []db.AnalyticsGroupsRow) ClosingCounts {
	var c ClosingCounts
	for _, r := range status {
		if r.Status != "closed" {
			continue
		}
		n := int(r.Referrals)
		switch deref(r.ClosingStatus) {
		case "won_settled":
			c.WonSettled += n
		case "lost":
			c.Lost += n
		case "no_longer_pursuing":
			c.NoLongerPursuing += n
		default:
			c.Unspecified += n
		}
	}
	return c
}

// won reports whether a status group holds won referrals.
func won(r db.AnalyticsGroupsRow) bool {
	return r.Status == "won" || (r.Status == "closed" && deref(r.ClosingStatus) == "won_settled")
}

// ended reports whether referrals in the group no longer count as active.
func ended(status string) bool {
	switch status {
	case "won", "lost", "rejected", "withdrawn", "closed":
		return true
	}
	return false
}

func conversion(status []db.AnalyticsGroupsRow) Conversion {
	var c Conversion
	for _, r := range status {
		if r.Status == "draft" {
			continue
		}
		c.Referred += int(r.Dispatched)
		c.Signed += int(r.Signed)
		if won(r) {
			c.Won += int(r.Signed)
		}
		switch r.Status {
		case "won", "lost", "closed":
			c.ResolvedAfterSigning += int(r.Signed)
		case "rejected":
			c.Rejected += int(r.Referrals)
		}
	}
	c.SentToSignedRate = ratio(float64(c.Signed), int64(c.Referred))
	c.SignedToWonRate = ratio(float64(c.Won), int64(c.ResolvedAfterSigning))
	return c
}

func timeInStatus(r db.AnalyticsTimeInStatusRow) []StatusDuration {
	all := []StatusDuration{
		{"sent", r.SentAverageDays, r.SentMedianDays, int(r.SentStays)},
		{"received", r.ReceivedAverageDays, r.ReceivedMedianDays, int(r.ReceivedStays)},
		{"under_evaluation", r.UnderEvaluationAverageDays, r.UnderEvaluationMedianDays, int(r.UnderEvaluationStays)},
		{"investigating", r.InvestigatingAverageDays, r.InvestigatingMedianDays, int(r.InvestigatingStays)},
		{"signed", r.SignedAverageDays, r.SignedMedianDays, int(r.SignedStays)},
		{"in_litigation", r.InLitigationAverageDays, r.InLitigationMedianDays, int(r.InLitigationStays)},
		{"closing", r.ClosingAverageDays, r.ClosingMedianDays, int(r.ClosingStays)},
	}
	out := []StatusDuration{}
	for _, d := range all {
		if d.Stays > 0 {
			out = append(out, d)
		}
	}
	return out
}

func breakdowns(rows []db.AnalyticsGroupsRow) []Breakdown {
	out := []Breakdown{}
	for _, k := range byKey(rows) {
		out = append(out, Breakdown{
			Key: k.key, Label: k.label, Referrals: int(k.all.referrals), Signed: int(k.all.signed), Won: int(k.all.won),
			SentToSignedRate: ratio(float64(k.all.signed), k.all.dispatched),
		})
	}
	slices.SortStableFunc(out, func(a, b Breakdown) int {
		return cmp.Or(cmp.Compare(b.Referrals, a.Referrals), cmp.Compare(a.Label, b.Label), cmp.Compare(a.Key, b.Key))
	})
	return out
}

func revenueItems(rows []db.AnalyticsGroupsRow) []RevenueItem {
	out := []RevenueItem{}
	for _, k := range byKey(rows) {
		if k.all.won == 0 {
			continue
		}
		out = append(out, RevenueItem{
			Key: k.key, Label: k.label, Won: int(k.all.won), Settlement: k.all.settlement, AttorneyFees: k.all.fees,
			SendingFirmShare: k.all.sendingShare, ReceivingFirmShare: k.all.receivingShare,
		})
	}
	slices.SortStableFunc(out, func(a, b RevenueItem) int {
		return cmp.Or(cmp.Compare(b.Settlement, a.Settlement), cmp.Compare(b.Won, a.Won), cmp.Compare(a.Label, b.Label),
			cmp.Compare(a.Key, b.Key))
	})
	return out
}

func volumes(rows []db.AnalyticsGroupsRow) []VolumeItem {
	out := []VolumeItem{}
	for _, k := range byKey(rows) {
		out = append(out, VolumeItem{Key: k.key, Label: k.label, Sent: int(k.dir(Sent).referrals), Received: int(k.dir(Received).referrals)})
	}
	slices.SortStableFunc(out, func(a, b VolumeItem) int {
		return cmp.Or(cmp.Compare(b.Sent+b.Received, a.Sent+a.Received), cmp.Compare(a.Label, b.Label), cmp.Compare(a.Key, b.Key))
	})
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
