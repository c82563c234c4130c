package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/medical"
	"github.com/casexchange/server/internal/referrals"
)

func init() { demoSteps["medical"] = demoMedical }

// demoMedical gives each demo firm one medical provider referral on its first sent case.
func demoMedical(ctx context.Context, a *app.App, res Result) error {
	for _, f := range DemoFirms {
		firm := res.Firms[f.Slug].ID
		actor := auth.Actor{FirmID: firm}
		_, n, err := a.Server.Medical.List(ctx, actor, medical.ListFilter{Page: 1, Limit: 1})
		if err != nil {
			return fmt.Errorf("seed medical referrals: %w", err)
		}
		if n > 0 {
			continue
		}
		page, err := a.Server.Referrals.ListCases(ctx, auth.Actor{FirmID: firm},
			referrals.CaseQuery{View: referrals.ViewSent, Page: referrals.Page{Page: 1, Limit: 1}})
		if err != nil {
			return fmt.Errorf("seed medical referrals: %w", err)
		}
		if len(page.Items) == 0 {
			continue
		}
		c := page.Items[0].Case
		provider, kind := "Westside Orthopedic Group", "orthopedic"
		injury, notes := "Lower back strain after the collision", "Demo data: first evaluation requested"
		appt := time.Date(2026, 12, 8, 15, 30, 0, 0, time.UTC)
		if _, err := a.Server.Medical.Create(ctx, actor, medical.CreateInput{
			BaseCaseID: &c.ID, ProviderName: &provider, ReferralType: &kind, AppointmentDate: &appt,
			InjuryDescription: &injury, Notes: &notes,
		}); err != nil {
			return fmt.Errorf("seed medical referral for %s: %w", c.ReferenceNumber, err)
		}
	}
	return nil
}
