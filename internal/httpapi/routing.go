package httpapi

import (
	"context"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/routing"
)

// ListRoutingRules lists the caller's firm's rules in evaluation order.
func (s *Server) ListRoutingRules(ctx context.Context, _ api.ListRoutingRulesRequestObject) (api.ListRoutingRulesResponseObject, error) {
	rules, err := s.Routing.List(ctx, PrincipalFrom(ctx).FirmID)
	if err != nil {
		return nil, err
	}
	data := make([]api.RoutingRule, 0, len(rules))
	for _, r := range rules {
		data = append(data, apiRoutingRule(r))
	}
	return api.ListRoutingRules200JSONResponse{Body: api.RoutingRuleListResponse{Data: data, Meta: meta(ctx)}}, nil
}

// CreateRoutingRule adds a rule, written in either form, to the caller's firm.
func (s *Server) CreateRoutingRule(ctx context.Context, req api.CreateRoutingRuleRequestObject) (api.CreateRoutingRuleResponseObject, error) {
	b := req.Body
	in := routing.RuleInput{
		Name:              &b.Name,
		Description:       b.Description,
		Priority:          b.Priority,
		IsActive:          b.IsActive,
		Conditions:        conditionInputs(b.Conditions),
		TargetFirmID:      b.TargetFirmId,
		CaseTypeIDs:       b.CaseTypeIds,
		JurisdictionCodes: b.JurisdictionCodes,
		Assignments:       assignmentInputs(b.Assignments),
	}
	r, err := s.Routing.Create(ctx, PrincipalFrom(ctx).FirmID, in)
	if err != nil {
		return nil, err
	}
	return api.CreateRoutingRule201JSONResponse{Body: api.RoutingRuleResponse{Data: apiRoutingRule(r), Meta: meta(ctx)}}, nil
}

