// Package seed loads the demo data of `make run`: three firms in an active referral network,
// one admin each, and a handful of cases in several statuses. Every step is idempotent, so the
// server may seed on each start.
package seed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/firms"
)

// DemoPassword is the password of every demo user.
const DemoPassword = "casexchange-demo"

// DemoFirm describes one demo firm.
type DemoFirm struct {
	Slug, Name, Prefix, AdminEmail, City, State string
	Jurisdictions                               []string
	Instructions                                string
}

// DemoFirms are the firms of the demo network.
var DemoFirms = []DemoFirm{
	{Slug: "acme-injury-law", Name: "Acme Injury Law", Prefix: "ACME", AdminEmail: "admin@acme.test", City: "Los Angeles", State: "CA",
		Jurisdictions: []string{"CA", "NV", "AZ"}, Instructions: "Send the police report and photos with every auto case."},
	{Slug: "bay-legal-group", Name: "Bay Legal Group", Prefix: "BAY", AdminEmail: "admin@baylegal.test", City: "San Francisco", State: "CA",
		Jurisdictions: []string{"CA", "OR", "WA"}, Instructions: "We take premises liability and medical malpractice in Northern California."},
	{Slug: "summit-trial-lawyers", Name: "Summit Trial Lawyers", Prefix: "SUM", AdminEmail: "admin@summit.test", City: "Denver", State: "CO",
		Jurisdictions: []string{"CO", "UT", "NY", "NJ"}, Instructions: "Trucking and catastrophic injury cases; call intake for anything urgent."},
}

// Result reports what the demo seed holds.
type Result struct {
	Firms map[string]firms.Firm // by slug
	Users map[string]auth.User  // by e-mail
}

// Demo seeds the demo data through the domain services.
func Demo(ctx context.Context, a *app.App, log *slog.Logger) (Result, error) {
	res := Result{Firms: map[string]firms.Firm{}, Users: map[string]auth.User{}}
	for _, df := range DemoFirms {
		f, err := a.Firms.GetBySlug(ctx, df.Slug)
		if errors.Is(err, apperr.ErrNotFound) {
			j := df.Jurisdictions
			instr := df.Instructions
			city, state := df.City, df.State
			f, err = a.Firms.Create(ctx, firms.CreateInput{
				Name: df.Name, Slug: df.Slug, IsPublic: true, ReferencePrefix: df.Prefix,
				Profile: firms.Update{Jurisdictions: &j, GeneralReferralInstructions: &instr, City: &city, State: &state},
			})
		}
		if err != nil {
			return res, fmt.Errorf("seed firm %s: %w", df.Slug, err)
		}
		res.Firms[df.Slug] = f
		u, err := a.Auth.ProvisionUser(ctx, auth.ProvisionInput{
			FirmID: f.ID, Email: df.AdminEmail, FirstName: "Demo", LastName: "Admin", Role: auth.RoleFirmAdmin, Password: DemoPassword,
		})
		if err != nil {
			return res, fmt.Errorf("seed admin %s: %w", df.AdminEmail, err)
		}
		res.Users[df.AdminEmail] = u
	}
	for _, name := range demoStepOrder {
		if step, ok := demoSteps[name]; ok {
			if err := step(ctx, a, res); err != nil {
				return res, err
			}
		}
	}
	log.Info("demo data ready", "firms", len(res.Firms))
	return res, nil
}

// demoSteps are the seeding steps after firms and admins, registered by the files that own
// them and run in demoStepOrder (each depends on the ones before it).
var demoSteps = map[string]func(ctx context.Context, a *app.App, res Result) error{}

var demoStepOrder = []string{"network", "routing", "cases", "documents", "medical"}
