package network

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
)

func TestSenderSettingsValidate(t *testing.T) {
	t.Parallel()

	f := func(v float64) *float64 { return &v }
	n := func(v int) *int { return &v }
	s := func(v string) *string { return &v }
	tests := []struct {
		name  string
		in    SenderSettings
		field string // "" means valid
	}{
		{"empty", SenderSettings{}, ""},
		{"bounds included", SenderSettings{SendingPercentage: f(100), DaysForUnderEvaluation: n(1), DaysForInvestigating: n(365)}, ""},
		{"zero percent", SenderSettings{SendingPercentage: f(0)}, ""},
		{"negative percent", SenderSettings{SendingPercentage: f(-0.5)}, "body.sendingPercentage"},
		{"over 100 percent", SenderSettings{SendingPercentage: f(100.01)}, "body.sendingPercentage"},
		{"zero days", SenderSettings{DaysForUnderEvaluation: n(0)}, "body.daysForUnderEvaluation"},
		{"a year and a day", SenderSettings{DaysForInvestigating: n(366)}, "body.daysForInvestigating"},
		{"long note", SenderSettings{Description: s(strings.Repeat("é", 2001))}, "body.description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.in.validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			ae, ok := apperr.As(err)
			require.True(t, ok)
			require.ErrorIs(t, err, apperr.ErrValidation)
			require.Equal(t, tt.field, ae.Details[0].Field)
		})
	}
}

func TestReceiverUpdateValidate(t *testing.T) {
	t.Parallel()

	s := func(v string) *string { return &v }
	require.NoError(t, ReceiverUpdate{}.validate())
	require.NoError(t, ReceiverUpdate{Status: s(StatusActive), ReferralInstructions: s("")}.validate())
	require.NoError(t, ReceiverUpdate{Status: s(StatusInactive)}.validate())
	for field, in := range map[string]ReceiverUpdate{
		"body.status":               {Status: s(StatusPending)},
		"body.referralInstructions": {ReferralInstructions: s(strings.Repeat("x", 5001))},
		"body.description":          {Description: s(strings.Repeat("x", 2001))},
	} {
		ae, ok := apperr.As(in.validate())
		require.True(t, ok, field)
		require.Equal(t, field, ae.Details[0].Field)
	}
}

func TestLikePattern(t *testing.T) {
	t.Parallel()

	require.Equal(t, "", likePattern(""))
	require.Equal(t, "%smith%", likePattern("smith"))
	require.Equal(t, `%50\%\_off\\%`, likePattern(`50%_off\`))
}

func TestDetailViewOfTheNote(t *testing.T) {
	t.Parallel()

	sender, receiver := "sender note", "receiver note"
	rel := &Relationship{Status: StatusActive, SenderDescription: &sender, ReceiverDescription: &receiver}
	require.Equal(t, &sender, Detail{Direction: Outbound, Relationship: rel}.Description())
	require.Equal(t, &receiver, Detail{Direction: Inbound, Relationship: rel}.Description())
	require.True(t, Detail{Relationship: rel}.InNetwork())
	require.False(t, Detail{Relationship: &Relationship{Status: StatusPending}}.InNetwork())
	require.False(t, Detail{}.InNetwork())
	require.Nil(t, Detail{}.Description())
}
