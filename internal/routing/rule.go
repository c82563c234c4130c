package routing

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// RecipientFirm is the only kind of recipient: a firm on the platform.
const RecipientFirm = "casexchange_firm"

// Limits of a rule.
const (
	maxName        = 200
	maxDescription = 2000
	maxConditions  = 20
	maxAssignments = 20
	maxCaseTypeIDs = 200
	maxCodes       = 60
	minWeight      = 1
	maxWeight      = 1000
)

// Rule is a routing rule of a firm.
type Rule struct {
	ID          uuid.UUID
	FirmID      uuid.UUID
	Name        string
	Description *string
	Priority    int
	IsActive    bool
	Conditions  []Condition
	Assignments []Assignment // in the order they were written
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Assignment is a recipient of a rule.
type Assignment struct {
	RecipientType string
	FirmID        uuid.UUID
	FirmName      string
	Weight        int
}

// CaseTypeIDs are the case types of the rule's eq and in caseType conditions, in order,
// without repeats.
func (r Rule) CaseTypeIDs() []uuid.UUID {
	out := []uuid.UUID{}
	for _, c := range r.Conditions {
		if c.Field == FieldCaseType && (c.Operator == OpEq || c.Operator == OpIn) {
			for _, id := range c.IDs {
				if !slices.Contains(out, id) {
					out = append(out, id)
				}
			}
		}
	}
	return out
}

// JurisdictionCodes are the codes of the rule's eq and in jurisdiction conditions, in order,
// without repeats.
func (r Rule) JurisdictionCodes() []string {
	out := []string{}
	for _, c := range r.Conditions {
		if c.Field == FieldJurisdiction && (c.Operator == OpEq || c.Operator == OpIn) {
			for _, s := range c.Strings {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// TargetFirmID is the firm of the heaviest assignment (the first on a tie); the zero UUID when
// the rule has none.
func (r Rule) TargetFirmID() uuid.UUID {
	i := Heaviest(weightsOf(r.Assignments))
	if i < 0 {
		return uuid.Nil
	}
	return r.Assignments[i].FirmID
}

func weightsOf(as []Assignment) []int {
	w := make([]int, len(as))
	for i, a := range as {
		w[i] = a.Weight
	}
	return w
}

// ConditionInput is a condition as the client wrote it; Value is decoded JSON.
type ConditionInput struct {
	Field    string
	Operator string
	Value    any
}

// AssignmentInput is a recipient as the client wrote it. Nil fields take their defaults
// (RecipientFirm, weight 1).
type AssignmentInput struct {
	RecipientType *string
	FirmID        uuid.UUID
	Weight        *int
}

// RuleInput creates or changes a rule, in either of the two published forms: Conditions with
// TargetFirmID, or CaseTypeIDs and JurisdictionCodes with Assignments. Nil fields are absent:
// on creation they take defaults, on update they keep the stored value. A blank Description
// clears it.
type RuleInput struct {
	Name              *string
	Description       *string
	Priority          *int
	IsActive          *bool
	Conditions        *[]ConditionInput
	TargetFirmID      *uuid.UUID
	CaseTypeIDs       *[]uuid.UUID
	JurisdictionCodes *[]string
	Assignments       *[]AssignmentInput
}

// Evaluation is the outcome of matching a case: the rule and the recipients left after
// filtering, heaviest first (rule order on a tie).
type Evaluation struct {
	RuleID      uuid.UUID
	RuleName    string
	Priority    int
	Assignments []Target
}

// Target is a firm a case would be routed to.
type Target struct {
	FirmID               uuid.UUID
	FirmName             string
	ReferralInstructions *string
	RecipientType        string
	Weight               int
}

// Choose picks one recipient of e for the case identified by key on the given attempt, in
// proportion to the weights and deterministically (see PickWeighted). ok is false when e has no
// recipients.
func (e Evaluation) Choose(key string, attempt int) (t Target, ok bool) {
	w := make([]int, len(e.Assignments))
	for i, a := range e.Assignments {
		w[i] = a.Weight
	}
	i := PickWeighted(w, key, attempt)
	if i < 0 {
		return Target{}, false
	}
	return e.Assignments[i], true
}
