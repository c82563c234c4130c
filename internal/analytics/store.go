package analytics

import (
	"context"
	"math"
	"time"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/lifecycle"
)

// groups are the rows of AnalyticsGroups, by dimension.
type groups map[string][]db.AnalyticsGroupsRow

func loadGroups(ctx context.Context, q *db.Queries, sc scope, in include) (groups, error) {
	p := sc.groupParams(in)
	rows, err := q.AnalyticsGroups(ctx, db.AnalyticsGroupsParams{
		FirmID: p.FirmID, IncludeSent: p.IncludeSent, IncludeDrafts: p.IncludeDrafts, IncludeReceived: p.IncludeReceived,
		CaseTypeID: p.CaseTypeID, Jurisdiction: p.Jurisdiction, Tz: p.Tz,
		ReferralFrom: p.ReferralFrom, ReferralTo: p.ReferralTo, SignedFrom: p.SignedFrom, SignedTo: p.SignedTo,
		FirstFrom: p.FirstFrom, FirstTo: p.FirstTo,
		OpenStatuses: lifecycle.Open,
	})
	if err != nil {
		return nil, err
	}
	g := groups{}
	for _, r := range rows {
		g[r.Dimension] = append(g[r.Dimension], r)
	}
	return g, nil
}

// Group dimensions of AnalyticsGroups.
const (
	dimStatus        = "status"
	dimPartner       = "partner"
	dimCaseType      = "case_type"
	dimJurisdiction  = "jurisdiction"
	dimReferralMonth = "referral_month"
	dimSignedMonth   = "signed_month"
	dimWonMonth      = "won_month"
)

// pick selects the rows of dimension that belong to in.
func (g groups) pick(dimension string, in include) []db.AnalyticsGroupsRow {
	var out []db.AnalyticsGroupsRow
	for _, r := range g[dimension] {
		if (r.Direction == string(Sent) && !in.sent) || (r.Direction == string(Received) && !in.received) {
			continue
		}
		if r.Draft && !in.drafts {
			continue
		}
		out = append(out, r)
	}
	return out
}

// tally adds up group rows.
type tally struct {
	referrals, dispatched, signed, won, responded int64
	responseSeconds, signSeconds                  float64
	withSettlement, withFees, withSplit           int64
	settlement, fees                              float64
	sendingShare, receivingShare, shareRatioSum   float64
	withoutSplit, withProjection                  int64
	projected                                     float64
	firstAt                                       time.Time
}

func (t *tally) add(r db.AnalyticsGroupsRow) {
	t.referrals += r.Referrals
	t.dispatched += r.Dispatched
	t.signed += r.Signed
	t.won += r.Won
	t.responded += r.Responded
	t.responseSeconds += r.ResponseSeconds
	t.signSeconds += r.SignSeconds
	t.withSettlement += r.WithSettlement
	t.settlement = money(t.settlement, r.Settlement)
	t.withFees += r.WithFees
	t.fees = money(t.fees, r.Fees)
	t.withSplit += r.WithSplit
	t.sendingShare = money(t.sendingShare, r.SendingShare)
	t.receivingShare = money(t.receivingShare, r.ReceivingShare)
	t.shareRatioSum = money(t.shareRatioSum, r.ShareRatioSum)
	t.withoutSplit += r.WithoutSplit
	t.withProjection += r.WithProjection
	t.projected = money(t.projected, r.Projected)
	// Only status groups carry the earliest referral time.
	if r.Dimension == dimStatus && (t.firstAt.IsZero() || r.FirstAt.Before(t.firstAt)) {
		t.firstAt = r.FirstAt
	}
}

// money adds two money sums of group rows. The query caps each at 1e300, so the sum of any
// realistic number of rows is finite; the cap here makes that hold for any number of rows, so
// that no figure can become an infinity (which JSON cannot carry).
func money(a, b float64) float64 { return min(a+b, math.MaxFloat64) }

func sum(rows []db.AnalyticsGroupsRow) tally {
	var t tally
	for _, r := range rows {
		t.add(r)
	}
	return t
}

// keyed is the tally of one group key, in first-seen order.
type keyed struct {
	key, label string
	byDir      map[string]*tally
	all        tally
}

func byKey(rows []db.AnalyticsGroupsRow) []*keyed {
	idx := map[string]*keyed{}
	var out []*keyed
	for _, r := range rows {
		k, ok := idx[r.Key]
		if !ok {
			k = &keyed{key: r.Key, label: r.Label, byDir: map[string]*tally{}}
			idx[r.Key] = k
			out = append(out, k)
		}
		k.all.add(r)
		d := k.byDir[r.Direction]
		if d == nil {
			d = &tally{}
			k.byDir[r.Direction] = d
		}
		d.add(r)
	}
	return out
}

func (k *keyed) dir(d Direction) tally {
	if t := k.byDir[string(d)]; t != nil {
		return *t
	}
	return tally{}
}

// months adds up rows per month (first day, midnight UTC).
func months(rows []db.AnalyticsGroupsRow) map[time.Time]*keyed {
	out := map[time.Time]*keyed{}
	for _, r := range rows {
		if !r.Month.Valid {
			continue
		}
		m := r.Month.Time
		k := out[m]
		if k == nil {
			k = &keyed{byDir: map[string]*tally{}}
			out[m] = k
		}
		k.all.add(r)
		d := k.byDir[r.Direction]
		if d == nil {
			d = &tally{}
			k.byDir[r.Direction] = d
		}
		d.add(r)
	}
	return out
}

// monthRange lists every month from the earliest to the latest key of the maps, gaps included.
func monthRange(series ...map[time.Time]*keyed) []time.Time {
	var lo, hi time.Time
	for _, s := range series {
		for m := range s {
			if lo.IsZero() || m.Before(lo) {
				lo = m
			}
			if hi.IsZero() || m.After(hi) {
				hi = m
			}
		}
	}
	if lo.IsZero() {
		return nil
	}
	var out []time.Time
	for m := lo; !m.After(hi); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

func monthTally(s map[time.Time]*keyed, m time.Time) *keyed {
	if k := s[m]; k != nil {
		return k
	}
	return &keyed{byDir: map[string]*tally{}}
}
