package routing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/ptr"
	"github.com/casexchange/server/internal/refdata"
)

// Service stores routing rules and evaluates them.
type Service struct {
	pool    *pgxpool.Pool
	refdata *refdata.Service
}

// New returns a Service on pool; ref resolves case types and jurisdictions.
func New(pool *pgxpool.Pool, ref *refdata.Service) *Service {
	return &Service{pool: pool, refdata: ref}
}

// List returns all rules of firm, active or not, in evaluation order.
func (s *Service) List(ctx context.Context, firm uuid.UUID) ([]Rule, error) {
	rules, _, err := loadRules(ctx, db.New(s.pool), firm, false)
	return rules, err
}

// Create adds a rule to firm. Errors: ErrValidation naming the body field (no name, no
// recipient, both forms mixed, a malformed condition, an unknown case type, jurisdiction, type
// category or firm, the caller's own firm, or a firm without an active outbound relationship).
func (s *Service) Create(ctx context.Context, firm uuid.UUID, in RuleInput) (Rule, error) {
	if err := in.checkForm(true); err != nil {
		return Rule{}, err
	}
	name, desc, err := in.texts()
	if err != nil {
		return Rule{}, err
	}
	conds, err := s.buildConditions(ctx, nil, in)
	if err != nil {
		return Rule{}, err
	}
	assigns := in.assignments()
	return postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (Rule, error) {
		if err := checkRecipients(ctx, q, firm, in); err != nil {
			return Rule{}, err
		}
		priority := 0
		if in.Priority != nil {
			priority = *in.Priority
		} else {
			p, err := q.RoutingRuleNextPriority(ctx, firm)
			if err != nil {
				return Rule{}, fmt.Errorf("next priority: %w", err)
			}
			priority = int(p)
		}
		raw, err := encodeConditions(conds)
		if err != nil {
			return Rule{}, err
		}
		row, err := q.RoutingRuleCreate(ctx, db.RoutingRuleCreateParams{
			FirmID:      firm,
			Name:        *name,
			Description: desc,
			Priority:    int32(priority),
			IsActive:    in.IsActive == nil || *in.IsActive,
			Conditions:  raw,
		})
		if err != nil {
			return Rule{}, fmt.Errorf("create rule: %w", err)
		}
		if err := insertAssignments(ctx, q, row.ID, assigns); err != nil {
			return Rule{}, err
		}
		return loadRule(ctx, q, firm, row.ID)
	})
}

// Update changes the fields present in in (see RuleInput) on rule id of firm. Conditions
// replaces all conditions; CaseTypeIDs only the caseType conditions and JurisdictionCodes only
// the jurisdiction ones; Assignments or TargetFirmID all recipients. Errors: ErrNotFound when
// firm has no such rule; ErrValidation as for Create.
func (s *Service) Update(ctx context.Context, firm, id uuid.UUID, in RuleInput) (Rule, error) {
	if err := in.checkForm(false); err != nil {
		return Rule{}, err
	}
	name, desc, err := in.texts()
	if err != nil {
		return Rule{}, err
	}
	return postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (Rule, error) {
		row, err := q.RoutingRuleGetForUpdate(ctx, db.RoutingRuleGetForUpdateParams{ID: id, FirmID: firm})
		if err != nil {
			return Rule{}, ruleNotFound(err)
		}
		current, err := decodeConditions(row.Conditions)
		if err != nil {
			return Rule{}, err
		}
		conds, err := s.buildConditions(ctx, current, in)
		if err != nil {
			return Rule{}, err
		}
		if err := checkRecipients(ctx, q, firm, in); err != nil {
			return Rule{}, err
		}
		p := db.RoutingRuleUpdateParams{
			ID:          id,
			FirmID:      firm,
			Name:        row.Name,
			Description: row.Description,
			Priority:    row.Priority,
			IsActive:    row.IsActive,
		}
		if name != nil {
			p.Name = *name
		}
		if in.Description != nil {
			p.Description = desc
		}
		if in.Priority != nil {
			p.Priority = int32(*in.Priority)
		}
		if in.IsActive != nil {
			p.IsActive = *in.IsActive
		}
		if p.Conditions, err = encodeConditions(conds); err != nil {
			return Rule{}, err
		}
		if _, err := q.RoutingRuleUpdate(ctx, p); err != nil {
			return Rule{}, fmt.Errorf("update rule: %w", err)
		}
		if as := in.assignments(); as != nil {
			if err := q.RoutingAssignmentDeleteByRule(ctx, id); err != nil {
				return Rule{}, fmt.Errorf("clear assignments: %w", err)
			}
			if err := insertAssignments(ctx, q, id, as); err != nil {
				return Rule{}, err
			}
		}
		return loadRule(ctx, q, firm, id)
	})
}

