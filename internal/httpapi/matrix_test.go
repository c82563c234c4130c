package httpapi_test

// The tenant-isolation and tier matrix. Every operation of the embedded spec
// is called with every credential that must be refused (none, revoked, malformed, below the
// operation's x-access-tier; expired, tampered, wrong-secret and alg:none tokens on the Internal
// API) and by a stranger firm C addressing firm A's resources. A response that carries any of
// A's (or its partner B's) private texts or ids to C is a leak. The fixture table below must name
// every operation: a new operation without a fixture fails the test.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/refdata"
	"github.com/casexchange/server/internal/testsummary"
)

// mxOp is one operation of the spec.
type mxOp struct {
	id, method, path string
	tier             auth.Tier // "" for operations without x-access-tier
	public, internal bool      // layer
	anonymous        bool      // security: []
	op               *openapi3.Operation
}

// mxSpecOps lists the operations of the embedded spec, ordered by path and method.
func mxSpecOps(t testing.TB) []mxOp {
	t.Helper()
	spec, err := api.GetSpec()
	require.NoError(t, err)
	var out []mxOp
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			// The embedded copy has the ids capitalized (as Go names); the contract's are camelCase.
			id := strings.ToLower(op.OperationID[:1]) + op.OperationID[1:]
			o := mxOp{id: id, method: method, path: path, op: op,
				public: strings.HasPrefix(path, "/api/public/v1/"), internal: strings.HasPrefix(path, "/api/v1/")}
			o.anonymous = op.Security != nil && len(*op.Security) == 0
			if tier, ok := op.Extensions["x-access-tier"].(string); ok {
				o.tier = map[string]auth.Tier{"read_only": apitest.ReadOnly, "standard": apitest.Standard, "full": apitest.Full}[tier]
				require.NotEmpty(t, o.tier, "%s: unknown x-access-tier %q", o.id, tier)
			}
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].path != out[j].path {
			return out[i].path < out[j].path
		}
		return out[i].method < out[j].method
	})
	return out
}

// mxScope says what an operation addresses.
type mxScope int

const (
	// mxScoped operations address one of A's resources: C gets 404.
	mxScoped mxScope = iota
	// mxOwn operations act on the caller's own firm (lists, creations, settings): C gets its
	// own data, never A's.
	mxOwn
)

// mxTarget is how to call an operation: path parameters, query, body; what C may get back.
type mxTarget struct {
	params map[string]string
	query  []string
	json   any                     // JSON body
	form   func(w *mxWorld) mxForm // multipart body
	scope  mxScope
	// allow lists the statuses accepted for the stranger's call (default: 404 for mxScoped, any
	// 2xx for mxOwn), with why.
	allow []int
	// volatile: the owner's GET legitimately changes while the matrix runs (see changing).
	volatile bool
}

func mxScopedTo(params map[string]string) mxTarget { return mxTarget{params: params, scope: mxScoped} }
func mxOwnScope() mxTarget                         { return mxTarget{scope: mxOwn} }

func (m mxTarget) withJSON(v any) mxTarget                 { m.json = v; return m }
func (m mxTarget) withQuery(kv ...string) mxTarget         { m.query = kv; return m }
func (m mxTarget) allowing(statuses ...int) mxTarget       { m.allow = statuses; return m }
func (m mxTarget) withParams(p map[string]string) mxTarget { m.params = p; return m }

// changing marks an operation whose owner view changes by itself, for the reason given, so
// that the before/after comparison skips it.
func (m mxTarget) changing(reason string) mxTarget { m.volatile = reason != ""; return m }

type mxParams = map[string]string

// mxAnonymous are the operations that take no credentials (security: []); the test checks the
// spec agrees, so a change of an operation's security is noticed here.
var mxAnonymous = []string{
	"downloadDocumentContent", // the signed token in the path is the credential
	"getHealth", "getOpenApiJson", "getOpenApiYaml",
	"loginUser", "refreshSession",
	"completeInvitation", "forgotPassword", "resetPassword", // the e-mailed token (or nothing) is the credential
	"receiveWebhookEcho", // the echo token in the path is the credential
}

