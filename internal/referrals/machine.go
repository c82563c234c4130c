package referrals

import (
	"fmt"
	"strings"

	"github.com/casexchange/server/internal/apperr"
)

// Status is where a referral stands in its lifecycle.
type Status string

// Statuses this server produces. The older `received`, `won` and `lost` are never stored:
// acknowledging leads to under_evaluation and outcomes are carried by ClosingStatus.
const (
	StatusDraft           Status = "draft"
	StatusSent            Status = "sent"
	StatusUnderEvaluation Status = "under_evaluation"
	StatusInvestigating   Status = "investigating"
	StatusSigned          Status = "signed"
	StatusInLitigation    Status = "in_litigation"
	StatusClosing         Status = "closing"
	StatusRejected        Status = "rejected"
	StatusWithdrawn       Status = "withdrawn"
	StatusClosed          Status = "closed"
)

// AllStatuses lists the statuses in lifecycle order.
var AllStatuses = []Status{
	StatusDraft, StatusSent, StatusUnderEvaluation, StatusInvestigating, StatusSigned,
	StatusInLitigation, StatusClosing, StatusRejected, StatusWithdrawn, StatusClosed,
}

// Terminal reports whether no action leads out of s.
func (s Status) Terminal() bool {
	return s == StatusRejected || s == StatusWithdrawn || s == StatusClosed
}

// Active reports whether a referral in s counts against re-referring the case to the same firm:
// it was sent and has not ended.
func (s Status) Active() bool { return s != StatusDraft && !s.Terminal() }