// Delete removes rule id of firm. Errors: ErrNotFound when firm has no such rule.
func (s *Service) Delete(ctx context.Context, firm, id uuid.UUID) error {
	n, err := db.New(s.pool).RoutingRuleDelete(ctx, db.RoutingRuleDeleteParams{ID: id, FirmID: firm})
	if err != nil {
		return fmt.Errorf("delete rule: %w", postgres.InterpretError(err))
	}
	if n == 0 {
		return apperr.NotFound("routing rule")
	}
	return nil
}

// EvalInput describes a case to route as the client names things.
type EvalInput struct {
	CaseType     string // id, machine name or display name
	Jurisdiction string // two-letter code
	Tier         *int
	County       *string
	TypeCategory *string
	Attempt      *int // nil means 1
}

// Evaluate runs firm's active rules against the described case and returns the first rule
// that matches with at least one usable recipient, or nil. Errors: ErrValidation naming
// query.caseType, query.jurisdiction, query.tier or query.attempt.
func (s *Service) Evaluate(ctx context.Context, firm uuid.UUID, in EvalInput) (*Evaluation, error) {
	var details []apperr.FieldError
	bad := func(field, msg string) { details = append(details, apperr.FieldError{Field: field, Message: msg}) }
	cs := Case{Attempt: 1}
	ct, err := s.refdata.ResolveCaseType(ctx, in.CaseType)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		bad("query.caseType", fmt.Sprintf("unknown case type %q", in.CaseType))
	case err != nil:
		return nil, err
	default:
		cs.CaseTypeID = ct.ID
	}
	j, err := s.refdata.ResolveJurisdiction(ctx, in.Jurisdiction)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		bad("query.jurisdiction", fmt.Sprintf("unknown jurisdiction %q", in.Jurisdiction))
	case err != nil:
		return nil, err
	default:
		cs.Jurisdiction = j.Code
	}
	if in.Tier != nil {
		if *in.Tier < MinTier || *in.Tier > MaxTier {
			bad("query.tier", fmt.Sprintf("must be between %d and %d", MinTier, MaxTier))
		}
		cs.Tier = in.Tier
	}
	if in.Attempt != nil {
		if *in.Attempt < 1 {
			bad("query.attempt", "must be at least 1")
		}
		cs.Attempt = *in.Attempt
	}
	cs.County = ptr.Trim(in.County)
	cs.TypeCategory = ptr.Trim(in.TypeCategory)
	if len(details) > 0 {
		return nil, apperr.Validation("", details...)
	}
	return evaluate(ctx, db.New(s.pool), firm, cs, nil)
}

// evaluate tries firm's active rules in order against cs. Recipients that are inactive firms,
// that firm can no longer refer to, or that are in exclude are dropped; a rule left without
// recipients is skipped.
func evaluate(ctx context.Context, q *db.Queries, firm uuid.UUID, cs Case, exclude []uuid.UUID) (*Evaluation, error) {
	rules, extra, err := loadRules(ctx, q, firm, true)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if !MatchAll(r.Conditions, cs) {
			continue
		}
		var targets []Target
		for _, a := range r.Assignments {
			x := extra[assignmentKey{r.ID, a.FirmID}]
			if !x.firmActive || !x.inNetwork || slices.Contains(exclude, a.FirmID) {
				continue
			}
			targets = append(targets, Target{
				FirmID:               a.FirmID,
				FirmName:             a.FirmName,
				ReferralInstructions: x.instructions,
				RecipientType:        a.RecipientType,
				Weight:               a.Weight,
			})
		}
		if len(targets) == 0 {
			continue
		}
		w := make([]int, len(targets))
		for i, t := range targets {
			w[i] = t.Weight
		}
		ordered := make([]Target, 0, len(targets))
		for _, i := range ByWeight(w) {
			ordered = append(ordered, targets[i])
		}
		return &Evaluation{RuleID: r.ID, RuleName: r.Name, Priority: r.Priority, Assignments: ordered}, nil
	}
	return nil, nil
}