// mxFixtures names, for every operation, the call that addresses A's resource (or, for
// operations on the caller's own firm, a valid call of C's own). Bodies are valid, so that the
// stranger's request reaches the handler and is refused there rather than by validation.
var mxFixtures = map[string]func(w *mxWorld) mxTarget{
	// Internal API: authentication and sessions.
	"loginUser": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"email": w.a.Admin.Email, "password": "not-the-password-1"}).allowing(http.StatusUnauthorized)
	},
	"refreshSession": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"refreshToken": strings.Repeat("A", 43)}).allowing(http.StatusUnauthorized)
	},
	"getCurrentUser":   func(w *mxWorld) mxTarget { return mxOwnScope() },
	"logoutUser":       func(w *mxWorld) mxTarget { return mxOwnScope() }, // C calls it with its reserved session
	"listAuthSessions": func(w *mxWorld) mxTarget { return mxOwnScope() },
	"changePassword": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"currentPassword": "not-the-password-1", "newPassword": "a-brand-new-password-2"}).
			allowing(http.StatusBadRequest, http.StatusUnauthorized)
	},
	"revokeAuthSession": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.sessionID}) },
	"listPublicApiKeys": func(w *mxWorld) mxTarget {
		return mxOwnScope().changing("shows the last use and request count of A's keys")
	},
	"createPublicApiKey": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"name": "cobalt sync", "tier": "READ_ONLY"})
	},
	"getPublicApiKeyUsage": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.keyID}) },
	"revokePublicApiKey":   func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.keyID}) },
	"receiveWebhookEcho": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"token": "echo_" + strings.Repeat("0", 40)}).withJSON(map[string]any{"event": "case.updated"})
	},

	// Internal API: the account life cycle. The anonymous operations get a token that
	// names nothing; the stranger's session may only act on its own user and firm.
	"completeInvitation": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"token": strings.Repeat("A", 43), "password": "a-brand-new-password-2"}).allowing(http.StatusBadRequest)
	},
	"forgotPassword": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"email": w.a.Admin.Email})
	},
	"resetPassword": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"token": strings.Repeat("A", 43), "password": "a-brand-new-password-2"}).allowing(http.StatusBadRequest)
	},
	"getCurrentUserProfile":    func(w *mxWorld) mxTarget { return mxOwnScope() },
	"updateCurrentUserProfile": func(w *mxWorld) mxTarget { return mxOwnScope().withJSON(map[string]any{"phone": "555-0199"}) },
	"resendInvitation":         func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.userID}) },
	"listSalesforceIntegrationTokens": func(w *mxWorld) mxTarget {
		return mxOwnScope()
	},
	"createSalesforceIntegrationToken": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"name": "cobalt org"})
	},
	"rotateSalesforceIntegrationToken": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.sfTokenID}) },
	"deleteSalesforceIntegrationToken": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.sfTokenID}) },

	// Platform and reference data.
	"getHealth":         func(w *mxWorld) mxTarget { return mxOwnScope().changing("reports uptime and check timings") },
	"getOpenApiYaml":    func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getOpenApiJson":    func(w *mxWorld) mxTarget { return mxOwnScope() },
	"listCaseTypes":     func(w *mxWorld) mxTarget { return mxOwnScope() },
	"listJurisdictions": func(w *mxWorld) mxTarget { return mxOwnScope() },
	"listCounties":      func(w *mxWorld) mxTarget { return mxOwnScope().withQuery("jurisdictionCodes", "WA") },
	"listCaseTypeFields": func(w *mxWorld) mxTarget {
		return mxOwnScope().withParams(mxParams{"caseTypeId": refdata.PersonalInjuryID.String()})
	},

	// Firms and network. Firm profiles are public; relationships are private to their parties.
	"listFirmDirectory":  func(w *mxWorld) mxTarget { return mxOwnScope().changing("shows C's own profile change") },
	"getOwnFirm":         func(w *mxWorld) mxTarget { return mxOwnScope() },
	"updateOwnFirm":      func(w *mxWorld) mxTarget { return mxOwnScope().withJSON(map[string]any{"phone": "555-0142"}) },
	"listAvailableFirms": func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getFirmById":        func(w *mxWorld) mxTarget { return mxOwnScope().withParams(mxParams{"id": w.a.ID.String()}) },
	"getOutboundNetworkFirmDetail": func(w *mxWorld) mxTarget {
		return mxOwnScope().withParams(mxParams{"firmId": w.b.ID.String()}).allowing(http.StatusOK, http.StatusNotFound)
	},
	"getInboundNetworkFirmDetail": func(w *mxWorld) mxTarget {
		return mxOwnScope().withParams(mxParams{"firmId": w.b.ID.String()}).allowing(http.StatusOK, http.StatusNotFound)
	},
	// C asks B for a relationship of its own: allowed, and it must not touch A's.
	"upsertOutboundNetworkRelationship": func(w *mxWorld) mxTarget {
		return mxOwnScope().withParams(mxParams{"firmId": w.b.ID.String()}).withJSON(map[string]any{"description": "Cobalt asks"})
	},
	"updateOutboundNetworkRelationship": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"firmId": w.a.ID.String()}).withJSON(map[string]any{"sendingPercentage": 50})
	},
	"updateInboundNetworkRelationship": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"firmId": w.a.ID.String()}).withJSON(map[string]any{"status": "active"})
	},
	"listPendingNetworkRelationships": func(w *mxWorld) mxTarget { return mxOwnScope() },

	// Routing.
	"listRoutingRules": func(w *mxWorld) mxTarget { return mxOwnScope() },
	"createRoutingRule": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"name": "Cobalt rule", "targetFirmId": w.d.ID.String()})
	},
	"updateRoutingRule": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.ruleID}).withJSON(map[string]any{"name": "hijacked"})
	},
	"deleteRoutingRule": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.ruleID}) },
	"evaluateRoutingRules": func(w *mxWorld) mxTarget {
		return mxOwnScope().withQuery("caseType", "Personal Injury", "jurisdiction", "WA")
	},
	"evaluateReReferralRouting": func(w *mxWorld) mxTarget {
		return mxScopedTo(nil).withQuery("caseId", w.caseID)
	},

	// Sent cases and received referrals.
	"listSentCases":  func(w *mxWorld) mxTarget { return mxOwnScope() },
	"createSentCase": func(w *mxWorld) mxTarget { return mxOwnScope().withJSON(w.strangerCase()) },
	"getSentCase":    func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.caseID}) },
	"patchSentCase": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.caseID}).withJSON(map[string]any{"source": "hijacked"})
	},
	"getSentCaseAvailableStatuses": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.caseID}) },
	"referSentCase": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.caseID}).withJSON(map[string]any{"referentFirmId": w.b.ID.String()})
	},
	"listReceivedReferrals": func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getReceivedReferral":   func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.recvID}) },
	"patchReceivedReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.recvID}).withJSON(map[string]any{"notes": "hijacked"})
	},
	"getReceivedReferralAvailableStatuses": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.recvID}) },
	"acknowledgeReceivedReferral":          func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.recvID}) },
	"beginInvestigatingReceivedReferral":   func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.recvID}) },
	"signReceivedReferral":                 func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.recvID}) },
	"startLitigationReceivedReferral":      func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.recvID}) },
	"closeReceivedReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.recvID}).withJSON(map[string]any{"closingStatus": "lost"})
	},
	"rejectReceivedReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.recvID}).withJSON(map[string]any{"reason": "not ours"})
	},

	// Status updates and messages.
	"listAllStatusUpdates": func(w *mxWorld) mxTarget { return mxOwnScope() },
	"lookupStatusUpdates":  func(w *mxWorld) mxTarget { return mxScopedTo(nil).withQuery("id", w.caseID) },
	"sendMessage": func(w *mxWorld) mxTarget {
		return mxScopedTo(nil).withJSON(map[string]any{"id": w.caseID, "message": "hello from a stranger"})
	},

	// Cases and their referrals.
	"exportCases": func(w *mxWorld) mxTarget { return mxOwnScope() },
	"listCases":   func(w *mxWorld) mxTarget { return mxOwnScope() },
	"createCase":  func(w *mxWorld) mxTarget { return mxOwnScope().withJSON(w.strangerCase()) },
	"getCaseById": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.caseID}) },
	"updateCase": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.caseID}).withJSON(map[string]any{"title": "hijacked"})
	},
	"acknowledgeCase": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.caseID}) },
	"updateCaseStatus": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.caseID}).withJSON(map[string]any{"status": "investigating"})
	},
	"closeCase": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.caseID}).withJSON(map[string]any{"closingStatus": "lost"})
	},
	"getCaseStatusHistory": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.caseID}) },
	"listReferrals":        func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"baseCaseId": w.caseID}) },
	"getReferral":          func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()) },
	"updateReferral":       func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()).withJSON(map[string]any{"notes": "hijacked"}) },
	"deleteReferral":       func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()) },
	"sendReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(w.nested()).withJSON(map[string]any{"referentFirmId": w.b.ID.String()})
	},
	"acknowledgeReferral":        func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()) },
	"beginInvestigatingReferral": func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()) },
	"signReferral":               func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()) },
	"startLitigationReferral":    func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()) },
	"closeReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(w.nested()).withJSON(map[string]any{"closingStatus": "lost"})
	},
	"rejectReferral":           func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()).withJSON(map[string]any{"reason": "no"}) },
	"withdrawReferral":         func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()).withJSON(map[string]any{"reason": "no"}) },
	"getReferralStatusHistory": func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()) },
	"listTopLevelReferrals":    func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getTopLevelReferral":      func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.referralID}) },
	"updateTopLevelReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.referralID}).withJSON(map[string]any{"notes": "hijacked"})
	},
	"deleteTopLevelReferral": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.referralID}) },
	"sendTopLevelReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.referralID}).withJSON(map[string]any{"referentFirmId": w.b.ID.String()})
	},
	"acknowledgeTopLevelReferral":        func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.referralID}) },
	"beginInvestigatingTopLevelReferral": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.referralID}) },
	"signTopLevelReferral":               func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.referralID}) },
	"startLitigationTopLevelReferral":    func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.referralID}) },
	"closeTopLevelReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.referralID}).withJSON(map[string]any{"closingStatus": "lost"})
	},
	"rejectTopLevelReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.referralID}).withJSON(map[string]any{"reason": "no"})
	},
	"withdrawTopLevelReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.referralID}).withJSON(map[string]any{"reason": "no"})
	},
	"getTopLevelReferralStatusHistory": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.referralID}) },

	// Fees.
	"listFeeRuleProfiles":         func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getReferralFeeAgreement":     func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.referralID}) },
	"getCaseReferralFeeAgreement": func(w *mxWorld) mxTarget { return mxScopedTo(w.nested()) },
	"proposeReferralFeeAgreement": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.referralID}).withJSON(map[string]any{"basis": "proportional",
			"referringFirmPercentage": 90, "receivingFirmPercentage": 10, "clientContingencyPercentage": 40})
	},
	"acceptReferralFeeAgreement": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.referralID, "version": "1"})
	},
	"recordReferralFeeConsent": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.referralID}).withJSON(map[string]any{"consentedOn": "2026-01-02", "method": "written", "signerName": "Forged"})
	},
	"listFeeLedger":     func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getFeeLedgerEntry": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"entryId": w.feeEntryID}) },
	"recordFeePayment": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"entryId": w.feeEntryID}).withJSON(map[string]any{"amount": "1.00", "paidOn": "2026-01-02", "method": "wire"})
	},
	"disputeFeeLedgerEntry": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"entryId": w.feeEntryID}).withJSON(map[string]any{"reason": "hijacked"})
	},
	"writeOffFeeLedgerEntry": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"entryId": w.feeEntryID}).withJSON(map[string]any{"reason": "hijacked"})
	},
	"exportFeeLedger": func(w *mxWorld) mxTarget { return mxOwnScope() },

	// Documents.
	"listDocuments": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"caseId": w.caseID}) },
	"uploadDocument": func(w *mxWorld) mxTarget {
		m := mxScopedTo(mxParams{"caseId": w.caseID})
		m.form = func(w *mxWorld) mxForm { return mxFile(w.h, "file", "planted.pdf", "application/pdf", mxPDF) }
		return m
	},
	"deleteDocument": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"caseId": w.caseID, "docId": w.docID}) },
	"getDocumentDownloadUrl": func(w *mxWorld) mxTarget {
		m := mxScopedTo(mxParams{"caseId": w.caseID, "docId": w.docID})
		return m.changing("a fresh link each time")
	},
	"downloadDocumentContent": func(w *mxWorld) mxTarget {
		// The stranger forges a token for A's document: the signature does not match.
		return mxScopedTo(mxParams{"token": w.forgedDownloadToken()}).allowing(http.StatusForbidden, http.StatusNotFound)
	},

	// Users and notifications.
	"listUsers": func(w *mxWorld) mxTarget { return mxOwnScope() },
	"inviteUser": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"email": "new-hire@cobalt-mx.test", "firstName": "Nia", "lastName": "Hire"})
	},
	"updateUser": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.userID}).withJSON(map[string]any{"firstName": "Hijacked"})
	},
	"deactivateUser":                func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.userID}) },
	"getNotificationPreferences":    func(w *mxWorld) mxTarget { return mxOwnScope() },
	"updateNotificationPreferences": func(w *mxWorld) mxTarget { return mxOwnScope().withJSON(map[string]any{"emailOnNewReferral": false}) },
	"listNotificationEmails":        func(w *mxWorld) mxTarget { return mxOwnScope() },
	"addNotificationEmail": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"email": "desk@cobalt-mx.test"})
	},

	// Medical referrals: a filter naming A's case finds nothing for C.
	"listMedicalReferrals": func(w *mxWorld) mxTarget {
		return mxOwnScope().withQuery("caseId", w.caseID).allowing(http.StatusOK, http.StatusNotFound)
	},
	"createMedicalReferral": func(w *mxWorld) mxTarget {
		// A case named in the body is a field error (400 naming body.caseId), as for any
		// unknown id in a body.
		return mxScopedTo(nil).withJSON(map[string]any{"caseId": w.caseID, "providerName": "Planted Clinic"}).
			allowing(http.StatusBadRequest, http.StatusNotFound)
	},
	"getMedicalReferralById": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.medicalID}) },
	"getImportJob":           func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"jobId": w.importJobID}) },
	"listImportJobs":         func(w *mxWorld) mxTarget { return mxOwnScope() },
	"updateMedicalReferral": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.medicalID}).withJSON(map[string]any{"notes": "hijacked"})
	},

	// Import: C's rows naming A's case by external id or reference number never reach it.
	"importCases": func(w *mxWorld) mxTarget {
		m := mxOwnScope()
		m.form = func(w *mxWorld) mxForm {
			csv := "title,caseType,jurisdiction,clientFirstName,clientLastName,cmsId\n" +
				"Cobalt import,Personal Injury,WA,Cy,Cobalt," + mxSalesforceID + "\n"
			return mxFile(w.h, "file", "cases.csv", "text/csv", []byte(csv))
		}
		return m
	},
	"importCasesUpdate": func(w *mxWorld) mxTarget {
		m := mxOwnScope()
		m.form = func(w *mxWorld) mxForm {
			csv := "referenceNumber,title\n" + w.caseRef + ",hijacked\n"
			return mxFile(w.h, "file", "update.csv", "text/csv", []byte(csv))
		}
		return m
	},
	"getCaseImportTemplate": func(w *mxWorld) mxTarget { return mxOwnScope() },

	// Analytics: C's figures only.
	"getDashboard":                func(w *mxWorld) mxTarget { return mxOwnScope().changing("its period ends now") },
	"getCaseAnalytics":            func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getHomepageAnalytics":        func(w *mxWorld) mxTarget { return mxOwnScope().changing("its periods end now") },
	"getCasesByStatus":            func(w *mxWorld) mxTarget { return mxOwnScope().withQuery("status", "sent", "context", "sent") },
	"getReceivedAnalytics":        func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getSentAnalytics":            func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getRevenueReceivedAnalytics": func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getRevenueSentAnalytics":     func(w *mxWorld) mxTarget { return mxOwnScope() },
	"getReferralsAnalytics":       func(w *mxWorld) mxTarget { return mxOwnScope() },
	// A fixed range: the default one ends today.
	"getFeeAnalytics": func(w *mxWorld) mxTarget {
		return mxOwnScope().withQuery("dateFrom", "2020-01-01", "dateTo", "2030-12-31")
	},
	"exportAllAnalytics":      func(w *mxWorld) mxTarget { return mxOwnScope().changing("a workbook whose entry order and times vary") },
	"exportAnalyticsCategory": func(w *mxWorld) mxTarget { return mxOwnScope().withParams(mxParams{"category": "sent"}) },

	// Webhooks.
	"listWebhooks": func(w *mxWorld) mxTarget { return mxOwnScope() },
	"createWebhook": func(w *mxWorld) mxTarget {
		return mxOwnScope().withJSON(map[string]any{"url": "https://hooks.cobalt-mx.example/in"})
	},
	"getWebhook": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.hookID}) },
	"updateWebhook": func(w *mxWorld) mxTarget {
		return mxScopedTo(mxParams{"id": w.hookID}).withJSON(map[string]any{"url": "https://hooks.cobalt-mx.example/stolen"})
	},
	"deleteWebhook":            func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.hookID}) },
	"listWebhookDeliveries":    func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.hookID}) },
	"redeliverWebhookDelivery": func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.hookID, "deliveryId": w.deliveryID}) },
	"testWebhook":              func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.hookID}) },
	"rotateWebhookSecret":      func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.hookID}) },
	"enableWebhookEcho":        func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.hookID}) },
	"disableWebhookEcho":       func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.hookID}) },
	"listWebhookEchoCaptures":  func(w *mxWorld) mxTarget { return mxScopedTo(mxParams{"id": w.hookID}) },
}

