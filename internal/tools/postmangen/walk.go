package main

// The walk: every operation of the contract, in folders that follow the workflows, on the demo
// data (cmd/casexchange seeds it: Acme Injury Law sends, Bay Legal receives). Requests chain ids
// through environment variables; what the walk destroys (sessions, keys, webhooks, drafts,
// users) it created itself, and it does so at the end of the folder or of the walk.

// Actor says whose credentials a request carries.
type Actor int

const (
	// Sender is the sending firm's admin (admin@acme.test): {{apiKey}} and {{accessToken}}.
	Sender Actor = iota
	// Receiver is the receiving firm's admin (admin@baylegal.test): {{partnerApiKey}} and
	// {{partnerAccessToken}}.
	Receiver
)

// Step is one request of the walk.
type Step struct {
	Op   string // operationId
	Name string // request name; the operation's summary when empty
	Note string // request description
	As   Actor
	// Token names the variable holding the bearer token, instead of the actor's.
	Token  string
	Path   map[string]string
	Query  [][2]string
	Body   any
	File   string // multipart upload of postman/files/<File> as the part "file"
	Status []int  // expected statuses; the contract's single success code when empty
	// Save stores, after checking it is set, a value of the JSON answer (`json`) in an
	// environment variable: {name, JavaScript expression}.
	Save [][2]string
	// Check holds extra assertions (JavaScript over `json`).
	Check []string
	Pre   []string // pre-request script
}

// Folder is a folder of the collection.
type Folder struct {
	Name, Description string
	Steps             []Step
}

// Input is an environment variable the user sets (or keeps).
type Input struct{ Key, Value string }

// Inputs are the environment's variables; every other variable is set by the walk.
var Inputs = []Input{
	{"baseUrl", "http://127.0.0.1:8080"},
	{"senderEmail", "admin@acme.test"},
	{"receiverEmail", "admin@baylegal.test"},
	{"password", "casexchange-demo"},
	{"webhookUrl", "https://hooks.example.com/casexchange"},
	{"invitationToken", ""},
	{"resetToken", ""},
}

// The folders whose first request needs a token the server e-mails (scripts/newman-run.js
// reads it from the mail the server wrote; a person pastes it).
const (
	FolderInvitation = "12. Accept the invitation (token from the e-mail)"
	FolderReset      = "13. Reset the password (token from the e-mail)"
)

const collectionDescription = `Every operation of the CaseXchange API (Public API and Internal API), generated from api-reference/openapi.yml by internal/tools/postmangen. Run it in order against a server with the demo data (make run), with the environment "CaseXchange demo server" selected.

The walk logs in as the sending firm's admin (Acme Injury Law), creates a FULL Public API key, logs in as the receiving firm's admin (Bay Legal) and creates a key for it, then follows the workflows: reference data, firms and network, routing, sending a case, the receiving firm working its referrals through the lifecycle, fee agreements and the fee ledger, documents, messages, users, notifications, medical referrals, imports, analytics, webhooks, integration tokens and accounts; it ends by closing what it opened (sessions, keys, webhooks). Ids travel between requests in environment variables.

Each request's tests check the status the contract declares and validate the body against the JSON Schema of that response, embedded in the test script.

Two folders need a token the server sends by e-mail (without SMTP, the server writes it as an .eml file under $CX_DATA_DIR/mail): before "` + FolderInvitation + `" copy the token of the invitation e-mail to {{inviteeEmail}} into the variable invitationToken, and before "` + FolderReset + `" the token of the password-reset e-mail into resetToken. make newman does this for you.

Webhook subscriptions need a URL the server accepts: public https by default; make newman runs the server with CX_WEBHOOKS_ALLOW_PRIVATE=true and points webhookUrl at the server itself.`

func v(name string) string { return "{{" + name + "}}" }