// checkForm applies the rules on which fields may come together.
func (in RuleInput) checkForm(create bool) error {
	var details []apperr.FieldError
	bad := func(field, msg string) { details = append(details, apperr.FieldError{Field: field, Message: msg}) }
	if in.Conditions != nil && (in.CaseTypeIDs != nil || in.JurisdictionCodes != nil) {
		bad("body.conditions", "cannot be combined with caseTypeIds or jurisdictionCodes")
	}
	if in.TargetFirmID != nil && in.Assignments != nil {
		bad("body.targetFirmId", "cannot be combined with assignments")
	}
	if create && in.Name == nil {
		bad("body.name", "is required")
	}
	if create && in.TargetFirmID == nil && in.Assignments == nil {
		bad("body.assignments", "a recipient is required: give targetFirmId or assignments")
	}
	if in.Priority != nil && *in.Priority < 0 {
		bad("body.priority", "must not be negative")
	}
	if in.Conditions != nil && len(*in.Conditions) > maxConditions {
		bad("body.conditions", fmt.Sprintf("must have at most %d conditions", maxConditions))
	}
	if in.CaseTypeIDs != nil && len(*in.CaseTypeIDs) > maxCaseTypeIDs {
		bad("body.caseTypeIds", fmt.Sprintf("must have at most %d items", maxCaseTypeIDs))
	}
	if in.JurisdictionCodes != nil && len(*in.JurisdictionCodes) > maxCodes {
		bad("body.jurisdictionCodes", fmt.Sprintf("must have at most %d items", maxCodes))
	}
	if in.Assignments != nil {
		as := *in.Assignments
		if len(as) == 0 || len(as) > maxAssignments {
			bad("body.assignments", fmt.Sprintf("must have between 1 and %d recipients", maxAssignments))
		}
		for i, a := range as {
			at := fmt.Sprintf("body.assignments.%d", i)
			if a.RecipientType != nil && *a.RecipientType != RecipientFirm {
				bad(at+".recipientType", "must be "+RecipientFirm)
			}
			if a.Weight != nil && (*a.Weight < minWeight || *a.Weight > maxWeight) {
				bad(at+".distributionWeight", fmt.Sprintf("must be between %d and %d", minWeight, maxWeight))
			}
			if slices.ContainsFunc(as[:i], func(b AssignmentInput) bool { return b.FirmID == a.FirmID }) {
				bad(at+".casexchangeFirmId", "lists the same firm twice")
			}
		}
	}
	if len(details) > 0 {
		return apperr.Validation("", details...)
	}
	return nil
}

// texts validates and normalizes name and description. name is nil when absent; desc is nil
// when absent or blank.
func (in RuleInput) texts() (name, desc *string, err error) {
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		switch {
		case n == "":
			return nil, nil, apperr.Field("body.name", "must not be blank")
		case utf8.RuneCountInString(n) > maxName:
			return nil, nil, apperr.Field("body.name", fmt.Sprintf("must be at most %d characters", maxName))
		}
		name = &n
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if utf8.RuneCountInString(d) > maxDescription {
			return nil, nil, apperr.Field("body.description", fmt.Sprintf("must be at most %d characters", maxDescription))
		}
		if d != "" {
			desc = &d
		}
	}
	return name, desc, nil
}

// assignments returns the recipients in, or nil when in leaves them alone.
func (in RuleInput) assignments() []Assignment {
	switch {
	case in.TargetFirmID != nil:
		return []Assignment{{RecipientType: RecipientFirm, FirmID: *in.TargetFirmID, Weight: 1}}
	case in.Assignments != nil:
		out := make([]Assignment, 0, len(*in.Assignments))
		for _, a := range *in.Assignments {
			w := 1
			if a.Weight != nil {
				w = *a.Weight
			}
			out = append(out, Assignment{RecipientType: RecipientFirm, FirmID: a.FirmID, Weight: w})
		}
		return out
	}
	return nil
}

