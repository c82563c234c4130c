package httpapi

import (
	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/referrals"
)

// createCaseInput maps a create-case body onto the referrals domain. POST /cases and POST
// /sent-cases take the same fields (api.CreateSentCaseBody converts to api.CreateCaseBody, and
// stops compiling the day the two differ); they differ only in what a case created without a
// receiving firm starts as, which draftReferral says: a draft referral (the case routes) or
// none (the sent-case routes).
func createCaseInput(b *api.CreateCaseBody, draftReferral bool) referrals.CreateCaseInput {
	if b == nil {
		b = &api.CreateCaseBody{}
	}
	custom, _ := customFieldInputs(b.CustomFields)
	return referrals.CreateCaseInput{
		Title: b.Title, Description: b.Description, CaseType: b.CaseType, Jurisdiction: b.Jurisdiction,
		County: b.County, ClientFirstName: b.ClientFirstName, ClientLastName: b.ClientLastName,
		ClientEmail: (*string)(b.ClientEmail), ClientPhone: b.ClientPhone,
		ClientDateOfBirth: dateOf(b.ClientDateOfBirth), IncidentDate: dateOf(b.IncidentDate),
		Notes: b.Notes, Tier: b.Tier, Source: b.Source, ReferentFirmID: b.ReferentFirmId,
		SentExpirationHours: b.SentExpirationHours, IsRetainerSigned: b.IsRetainerSigned != nil && *b.IsRetainerSigned,
		SalesforceID: b.SalesforceId, SalesforceObjectType: b.SalesforceObjectType, CustomFields: custom,
		DraftReferral: draftReferral,
	}
}
