package analytics_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/analytics"
)

// tableRow is what a reader sees of an export row.
type tableRow struct {
	section, item, metric string
	value                 *float64
	unit                  analytics.Unit
}

func rowsOf(rows []analytics.ExportRow) map[string]tableRow {
	out := map[string]tableRow{}
	for _, r := range rows {
		item := r.Item
		if r.ItemMonth != nil {
			item = r.ItemMonth.Format("2006-01")
		}
		out[r.Section+"|"+item+"|"+r.Metric] = tableRow{r.Section, item, r.Metric, r.Value, r.Unit}
	}
	return out
}

func TestExportTables(t *testing.T) {
	t.Parallel()

	f := func(v float64) *float64 { return &v }
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("a figure with nothing to measure is a row with an empty value", func(t *testing.T) {
		t.Parallel()
		d := rowsOf(analytics.DashboardRows(analytics.Dashboard{ByStatus: analytics.StatusCounts{}}))
		for _, m := range []string{"averageDaysToAcknowledge", "averageDaysToSign"} {
			r, ok := d["summary||"+m]
			require.True(t, ok, m)
			require.Nil(t, r.value, m)
			require.Equal(t, analytics.UnitDays, r.unit, m)
		}
		rev := rowsOf(analytics.RevenueRows(analytics.Revenue{}))
		for _, m := range []string{"averageAttorneyFees", "averageSettlementAmount"} {
			require.Contains(t, rev, "summary||"+m)
			require.Nil(t, rev["summary||"+m].value, m)
		}
		fl := rowsOf(analytics.FlowRows(analytics.Flow{ByCaseType: []analytics.Breakdown{{Key: "pi", Label: "Personal Injury", Referrals: 2}}}))
		r := fl["byCaseType|Personal Injury|sentToSignedRate"]
		require.Nil(t, r.value)
		require.Equal(t, analytics.UnitRatio, r.unit)
		require.Equal(t, 2.0, *fl["byCaseType|Personal Injury|referrals"].value)
	})

	t.Run("units are those of the figure, whatever its name", func(t *testing.T) {
		t.Parallel()
		rev := rowsOf(analytics.RevenueRows(analytics.Revenue{
			AverageFees: f(2500.5), Split: analytics.FeeSplit{SendingFirmShare: 100, AverageSendingFirmShareRatio: f(0.25), ReferralsWithoutSplit: 3},
			Trend: []analytics.RevenuePoint{{Month: jan, Won: 1, Settlement: 1000, AttorneyFees: 300}},
		}))
		for key, want := range map[string]analytics.Unit{
			"summary||averageAttorneyFees":           analytics.UnitUSD,
			"feeSplit||sendingFirmShare":             analytics.UnitUSD,
			"feeSplit||averageSendingFirmShareRatio": analytics.UnitRatio,
			"feeSplit||referralsWithoutSplit":        analytics.UnitCount,
			"trend|2026-01|settlementAmount":         analytics.UnitUSD,
			"trend|2026-01|wonCount":                 analytics.UnitCount,
		} {
			require.Equal(t, want, rev[key].unit, key)
		}
		require.Equal(t, 2500.5, *rev["summary||averageAttorneyFees"].value)
		ref := rowsOf(analytics.ReferralsRows(analytics.Referrals{AverageReferralsPerCase: f(1.5)}))
		require.Equal(t, analytics.UnitCount, ref["summary||averageReferralsPerCase"].unit)
		c := rowsOf(analytics.CasesRows(analytics.Cases{AverageResponseHours: 32}))
		require.Equal(t, analytics.UnitHours, c["summary||averageResponseTimeHours"].unit)
	})

	t.Run("the homepage has every figure of every period", func(t *testing.T) {
		t.Parallel()
		h := analytics.Homepage{Today: analytics.Period{Sent: analytics.Metric{Current: 3, Previous: 2}}}
		rows := rowsOf(analytics.HomepageRows(h))
		require.Len(t, rows, 3*4*4)
		require.Equal(t, 1.0, *rows["today|sent|change"].value)
		require.Equal(t, 0.5, *rows["today|sent|changeRatio"].value)
		require.Nil(t, rows["thisWeek|won|changeRatio"].value, "no previous: no ratio")
	})

	t.Run("the bundled report has one sheet per category in workbook order", func(t *testing.T) {
		t.Parallel()
		sheets := analytics.Report{}.Sheets()
		names := make([]analytics.Category, 0, len(sheets))
		for _, s := range sheets {
			names = append(names, analytics.Category(s.Name))
		}
		require.Equal(t, analytics.Categories, names)
	})
}