// buildConditions returns the conditions after applying in to current (nil on creation),
// resolving case types and checking jurisdictions and type categories.
func (s *Service) buildConditions(ctx context.Context, current []Condition, in RuleInput) ([]Condition, error) {
	out := slices.Clone(current)
	if out == nil {
		out = []Condition{}
	}
	if in.Conditions != nil {
		out = make([]Condition, 0, len(*in.Conditions))
		for i, ci := range *in.Conditions {
			at := fmt.Sprintf("body.conditions.%d", i)
			c, err := ParseCondition(at, ci.Field, ci.Operator, ci.Value)
			if err != nil {
				return nil, err
			}
			if c, err = s.resolveCondition(ctx, at, c); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	if in.CaseTypeIDs != nil {
		var c *Condition
		if ids := dedupe(*in.CaseTypeIDs); len(ids) > 0 {
			known, err := s.refdata.CaseTypesByIDs(ctx, ids)
			if err != nil {
				return nil, err
			}
			for i, id := range *in.CaseTypeIDs {
				if !slices.ContainsFunc(known, func(ct refdata.CaseType) bool { return ct.ID == id && ct.IsActive }) {
					return nil, apperr.Field(fmt.Sprintf("body.caseTypeIds.%d", i), fmt.Sprintf("unknown case type %s", id))
				}
			}
			c = &Condition{Field: FieldCaseType, Operator: OpIn, IDs: ids}
			for _, id := range ids {
				c.Strings = append(c.Strings, id.String())
			}
		}
		out = replaceField(out, FieldCaseType, c)
	}
	if in.JurisdictionCodes != nil {
		var c *Condition
		codes := make([]string, 0, len(*in.JurisdictionCodes))
		for _, code := range *in.JurisdictionCodes {
			code = strings.ToUpper(strings.TrimSpace(code))
			if !slices.Contains(codes, code) {
				codes = append(codes, code)
			}
		}
		if len(codes) > 0 {
			if err := s.checkJurisdictions(ctx, "body.jurisdictionCodes", codes); err != nil {
				return nil, err
			}
			c = &Condition{Field: FieldJurisdiction, Operator: OpIn, Strings: codes}
		}
		out = replaceField(out, FieldJurisdiction, c)
	}
	return out, nil
}

// replaceField removes every condition on field and puts c (if any) where the first one was,
// or at the end.
func replaceField(conds []Condition, field string, c *Condition) []Condition {
	at := -1
	out := make([]Condition, 0, len(conds)+1)
	for _, x := range conds {
		if x.Field == field {
			if at < 0 {
				at = len(out)
			}
			continue
		}
		out = append(out, x)
	}
	if c == nil {
		return out
	}
	if at < 0 {
		return append(out, *c)
	}
	return slices.Insert(out, at, *c)
}

// resolveCondition looks up what a parsed condition names.
func (s *Service) resolveCondition(ctx context.Context, at string, c Condition) (Condition, error) {
	switch c.Field {
	case FieldCaseType:
		c.IDs = nil
		for i, v := range c.Strings {
			ct, err := s.refdata.ResolveCaseType(ctx, v)
			if errors.Is(err, apperr.ErrNotFound) {
				field := at + ".value"
				if c.Operator == OpIn || c.Operator == OpNotIn {
					field = fmt.Sprintf("%s.%d", field, i)
				}
				return c, apperr.Field(field, fmt.Sprintf("unknown case type %q", v))
			}
			if err != nil {
				return c, err
			}
			if !slices.Contains(c.IDs, ct.ID) {
				c.IDs = append(c.IDs, ct.ID)
			}
		}
	case FieldJurisdiction:
		if err := s.checkJurisdictions(ctx, at+".value", c.Strings); err != nil {
			return c, err
		}
	case FieldTypeCategory:
		cats, err := db.New(s.pool).RoutingTypeCategoryList(ctx)
		if err != nil {
			return c, fmt.Errorf("list type categories: %w", postgres.InterpretError(err))
		}
		for _, v := range c.Strings {
			if !slices.ContainsFunc(cats, func(k string) bool { return strings.EqualFold(k, v) }) {
				return c, apperr.Field(at+".value", fmt.Sprintf("unknown type category %q (known: %s)", v, strings.Join(cats, ", ")))
			}
		}
	}
	return c, nil
}

func (s *Service) checkJurisdictions(ctx context.Context, field string, codes []string) error {
	unknown, err := s.refdata.UnknownJurisdictionCodes(ctx, codes)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return apperr.Field(field, "unknown jurisdiction code(s): "+strings.Join(unknown, ", "))
	}
	return nil
}

// checkRecipients verifies that every new recipient in `in` is an active firm other than firm,
// with which firm has an active outbound relationship.
func checkRecipients(ctx context.Context, q *db.Queries, firm uuid.UUID, in RuleInput) error {
	type cand struct {
		id    uuid.UUID
		field string
	}
	var cands []cand
	switch {
	case in.TargetFirmID != nil:
		cands = append(cands, cand{*in.TargetFirmID, "body.targetFirmId"})
	case in.Assignments != nil:
		for i, a := range *in.Assignments {
			cands = append(cands, cand{a.FirmID, fmt.Sprintf("body.assignments.%d.casexchangeFirmId", i)})
		}
	default:
		return nil
	}
	ids := make([]uuid.UUID, len(cands))
	for i, c := range cands {
		ids[i] = c.id
	}
	rows, err := q.RoutingRecipientList(ctx, db.RoutingRecipientListParams{FirmID: firm, Ids: ids})
	if err != nil {
		return fmt.Errorf("check recipients: %w", err)
	}
	var details []apperr.FieldError
	for _, c := range cands {
		i := slices.IndexFunc(rows, func(r db.RoutingRecipientListRow) bool { return r.ID == c.id })
		switch {
		case c.id == firm:
			details = append(details, apperr.FieldError{Field: c.field, Message: "must be another firm than your own"})
		case i < 0 || !rows[i].IsActive:
			details = append(details, apperr.FieldError{Field: c.field, Message: fmt.Sprintf("unknown firm %s", c.id)})
		case !rows[i].InNetwork:
			details = append(details, apperr.FieldError{Field: c.field,
				Message: "your firm has no active network relationship with this firm"})
		}
	}
	if len(details) > 0 {
		return apperr.Validation("", details...)
	}
	return nil
}

func insertAssignments(ctx context.Context, q *db.Queries, rule uuid.UUID, as []Assignment) error {
	for i, a := range as {
		err := q.RoutingAssignmentInsert(ctx, db.RoutingAssignmentInsertParams{
			RuleID:             rule,
			Position:           int32(i),
			RecipientType:      a.RecipientType,
			FirmID:             a.FirmID,
			DistributionWeight: int32(a.Weight),
		})
		if err != nil {
			return fmt.Errorf("insert assignment: %w", err)
		}
	}
	return nil
}

func ruleNotFound(err error) error {
	err = postgres.InterpretError(err)
	if errors.Is(err, apperr.ErrNotFound) {
		return apperr.NotFound("routing rule")
	}
	return fmt.Errorf("get rule: %w", err)
}

func dedupe[T comparable](in []T) []T {
	out := make([]T, 0, len(in))
	for _, v := range in {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// EvaluateReReferral evaluates firm's rules for a new referral of an existing case that firm
// owns, found by caseRef (the UUID of the case or of one of its referrals, a reference number,
// or a CMS or Salesforce id). The attempt is the number of referrals the case has had plus one,
// the type category is its case type's, tier (when given) overrides the case's own, and firms
// that already received a referral of the case are removed from the recipients. Errors:
// ErrValidation naming query.caseId or query.tier; ErrNotFound when firm owns no such case.
func (s *Service) EvaluateReReferral(ctx context.Context, firm uuid.UUID, caseRef string, tier *int) (*Evaluation, error) {
	key := strings.TrimSpace(caseRef)
	if key == "" {
		return nil, apperr.Field("query.caseId", "is required")
	}
	if tier != nil && (*tier < MinTier || *tier > MaxTier) {
		return nil, apperr.Field("query.tier", fmt.Sprintf("must be between %d and %d", MinTier, MaxTier))
	}
	p := db.RoutingReReferralCaseGetParams{FirmID: firm, Key: key}
	if id, err := uuid.Parse(key); err == nil {
		p.ID = &id
	}
	q := db.New(s.pool)
	row, err := q.RoutingReReferralCaseGet(ctx, p)
	if err != nil {
		err = postgres.InterpretError(err)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, apperr.NotFound("case")
		}
		return nil, fmt.Errorf("get case: %w", err)
	}
	cs := Case{
		CaseTypeID:   row.CaseTypeID,
		Jurisdiction: row.JurisdictionCode,
		County:       ptr.Trim(row.County),
		TypeCategory: &row.TypeCategory,
		Attempt:      int(row.ReferralCount) + 1,
	}
	if row.Tier != nil {
		t := int(*row.Tier)
		cs.Tier = &t
	}
	if tier != nil {
		cs.Tier = tier
	}
	return evaluate(ctx, q, firm, cs, row.ReferredFirmIds)
}
