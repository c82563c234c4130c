package referrals

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
)

func TestCheck(t *testing.T) {
	t.Parallel()

	// Every (action, side, status) triple: the expected outcome is derived from the lifecycle
	// as the contract describes it, independently of the Rules table.
	type want struct {
		to   Status
		side Side
		from []Status
	}
	lifecycle := map[Action]want{
		ActionSend:               {StatusSent, SideReferring, []Status{StatusDraft}},
		ActionAcknowledge:        {StatusUnderEvaluation, SideReceiving, []Status{StatusSent}},
		ActionBeginInvestigating: {StatusInvestigating, SideReceiving, []Status{StatusUnderEvaluation}},
		ActionSign:               {StatusSigned, SideReceiving, []Status{StatusUnderEvaluation, StatusInvestigating}},
		ActionStartLitigation:    {StatusInLitigation, SideReceiving, []Status{StatusSigned}},
		ActionMarkClosing:        {StatusClosing, SideReceiving, []Status{StatusSigned, StatusInLitigation}},
		ActionClose:              {StatusClosed, SideReceiving, []Status{StatusInvestigating, StatusSigned, StatusInLitigation, StatusClosing}},
		ActionReject:             {StatusRejected, SideReceiving, []Status{StatusSent, StatusUnderEvaluation, StatusInvestigating}},
		ActionWithdraw:           {StatusWithdrawn, SideReferring, []Status{StatusSent, StatusUnderEvaluation}},
		ActionDelete:             {"", SideReferring, []Status{StatusDraft}},
	}
	contains := func(ss []Status, s Status) bool {
		for _, x := range ss {
			if x == s {
				return true
			}
		}
		return false
	}

	for action, w := range lifecycle {
		for _, side := range []Side{SideNone, SideReferring, SideReceiving} {
			for _, st := range AllStatuses {
				rule, err := Check(action, side, st)
				switch {
				case side == SideNone:
					require.ErrorIs(t, err, apperr.ErrNotFound, "%s by %s from %s", action, side, st)
				case side != w.side:
					require.ErrorIs(t, err, apperr.ErrPermission, "%s by %s from %s", action, side, st)
				case !contains(w.from, st):
					require.ErrorIs(t, err, apperr.ErrInvalidTransition, "%s by %s from %s", action, side, st)
				default:
					require.NoError(t, err, "%s by %s from %s", action, side, st)
					require.Equal(t, w.to, rule.To)
				}
			}
		}
	}

	t.Run("TerminalStatusesHaveNoWayOut", func(t *testing.T) {
		t.Parallel()
		for _, st := range []Status{StatusRejected, StatusWithdrawn, StatusClosed} {
			require.Empty(t, Available(SideReceiving, st), st)
			for _, r := range Available(SideReferring, st) {
				require.Equal(t, ActionRefer, r.Action, "only a re-referral follows %s", st)
			}
		}
	})

	t.Run("TransitionMessageNamesCurrentAndAllowedStatuses", func(t *testing.T) {
		t.Parallel()
		_, err := Check(ActionSign, SideReceiving, StatusSent)
		e, ok := apperr.As(err)
		require.True(t, ok)
		require.Equal(t, `cannot sign a referral in status "sent"; allowed from: under_evaluation, investigating`, e.Message)
	})

	t.Run("WrongSideIsCheckedBeforeStatus", func(t *testing.T) {
		t.Parallel()
		_, err := Check(ActionWithdraw, SideReceiving, StatusClosed)
		require.ErrorIs(t, err, apperr.ErrPermission)
	})
}