// nested are the path parameters of the /cases/{baseCaseId}/referrals/{id} routes.
func (w *mxWorld) nested() mxParams { return mxParams{"baseCaseId": w.caseID, "id": w.referralID} }

// strangerCase is a valid new case of C's own.
func (w *mxWorld) strangerCase() map[string]any {
	return map[string]any{"title": "Cobalt second matter", "caseType": "Personal Injury", "jurisdiction": "WA",
		"clientFirstName": "Cyd", "clientLastName": "Cobalt"}
}

// forgedDownloadToken is A's download token with its signature replaced.
func (w *mxWorld) forgedDownloadToken() string {
	payload, _, _ := strings.Cut(w.downloadToken, ".")
	return payload + "." + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
}

// mxRequest is one call of an operation.
type mxRequest struct {
	method, path string
	opts         []apitest.Opt
	text         string // path, query and body, for the echo exclusion of the leak check
}

var mxParam = regexp.MustCompile(`\{([^}]+)\}`)

// request builds the call of op described by m, with creds added.
func (m mxTarget) request(t testing.TB, w *mxWorld, op mxOp, creds ...apitest.Opt) mxRequest {
	t.Helper()
	path := mxParam.ReplaceAllStringFunc(op.path, func(s string) string {
		name := s[1 : len(s)-1]
		v, ok := m.params[name]
		require.True(t, ok, "%s: the fixture gives no value for path parameter %s", op.id, name)
		return url.PathEscape(v)
	})
	r := mxRequest{method: strings.ToUpper(op.method), path: path, text: path}
	if len(m.query) > 0 {
		q := url.Values{}
		for i := 0; i+1 < len(m.query); i += 2 {
			q.Add(m.query[i], m.query[i+1])
		}
		r.path += "?" + q.Encode()
		r.text += " " + strings.Join(m.query, " ")
	}
	r.opts = append(r.opts, creds...)
	switch {
	case m.json != nil:
		b, err := json.Marshal(m.json)
		require.NoError(t, err)
		r.opts = append(r.opts, apitest.Body("application/json", b))
		r.text += " " + string(b)
	case m.form != nil:
		f := m.form(w)
		r.opts = append(r.opts, apitest.Body(f.contentType, f.body))
		r.text += " " + string(f.body)
	}
	return r
}