// P builds path parameters from pairs.
func P(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

type obj = map[string]any

// caseBody is a new case; with a referent it is referred to the receiving firm at once.
func caseBody(title string, referred bool) obj {
	b := obj{
		"title": title + " ({{runId}})", "caseType": "Personal Injury", "jurisdiction": "CA", "county": "Los Angeles",
		"clientFirstName": "Jordan", "clientLastName": "Walker", "incidentDate": "2026-03-01",
		"description": "Rear-ended at a red light; neck and back injuries.",
	}
	if referred {
		b["referentFirmId"] = v("partnerFirmId")
	}
	return b
}

// newReferral creates a case referred to the receiving firm and stores <p>CaseId and
// <p>ReferralId.
func newReferral(p, title string) Step {
	return Step{Op: "createCase", Name: "Create and refer a case: " + title, Body: caseBody(title, true),
		Save:  [][2]string{{p + "CaseId", "json.data.id"}, {p + "ReferralId", "json.data.currentReferralId"}},
		Check: []string{"pm.expect(json.data.status).to.eql('sent');"}}
}

// newDraft creates a case with no referral sent yet (its referral is a draft).
func newDraft(p, title string) Step {
	return Step{Op: "createCase", Name: "Create a draft case: " + title, Body: caseBody(title, false),
		Save:  [][2]string{{p + "CaseId", "json.data.id"}, {p + "ReferralId", "json.data.currentReferralId"}},
		Check: []string{"pm.expect(json.data.status).to.eql('draft');"}}
}

func status(s string) string { return "pm.expect(json.data.status).to.eql('" + s + "');" }

var feeTerms = obj{"basis": "proportional", "referringFirmPercentage": 50, "receivingFirmPercentage": 50,
	"clientContingencyPercentage": 30, "notes": "Half to each firm."}

// agree has the sending firm propose fee terms on referral <p> and the receiving firm accept them.
func agree(p, label string) []Step {
	return []Step{
		{Op: "proposeReferralFeeAgreement", Name: "Propose fee terms (sending firm): " + label, Path: P("id", v(p+"ReferralId")), Body: feeTerms},
		{Op: "acceptReferralFeeAgreement", Name: "Accept the fee terms (receiving firm): " + label, As: Receiver,
			Path: P("id", v(p+"ReferralId"), "version", "1")},
	}
}

func wonClose() obj {
	return obj{"closingStatus": "won_settled", "closureReason": "Settled at mediation.", "settlementAmount": 90000, "attorneyFees": 30000}
}

// ledgerEntry finds, in the receiving firm's ledger, the entry of referral <p>.
func ledgerEntry(p string) string {
	return "json.data.filter(e => e.referralId === pm.environment.get('" + p + "ReferralId')).map(e => e.id)[0]"
}

// Walk returns the folders of the collection in order.
func Walk() []Folder {
	return []Folder{
		{Name: "1. Sign in and create API keys", Description: "Internal API: both demo admins log in and each creates a FULL Public API key.", Steps: []Step{
			{Op: "loginUser", Name: "Log in as the sending firm's admin", Body: obj{"email": v("senderEmail"), "password": v("password")},
				Pre:  []string{"// A suffix that keeps names and e-mail addresses of this run apart from earlier runs.", "pm.environment.set('runId', String(Date.now()));"},
				Save: [][2]string{{"accessToken", "json.data.accessToken"}}},
			{Op: "createPublicApiKey", Name: "Create a FULL API key (sending firm)", Body: obj{"name": "Postman walk {{runId}}", "tier": "FULL"},
				Save: [][2]string{{"apiKey", "json.data.plainKey"}, {"apiKeyId", "json.data.id"}}},
			{Op: "loginUser", Name: "Log in as the receiving firm's admin", Body: obj{"email": v("receiverEmail"), "password": v("password")},
				Save: [][2]string{{"partnerAccessToken", "json.data.accessToken"}}},
			{Op: "createPublicApiKey", Name: "Create a FULL API key (receiving firm)", As: Receiver, Body: obj{"name": "Postman walk {{runId}}", "tier": "FULL"},
				Save: [][2]string{{"partnerApiKey", "json.data.plainKey"}}},
			{Op: "getCurrentUser"},
			{Op: "getCurrentUserProfile"},
			{Op: "updateCurrentUserProfile", Body: obj{"phone": "+1 206 555 0142"}},
			{Op: "listPublicApiKeys"},
			{Op: "getPublicApiKeyUsage", Path: P("id", v("apiKeyId")), Query: [][2]string{{"days", "7"}}},
		}},
		{Name: "2. Service and reference data", Steps: []Step{
			{Op: "getHealth"},
			{Op: "getOpenApiYaml"},
			{Op: "getOpenApiJson"},
			{Op: "listCaseTypes", Save: [][2]string{{"caseTypeId", "(json.data.find(c => c.name === 'Personal Injury' || c.displayName === 'Personal Injury') || json.data[0]).id"}}},
			{Op: "listJurisdictions"},
			{Op: "listCounties", Query: [][2]string{{"jurisdictionCodes", "CA"}}},
			{Op: "listCaseTypeFields", Path: P("caseTypeId", v("caseTypeId"))},
			{Op: "listFeeRuleProfiles"},
		}},
		{Name: "3. Firms and network", Steps: []Step{
			{Op: "getOwnFirm", Name: "Own firm (sending firm)", Save: [][2]string{{"firmId", "json.data.id"}}},
			{Op: "listFirmDirectory", Query: [][2]string{{"search", "Bay%20Legal"}}, Save: [][2]string{{"partnerFirmId", "json.data[0].id"}}},
			{Op: "getOwnFirm", Name: "Own firm (receiving firm)", As: Receiver,
				Check: []string{"pm.expect(json.data.id).to.eql(pm.environment.get('partnerFirmId'));"}},
			{Op: "updateOwnFirm", Body: obj{"phone": "503-555-0199", "referralInstructions": "Call intake before sending anything marked urgent."}},
			{Op: "listAvailableFirms"},
			{Op: "getFirmById", Path: P("id", v("partnerFirmId"))},
			{Op: "getOutboundNetworkFirmDetail", Path: P("firmId", v("partnerFirmId"))},
			{Op: "upsertOutboundNetworkRelationship", Path: P("firmId", v("partnerFirmId")), Status: []int{200, 201},
				Body: obj{"description": "Our first choice for California injuries.", "sendingPercentage": 30, "daysForUnderEvaluation": 7, "daysForInvestigating": 21}},
			{Op: "updateOutboundNetworkRelationship", Path: P("firmId", v("partnerFirmId")), Body: obj{"description": "First choice for California injuries."}},
			{Op: "getInboundNetworkFirmDetail", Path: P("firmId", v("partnerFirmId"))},
			{Op: "updateInboundNetworkRelationship", Path: P("firmId", v("partnerFirmId")), Body: obj{"status": "active", "referralInstructions": "Copy our paralegal on the first message."}},
			{Op: "listPendingNetworkRelationships"},
		}},
		{Name: "4. Routing rules", Description: "A rule is created, changed, used in a preview and deleted.", Steps: []Step{
			{Op: "listRoutingRules"},
			{Op: "createRoutingRule", Body: obj{"name": "Postman rule {{runId}}", "caseTypeIds": []any{v("caseTypeId")}, "jurisdictionCodes": []any{"NV"}, "priority": 50,
				"assignments": []any{obj{"recipientType": "casexchange_firm", "casexchangeFirmId": v("partnerFirmId"), "distributionWeight": 1}}},
				Save: [][2]string{{"ruleId", "json.data.id"}}},
			{Op: "updateRoutingRule", Path: P("id", v("ruleId")), Body: obj{"name": "Postman rule {{runId}} (changed)", "priority": 51, "isActive": true}},
			{Op: "evaluateRoutingRules", Query: [][2]string{{"caseType", "personal_injury"}, {"jurisdiction", "NV"}}},
			{Op: "deleteRoutingRule", Path: P("id", v("ruleId"))},
		}},
		{Name: "5. Send a case (sending firm)", Steps: []Step{
			newReferral("main", "Rear-end collision"),
			{Op: "createSentCase", Body: caseBody("Slip and fall at a grocery store", true), Save: [][2]string{{"sentCaseId", "json.data.id"}}},
			{Op: "listSentCases"},
			{Op: "getSentCase", Path: P("id", v("sentCaseId"))},
			{Op: "patchSentCase", Path: P("id", v("sentCaseId")), Body: obj{"tier": 4, "source": "Attorney Referral"}},
			{Op: "getSentCaseAvailableStatuses", Path: P("id", v("sentCaseId"))},
			newDraft("refer", "Dog bite"),
			{Op: "referSentCase", Path: P("id", v("referCaseId")), Body: obj{"referentFirmId": v("partnerFirmId")}, Check: []string{status("sent")}},
			{Op: "listCases"},
			{Op: "getCaseById", Path: P("id", v("mainCaseId"))},
			{Op: "updateCase", Path: P("id", v("mainCaseId")), Body: obj{"phase": "records review", "notes": "Police report requested."}},
			{Op: "getCaseStatusHistory", Path: P("id", v("mainCaseId"))},
			{Op: "listReferrals", Path: P("baseCaseId", v("mainCaseId"))},
			{Op: "getReferral", Path: P("baseCaseId", v("mainCaseId"), "id", v("mainReferralId"))},
			{Op: "updateReferral", Path: P("baseCaseId", v("mainCaseId"), "id", v("mainReferralId")), Body: obj{"projectedSettlementAmount": 135000, "sendingFirmPercentage": 20}},
			{Op: "getReferralStatusHistory", Path: P("baseCaseId", v("mainCaseId"), "id", v("mainReferralId"))},
			{Op: "listTopLevelReferrals"},
			{Op: "getTopLevelReferral", Path: P("id", v("mainReferralId"))},
			{Op: "updateTopLevelReferral", Path: P("id", v("mainReferralId")), Body: obj{"phase": "demand", "sendingFirmPercentage": 25}},
			{Op: "getTopLevelReferralStatusHistory", Path: P("id", v("mainReferralId"))},
			{Op: "evaluateReReferralRouting", Query: [][2]string{{"caseId", v("mainCaseId")}}},
			{Op: "listAllStatusUpdates"},
			{Op: "lookupStatusUpdates", Query: [][2]string{{"id", v("mainCaseId")}}},
			{Op: "exportCases", Query: [][2]string{{"format", "csv"}}},
			newDraft("send", "Sent from its draft (case route)"),
			{Op: "sendReferral", Path: P("baseCaseId", v("sendCaseId"), "id", v("sendReferralId")), Body: obj{"referentFirmId": v("partnerFirmId")}, Check: []string{status("sent")}},
			newDraft("sendTop", "Sent from its draft (referral route)"),
			{Op: "sendTopLevelReferral", Path: P("id", v("sendTopReferralId")), Body: obj{"referentFirmId": v("partnerFirmId")}, Check: []string{status("sent")}},
			newDraft("del", "Draft to delete (case route)"),
			{Op: "deleteReferral", Path: P("baseCaseId", v("delCaseId"), "id", v("delReferralId"))},
			newDraft("delTop", "Draft to delete (referral route)"),
			{Op: "deleteTopLevelReferral", Path: P("id", v("delTopReferralId"))},
			newReferral("wd", "Withdrawn before acknowledgement"),
			{Op: "withdrawReferral", Path: P("baseCaseId", v("wdCaseId"), "id", v("wdReferralId")), Body: obj{"reason": "Client chose to stay with the original firm."}, Check: []string{status("withdrawn")}},
		}},
		{Name: "6. Receive and work the referrals (receiving firm)", Description: "Bay Legal acknowledges the referrals Acme sent and moves them through the lifecycle on each of the three routes (received-referrals, cases/{baseCaseId}/referrals, referrals); the sending firm proposes fee terms the receiving firm accepts, so that each won closure opens a fee ledger entry.", Steps: flatten(
			[]Step{
				{Op: "listReceivedReferrals", As: Receiver},
				{Op: "getReceivedReferral", As: Receiver, Path: P("id", v("mainReferralId"))},
				{Op: "getReceivedReferralAvailableStatuses", As: Receiver, Path: P("id", v("mainReferralId"))},
				{Op: "acknowledgeReceivedReferral", As: Receiver, Path: P("id", v("mainReferralId")), Check: []string{status("under_evaluation")}},
				{Op: "patchReceivedReferral", As: Receiver, Path: P("id", v("mainReferralId")), Body: obj{"leadAttorneyName": "Priya Raman", "phase": "Treatment", "projectedSettlementAmount": 90000}},
			},
			agree("main", "main case"),
			[]Step{
				{Op: "recordReferralFeeConsent", Path: P("id", v("mainReferralId")), Body: obj{"consentedOn": "2026-04-03", "method": "signed", "signerName": "Jordan Walker"}},
				{Op: "getReferralFeeAgreement", Path: P("id", v("mainReferralId"))},
				{Op: "getCaseReferralFeeAgreement", Path: P("baseCaseId", v("mainCaseId"), "id", v("mainReferralId"))},
				{Op: "beginInvestigatingReceivedReferral", As: Receiver, Path: P("id", v("mainReferralId")), Body: obj{}, Check: []string{status("investigating")}},
				{Op: "signReceivedReferral", As: Receiver, Path: P("id", v("mainReferralId")), Body: obj{}, Check: []string{status("signed")}},
				{Op: "startLitigationReceivedReferral", As: Receiver, Path: P("id", v("mainReferralId")), Body: obj{}, Check: []string{status("in_litigation")}},
				{Op: "closeReceivedReferral", As: Receiver, Path: P("id", v("mainReferralId")), Body: wonClose(), Check: []string{status("closed")}},
				newReferral("viaCase", "Worked through the case route"),
				{Op: "acknowledgeReferral", As: Receiver, Path: P("baseCaseId", v("viaCaseCaseId"), "id", v("viaCaseReferralId")), Check: []string{status("under_evaluation")}},
			},
			agree("viaCase", "case route"),
			[]Step{
				{Op: "beginInvestigatingReferral", As: Receiver, Path: P("baseCaseId", v("viaCaseCaseId"), "id", v("viaCaseReferralId")), Check: []string{status("investigating")}},
				{Op: "signReferral", As: Receiver, Path: P("baseCaseId", v("viaCaseCaseId"), "id", v("viaCaseReferralId")), Check: []string{status("signed")}},
				{Op: "startLitigationReferral", As: Receiver, Path: P("baseCaseId", v("viaCaseCaseId"), "id", v("viaCaseReferralId")), Check: []string{status("in_litigation")}},
				{Op: "closeReferral", As: Receiver, Path: P("baseCaseId", v("viaCaseCaseId"), "id", v("viaCaseReferralId")), Body: wonClose(), Check: []string{status("closed")}},
				newReferral("viaRef", "Worked through the referral route"),
				{Op: "acknowledgeTopLevelReferral", As: Receiver, Path: P("id", v("viaRefReferralId")), Check: []string{status("under_evaluation")}},
			},
			agree("viaRef", "referral route"),
			[]Step{
				{Op: "beginInvestigatingTopLevelReferral", As: Receiver, Path: P("id", v("viaRefReferralId")), Check: []string{status("investigating")}},
				{Op: "signTopLevelReferral", As: Receiver, Path: P("id", v("viaRefReferralId")), Check: []string{status("signed")}},
				{Op: "startLitigationTopLevelReferral", As: Receiver, Path: P("id", v("viaRefReferralId")), Check: []string{status("in_litigation")}},
				{Op: "closeTopLevelReferral", As: Receiver, Path: P("id", v("viaRefReferralId")), Body: wonClose(), Check: []string{status("closed")}},
				newReferral("caseLevel", "Worked through the case status routes"),
				{Op: "acknowledgeCase", As: Receiver, Path: P("id", v("caseLevelCaseId")), Check: []string{status("under_evaluation")}},
				{Op: "updateCaseStatus", As: Receiver, Path: P("id", v("caseLevelCaseId")), Body: obj{"status": "investigating", "notes": "Records received; starting liability review."}, Check: []string{status("investigating")}},
				{Op: "closeCase", As: Receiver, Path: P("id", v("caseLevelCaseId")), Body: obj{"closingStatus": "no_longer_pursuing", "closureReason": "Client stopped responding."}, Check: []string{status("closed")}},
				newReferral("rej1", "Declined (received-referrals route)"),
				{Op: "rejectReceivedReferral", As: Receiver, Path: P("id", v("rej1ReferralId")), Body: obj{"reason": "Outside our practice area."}, Check: []string{status("rejected")}},
				newReferral("rej2", "Declined (case route)"),
				{Op: "rejectReferral", As: Receiver, Path: P("baseCaseId", v("rej2CaseId"), "id", v("rej2ReferralId")), Body: obj{"reason": "Conflict of interest."}, Check: []string{status("rejected")}},
				newReferral("rej3", "Declined (referral route)"),
				{Op: "rejectTopLevelReferral", As: Receiver, Path: P("id", v("rej3ReferralId")), Body: obj{"reason": "No capacity this quarter."}, Check: []string{status("rejected")}},
				newReferral("wdTop", "Withdrawn after acknowledgement"),
				{Op: "acknowledgeTopLevelReferral", Name: "Acknowledge the referral to be withdrawn", As: Receiver, Path: P("id", v("wdTopReferralId")), Check: []string{status("under_evaluation")}},
				{Op: "withdrawTopLevelReferral", Name: "Withdraw the acknowledged referral (sending firm)", Path: P("id", v("wdTopReferralId")), Body: obj{"reason": "Client found counsel closer to home."}, Check: []string{status("withdrawn")}},
			},
		)},
		{Name: "7. Fee ledger (receiving firm)", Description: "Each won closure above opened an entry the receiving firm owes: one is paid in part, one disputed, one written off.", Steps: []Step{
			{Op: "listFeeLedger", As: Receiver, Query: [][2]string{{"direction", "i_owe"}, {"limit", "100"}},
				Save: [][2]string{{"paidEntryId", ledgerEntry("main")}, {"disputedEntryId", ledgerEntry("viaCase")}, {"writtenOffEntryId", ledgerEntry("viaRef")}}},
			{Op: "getFeeLedgerEntry", As: Receiver, Path: P("entryId", v("paidEntryId"))},
			{Op: "recordFeePayment", As: Receiver, Path: P("entryId", v("paidEntryId")), Body: obj{"amount": "100.00", "paidOn": "2026-04-30", "method": "wire", "reference": "WIRE-20260430-7"}},
			{Op: "disputeFeeLedgerEntry", As: Receiver, Path: P("entryId", v("disputedEntryId")), Body: obj{"reason": "The settlement figure is under review."}},
			{Op: "writeOffFeeLedgerEntry", As: Receiver, Path: P("entryId", v("writtenOffEntryId")), Body: obj{"reason": "Waived as a courtesy."}},
			{Op: "exportFeeLedger", As: Receiver, Query: [][2]string{{"direction", "i_owe"}, {"format", "csv"}}},
			{Op: "getFeeAnalytics", As: Receiver, Query: [][2]string{{"dateFrom", "2026-01-01"}, {"dateTo", "2026-12-31"}}},
		}},
		{Name: "8. Documents and messages", Steps: []Step{
			{Op: "uploadDocument", Path: P("caseId", v("mainCaseId")), File: "referral-summary.pdf", Save: [][2]string{{"documentId", "json.data.id"}}},
			{Op: "listDocuments", Path: P("caseId", v("mainCaseId"))},
			{Op: "getDocumentDownloadUrl", Path: P("caseId", v("mainCaseId"), "docId", v("documentId")),
				Save: [][2]string{{"downloadToken", "(json.data.downloadUrl || json.data.url).split('?')[0].split('/').pop()"}}},
			{Op: "downloadDocumentContent", Path: P("token", v("downloadToken"))},
			{Op: "uploadDocument", Name: "Upload a document to delete", Path: P("caseId", v("mainCaseId")), File: "referral-summary.pdf", Save: [][2]string{{"spareDocumentId", "json.data.id"}}},
			{Op: "deleteDocument", Path: P("caseId", v("mainCaseId"), "docId", v("spareDocumentId"))},
			{Op: "sendMessage", Name: "Message the receiving firm about the referral", Body: obj{"id": v("sentCaseId"), "message": "Could you share the store's incident report?"}},
		}},
		{Name: "9. Users, notifications and medical referrals", Steps: []Step{
			{Op: "listUsers"},
			{Op: "inviteUser", Name: "Invite a user to edit", Body: obj{"email": "postman-edit-{{runId}}@acme.test", "firstName": "Edie", "lastName": "Tor", "role": "MEMBER"}, Save: [][2]string{{"editUserId", "json.data.id"}}},
			{Op: "updateUser", Path: P("id", v("editUserId")), Body: obj{"lastName": "Torres"}},
			// The resent invitation is the edited user's: mail jobs run concurrently, so the user
			// who signs in gets exactly one invitation e-mail and its token is the valid one.
			{Op: "resendInvitation", Path: P("id", v("editUserId"))},
			{Op: "inviteUser", Name: "Invite a user to deactivate", Body: obj{"email": "postman-gone-{{runId}}@acme.test", "firstName": "Gus", "lastName": "Gone", "role": "MEMBER"}, Save: [][2]string{{"goneUserId", "json.data.id"}}},
			{Op: "deactivateUser", Path: P("id", v("goneUserId"))},
			{Op: "inviteUser", Name: "Invite a user who signs in", Body: obj{"email": "postman-new-{{runId}}@acme.test", "firstName": "Nia", "lastName": "Hire", "role": "MEMBER"},
				Save: [][2]string{{"inviteeId", "json.data.id"}, {"inviteeEmail", "json.data.email"}}},
			{Op: "getNotificationPreferences"},
			{Op: "updateNotificationPreferences", Body: obj{"emailOnDocumentUpload": true}},
			{Op: "listNotificationEmails"},
			{Op: "addNotificationEmail", Body: obj{"email": "intake-{{runId}}@acme.test"}, Status: []int{200, 201}},
			{Op: "createMedicalReferral", Body: obj{"baseCaseId": v("mainCaseId"), "providerName": "Harbor Orthopedics", "referralType": "orthopedic",
				"clientFirstName": "Jordan", "clientLastName": "Walker", "dateOfInjury": "2026-03-01"}, Save: [][2]string{{"medicalReferralId", "json.data.id"}}},
			{Op: "listMedicalReferrals"},
			{Op: "getMedicalReferralById", Path: P("id", v("medicalReferralId"))},
			{Op: "updateMedicalReferral", Path: P("id", v("medicalReferralId")), Body: obj{"status": "scheduled", "appointmentDate": "2026-04-22", "notes": "First visit booked."}},
		}},
		{Name: "10. Imports and analytics", Steps: []Step{
			{Op: "getCaseImportTemplate"},
			{Op: "importCases", File: "cases-import.csv", Status: []int{200}},
			{Op: "importCasesUpdate", File: "cases-update.csv", Status: []int{200}},
			{Op: "importCases", Name: "Import cases as a background job", Query: [][2]string{{"async", "true"}}, File: "cases-import.csv", Status: []int{202}, Save: [][2]string{{"importJobId", "json.data.id"}}},
			{Op: "listImportJobs"},
			{Op: "getImportJob", Path: P("jobId", v("importJobId"))},
			{Op: "getDashboard"},
			{Op: "getCaseAnalytics"},
			{Op: "getHomepageAnalytics"},
			{Op: "getCasesByStatus", Query: [][2]string{{"status", "sent"}, {"context", "sent"}}},
			{Op: "getReceivedAnalytics", As: Receiver},
			{Op: "getSentAnalytics"},
			{Op: "getRevenueReceivedAnalytics", As: Receiver},
			{Op: "getRevenueSentAnalytics"},
			{Op: "getReferralsAnalytics"},
			{Op: "exportAllAnalytics"},
			{Op: "exportAnalyticsCategory", Path: P("category", "sent"), Query: [][2]string{{"format", "csv"}}},
		}},
		{Name: "11. Webhooks and integration tokens", Steps: []Step{
			{Op: "listWebhooks"},
			{Op: "createWebhook", Body: obj{"url": v("webhookUrl"), "description": "Postman walk {{runId}}"}, Save: [][2]string{{"webhookId", "json.data.id"}}},
			{Op: "getWebhook", Path: P("id", v("webhookId"))},
			{Op: "updateWebhook", Path: P("id", v("webhookId")), Body: obj{"description": "Postman walk {{runId}} (changed)"}},
			{Op: "rotateWebhookSecret", Path: P("id", v("webhookId"))},
			{Op: "enableWebhookEcho", Path: P("id", v("webhookId")), Save: [][2]string{{"echoToken", "json.data.echoToken"}}},
			{Op: "testWebhook", Path: P("id", v("webhookId")), Save: [][2]string{{"deliveryId", "json.data.deliveryId"}}},
			{Op: "listWebhookDeliveries", Path: P("id", v("webhookId"))},
			{Op: "redeliverWebhookDelivery", Path: P("id", v("webhookId"), "deliveryId", v("deliveryId"))},
			{Op: "receiveWebhookEcho", Path: P("token", v("echoToken")), Body: obj{"event": "test", "data": obj{"note": "sent by hand"}}},
			{Op: "listWebhookEchoCaptures", Path: P("id", v("webhookId"))},
			{Op: "disableWebhookEcho", Path: P("id", v("webhookId"))},
			{Op: "deleteWebhook", Path: P("id", v("webhookId"))},
			{Op: "listSalesforceIntegrationTokens"},
			{Op: "createSalesforceIntegrationToken", Body: obj{"name": "Postman walk {{runId}}"}, Save: [][2]string{{"salesforceTokenId", "json.data.id"}}},
			{Op: "rotateSalesforceIntegrationToken", Path: P("id", v("salesforceTokenId"))},
			{Op: "deleteSalesforceIntegrationToken", Path: P("id", v("salesforceTokenId"))},
		}},
		{Name: FolderInvitation, Description: "Set invitationToken to the token of the invitation e-mail sent to {{inviteeEmail}} (the accept-invitation link's token parameter) first.", Steps: []Step{
			{Op: "completeInvitation", Body: obj{"token": v("invitationToken"), "password": "postman-invited-passphrase-2026"}},
			{Op: "loginUser", Name: "Log in as the new user", Body: obj{"email": v("inviteeEmail"), "password": "postman-invited-passphrase-2026"}, Save: [][2]string{{"inviteeAccessToken", "json.data.accessToken"}}},
			{Op: "changePassword", Token: "inviteeAccessToken", Body: obj{"currentPassword": "postman-invited-passphrase-2026", "newPassword": "postman-changed-passphrase-2026"}},
			{Op: "forgotPassword", Body: obj{"email": v("inviteeEmail")}},
		}},
		{Name: FolderReset, Description: "Set resetToken to the token of the password-reset e-mail sent to {{inviteeEmail}} (the reset-password link's token parameter) first.", Steps: []Step{
			{Op: "resetPassword", Body: obj{"token": v("resetToken"), "password": "postman-reset-passphrase-2026"}},
		}},
		{Name: "14. Sessions and keys: tidy up", Description: "Ends what the walk opened: a refreshed and logged-out session, a revoked session and a revoked key.", Steps: []Step{
			{Op: "loginUser", Name: "Open a second session", Body: obj{"email": v("senderEmail"), "password": v("password")},
				Save: [][2]string{{"secondRefreshToken", "json.data.refreshToken"}}},
			{Op: "refreshSession", Body: obj{"refreshToken": v("secondRefreshToken")}, Save: [][2]string{{"secondAccessToken", "json.data.accessToken"}}},
			{Op: "logoutUser", Token: "secondAccessToken"},
			{Op: "loginUser", Name: "Open a third session", Body: obj{"email": v("senderEmail"), "password": v("password")}},
			{Op: "listAuthSessions", Save: [][2]string{{"revokeSessionId", "json.data.filter(s => !s.current).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0].id"}}},
			{Op: "revokeAuthSession", Path: P("id", v("revokeSessionId"))},
			{Op: "createPublicApiKey", Name: "Create a key to revoke", Body: obj{"name": "Postman walk {{runId}} (to revoke)", "tier": "READ_ONLY"}, Save: [][2]string{{"spareApiKeyId", "json.data.id"}}},
			{Op: "revokePublicApiKey", Path: P("id", v("spareApiKeyId"))},
		}},
	}
}

func flatten(parts ...[]Step) []Step {
	var out []Step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