// UpdateRoutingRule changes the fields present in the body on one of the caller's rules.
func (s *Server) UpdateRoutingRule(ctx context.Context, req api.UpdateRoutingRuleRequestObject) (api.UpdateRoutingRuleResponseObject, error) {
	var in routing.RuleInput
	if b := req.Body; b != nil {
		in = routing.RuleInput{
			Name:              b.Name,
			Description:       b.Description,
			Priority:          b.Priority,
			IsActive:          b.IsActive,
			Conditions:        conditionInputs(b.Conditions),
			TargetFirmID:      b.TargetFirmId,
			CaseTypeIDs:       b.CaseTypeIds,
			JurisdictionCodes: b.JurisdictionCodes,
			Assignments:       assignmentInputs(b.Assignments),
		}
	}
	r, err := s.Routing.Update(ctx, PrincipalFrom(ctx).FirmID, req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateRoutingRule200JSONResponse{Body: api.RoutingRuleResponse{Data: apiRoutingRule(r), Meta: meta(ctx)}}, nil
}

// DeleteRoutingRule removes one of the caller's rules.
func (s *Server) DeleteRoutingRule(ctx context.Context, req api.DeleteRoutingRuleRequestObject) (api.DeleteRoutingRuleResponseObject, error) {
	if err := s.Routing.Delete(ctx, PrincipalFrom(ctx).FirmID, req.Id); err != nil {
		return nil, err
	}
	return api.DeleteRoutingRule204Response{}, nil
}

// EvaluateRoutingRules previews where a described case would be routed.
func (s *Server) EvaluateRoutingRules(ctx context.Context, req api.EvaluateRoutingRulesRequestObject) (api.EvaluateRoutingRulesResponseObject, error) {
	p := req.Params
	ev, err := s.Routing.Evaluate(ctx, PrincipalFrom(ctx).FirmID, routing.EvalInput{
		CaseType:     p.CaseType,
		Jurisdiction: p.Jurisdiction,
		Tier:         p.Tier,
		County:       p.County,
		TypeCategory: p.TypeCategory,
		Attempt:      p.Attempt,
	})
	if err != nil {
		return nil, err
	}
	return api.EvaluateRoutingRules200JSONResponse{Body: api.RoutingEvaluationResponse{Data: apiEvaluation(ev), Meta: meta(ctx)}}, nil
}

// EvaluateReReferralRouting previews where an existing case would go if re-referred.
func (s *Server) EvaluateReReferralRouting(ctx context.Context, req api.EvaluateReReferralRoutingRequestObject) (api.EvaluateReReferralRoutingResponseObject, error) {
	ev, err := s.Routing.EvaluateReReferral(ctx, PrincipalFrom(ctx).FirmID, req.Params.CaseId, req.Params.Tier)
	if err != nil {
		return nil, err
	}
	return api.EvaluateReReferralRouting200JSONResponse{Body: api.RoutingEvaluationResponse{Data: apiEvaluation(ev), Meta: meta(ctx)}}, nil
}

func conditionInputs(cs *[]api.RoutingCondition) *[]routing.ConditionInput {
	if cs == nil {
		return nil
	}
	out := make([]routing.ConditionInput, 0, len(*cs))
	for _, c := range *cs {
		out = append(out, routing.ConditionInput{Field: string(c.Field), Operator: string(c.Operator), Value: c.Value})
	}
	return &out
}

func assignmentInputs(as *[]api.RoutingAssignmentInput) *[]routing.AssignmentInput {
	if as == nil {
		return nil
	}
	out := make([]routing.AssignmentInput, 0, len(*as))
	for _, a := range *as {
		in := routing.AssignmentInput{FirmID: a.CasexchangeFirmId, Weight: a.DistributionWeight}
		if a.RecipientType != nil {
			t := string(*a.RecipientType)
			in.RecipientType = &t
		}
		out = append(out, in)
	}
	return &out
}

func apiRoutingRule(r routing.Rule) api.RoutingRule {
	conds := make([]api.RoutingCondition, 0, len(r.Conditions))
	for _, c := range r.Conditions {
		conds = append(conds, api.RoutingCondition{
			Field:    api.RoutingConditionField(c.Field),
			Operator: api.RoutingConditionOperator(c.Operator),
			Value:    c.Value(),
		})
	}
	assigns := make([]api.RoutingAssignment, 0, len(r.Assignments))
	for _, a := range r.Assignments {
		assigns = append(assigns, api.RoutingAssignment{
			RecipientType:      a.RecipientType,
			CasexchangeFirmId:  a.FirmID,
			FirmName:           a.FirmName,
			DistributionWeight: a.Weight,
		})
	}
	return api.RoutingRule{
		Id:                r.ID,
		Name:              r.Name,
		Description:       r.Description,
		FirmId:            r.FirmID,
		Priority:          r.Priority,
		IsActive:          r.IsActive,
		Conditions:        conds,
		TargetFirmId:      r.TargetFirmID(),
		CaseTypeIds:       r.CaseTypeIDs(),
		JurisdictionCodes: r.JurisdictionCodes(),
		Assignments:       assigns,
		CreatedAt:         r.CreatedAt.UTC(),
		UpdatedAt:         r.UpdatedAt.UTC(),
	}
}

func apiEvaluation(ev *routing.Evaluation) *api.RoutingEvaluationResult {
	if ev == nil {
		return nil
	}
	out := &api.RoutingEvaluationResult{
		Rule:        api.RoutingEvaluationRule{Id: ev.RuleID, Name: ev.RuleName, Priority: ev.Priority},
		Assignments: make([]api.RoutingEvaluationAssignment, 0, len(ev.Assignments)),
	}
	for _, t := range ev.Assignments {
		out.Assignments = append(out.Assignments, api.RoutingEvaluationAssignment{
			FirmId:               t.FirmID,
			FirmName:             t.FirmName,
			ReferralInstructions: t.ReferralInstructions,
			RecipientType:        t.RecipientType,
			DistributionWeight:   t.Weight,
		})
	}
	return out
}