// mxCase is one kind of check the matrix makes.
type mxCase string

const (
	mxCaseNoCredential mxCase = "no credential"
	mxCaseRevoked      mxCase = "revoked credential"
	mxCaseMalformed    mxCase = "malformed credential"
	mxCaseBelowTier    mxCase = "below the required tier or role"
	mxCaseForeign      mxCase = "another firm's credential"
	mxCaseExpired      mxCase = "expired token"
	mxCaseTampered     mxCase = "tampered token"
	mxCaseWrongSecret  mxCase = "token signed with another secret"
	mxCaseAlgNone      mxCase = "alg none token"
	mxCaseWrongAlg     mxCase = "token signed with another algorithm"
	mxCaseAnonymous    mxCase = "anonymous call"
	mxCaseOwner        mxCase = "owner reads (control)"
)

// mxMalformedKeys are refused by shape or by lookup; the matrix rotates through them.
var mxMalformedKeys = []string{
	"not-a-key",
	"cxp_full_short",
	"cxp_full_" + strings.Repeat("!", auth.KeySecretLength),
	"cxp_full_" + strings.Repeat("Z", auth.KeySecretLength), // well-formed, unknown
	"cxp_ro_" + strings.Repeat("a", auth.KeySecretLength+1),
	"Bearer cxp_full_" + strings.Repeat("Z", auth.KeySecretLength),
	strings.Repeat("k", 4096),
	"ключ-🔑",
}

