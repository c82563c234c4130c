package analytics

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
)

func TestLoadZone(t *testing.T) {
	t.Parallel()

	for _, c := range []struct {
		in, want string
	}{
		{"", "UTC"},
		{"UTC", "UTC"},
		{"America/Chicago", "America/Chicago"},
		{"Asia/Kolkata", "Asia/Kolkata"},
	} {
		loc, name, err := LoadZone(c.in)
		require.NoError(t, err, c.in)
		require.Equal(t, c.want, name)
		require.Equal(t, c.want, loc.String())
	}
	for _, bad := range []string{"Local", "Mars/Olympus_Mons", " UTC", "america/chicago/x", "../etc/passwd"} {
		_, _, err := LoadZone(bad)
		require.ErrorIs(t, err, apperr.ErrValidation, bad)
		ae, ok := apperr.As(err)
		require.True(t, ok)
		require.Equal(t, "query.tz", ae.Details[0].Field)
	}
}

func TestMetric(t *testing.T) {
	t.Parallel()

	require.Equal(t, 2, Metric{Current: 3, Previous: 1}.Change())
	require.Equal(t, 2.0, *Metric{Current: 3, Previous: 1}.ChangeRatio())
	require.Equal(t, -1.0, *Metric{Current: 0, Previous: 4}.ChangeRatio())
	require.Nil(t, Metric{Current: 5}.ChangeRatio(), "no ratio against nothing")
}

func TestConversion(t *testing.T) {
	t.Parallel()

	won, lost := "won_settled", "lost"
	rows := []db.AnalyticsGroupsRow{
		{Status: "draft", Referrals: 4, Draft: true},
		{Status: "sent", Referrals: 3, Dispatched: 3},
		{Status: "rejected", Referrals: 2, Dispatched: 2},
		{Status: "signed", Referrals: 2, Dispatched: 2, Signed: 2},
		{Status: "closed", ClosingStatus: &won, Referrals: 3, Dispatched: 3, Signed: 2, Won: 3},
		{Status: "closed", ClosingStatus: &lost, Referrals: 1, Dispatched: 1, Signed: 1},
		{Status: "won", Referrals: 1, Dispatched: 1, Signed: 1, Won: 1},
	}
	c := conversion(rows)
	require.Equal(t, 12, c.Referred, "drafts were never sent")
	require.Equal(t, 6, c.Signed)
	require.Equal(t, 3, c.Won, "won among the signed only")
	require.Equal(t, 4, c.ResolvedAfterSigning)
	require.Equal(t, 2, c.Rejected)
	require.InDelta(t, 0.5, *c.SentToSignedRate, 1e-12)
	require.InDelta(t, 0.75, *c.SignedToWonRate, 1e-12)
	require.Nil(t, conversion(nil).SentToSignedRate)

	sc := statusCounts(rows)
	require.Len(t, sc, len(AllStatuses))
	require.Equal(t, Buckets{Pending: 7, InProgress: 0, Accepted: 2, Rejected: 2, Closed: 5}, bucketsOf(sc))
	require.Equal(t, ClosingCounts{WonSettled: 3, Lost: 1}, closingCounts(rows))
}

// TestQueriesShareOneScope keeps the copies of the scope block in db/queries/analytics.sql
// identical: sqlc has no includes, so every aggregate query repeats it.
func TestQueriesShareOneScope(t *testing.T) {
	t.Parallel()

	src, err := os.ReadFile("../../db/queries/analytics.sql")
	require.NoError(t, err)
	block := regexp.MustCompile(`(?s)WITH scope AS \(.*?\nfacts AS \(.*?\n\)`)
	copies := block.FindAllString(string(src), -1)
	require.Len(t, copies, strings.Count(string(src), "WITH scope AS ("))
	require.GreaterOrEqual(t, len(copies), 3)
	for i, c := range copies[1:] {
		require.Equal(t, copies[0], c, "copy %d of the scope block differs from the first", i+2)
	}
}
