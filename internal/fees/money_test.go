package fees

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAllocate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		total   int64
		weights []int64
		want    []int64
	}{
		{"three equal shares of 100.00: the odd cent to the first", 10000, []int64{1, 1, 1}, []int64{3334, 3333, 3333}},
		{"three-way 20/30/50 of 0.01", 1, []int64{2000, 3000, 5000}, []int64{0, 0, 1}},
		{"three-way 33.33/33.33/33.34 of 1000.00", 100000, []int64{3333, 3333, 3334}, []int64{33330, 33330, 33340}},
		{"three-way 33.33/33.33/33.34 of 100.01", 10001, []int64{3333, 3333, 3334}, []int64{3333, 3333, 3335}},
		{"two-way tie goes to the first (half-up on the referring share)", 100001, []int64{5000, 5000}, []int64{50001, 50000}},
		{"33.33 % of 100000.05 is 33330.016665 -> 33330.02", 10000005, []int64{3333, 6667}, []int64{3333002, 6667003}},
		{"largest amount", MaxCents, []int64{3333, 6667}, []int64{33_330_000_000_000, 66_669_999_999_999}},
		{"nothing", 0, []int64{1, 1}, []int64{0, 0}},
	} {
		got := Allocate(c.total, c.weights)
		require.Equal(t, c.want, got, c.name)
		var sum int64
		for _, g := range got {
			sum += g
		}
		require.Equal(t, c.total, sum, "%s: the shares add up to the total", c.name)
	}
}

func TestAmounts(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"0": 0, "1": 100, "1.5": 150, "1234.56": 123456, "999999999999.99": MaxCents} {
		got, err := ParseAmount(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		if in == "1234.56" {
			require.Equal(t, in, FormatCents(got))
		}
	}
	for _, bad := range []string{"", ".5", "1.", "1.234", "-1", "+1", "1e3", "1,00", "1000000000000", " 1"} {
		_, err := ParseAmount(bad)
		require.Error(t, err, bad)
	}
	for f, want := range map[float64]int64{1234.565: 123457, 0.005: 1, 0.004: 0, 100000.05: 10000005, 9000: 900000} {
		got, err := CentsOfFloat(f)
		require.NoError(t, err)
		require.Equal(t, want, got, "%v", f)
	}
	bp, err := BasisPoints(33.33)
	require.NoError(t, err)
	require.Equal(t, int64(3333), bp)
	_, err = BasisPoints(33.333)
	require.Error(t, err)
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	days := 30
	ca := Profile{Code: "CA", Name: "California Rule 1.5.1", ConsentMethod: ConsentWritten, ConsentDeadlineDays: &days}
	az := Profile{Code: "AZ", Name: "Arizona", ConsentMethod: ConsentSigned}
	sent := time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC)
	at := sent.Add(time.Hour)
	t30 := Terms{Basis: BasisProportional, ShareKind: SharePercentage, ReferringShare: 3000, ReceivingShare: 7000}
	t35 := Terms{Basis: BasisProportional, ShareKind: SharePercentage, ReferringShare: 3500, ReceivingShare: 6500}
	v1 := Version{ID: [16]byte{1}, Version: 1, Terms: t30, AcceptedAt: &at}
	v2 := Version{ID: [16]byte{2}, Version: 2, Terms: t35}
	v2a := v2
	v2a.AcceptedAt = &at
	consent := func(on time.Time, method string, v Version) Consent {
		return Consent{VersionID: v.ID, Version: v.Version, ConsentedOn: on, Method: method}
	}
	for _, c := range []struct {
		name string
		p    Profile
		vs   []Version
		cs   []Consent
		want string
	}{
		{"nothing proposed", ca, nil, nil, StatusNeedsAcceptance},
		{"pending proposal", ca, []Version{v2}, nil, StatusNeedsAcceptance},
		{"accepted, no consent", ca, []Version{v1}, nil, StatusNeedsClientConsent},
		{"consent on the deadline day", ca, []Version{v1}, []Consent{consent(sent.AddDate(0, 0, 30), ConsentWritten, v1)}, StatusCompliant},
		{"consent a day late", ca, []Version{v1}, []Consent{consent(sent.AddDate(0, 0, 31), ConsentWritten, v1)}, StatusConsentLate},
		{"written where signed is required", az, []Version{v1}, []Consent{consent(sent, ConsentWritten, v1)}, StatusNeedsClientConsent},
		{"signed where signed is required", az, []Version{v1}, []Consent{consent(sent, ConsentSigned, v1)}, StatusCompliant},
		{"pending amendment", ca, []Version{v1, v2}, []Consent{consent(sent, ConsentWritten, v1)}, StatusNeedsAcceptance},
		{"accepted amendment of the shares", ca, []Version{v1, v2a}, []Consent{consent(sent, ConsentWritten, v1)}, StatusTermsChanged},
		{"consent to the amendment", ca, []Version{v1, v2a}, []Consent{consent(sent, ConsentWritten, v1), consent(sent, ConsentWritten, v2a)}, StatusCompliant},
	} {
		got := Evaluate(c.p, c.vs, c.cs, &sent)
		require.Equal(t, c.want, got.Status, c.name)
		require.NotEmpty(t, got.Reasons, c.name)
		require.Equal(t, c.p.Code, got.Profile)
	}
}

func TestAging(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	for late, want := range map[int]string{-5: AgingCurrent, 0: AgingCurrent, 1: Aging1To30, 30: Aging1To30, 31: Aging31To60, 60: Aging31To60, 61: Aging61To90, 90: Aging61To90, 91: AgingOver90} {
		due := today.AddDate(0, 0, -late)
		require.Equal(t, want, *Aging(EntryDue, &due, today), "%d days late", late)
		from, to, err := agingRange(want, today)
		require.NoError(t, err)
		d := day(due)
		require.True(t, (from == nil || !d.Before(*from)) && (to == nil || !d.After(*to)), "%d days late falls in its bucket's range", late)
	}
	due := today
	require.Nil(t, Aging(EntryPaid, &due, today))
	require.Nil(t, Aging(EntryDue, nil, today))
}
