package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/referrals"
)

func init() { demoSteps["cases"] = demoCases }

// demoCase is one case of the demo data and the lifecycle actions that bring it to its status.
type demoCase struct {
	from, to         string // firm slugs; to "" leaves a draft
	title, caseType  string
	jurisdiction     string
	first, last      string
	steps            []referrals.Action
	closingStatus    string
	settlement, fees float64
}

var demoCaseList = []demoCase{
	{from: "acme-injury-law", to: "bay-legal-group", title: "Rear-end collision on I-405", caseType: "Personal Injury", jurisdiction: "CA",
		first: "Maria", last: "Alvarez"},
	{from: "acme-injury-law", to: "bay-legal-group", title: "Slip and fall at grocery store", caseType: "Personal Injury", jurisdiction: "CA",
		first: "Daniel", last: "Okafor", steps: []referrals.Action{referrals.ActionAcknowledge, referrals.ActionBeginInvestigating}},
	{from: "acme-injury-law", to: "summit-trial-lawyers", title: "Commercial truck collision", caseType: "Personal Injury", jurisdiction: "CO",
		first: "Priya", last: "Raman", steps: []referrals.Action{referrals.ActionAcknowledge, referrals.ActionSign}},
	{from: "acme-injury-law", to: "summit-trial-lawyers", title: "Dog bite in apartment complex", caseType: "Personal Injury", jurisdiction: "CO",
		first: "Tom", last: "Berger", steps: []referrals.Action{referrals.ActionAcknowledge, referrals.ActionReject}},
	{from: "acme-injury-law", to: "bay-legal-group", title: "Pedestrian struck in crosswalk", caseType: "Personal Injury", jurisdiction: "CA",
		first: "Grace", last: "Liu", steps: []referrals.Action{referrals.ActionAcknowledge, referrals.ActionSign, referrals.ActionStartLitigation, referrals.ActionClose},
		closingStatus: "won_settled", settlement: 250000, fees: 83333.33},
	{from: "acme-injury-law", title: "Motorcycle accident intake (draft)", caseType: "Personal Injury", jurisdiction: "CA",
		first: "Sam", last: "Whitaker"},
	{from: "bay-legal-group", to: "acme-injury-law", title: "Rideshare passenger injury", caseType: "Personal Injury", jurisdiction: "CA",
		first: "Elena", last: "Petrova"},
	{from: "bay-legal-group", to: "acme-injury-law", title: "Construction site fall", caseType: "Personal Injury", jurisdiction: "CA",
		first: "Marcus", last: "Delgado", steps: []referrals.Action{referrals.ActionAcknowledge}},
	{from: "summit-trial-lawyers", to: "acme-injury-law", title: "Multi-vehicle pileup on I-70", caseType: "Personal Injury", jurisdiction: "CO",
		first: "Hannah", last: "Kowalski", steps: []referrals.Action{referrals.ActionAcknowledge, referrals.ActionSign, referrals.ActionStartLitigation}},
}

// demoCases creates the demo cases once (skipped when the first demo firm already has cases).
func demoCases(ctx context.Context, a *app.App, res Result) error {
	svc := a.Server.Referrals
	acme := res.Firms["acme-injury-law"].ID
	page, err := svc.ListCases(ctx, auth.Actor{FirmID: acme}, referrals.CaseQuery{Page: referrals.Page{Page: 1, Limit: 1}})
	if err != nil {
		return fmt.Errorf("seed cases: %w", err)
	}
	if page.Total > 0 {
		return nil
	}
	incident := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	for i, dc := range demoCaseList {
		from := auth.Actor{FirmID: res.Firms[dc.from].ID}
		in := referrals.CreateCaseInput{
			Title: dc.title, CaseType: dc.caseType, Jurisdiction: dc.jurisdiction,
			ClientFirstName: dc.first, ClientLastName: dc.last, IncidentDate: &incident,
		}
		if dc.to == "" {
			in.DraftReferral = true
		} else {
			to := res.Firms[dc.to].ID
			in.ReferentFirmID = &to
		}
		desc := fmt.Sprintf("Demo case %d: %s.", i+1, dc.title)
		in.Description = &desc
		cv, err := svc.CreateCase(ctx, from, in)
		if err != nil {
			return fmt.Errorf("seed case %q: %w", dc.title, err)
		}
		if dc.to == "" {
			continue
		}
		recv := auth.Actor{FirmID: res.Firms[dc.to].ID}
		sel := referrals.Selector{Key: cv.Case.ID.String(), Receiving: true}
		for _, step := range dc.steps {
			ai := referrals.ActionInput{}
			switch step {
			case referrals.ActionReject:
				r := "Outside our practice area for this county."
				ai.Reason = &r
			case referrals.ActionClose:
				ai.ClosingStatus = dc.closingStatus
				ai.SettlementAmount, ai.AttorneyFees = &dc.settlement, &dc.fees
			}
			if _, err := svc.Act(ctx, recv, sel, step, ai); err != nil {
				return fmt.Errorf("seed case %q %s: %w", dc.title, step, err)
			}
		}
		if i == 1 {
			if _, err := svc.SendMessage(ctx, recv, referrals.MessageInput{Key: cv.Case.ID.String(),
				Message: "Police report received; scheduling a client interview this week."}); err != nil {
				return fmt.Errorf("seed message: %w", err)
			}
		}
	}
	return nil
}
