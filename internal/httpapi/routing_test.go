package httpapi_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/ptr"
	"github.com/casexchange/server/internal/refdata"
	"github.com/casexchange/server/internal/routing"
)

const (
	rtRules    = "/api/public/v1/routing/rules"
	rtEvaluate = "/api/public/v1/routing/evaluate"
	rtReRefer  = "/api/public/v1/routing/re-refer"
)

func TestRouting(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h                *apitest.Harness
		me               *apitest.Firm
		full, ro         string // the caller's keys
		b, c, d          *apitest.Firm
		stranger         *apitest.Firm // no relationship with the caller
		strangerFull     string
		strangerReadOnly string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		b := &testBundle{h: h}
		b.me = h.NewFirm(apitest.FirmOpts{Name: "Router Firm"})
		b.full, b.ro = h.Key(b.me, apitest.Full), h.Key(b.me, apitest.ReadOnly)
		b.b = h.NewFirm(apitest.FirmOpts{Name: "Bravo Law", Instructions: "Bravo general"})
		b.c = h.NewFirm(apitest.FirmOpts{Name: "Charlie Law", Instructions: "Charlie general"})
		b.d = h.NewFirm(apitest.FirmOpts{Name: "Delta Law"})
		b.stranger = h.NewFirm(apitest.FirmOpts{Name: "Stranger Law"})
		b.strangerFull, b.strangerReadOnly = h.Key(b.stranger, apitest.Full), h.Key(b.stranger, apitest.ReadOnly)
		nwConnect(t, h, b.me, b.b, "Bravo for you")
		nwConnect(t, h, b.me, b.c, "")
		nwConnect(t, h, b.me, b.d, "")
		return b
	}
	create := func(t *testing.T, b *testBundle, body map[string]any) api.RoutingRule {
		t.Helper()
		r := b.h.Do("POST", rtRules, apitest.APIKey(b.full), apitest.JSON(body))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		var out api.RoutingRuleResponse
		r.Decode(&out)
		return out.Data
	}
	list := func(t *testing.T, h *apitest.Harness, key string) []api.RoutingRule {
		t.Helper()
		r := h.Do("GET", rtRules, apitest.APIKey(key))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.RoutingRuleListResponse
		r.Decode(&out)
		return out.Data
	}
	evaluate := func(t *testing.T, h *apitest.Harness, key string, query ...string) *api.RoutingEvaluationResult {
		t.Helper()
		r := h.Do("GET", rtEvaluate, apitest.APIKey(key), apitest.Query(query...))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Contains(t, r.Map(), "data")
		var out api.RoutingEvaluationResponse
		r.Decode(&out)
		return out.Data
	}
	// badRequest sends a rule change and requires a validation error naming field.
	badRequest := func(t *testing.T, b *testBundle, method, path string, body map[string]any, field string) {
		t.Helper()
		r := b.h.Do(method, path, apitest.APIKey(b.full), apitest.JSON(body))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		require.Equal(t, "validation_error", r.ErrorCode())
		var env api.Error
		r.Decode(&env)
		require.NotNil(t, env.Error.Details, string(r.Body))
		fields := []string{}
		for _, d := range *env.Error.Details {
			fields = append(fields, d.Field)
		}
		require.Contains(t, fields, field, string(r.Body))
	}

	t.Run("conditions form round-trips and is also shown as lists", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rule := create(t, b, map[string]any{
			"name": "CA injuries to Bravo",
			"conditions": []map[string]any{
				{"field": "caseType", "operator": "in", "value": []string{"Personal Injury"}},
				{"field": "jurisdiction", "operator": "eq", "value": "ca"},
				{"field": "tier", "operator": "gte", "value": 2},
			},
			"targetFirmId": b.b.ID,
			"priority":     5,
		})
		require.Equal(t, "CA injuries to Bravo", rule.Name)
		require.Equal(t, b.me.ID, rule.FirmId)
		require.Equal(t, 5, rule.Priority)
		require.True(t, rule.IsActive)
		require.Nil(t, rule.Description)
		require.Len(t, rule.Conditions, 3)
		require.Equal(t, api.RoutingConditionField("caseType"), rule.Conditions[0].Field)
		require.Equal(t, []any{"Personal Injury"}, rule.Conditions[0].Value)
		require.Equal(t, "CA", rule.Conditions[1].Value)
		require.Equal(t, api.RoutingConditionOperator("gte"), rule.Conditions[2].Operator)
		require.Equal(t, float64(2), rule.Conditions[2].Value)
		require.Equal(t, b.b.ID, rule.TargetFirmId)
		require.Equal(t, []uuid.UUID{refdata.PersonalInjuryID}, rule.CaseTypeIds)
		require.Equal(t, []string{"CA"}, rule.JurisdictionCodes)
		require.Equal(t, []api.RoutingAssignment{{
			RecipientType: "casexchange_firm", CasexchangeFirmId: b.b.ID, FirmName: "Bravo Law", DistributionWeight: 1,
		}}, rule.Assignments)

		rules := list(t, b.h, b.ro)
		require.Len(t, rules, 1)
		require.Equal(t, rule, rules[0])
	})

	t.Run("list form round-trips and is also shown as conditions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rule := create(t, b, map[string]any{
			"name":              "Med-mal in NY and NJ",
			"description":       "Split between two partners",
			"caseTypeIds":       []uuid.UUID{refdata.MedicalMalpracticeID},
			"jurisdictionCodes": []string{"ny", "NJ"},
			"assignments": []map[string]any{
				{"recipientType": "casexchange_firm", "casexchangeFirmId": b.b.ID, "distributionWeight": 1},
				{"casexchangeFirmId": b.c.ID, "distributionWeight": 3},
			},
		})
		require.Equal(t, "Split between two partners", *rule.Description)
		require.Equal(t, 1, rule.Priority, "first rule without priority")
		require.Equal(t, []uuid.UUID{refdata.MedicalMalpracticeID}, rule.CaseTypeIds)
		require.Equal(t, []string{"NY", "NJ"}, rule.JurisdictionCodes)
		require.Equal(t, []api.RoutingCondition{
			{Field: "caseType", Operator: "in", Value: []any{refdata.MedicalMalpracticeID.String()}},
			{Field: "jurisdiction", Operator: "in", Value: []any{"NY", "NJ"}},
		}, rule.Conditions)
		require.Equal(t, b.c.ID, rule.TargetFirmId, "heaviest assignment")
		require.Len(t, rule.Assignments, 2)
		require.Equal(t, "Bravo Law", rule.Assignments[0].FirmName)
		require.Equal(t, 3, rule.Assignments[1].DistributionWeight)

		// A second rule without priority goes after it.
		second := create(t, b, map[string]any{"name": "Catch-all", "targetFirmId": b.d.ID})
		require.Equal(t, 2, second.Priority)
		require.Empty(t, second.Conditions)
		require.Empty(t, second.CaseTypeIds)
		require.Empty(t, second.JurisdictionCodes)
	})

	t.Run("update changes only what is given", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rule := create(t, b, map[string]any{
			"name": "Original",
			"conditions": []map[string]any{
				{"field": "county", "operator": "eq", "value": "Kings"},
				{"field": "caseType", "operator": "eq", "value": "personal_injury"},
				{"field": "jurisdiction", "operator": "eq", "value": "NY"},
			},
			"targetFirmId": b.b.ID,
		})
		path := apitest.Path(rtRules, rule.Id.String())
		update := func(body map[string]any) api.RoutingRule {
			t.Helper()
			r := b.h.Do("PUT", path, apitest.APIKey(b.full), apitest.JSON(body))
			require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
			var out api.RoutingRuleResponse
			r.Decode(&out)
			return out.Data
		}

		got := update(map[string]any{"name": "Renamed", "priority": 9, "isActive": false, "description": "note"})
		require.Equal(t, "Renamed", got.Name)
		require.Equal(t, 9, got.Priority)
		require.False(t, got.IsActive)
		require.Equal(t, "note", *got.Description)
		require.Equal(t, rule.Conditions, got.Conditions)
		require.Equal(t, rule.Assignments, got.Assignments)

		// caseTypeIds replaces only the case-type condition, in place.
		got = update(map[string]any{"caseTypeIds": []uuid.UUID{refdata.MassTortID}, "description": ""})
		require.Nil(t, got.Description)
		require.Len(t, got.Conditions, 3)
		require.Equal(t, api.RoutingConditionField("county"), got.Conditions[0].Field)
		require.Equal(t, api.RoutingCondition{Field: "caseType", Operator: "in", Value: []any{refdata.MassTortID.String()}}, got.Conditions[1])
		require.Equal(t, []uuid.UUID{refdata.MassTortID}, got.CaseTypeIds)
		require.Equal(t, []string{"NY"}, got.JurisdictionCodes)

		// An empty jurisdictionCodes removes the jurisdiction condition.
		got = update(map[string]any{"jurisdictionCodes": []string{}})
		require.Len(t, got.Conditions, 2)
		require.Empty(t, got.JurisdictionCodes)

		// Recipients are replaced as a whole, by either form.
		got = update(map[string]any{"assignments": []map[string]any{
			{"casexchangeFirmId": b.c.ID, "distributionWeight": 2}, {"casexchangeFirmId": b.d.ID, "distributionWeight": 5},
		}})
		require.Len(t, got.Assignments, 2)
		require.Equal(t, b.d.ID, got.TargetFirmId)
		got = update(map[string]any{"targetFirmId": b.b.ID})
		require.Len(t, got.Assignments, 1)
		require.Equal(t, b.b.ID, got.TargetFirmId)

		// conditions replaces them all.
		got = update(map[string]any{"conditions": []map[string]any{}})
		require.Empty(t, got.Conditions)
		require.True(t, got.UpdatedAt.After(rule.UpdatedAt) || got.UpdatedAt.Equal(rule.UpdatedAt))

		badRequest(t, b, "PUT", path, map[string]any{"conditions": []any{}, "caseTypeIds": []uuid.UUID{}}, "body.conditions")
		badRequest(t, b, "PUT", path, map[string]any{"targetFirmId": b.b.ID, "assignments": []map[string]any{{"casexchangeFirmId": b.c.ID}}}, "body.targetFirmId")
		badRequest(t, b, "PUT", path, map[string]any{"name": "  "}, "body.name")
	})

	t.Run("invalid rules are rejected naming the field", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		target := map[string]any{"targetFirmId": b.b.ID}
		with := func(extra map[string]any) map[string]any {
			out := map[string]any{"name": "Rule"}
			for k, v := range target {
				out[k] = v
			}
			for k, v := range extra {
				out[k] = v
			}
			return out
		}
		cond := func(field, op string, value any) map[string]any {
			return with(map[string]any{"conditions": []map[string]any{
				{"field": "jurisdiction", "operator": "eq", "value": "CA"},
				{"field": field, "operator": op, "value": value},
			}})
		}
		badRequest(t, b, "POST", rtRules, map[string]any{"name": "No recipient"}, "body.assignments")
		badRequest(t, b, "POST", rtRules, with(map[string]any{"conditions": []any{}, "jurisdictionCodes": []string{"CA"}}), "body.conditions")
		badRequest(t, b, "POST", rtRules, map[string]any{"name": "Both", "targetFirmId": b.b.ID,
			"assignments": []map[string]any{{"casexchangeFirmId": b.c.ID}}}, "body.targetFirmId")
		badRequest(t, b, "POST", rtRules, cond("caseType", "eq", "Underwater Basket Weaving"), "body.conditions.1.value")
		badRequest(t, b, "POST", rtRules, cond("caseType", "in", []string{"personal_injury", "nope"}), "body.conditions.1.value.1")
		badRequest(t, b, "POST", rtRules, cond("jurisdiction", "in", []string{"CA", "XX"}), "body.conditions.1.value")
		badRequest(t, b, "POST", rtRules, cond("typeCategory", "eq", "astrology"), "body.conditions.1.value")
		badRequest(t, b, "POST", rtRules, cond("county", "gte", "Kings"), "body.conditions.1.operator")
		badRequest(t, b, "POST", rtRules, cond("jurisdiction", "in", "CA"), "body.conditions.1.value")
		badRequest(t, b, "POST", rtRules, cond("tier", "eq", "high"), "body.conditions.1.value")
		badRequest(t, b, "POST", rtRules, cond("tier", "lte", 9), "body.conditions.1.value")
		badRequest(t, b, "POST", rtRules, with(map[string]any{"caseTypeIds": []uuid.UUID{refdata.PersonalInjuryID, uuid.New()}}), "body.caseTypeIds.1")
		badRequest(t, b, "POST", rtRules, with(map[string]any{"jurisdictionCodes": []string{"CA", "QQ"}}), "body.jurisdictionCodes")

		target = map[string]any{"targetFirmId": uuid.New()}
		badRequest(t, b, "POST", rtRules, with(nil), "body.targetFirmId")
		target = map[string]any{"targetFirmId": b.me.ID}
		badRequest(t, b, "POST", rtRules, with(nil), "body.targetFirmId")
		target = map[string]any{"targetFirmId": b.stranger.ID}
		badRequest(t, b, "POST", rtRules, with(nil), "body.targetFirmId")
		target = map[string]any{"assignments": []map[string]any{{"casexchangeFirmId": b.b.ID}, {"casexchangeFirmId": b.stranger.ID}}}
		badRequest(t, b, "POST", rtRules, with(nil), "body.assignments.1.casexchangeFirmId")
		target = map[string]any{"assignments": []map[string]any{{"casexchangeFirmId": b.b.ID}, {"casexchangeFirmId": b.b.ID}}}
		badRequest(t, b, "POST", rtRules, with(nil), "body.assignments.1.casexchangeFirmId")

		require.Empty(t, list(t, b.h, b.ro), "no rule was stored")

		// Writing rules needs a full key.
		r := b.h.Do("POST", rtRules, apitest.APIKey(b.ro), apitest.JSON(map[string]any{"name": "x", "targetFirmId": b.b.ID}))
		require.Equal(t, http.StatusForbidden, r.StatusCode, string(r.Body))
	})

	t.Run("evaluation takes the first matching active rule in priority order", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		create(t, b, map[string]any{"name": "Inactive top", "priority": 0, "isActive": false, "targetFirmId": b.d.ID})
		create(t, b, map[string]any{"name": "Later catch-all", "priority": 50, "targetFirmId": b.d.ID})
		ca := create(t, b, map[string]any{
			"name": "CA PI split", "priority": 10,
			"caseTypeIds": []uuid.UUID{refdata.PersonalInjuryID}, "jurisdictionCodes": []string{"CA"},
			"assignments": []map[string]any{
				{"casexchangeFirmId": b.c.ID, "distributionWeight": 1},
				{"casexchangeFirmId": b.b.ID, "distributionWeight": 4},
			},
		})
		create(t, b, map[string]any{"name": "Second attempts", "priority": 5, "targetFirmId": b.d.ID,
			"conditions": []map[string]any{{"field": "attempt", "operator": "gte", "value": 2}}})
		create(t, b, map[string]any{"name": "Top tier in LA", "priority": 7, "targetFirmId": b.c.ID,
			"conditions": []map[string]any{
				{"field": "county", "operator": "eq", "value": "Los Angeles"},
				{"field": "tier", "operator": "eq", "value": 1},
			}})

		got := evaluate(t, b.h, b.ro, "caseType", "Personal Injury", "jurisdiction", "ca")
		require.NotNil(t, got)
		require.Equal(t, ca.Id, got.Rule.Id)
		require.Equal(t, "CA PI split", got.Rule.Name)
		require.Equal(t, 10, got.Rule.Priority)
		require.Equal(t, []api.RoutingEvaluationAssignment{
			{FirmId: b.b.ID, FirmName: "Bravo Law", ReferralInstructions: ptr.To("Bravo for you"), RecipientType: "casexchange_firm", DistributionWeight: 4},
			{FirmId: b.c.ID, FirmName: "Charlie Law", ReferralInstructions: ptr.To("Charlie general"), RecipientType: "casexchange_firm", DistributionWeight: 1},
		}, got.Assignments, "heaviest first, relationship instructions before the firm's own")

		// Attempt 2 hits the earlier attempt rule; county and tier, when given, the LA rule.
		require.Equal(t, "Second attempts", evaluate(t, b.h, b.ro, "caseType", "personal_injury", "jurisdiction", "CA", "attempt", "2").Rule.Name)
		require.Equal(t, "Top tier in LA", evaluate(t, b.h, b.ro, "caseType", "personal_injury", "jurisdiction", "CA", "county", "los angeles", "tier", "1").Rule.Name)
		// Without tier, the LA rule does not hold.
		require.Equal(t, "CA PI split", evaluate(t, b.h, b.ro, "caseType", "personal_injury", "jurisdiction", "CA", "county", "Los Angeles").Rule.Name)
		// Other cases fall to the catch-all.
		require.Equal(t, "Later catch-all", evaluate(t, b.h, b.ro, "caseType", refdata.MassTortID.String(), "jurisdiction", "NY").Rule.Name)
	})

	t.Run("no matching rule gives null data", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Nil(t, evaluate(t, b.h, b.ro, "caseType", "Personal Injury", "jurisdiction", "CA"))
		create(t, b, map[string]any{"name": "NY only", "jurisdictionCodes": []string{"NY"}, "targetFirmId": b.b.ID})
		require.Nil(t, evaluate(t, b.h, b.ro, "caseType", "Personal Injury", "jurisdiction", "CA"))
		require.NotNil(t, evaluate(t, b.h, b.ro, "caseType", "Personal Injury", "jurisdiction", "NY"))
	})

	t.Run("recipients the caller can no longer refer to are left out", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		create(t, b, map[string]any{"name": "Only Bravo", "priority": 1, "targetFirmId": b.b.ID})
		create(t, b, map[string]any{"name": "Charlie and Delta", "priority": 2, "assignments": []map[string]any{
			{"casexchangeFirmId": b.c.ID}, {"casexchangeFirmId": b.d.ID},
		}})
		// Bravo pauses the relationship: its rule has no recipient left and is skipped.
		r := b.h.Do("PATCH", nwPath("inbound", b.me.ID), apitest.APIKey(b.h.Key(b.b, apitest.Standard)), apitest.JSON(map[string]any{"status": "inactive"}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		got := evaluate(t, b.h, b.ro, "caseType", "Personal Injury", "jurisdiction", "CA")
		require.Equal(t, "Charlie and Delta", got.Rule.Name)
		require.Len(t, got.Assignments, 2)
		// The rule itself still lists Bravo.
		require.Equal(t, b.b.ID, list(t, b.h, b.ro)[0].TargetFirmId)
	})

	t.Run("evaluation parameters are validated", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for q, field := range map[[2]string]string{
			{"caseType", "Nonsense"}:  "query.caseType",
			{"jurisdiction", "ZZ"}:    "query.jurisdiction",
			{"tier", "6"}:             "query.tier",
			{"attempt", "0"}:          "query.attempt",
			{"jurisdiction", "Texas"}: "query.jurisdiction",
		} {
			query := map[string]string{"caseType": "personal_injury", "jurisdiction": "CA"}
			query[q[0]] = q[1]
			kv := []string{}
			for k, v := range query {
				kv = append(kv, k, v)
			}
			r := b.h.Do("GET", rtEvaluate, apitest.APIKey(b.ro), apitest.Query(kv...))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
			require.Contains(t, string(r.Body), field)
		}
		r := b.h.Do("GET", rtEvaluate, apitest.APIKey(b.ro), apitest.Query("jurisdiction", "CA"))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
	})

	t.Run("weighted recipients share cases by weight, deterministically", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		create(t, b, map[string]any{"name": "Three-way split", "assignments": []map[string]any{
			{"casexchangeFirmId": b.b.ID, "distributionWeight": 50},
			{"casexchangeFirmId": b.c.ID, "distributionWeight": 30},
			{"casexchangeFirmId": b.d.ID, "distributionWeight": 20},
		}})
		got := evaluate(t, b.h, b.ro, "caseType", "Personal Injury", "jurisdiction", "CA")
		require.Len(t, got.Assignments, 3)

		ev := routing.Evaluation{RuleID: got.Rule.Id}
		for _, a := range got.Assignments {
			ev.Assignments = append(ev.Assignments, routing.Target{FirmID: a.FirmId, Weight: a.DistributionWeight})
		}
		const n = 10_000
		counts := map[uuid.UUID]int{}
		for i := range n {
			key := fmt.Sprintf("CX-2026-%06d", i)
			first, ok := ev.Choose(key, 1)
			require.True(t, ok)
			again, _ := ev.Choose(key, 1)
			require.Equal(t, first.FirmID, again.FirmID)
			counts[first.FirmID]++
		}
		for id, w := range map[uuid.UUID]float64{b.b.ID: 0.5, b.c.ID: 0.3, b.d.ID: 0.2} {
			require.LessOrEqual(t, math.Abs(float64(counts[id])/n-w), 0.03, "share of %s", id)
		}
	})

	t.Run("re-referral skips firms that already had the case", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		create(t, b, map[string]any{"name": "Pool", "priority": 1,
			"conditions": []map[string]any{
				{"field": "typeCategory", "operator": "eq", "value": "personal_injury"},
				{"field": "attempt", "operator": "lte", "value": 2},
			},
			"assignments": []map[string]any{
				{"casexchangeFirmId": b.b.ID, "distributionWeight": 5},
				{"casexchangeFirmId": b.c.ID, "distributionWeight": 1},
			}})
		create(t, b, map[string]any{"name": "Tier five fallback", "priority": 2, "targetFirmId": b.d.ID,
			"conditions": []map[string]any{{"field": "tier", "operator": "eq", "value": 5}}})

		caseID, refs := rtInsertCase(t, b.h, b.me.ID, "CMS-42", 2, []rtReferral{{b.b.ID, "rejected"}})
		reRefer := func(key string, query ...string) *api.RoutingEvaluationResult {
			t.Helper()
			r := b.h.Do("GET", rtReRefer, apitest.APIKey(key), apitest.Query(query...))
			require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
			var out api.RoutingEvaluationResponse
			r.Decode(&out)
			return out.Data
		}
		var caseRef string
		require.NoError(t, b.h.Pool.QueryRow(context.Background(), `SELECT reference_number FROM base_cases WHERE id = $1`, caseID).Scan(&caseRef))

		for _, key := range []string{caseID.String(), refs[0].String(), caseRef, caseRef + "-R1", "CMS-42"} {
			got := reRefer(b.ro, "caseId", key)
			require.NotNil(t, got, key)
			require.Equal(t, "Pool", got.Rule.Name, key)
			require.Len(t, got.Assignments, 1, key)
			require.Equal(t, b.c.ID, got.Assignments[0].FirmId, "Bravo already had the case (%s)", key)
		}

		// Once Charlie had it too (attempt 3 now), the pool rule no longer applies.
		rtAddReferral(t, b.h, caseID, b.me.ID, b.c.ID, "withdrawn")
		require.Nil(t, reRefer(b.ro, "caseId", caseID.String()))
		// tier overrides the case's own.
		got := reRefer(b.ro, "caseId", caseID.String(), "tier", "5")
		require.Equal(t, "Tier five fallback", got.Rule.Name)

		// Another firm's case, or no case, is not found.
		for _, key := range []string{caseID.String(), "CMS-42", "nope"} {
			r := b.h.Do("GET", rtReRefer, apitest.APIKey(b.strangerReadOnly), apitest.Query("caseId", key))
			require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
		}
		r := b.h.Do("GET", rtReRefer, apitest.APIKey(b.ro), apitest.Query("caseId", caseID.String(), "tier", "0"))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
	})

	t.Run("another firm can neither see nor change the rules", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rule := create(t, b, map[string]any{"name": "Mine", "targetFirmId": b.b.ID})
		path := apitest.Path(rtRules, rule.Id.String())

		require.Empty(t, list(t, b.h, b.strangerReadOnly))
		require.Nil(t, evaluate(t, b.h, b.strangerReadOnly, "caseType", "Personal Injury", "jurisdiction", "CA"))
		r := b.h.Do("PUT", path, apitest.APIKey(b.strangerFull), apitest.JSON(map[string]any{"name": "Theirs"}))
		require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
		r = b.h.Do("DELETE", path, apitest.APIKey(b.strangerFull))
		require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))

		require.Equal(t, "Mine", list(t, b.h, b.ro)[0].Name)
	})

	t.Run("delete removes the rule", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		rule := create(t, b, map[string]any{"name": "Doomed", "targetFirmId": b.b.ID})
		path := apitest.Path(rtRules, rule.Id.String())
		r := b.h.Do("DELETE", path, apitest.APIKey(b.full))
		require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.Body))
		require.Empty(t, list(t, b.h, b.ro))
		r = b.h.Do("DELETE", path, apitest.APIKey(b.full))
		require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
		r = b.h.Do("PUT", path, apitest.APIKey(b.full), apitest.JSON(map[string]any{"name": "back"}))
		require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
	})
}

