package seed

import (
	"context"
	"fmt"

	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/network"
)

func init() { demoSteps["network"] = demoNetwork }

// demoNetwork makes every demo firm an active partner of every other, in both directions.
func demoNetwork(ctx context.Context, a *app.App, res Result) error {
	pct, evalDays, invDays := 33.0, 14, 30
	for _, from := range DemoFirms {
		for _, to := range DemoFirms {
			if from.Slug == to.Slug {
				continue
			}
			f, t := res.Firms[from.Slug].ID, res.Firms[to.Slug].ID
			d, err := a.Server.Network.Outbound(ctx, f, t)
			if err != nil {
				return fmt.Errorf("seed network %s->%s: %w", from.Slug, to.Slug, err)
			}
			if d.Relationship != nil && d.Relationship.Status == network.StatusActive {
				continue
			}
			desc := "Demo partnership: " + from.Name + " refers to " + to.Name
			if _, _, err := a.Server.Network.ReplaceOutbound(ctx, f, t, network.SenderSettings{
				Description: &desc, SendingPercentage: &pct, DaysForUnderEvaluation: &evalDays, DaysForInvestigating: &invDays,
			}); err != nil {
				return fmt.Errorf("seed network %s->%s: %w", from.Slug, to.Slug, err)
			}
			active, instr := network.StatusActive, to.Instructions
			if _, err := a.Server.Network.UpdateInbound(ctx, t, f, network.ReceiverUpdate{Status: &active, ReferralInstructions: &instr}); err != nil {
				return fmt.Errorf("seed network %s->%s accept: %w", from.Slug, to.Slug, err)
			}
		}
	}
	return nil
}
