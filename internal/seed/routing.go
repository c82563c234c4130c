package seed

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/refdata"
	"github.com/casexchange/server/internal/routing"
)

func init() { demoSteps["routing"] = demoRouting }

// demoRouting gives Acme two routing rules for California personal injury: a split between
// its two partners, and a fallback to Bay Legal Group.
func demoRouting(ctx context.Context, a *app.App, res Result) error {
	acme := res.Firms["acme-injury-law"].ID
	existing, err := a.Server.Routing.List(ctx, acme)
	if err != nil {
		return fmt.Errorf("seed routing: %w", err)
	}
	if len(existing) > 0 {
		return nil
	}
	bay, summit := res.Firms["bay-legal-group"].ID, res.Firms["summit-trial-lawyers"].ID
	rules := []struct {
		name    string
		prio    int
		targets map[uuid.UUID]int
	}{
		{"California personal injury: partner split", 1, map[uuid.UUID]int{bay: 3, summit: 1}},
		{"California personal injury: fallback", 2, map[uuid.UUID]int{bay: 1}},
	}
	for _, r := range rules {
		name, prio := r.name, r.prio
		cts, codes := []uuid.UUID{refdata.PersonalInjuryID}, []string{"CA"}
		var as []routing.AssignmentInput
		for _, f := range []uuid.UUID{bay, summit} {
			if w, ok := r.targets[f]; ok {
				as = append(as, routing.AssignmentInput{FirmID: f, Weight: &w})
			}
		}
		if _, err := a.Server.Routing.Create(ctx, acme, routing.RuleInput{
			Name: &name, Priority: &prio, CaseTypeIDs: &cts, JurisdictionCodes: &codes, Assignments: &as,
		}); err != nil {
			return fmt.Errorf("seed routing rule %q: %w", name, err)
		}
	}
	return nil
}