type rtReferral struct {
	to     uuid.UUID
	status string
}

// rtInsertCase stores a personal-injury case in CA owned by owner, with the given referrals,
// straight into the database (the case API belongs to another domain). It returns the case id
// and the referral ids.
func rtInsertCase(t *testing.T, h *apitest.Harness, owner uuid.UUID, cmsID string, tier int, refs []rtReferral) (uuid.UUID, []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	var id uuid.UUID
	err := h.Pool.QueryRow(ctx, `
		INSERT INTO base_cases (owner_firm_id, title, case_type_id, jurisdiction_code, county,
		                        client_first_name, client_last_name, tier, cms_id)
		VALUES ($1, 'Test v. Routing', $2, 'CA', 'Los Angeles', 'Pat', 'Doe', $3, $4)
		RETURNING id`, owner, refdata.PersonalInjuryID, tier, cmsID).Scan(&id)
	require.NoError(t, err)
	var ids []uuid.UUID
	for _, r := range refs {
		ids = append(ids, rtAddReferral(t, h, id, owner, r.to, r.status))
	}
	return id, ids
}

func rtAddReferral(t *testing.T, h *apitest.Harness, caseID, from, to uuid.UUID, status string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	err := h.Pool.QueryRow(context.Background(), `
		INSERT INTO referrals (base_case_id, sequence_number, reference_number, referring_firm_id, referent_firm_id, status)
		SELECT bc.id, n.seq, bc.reference_number || '-R' || n.seq, $2, $3, $4
		FROM base_cases bc,
		     LATERAL (SELECT coalesce(max(sequence_number), 0) + 1 AS seq FROM referrals WHERE base_case_id = bc.id) n
		WHERE bc.id = $1
		RETURNING id`, caseID, from, to, status).Scan(&id)
	require.NoError(t, err)
	return id
}