// Valid reports whether s is one of the statuses this server stores.
func (s Status) Valid() bool {
	for _, v := range AllStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// ClosingStatus is the outcome recorded when a referral is closed.
type ClosingStatus string

// Closing statuses.
const (
	ClosingWonSettled       ClosingStatus = "won_settled"
	ClosingLost             ClosingStatus = "lost"
	ClosingNoLongerPursuing ClosingStatus = "no_longer_pursuing"
)

// Valid reports whether c is a known outcome.
func (c ClosingStatus) Valid() bool {
	return c == ClosingWonSettled || c == ClosingLost || c == ClosingNoLongerPursuing
}

// Side is a firm's role on a referral.
type Side int

// Sides. SideNone is a firm that is no party (it gets 404, never a permission error).
const (
	SideNone Side = iota
	SideReferring
	SideReceiving
)

func (s Side) String() string {
	switch s {
	case SideReferring:
		return "referring"
	case SideReceiving:
		return "receiving"
	}
	return "none"
}

// Action is one lifecycle operation on a referral.
type Action string

// Actions. Their names are the action routes (and the `action` of available-statuses), except
// ActionMarkClosing, which has no route of its own: POST /cases/{id}/status with `closing`.
const (
	ActionRefer              Action = "refer"
	ActionSend               Action = "send"
	ActionAcknowledge        Action = "acknowledge"
	ActionBeginInvestigating Action = "begin-investigating"
	ActionSign               Action = "sign"
	ActionStartLitigation    Action = "start-litigation"
	ActionMarkClosing        Action = "mark-closing"
	ActionClose              Action = "close"
	ActionReject             Action = "reject"
	ActionWithdraw           Action = "withdraw"
	ActionDelete             Action = "delete"
)

// Rule is one row of the transition table.
type Rule struct {
	Action Action
	// From lists the statuses the action is allowed from, in lifecycle order.
	From []Status
	// To is the status the action leads to; empty for ActionDelete (the referral is removed).
	To   Status
	Side Side
	// Label is short button text for available-statuses.
	Label                 string
	RequiresReason        bool
	RequiresClosingStatus bool
	// Offered says whether available-statuses lists the action. ActionMarkClosing is reached
	// only through the generic status change, ActionSend and ActionDelete only through the
	// referral routes; ActionRefer is listed for the sending side instead of ActionSend.
	Offered bool
}

// Rules is THE transition table: every action, both available-statuses operations and the status
// change of POST /cases/{id}/status read it. Keep the spec's lifecycle tables in step with it.
var Rules = []Rule{
	{Action: ActionRefer, From: []Status{StatusDraft, StatusRejected, StatusWithdrawn, StatusClosed}, To: StatusSent,
		Side: SideReferring, Label: "Refer to a firm", Offered: true},
	{Action: ActionSend, From: []Status{StatusDraft}, To: StatusSent, Side: SideReferring, Label: "Send"},
	{Action: ActionAcknowledge, From: []Status{StatusSent}, To: StatusUnderEvaluation, Side: SideReceiving,
		Label: "Acknowledge", Offered: true},
	{Action: ActionBeginInvestigating, From: []Status{StatusUnderEvaluation}, To: StatusInvestigating,
		Side: SideReceiving, Label: "Start investigation", Offered: true},
	{Action: ActionSign, From: []Status{StatusUnderEvaluation, StatusInvestigating}, To: StatusSigned,
		Side: SideReceiving, Label: "Mark retainer signed", Offered: true},
	{Action: ActionStartLitigation, From: []Status{StatusSigned}, To: StatusInLitigation, Side: SideReceiving,
		Label: "Start litigation", Offered: true},
	{Action: ActionMarkClosing, From: []Status{StatusSigned, StatusInLitigation}, To: StatusClosing,
		Side: SideReceiving, Label: "Begin closing"},
	{Action: ActionClose, From: []Status{StatusInvestigating, StatusSigned, StatusInLitigation, StatusClosing},
		To: StatusClosed, Side: SideReceiving, Label: "Close", RequiresClosingStatus: true, Offered: true},
	{Action: ActionReject, From: []Status{StatusSent, StatusUnderEvaluation, StatusInvestigating}, To: StatusRejected,
		Side: SideReceiving, Label: "Decline", RequiresReason: true, Offered: true},
	{Action: ActionWithdraw, From: []Status{StatusSent, StatusUnderEvaluation}, To: StatusWithdrawn,
		Side: SideReferring, Label: "Withdraw", RequiresReason: true, Offered: true},
	{Action: ActionDelete, From: []Status{StatusDraft}, Side: SideReferring, Label: "Delete"},
}

// RuleFor returns the table row of an action.
func RuleFor(a Action) (Rule, bool) {
	for _, r := range Rules {
		if r.Action == a {
			return r, true
		}
	}
	return Rule{}, false
}

// AllowedFrom reports whether the rule accepts status s.
func (r Rule) AllowedFrom(s Status) bool {
	for _, f := range r.From {
		if f == s {
			return true
		}
	}
	return false
}

// Check decides whether side may apply action to a referral in status current. In the
// contract's order: a firm that is no party gets apperr.ErrNotFound, the wrong side
// apperr.ErrPermission, a status the action is not allowed from apperr.ErrInvalidTransition
// (naming the current status and the allowed ones). It returns the rule on success.
func Check(action Action, side Side, current Status) (Rule, error) {
	rule, ok := RuleFor(action)
	if !ok {
		return Rule{}, fmt.Errorf("referrals: unknown action %q", action)
	}
	if side == SideNone {
		return Rule{}, apperr.NotFound("referral")
	}
	if side != rule.Side {
		return Rule{}, apperr.Permission(fmt.Sprintf("only the %s firm may %s this referral", rule.Side, verb(action)))
	}
	if !rule.AllowedFrom(current) {
		return Rule{}, TransitionError(action, current)
	}
	return rule, nil
}

// TransitionError is the invalid_state_transition error for action in status current.
func TransitionError(action Action, current Status) error {
	rule, _ := RuleFor(action)
	from := make([]string, len(rule.From))
	for i, f := range rule.From {
		from[i] = string(f)
	}
	return apperr.Transition(fmt.Sprintf("cannot %s a referral in status %q; allowed from: %s",
		verb(action), string(current), strings.Join(from, ", ")))
}

func verb(a Action) string {
	switch a {
	case ActionBeginInvestigating:
		return "begin investigating"
	case ActionStartLitigation:
		return "start litigation on"
	case ActionMarkClosing:
		return "move to closing"
	}
	return string(a)
}

// Available lists the offered actions side may apply from status current, in table order.
func Available(side Side, current Status) []Rule {
	var out []Rule
	for _, r := range Rules {
		if r.Offered && r.Side == side && r.AllowedFrom(current) {
			out = append(out, r)
		}
	}
	return out
}

// ActionForStatus maps the target of the generic status change (POST /cases/{id}/status) to
// the action that reaches it. `received` is the older name of under_evaluation. `draft` and
// `sent` cannot be reached this way (apperr.ErrInvalidTransition); `won` and `lost` are
// outcomes, not statuses, and anything else is unknown (apperr.ErrValidation naming
// body.status).
func ActionForStatus(target string) (Action, error) {
	switch Status(target) {
	case StatusUnderEvaluation, "received":
		return ActionAcknowledge, nil
	case StatusInvestigating:
		return ActionBeginInvestigating, nil
	case StatusSigned:
		return ActionSign, nil
	case StatusInLitigation:
		return ActionStartLitigation, nil
	case StatusClosing:
		return ActionMarkClosing, nil
	case StatusClosed:
		return ActionClose, nil
	case StatusRejected:
		return ActionReject, nil
	case StatusWithdrawn:
		return ActionWithdraw, nil
	case StatusDraft, StatusSent:
		return "", apperr.Transition(fmt.Sprintf("status %q cannot be set through a status change; use the send or refer action", target))
	case "won", "lost":
		return "", apperr.Field("body.status", fmt.Sprintf("%q is not a status; close with closingStatus %q instead", target, closingFor(target)))
	}
	return "", apperr.Field("body.status", fmt.Sprintf("unknown status %q", target))
}

func closingFor(legacy string) string {
	if legacy == "won" {
		return string(ClosingWonSettled)
	}
	return string(ClosingLost)
}

// StatusFilter is a parsed `status` list filter.
type StatusFilter struct {
	Status  *Status
	Closing *ClosingStatus
}

// ParseStatusFilter reads a `status` query value of the case and referral lists: a status, the
// older `received` (under_evaluation), or `won` / `lost` (closed with that outcome). Empty means
// no filter. Anything else is an apperr.ErrValidation error naming query.status.
func ParseStatusFilter(v string) (StatusFilter, error) {
	if v == "" {
		return StatusFilter{}, nil
	}
	st := Status(v)
	switch v {
	case "received":
		st = StatusUnderEvaluation
	case "won", "lost":
		st = StatusClosed
		cs := ClosingStatus(closingFor(v))
		return StatusFilter{Status: &st, Closing: &cs}, nil
	}
	if !st.Valid() {
		return StatusFilter{}, apperr.Field("query.status", fmt.Sprintf("unknown status %q", v))
	}
	return StatusFilter{Status: &st}, nil
}
