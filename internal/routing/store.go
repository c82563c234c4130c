package routing

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/postgres"
)

// storedCondition is a condition in routing_rules.conditions. Value is what the client wrote
// (normalized); IDs are the case types a caseType condition names.
type storedCondition struct {
	Field    string      `json:"field"`
	Operator string      `json:"operator"`
	Value    any         `json:"value"`
	IDs      []uuid.UUID `json:"ids,omitempty"`
}

func encodeConditions(conds []Condition) ([]byte, error) {
	out := make([]storedCondition, 0, len(conds))
	for _, c := range conds {
		out = append(out, storedCondition{Field: c.Field, Operator: c.Operator, Value: c.Value(), IDs: c.IDs})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode conditions: %w", err)
	}
	return b, nil
}

func decodeConditions(raw []byte) ([]Condition, error) {
	var stored []storedCondition
	if err := json.Unmarshal(raw, &stored); err != nil {
		return nil, fmt.Errorf("decode conditions: %w", err)
	}
	out := make([]Condition, 0, len(stored))
	for _, sc := range stored {
		c, err := ParseCondition("conditions", sc.Field, sc.Operator, sc.Value)
		if err != nil {
			return nil, fmt.Errorf("stored condition: %w", err)
		}
		c.IDs = sc.IDs
		out = append(out, c)
	}
	return out, nil
}

type assignmentKey struct {
	rule, firm uuid.UUID
}

// assignmentExtra is what evaluation needs to know about a recipient beyond the rule.
type assignmentExtra struct {
	firmActive   bool
	inNetwork    bool
	instructions *string
}

// loadRules reads firm's rules (only active ones when activeOnly) in evaluation order, with
// their recipients.
func loadRules(ctx context.Context, q *db.Queries, firm uuid.UUID, activeOnly bool) ([]Rule, map[assignmentKey]assignmentExtra, error) {
	rows, err := q.RoutingRuleListByFirm(ctx, db.RoutingRuleListByFirmParams{FirmID: firm, ActiveOnly: activeOnly})
	if err != nil {
		return nil, nil, fmt.Errorf("list rules: %w", postgres.InterpretError(err))
	}
	return withAssignments(ctx, q, rows)
}

// loadRule reads one rule of firm. Errors: ErrNotFound.
func loadRule(ctx context.Context, q *db.Queries, firm, id uuid.UUID) (Rule, error) {
	row, err := q.RoutingRuleGet(ctx, db.RoutingRuleGetParams{ID: id, FirmID: firm})
	if err != nil {
		return Rule{}, ruleNotFound(err)
	}
	rules, _, err := withAssignments(ctx, q, []db.RoutingRule{row})
	if err != nil {
		return Rule{}, err
	}
	return rules[0], nil
}

func withAssignments(ctx context.Context, q *db.Queries, rows []db.RoutingRule) ([]Rule, map[assignmentKey]assignmentExtra, error) {
	rules := make([]Rule, 0, len(rows))
	index := make(map[uuid.UUID]int, len(rows))
	ids := make([]uuid.UUID, 0, len(rows))
	for _, r := range rows {
		conds, err := decodeConditions(r.Conditions)
		if err != nil {
			return nil, nil, fmt.Errorf("rule %s: %w", r.ID, err)
		}
		index[r.ID] = len(rules)
		ids = append(ids, r.ID)
		rules = append(rules, Rule{
			ID:          r.ID,
			FirmID:      r.FirmID,
			Name:        r.Name,
			Description: r.Description,
			Priority:    int(r.Priority),
			IsActive:    r.IsActive,
			Conditions:  conds,
			Assignments: []Assignment{},
			CreatedAt:   r.CreatedAt,
			UpdatedAt:   r.UpdatedAt,
		})
	}
	extra := map[assignmentKey]assignmentExtra{}
	if len(ids) == 0 {
		return rules, extra, nil
	}
	as, err := q.RoutingAssignmentListByRules(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("list assignments: %w", postgres.InterpretError(err))
	}
	for _, a := range as {
		i := index[a.RuleID]
		rules[i].Assignments = append(rules[i].Assignments, Assignment{
			RecipientType: a.RecipientType,
			FirmID:        a.FirmID,
			FirmName:      a.FirmName,
			Weight:        int(a.DistributionWeight),
		})
		extra[assignmentKey{a.RuleID, a.FirmID}] = assignmentExtra{
			firmActive:   a.FirmActive,
			inNetwork:    a.InNetwork,
			instructions: a.ReferralInstructions,
		}
	}
	return rules, extra, nil
}