// mxTokens are the forged Internal API tokens.
type mxTokens struct{ expired, tampered, wrongSecret, algNone, wrongAlg string }

// forgeTokens builds tokens from C's real session claims that try to act as firm A.
func mxForgeTokens(t *testing.T, w *mxWorld) mxTokens {
	t.Helper()
	parts := strings.Split(w.cToken, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	claims := jwt.MapClaims{}
	require.NoError(t, json.Unmarshal(raw, &claims))
	secret := w.h.App.Config.JWTSecret
	sign := func(method jwt.SigningMethod, key any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, c).SignedString(key)
		require.NoError(t, err)
		return s
	}
	with := func(mut func(c jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		mut(c)
		return c
	}
	now := time.Now()
	expired := with(func(c jwt.MapClaims) {
		c["iat"] = now.Add(-2 * time.Hour).Unix()
		c["exp"] = now.Add(-time.Hour).Unix()
	})
	asA := with(func(c jwt.MapClaims) { c["fid"] = w.a.ID.String() })
	tamperedPayload := base64.RawURLEncoding.EncodeToString(mxMust(json.Marshal(asA)))
	return mxTokens{
		expired:     sign(jwt.SigningMethodHS256, secret, expired),
		tampered:    parts[0] + "." + tamperedPayload + "." + parts[2],
		wrongSecret: sign(jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef0123456789"), asA),
		algNone:     sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, asA),
		wrongAlg:    sign(jwt.SigningMethodHS512, secret, asA),
	}
}

func mxMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestMatrix is the tenant-isolation and tier matrix over every operation of the spec.
func TestMatrix(t *testing.T) {
	t.Parallel()
	ops := mxSpecOps(t)

	// Coverage cannot shrink silently: every operation has a fixture, every fixture an
	// operation, and the anonymous list matches the spec.
	var missing, anonymous []string
	inSpec := map[string]bool{}
	for _, op := range ops {
		inSpec[op.id] = true
		if _, ok := mxFixtures[op.id]; !ok {
			missing = append(missing, op.id)
		}
		if op.anonymous {
			anonymous = append(anonymous, op.id)
		}
	}
	var stale []string
	for id := range mxFixtures {
		if !inSpec[id] {
			stale = append(stale, id)
		}
	}
	sort.Strings(stale)
	sort.Strings(anonymous)
	require.Empty(t, missing, "operations without a matrix fixture: add them to mxFixtures")
	require.Empty(t, stale, "matrix fixtures of operations the spec no longer has")
	require.Equal(t, slices.Sorted(slices.Values(mxAnonymous)), anonymous, "anonymous operations (security: [])")

	w := newMxWorld(t)
	h := w.h
	tokens := mxForgeTokens(t, w)

	type tally struct {
		checks int
		cases  map[mxCase]bool
		leaks  []string
	}
	tl := tally{cases: map[mxCase]bool{}}

	// check sends one request and verifies status, error code and the absence of leaks.
	check := func(t *testing.T, kind mxCase, op mxOp, req mxRequest, want []int, code string) *apitest.Response {
		t.Helper()
		tl.checks++
		tl.cases[kind] = true
		r := h.Do(req.method, req.path, req.opts...)
		require.Contains(t, want, r.StatusCode, "%s: %s %s: %s", kind, req.method, req.path, r.Body)
		if code != "" {
			require.Equal(t, code, r.ErrorCode(), "%s: %s %s", kind, req.method, req.path)
		}
		if kind != mxCaseOwner {
			if leaked := w.leaks(req.text, r.Body); len(leaked) > 0 {
				tl.leaks = append(tl.leaks, fmt.Sprintf("%s (%s): %q", op.id, kind, leaked))
				t.Errorf("%s: %s %s leaks %q to another firm: %.1000s", kind, req.method, req.path, leaked, r.Body)
			}
		}
		return r
	}

	// The owner's view of every readable operation, before and after the attacks: nothing a
	// refused or foreign request did may show in it.
	ownerCreds := func(op mxOp) []apitest.Opt {
		switch {
		case op.anonymous:
			return nil
		case op.internal:
			return []apitest.Opt{apitest.Bearer(w.aToken)}
		}
		return []apitest.Opt{apitest.APIKey(w.aKey[apitest.Full])}
	}
	ownerTarget := func(op mxOp) mxTarget {
		m := mxFixtures[op.id](w)
		if op.id == "downloadDocumentContent" {
			m.params = mxParams{"token": w.downloadToken}
		}
		return m
	}
	snapshot := func(t *testing.T) map[string]string {
		out := map[string]string{}
		for _, op := range ops {
			if op.method != http.MethodGet {
				continue
			}
			m := ownerTarget(op)
			if op.id == "listMedicalReferrals" {
				m.query = nil
			}
			r := check(t, mxCaseOwner, op, m.request(t, w, op, ownerCreds(op)...), []int{http.StatusOK}, "")
			if !m.volatile {
				out[op.id] = mxWithoutMeta(r.Body)
			}
		}
		return out
	}
	before := snapshot(t)

	below := map[auth.Tier][]auth.Tier{
		apitest.Standard: {apitest.ReadOnly},
		apitest.Full:     {apitest.ReadOnly, apitest.Standard},
	}
	for i, op := range ops {
		t.Run(op.id, func(t *testing.T) {
			m := mxFixtures[op.id](w)
			switch {
			case op.anonymous:
				want := m.allow
				if len(want) == 0 {
					want = []int{http.StatusOK}
					if m.scope == mxScoped {
						want = []int{http.StatusNotFound}
					}
				}
				check(t, mxCaseAnonymous, op, m.request(t, w, op), want, "")

			case op.public:
				req := func(creds ...apitest.Opt) mxRequest { return m.request(t, w, op, creds...) }
				check(t, mxCaseNoCredential, op, req(), []int{http.StatusUnauthorized}, "invalid_api_key")
				check(t, mxCaseRevoked, op, req(apitest.APIKey(w.cRevokedKey)), []int{http.StatusUnauthorized}, "invalid_api_key")
				check(t, mxCaseMalformed, op, req(apitest.APIKey(mxMalformedKeys[i%len(mxMalformedKeys)])), []int{http.StatusUnauthorized}, "invalid_api_key")
				for _, tier := range below[op.tier] {
					check(t, mxCaseBelowTier, op, req(apitest.APIKey(w.aKey[tier])), []int{http.StatusForbidden}, "insufficient_tier")
				}
				check(t, mxCaseForeign, op, req(apitest.APIKey(w.cKey[apitest.Full])), mxForeignWant(m), "")

			case op.internal:
				req := func(creds ...apitest.Opt) mxRequest { return m.request(t, w, op, creds...) }
				check(t, mxCaseNoCredential, op, req(), []int{http.StatusUnauthorized}, "no_token")
				check(t, mxCaseRevoked, op, req(apitest.Bearer(w.cRevokedToken)), []int{http.StatusUnauthorized}, "token_invalid")
				check(t, mxCaseMalformed, op, req(apitest.Bearer("not.a.jwt")), []int{http.StatusUnauthorized}, "token_invalid")
				check(t, mxCaseExpired, op, req(apitest.Bearer(tokens.expired)), []int{http.StatusUnauthorized}, "token_expired")
				check(t, mxCaseTampered, op, req(apitest.Bearer(tokens.tampered)), []int{http.StatusUnauthorized}, "token_invalid")
				check(t, mxCaseWrongSecret, op, req(apitest.Cookie("auth_token", tokens.wrongSecret)), []int{http.StatusUnauthorized}, "token_invalid")
				check(t, mxCaseAlgNone, op, req(apitest.Bearer(tokens.algNone)), []int{http.StatusUnauthorized}, "token_invalid")
				check(t, mxCaseWrongAlg, op, req(apitest.Bearer(tokens.wrongAlg)), []int{http.StatusUnauthorized}, "token_invalid")
				if strings.HasPrefix(op.path, "/api/v1/public-api-keys") || strings.HasPrefix(op.path, "/api/v1/integrations/") ||
					op.id == "resendInvitation" {
					check(t, mxCaseBelowTier, op, req(apitest.Bearer(w.cMemberToken)), []int{http.StatusForbidden}, "permission_denied")
				}
				tok := w.cToken
				if op.id == "logoutUser" {
					tok = w.cLogoutToken
				}
				check(t, mxCaseForeign, op, req(apitest.Bearer(tok)), mxForeignWant(m), "")

			default:
				t.Fatalf("%s %s is in neither API layer", op.method, op.path)
			}
		})
	}

	t.Run("the owner's data is unchanged", func(t *testing.T) {
		require.NotEmpty(t, w.leaks("", []byte(before["getSentCase"])), "the leak check sees A's data in A's own view")
		after := snapshot(t)
		r := h.Do("GET", "/api/v1/public-api-keys", apitest.Bearer(w.aToken))
		require.Contains(t, string(r.Body), w.keyID, "A's key is still listed (not revoked)")
		for id, b := range before {
			if b != after[id] {
				t.Errorf("%s changed while the matrix ran:\nbefore: %.1500s\nafter:  %.1500s", id, b, after[id])
			}
		}
	})

	t.Run("summary", func(t *testing.T) {
		line := fmt.Sprintf("matrix: %d operations x %d cases (%d checks), %d leaks", len(ops), len(tl.cases), tl.checks, len(tl.leaks))
		t.Log(line)
		testsummary.Printf("%s", line)
		require.Empty(t, tl.leaks)
	})
}

// foreignWant is what the stranger's call may answer.
func mxForeignWant(m mxTarget) []int {
	if len(m.allow) > 0 {
		return m.allow
	}
	if m.scope == mxScoped {
		return []int{http.StatusNotFound}
	}
	return []int{http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent}
}

// withoutMeta drops the per-response meta (request id, timestamp) of a JSON body.
func mxWithoutMeta(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return string(body)
	}
	delete(m, "meta")
	return string(mxMust(json.Marshal(m)))
}