func TestAvailable(t *testing.T) {
	t.Parallel()

	actions := func(rs []Rule) []Action {
		var out []Action
		for _, r := range rs {
			out = append(out, r.Action)
		}
		return out
	}
	tests := []struct {
		side   Side
		status Status
		want   []Action
	}{
		{SideReferring, StatusDraft, []Action{ActionRefer}},
		{SideReferring, StatusSent, []Action{ActionWithdraw}},
		{SideReferring, StatusUnderEvaluation, []Action{ActionWithdraw}},
		{SideReferring, StatusSigned, nil},
		{SideReferring, StatusRejected, []Action{ActionRefer}},
		{SideReceiving, StatusSent, []Action{ActionAcknowledge, ActionReject}},
		{SideReceiving, StatusUnderEvaluation, []Action{ActionBeginInvestigating, ActionSign, ActionReject}},
		{SideReceiving, StatusInvestigating, []Action{ActionSign, ActionClose, ActionReject}},
		{SideReceiving, StatusSigned, []Action{ActionStartLitigation, ActionClose}},
		{SideReceiving, StatusInLitigation, []Action{ActionClose}},
		{SideReceiving, StatusClosing, []Action{ActionClose}},
		{SideReceiving, StatusClosed, nil},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, actions(Available(tt.side, tt.status)), "%s from %s", tt.side, tt.status)
	}

	t.Run("FlagsRequiredInputs", func(t *testing.T) {
		t.Parallel()
		for _, r := range Available(SideReceiving, StatusInvestigating) {
			require.Equal(t, r.Action == ActionReject, r.RequiresReason, r.Action)
			require.Equal(t, r.Action == ActionClose, r.RequiresClosingStatus, r.Action)
		}
	})
}

func TestActionForStatus(t *testing.T) {
	t.Parallel()

	tests := []struct {
		target string
		want   Action
		kind   error
	}{
		{"under_evaluation", ActionAcknowledge, nil},
		{"received", ActionAcknowledge, nil},
		{"investigating", ActionBeginInvestigating, nil},
		{"signed", ActionSign, nil},
		{"in_litigation", ActionStartLitigation, nil},
		{"closing", ActionMarkClosing, nil},
		{"closed", ActionClose, nil},
		{"rejected", ActionReject, nil},
		{"withdrawn", ActionWithdraw, nil},
		{"draft", "", apperr.ErrInvalidTransition},
		{"sent", "", apperr.ErrInvalidTransition},
		{"won", "", apperr.ErrValidation},
		{"lost", "", apperr.ErrValidation},
		{"bogus", "", apperr.ErrValidation},
	}
	for _, tt := range tests {
		got, err := ActionForStatus(tt.target)
		if tt.kind != nil {
			require.ErrorIs(t, err, tt.kind, tt.target)
			continue
		}
		require.NoError(t, err, tt.target)
		require.Equal(t, tt.want, got, tt.target)
	}
}

func TestParseStatusFilter(t *testing.T) {
	t.Parallel()

	f, err := ParseStatusFilter("received")
	require.NoError(t, err)
	require.Equal(t, StatusUnderEvaluation, *f.Status)
	require.Nil(t, f.Closing)

	f, err = ParseStatusFilter("won")
	require.NoError(t, err)
	require.Equal(t, StatusClosed, *f.Status)
	require.Equal(t, ClosingWonSettled, *f.Closing)

	f, err = ParseStatusFilter("")
	require.NoError(t, err)
	require.Nil(t, f.Status)

	_, err = ParseStatusFilter("nope")
	require.True(t, errors.Is(err, apperr.ErrValidation))
}

func TestCursor(t *testing.T) {
	t.Parallel()

	t.Run("RoundTrips", func(t *testing.T) {
		t.Parallel()
		c := Cursor{At: mustTime(t, "2026-03-09T10:21:33.418207Z"), ID: maxUUID}
		got, err := DecodeCursor(c.Encode())
		require.NoError(t, err)
		require.True(t, c.At.Equal(got.At))
		require.Equal(t, c.ID, got.ID)
	})
	t.Run("RejectsGarbage", func(t *testing.T) {
		t.Parallel()
		for _, s := range []string{"", "v1.", "v1.!!", "xyz", "v1.MTIz"} {
			_, err := DecodeCursor(s)
			require.ErrorIs(t, err, apperr.ErrValidation, s)
		}
	})
}
