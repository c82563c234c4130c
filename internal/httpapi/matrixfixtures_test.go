package httpapi_test

// The fixture world of the tenant/tier matrix (matrix_test.go) and the bad-input generator
// (fuzz_test.go): firm A owns one of every resource an operation can address, made through the
// API as a client would; B is A's partner (each refers a case to the other); C is a stranger with
// keys of every tier, a revoked key and sessions. Every private text of A and B is a marker that
// must never reach C.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/storage"
	"github.com/casexchange/server/internal/webhooks"
	"github.com/casexchange/server/internal/webhooks/webhookstest"
)

// mxPDF is a minimal PDF accepted by the upload sniffer.
var mxPDF = []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")

// Private texts of A's and B's resources. They are unusual words so that finding one in a
// response body cannot be a coincidence.
const (
	mxCaseTitle      = "Quarrystone orchard collapse"
	mxClientFirst    = "Ottoline"
	mxClientLast     = "Vexworthy"
	mxClientEmail    = "ottoline.vexworthy@quarry-client.test"
	mxCaseDesc       = "Ladder gave way near the Pellingham silo"
	mxSalesforceID   = "SF-QZ-77310"
	mxRecvTitle      = "Hollowmere warehouse fall"
	mxRecvFirst      = "Ignatius"
	mxRecvLast       = "Brackenbury"
	mxDocName        = "wrenfield-discharge-summary.pdf"
	mxRuleName       = "Cinderbrook catch-all"
	mxUserEmail      = "perpetua.osgood@alderbrook-mx.test"
	mxUserFirst      = "Perpetua"
	mxUserLast       = "Osgoodhart"
	mxProvider       = "Saltmarsh Orthopaedic Clinic"
	mxNotifyEmail    = "intake-desk@alderbrook-mx.test"
	mxKeyName        = "Gristmill integration"
	mxSFTokenName    = "Ashgrove Salesforce org"
	mxHookURL        = "https://hooks.alderbrook-mx.example/larkspur-intake"
	mxHookDesc       = "Fennimore sync"
	mxRelDesc        = "Thistlewood partnership"
	mxRelNotes       = "Marrowgate intake rules"
	mxMessage        = "Gallowglass update for the partner"
	mxReferralNotes  = "Quenby notes on liability"
	mxMedicalInjury  = "Tarnwick fracture of the left wrist"
	mxSessionUA      = "Brindlecomb-Agent/7.3"
	mxCPassword      = "c-admin-password-0001"
	mxStrangerPrefix = "Cobalt"
)

// mxWorld is the shared fixture.
type mxWorld struct {
	h          *apitest.Harness
	a, b, c, d *apitest.Firm // d: C's own partner

	aKey map[auth.Tier]string // A's keys by tier
	cKey map[auth.Tier]string // C's keys by tier
	bStd string
	// cRevokedKey is a full key of C revoked through the Internal API.
	cRevokedKey string

	// A's resources.
	caseID, caseRef         string // A's case, referred to B
	referralID, referralRef string // its referral
	recvID                  string // the referral B sent to A (A receives)
	recvCaseID              string // B's case behind it
	docID                   string // a document of A's case
	downloadToken           string // a signed link to it
	ruleID                  string // A's routing rule
	userID                  string // a user A invited
	medicalID               string // A's medical referral
	importJobID             string // A's import job (an async import of one row)
	keyID                   string // an API key A created through the Internal API
	sfTokenID               string // a Salesforce integration token A created
	sessionID               string // the session of A's admin
	hookID                  string // A's webhook subscription
	deliveryID              string // a delivery of it
	echoToken               string // its echo token
	feeEntryID              string // the fee ledger entry of a second case A referred to B, closed won

	// Internal API tokens.
	aToken        string // A's admin
	cToken        string // C's admin
	cMemberToken  string // a C user who is not an administrator
	cLogoutToken  string // a C admin session reserved for the logout operation
	cRevokedToken string // a C admin session that was logged out

	markers []string // private texts and ids of A and B
}

// mxGet extracts a value from a JSON body by a dotted path ("data.id", "data.0.id").
func mxGet(t testing.TB, body []byte, path string) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			require.NoError(t, err, path)
			require.Less(t, i, len(x), "%s in %s", path, body)
			v = x[i]
		default:
			t.Fatalf("no %s in %s", path, body)
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	t.Fatalf("%s is %T in %s", path, v, body)
	return ""
}

// mxDo sends a request and requires one of the statuses.
func mxDo(t testing.TB, h *apitest.Harness, want int, method, path string, opts ...apitest.Opt) *apitest.Response {
	t.Helper()
	r := h.Do(method, path, opts...)
	require.Equal(t, want, r.StatusCode, "%s %s: %s", method, path, r.Body)
	return r
}

// mxLogin signs u in with a chosen User-Agent and returns the access token.
func mxLogin(t testing.TB, h *apitest.Harness, email, password, userAgent string) string {
	t.Helper()
	r := mxDo(t, h, http.StatusOK, "POST", "/api/v1/auth/login", apitest.Header("User-Agent", userAgent),
		apitest.JSON(map[string]string{"email": email, "password": password}))
	return mxGet(t, r.Body, "data.accessToken")
}

const mxPub = "/api/public/v1"

// newMxWorld builds the world on a fresh server.
func newMxWorld(t testing.TB) *mxWorld {
	t.Helper()
	h := apitest.New(t)
	w := &mxWorld{h: h, aKey: map[auth.Tier]string{}, cKey: map[auth.Tier]string{}}
	// Webhook hosts resolve to a public address without a DNS server (nothing is sent there: echo
	// mode keeps every delivery on this server).
	res := webhookstest.NewResolver()
	for _, host := range []string{"hooks.alderbrook-mx.example", "hooks.cobalt-mx.example"} {
		res.Set(host, "93.184.215.14")
	}
	h.App.Server.Webhooks.Configure(func(c *webhooks.Config) { c.Resolver = res })
	w.a = h.NewFirm(apitest.FirmOpts{Name: "Alderbrook Injury Law", Jurisdictions: []string{"WA"}})
	w.b = h.NewFirm(apitest.FirmOpts{Name: "Birchfield Trial Group", Jurisdictions: []string{"WA"}})
	w.c = h.NewFirm(apitest.FirmOpts{Name: mxStrangerPrefix + " Legal Partners", Jurisdictions: []string{"WA"}})
	w.d = h.NewFirm(apitest.FirmOpts{Name: "Dunmore Counsel", Jurisdictions: []string{"WA"}})
	for _, tier := range []auth.Tier{apitest.ReadOnly, apitest.Standard, apitest.Full} {
		w.aKey[tier] = h.Key(w.a, tier)
		w.cKey[tier] = h.Key(w.c, tier)
	}
	w.bStd = h.Key(w.b, apitest.Standard)
	aStd, aFull := w.aKey[apitest.Standard], w.aKey[apitest.Full]

	// A and B refer cases to each other; the relationship carries private notes.
	mxDo(t, h, http.StatusCreated, "PUT", apitest.Path(mxPub+"/network/outbound", w.b.ID.String()), apitest.APIKey(aStd),
		apitest.JSON(map[string]any{"description": mxRelDesc}))
	mxDo(t, h, http.StatusOK, "PATCH", apitest.Path(mxPub+"/network/inbound", w.a.ID.String()), apitest.APIKey(w.bStd),
		apitest.JSON(map[string]any{"status": "active", "referralInstructions": mxRelNotes}))
	mxDo(t, h, http.StatusCreated, "PUT", apitest.Path(mxPub+"/network/outbound", w.a.ID.String()), apitest.APIKey(w.bStd))
	mxDo(t, h, http.StatusOK, "PATCH", apitest.Path(mxPub+"/network/inbound", w.b.ID.String()), apitest.APIKey(aStd),
		apitest.JSON(map[string]any{"status": "active"}))

	// A's case, referred to B.
	r := mxDo(t, h, http.StatusCreated, "POST", mxPub+"/sent-cases", apitest.APIKey(aStd), apitest.JSON(map[string]any{
		"title": mxCaseTitle, "caseType": "Personal Injury", "jurisdiction": "WA", "description": mxCaseDesc,
		"clientFirstName": mxClientFirst, "clientLastName": mxClientLast, "clientEmail": mxClientEmail,
		"salesforceId": mxSalesforceID, "referentFirmId": w.b.ID.String(),
	}))
	w.caseID, w.caseRef = mxGet(t, r.Body, "data.id"), mxGet(t, r.Body, "data.referenceNumber")
	r = mxDo(t, h, http.StatusOK, "GET", apitest.Path(mxPub+"/cases", w.caseID, "referrals"), apitest.APIKey(aStd))
	w.referralID, w.referralRef = mxGet(t, r.Body, "data.0.id"), mxGet(t, r.Body, "data.0.referenceNumber")
	mxDo(t, h, http.StatusOK, "POST", apitest.Path(mxPub+"/received-referrals", w.referralID, "acknowledge"), apitest.APIKey(w.bStd))
	mxDo(t, h, http.StatusOK, "PUT", apitest.Path(mxPub+"/referrals", w.referralID), apitest.APIKey(w.bStd),
		apitest.JSON(map[string]any{"notes": mxReferralNotes}))
	mxDo(t, h, http.StatusCreated, "POST", mxPub+"/messages/send", apitest.APIKey(aStd),
		apitest.JSON(map[string]any{"id": w.caseID, "message": mxMessage}))

	// B's case, referred to A.
	r = mxDo(t, h, http.StatusCreated, "POST", mxPub+"/sent-cases", apitest.APIKey(w.bStd), apitest.JSON(map[string]any{
		"title": mxRecvTitle, "caseType": "Personal Injury", "jurisdiction": "WA",
		"clientFirstName": mxRecvFirst, "clientLastName": mxRecvLast, "referentFirmId": w.a.ID.String(),
	}))
	w.recvCaseID = mxGet(t, r.Body, "data.id")
	r = mxDo(t, h, http.StatusOK, "GET", mxPub+"/received-referrals", apitest.APIKey(aStd))
	w.recvID = mxGet(t, r.Body, "data.0.id")

	// Fees: A proposes a fee agreement on its referral to B; a second case of A's is
	// closed won by B, which records a ledger entry (waiting for an agreement).
	mxDo(t, h, http.StatusOK, "POST", apitest.Path(mxPub+"/referrals", w.referralID, "fee-agreement", "versions"), apitest.APIKey(aStd),
		apitest.JSON(map[string]any{"basis": "proportional", "referringFirmPercentage": 33.33, "receivingFirmPercentage": 66.67, "clientContingencyPercentage": 33.33}))
	r = mxDo(t, h, http.StatusCreated, "POST", mxPub+"/sent-cases", apitest.APIKey(aStd), apitest.JSON(map[string]any{
		"title": mxCaseTitle + " (fees)", "caseType": "Personal Injury", "jurisdiction": "WA",
		"clientFirstName": mxClientFirst, "clientLastName": mxClientLast, "referentFirmId": w.b.ID.String(),
	}))
	feeCase := mxGet(t, r.Body, "data.id")
	for _, action := range []string{"acknowledge", "begin-investigating"} {
		mxDo(t, h, http.StatusOK, "POST", apitest.Path(mxPub+"/received-referrals", feeCase, action), apitest.APIKey(w.bStd))
	}
	mxDo(t, h, http.StatusOK, "POST", apitest.Path(mxPub+"/referrals", feeCase, "close"), apitest.APIKey(h.Key(w.b, apitest.Full)),
		apitest.JSON(map[string]any{"closingStatus": "won_settled", "attorneyFees": 12000.5}))
	r = mxDo(t, h, http.StatusOK, "GET", mxPub+"/fees/ledger", apitest.APIKey(aStd))
	w.feeEntryID = mxGet(t, r.Body, "data.0.id")

	// A document on A's case and a signed link to it.
	r = mxDo(t, h, http.StatusCreated, "POST", apitest.Path(mxPub+"/cases", w.caseID, "documents"), apitest.APIKey(aStd),
		mxFile(h, "file", mxDocName, "application/pdf", mxPDF).opt())
	w.docID = mxGet(t, r.Body, "data.id")
	r = mxDo(t, h, http.StatusOK, "GET", apitest.Path(mxPub+"/cases", w.caseID, "documents", w.docID, "download"), apitest.APIKey(aStd))
	link := mxGet(t, r.Body, "data.url")
	i := strings.Index(link, storage.DownloadPath)
	require.GreaterOrEqual(t, i, 0, link)
	w.downloadToken = link[i+len(storage.DownloadPath):]

	// Routing rule, user, medical referral, notification e-mail.
	r = mxDo(t, h, http.StatusCreated, "POST", mxPub+"/routing/rules", apitest.APIKey(aFull),
		apitest.JSON(map[string]any{"name": mxRuleName, "targetFirmId": w.b.ID.String()}))
	w.ruleID = mxGet(t, r.Body, "data.id")
	r = mxDo(t, h, http.StatusCreated, "POST", mxPub+"/users", apitest.APIKey(aFull),
		apitest.JSON(map[string]any{"email": mxUserEmail, "firstName": mxUserFirst, "lastName": mxUserLast}))
	w.userID = mxGet(t, r.Body, "data.id")
	r = mxDo(t, h, http.StatusCreated, "POST", mxPub+"/medical-referrals", apitest.APIKey(aStd),
		apitest.JSON(map[string]any{"caseId": w.caseID, "providerName": mxProvider, "injuryDescription": mxMedicalInjury}))
	w.medicalID = mxGet(t, r.Body, "data.id")
	job := mxFile(h, "file", "a.csv", "text/csv",
		[]byte("title,caseType,jurisdiction,clientFirstName,clientLastName\nAlpha job,Personal Injury,WA,Al,Alpha\n"))
	r = mxDo(t, h, http.StatusAccepted, "POST", mxPub+"/import/cases?async=true", apitest.APIKey(w.aKey[apitest.Full]), job.opt())
	w.importJobID = mxGet(t, r.Body, "data.id")
	r = h.Do("POST", mxPub+"/notifications/emails", apitest.APIKey(aFull), apitest.JSON(map[string]any{"email": mxNotifyEmail}))
	require.Contains(t, []int{http.StatusOK, http.StatusCreated}, r.StatusCode, string(r.Body))

	// Webhook subscription in echo mode, with one delivery.
	r = mxDo(t, h, http.StatusCreated, "POST", mxPub+"/webhooks", apitest.APIKey(aStd),
		apitest.JSON(map[string]any{"url": mxHookURL, "description": mxHookDesc}))
	w.hookID = mxGet(t, r.Body, "data.id")
	r = mxDo(t, h, http.StatusOK, "POST", apitest.Path(mxPub+"/webhooks", w.hookID, "echo", "enable"), apitest.APIKey(aStd))
	w.echoToken = mxGet(t, r.Body, "data.echoToken")
	mxDo(t, h, http.StatusOK, "POST", apitest.Path(mxPub+"/webhooks", w.hookID, "test"), apitest.APIKey(aStd))
	r = mxDo(t, h, http.StatusOK, "GET", apitest.Path(mxPub+"/webhooks", w.hookID, "deliveries"), apitest.APIKey(aStd))
	w.deliveryID = mxGet(t, r.Body, "data.0.id")

	// Internal API: A's admin session and a key A created; C's sessions of every kind.
	w.aToken = mxLogin(t, h, w.a.Admin.Email, w.a.Admin.Password, mxSessionUA)
	r = mxDo(t, h, http.StatusOK, "GET", "/api/v1/auth/sessions", apitest.Bearer(w.aToken))
	w.sessionID = mxGet(t, r.Body, "data.0.id")
	r = mxDo(t, h, http.StatusCreated, "POST", "/api/v1/public-api-keys", apitest.Bearer(w.aToken),
		apitest.JSON(map[string]any{"name": mxKeyName, "tier": "STANDARD"}))
	w.keyID = mxGet(t, r.Body, "data.id")
	r = mxDo(t, h, http.StatusCreated, "POST", "/api/v1/integrations/salesforce/tokens", apitest.Bearer(w.aToken),
		apitest.JSON(map[string]any{"name": mxSFTokenName}))
	w.sfTokenID = mxGet(t, r.Body, "data.id")

	w.cToken = mxLogin(t, h, w.c.Admin.Email, w.c.Admin.Password, "Cobalt-Agent/1.0")
	w.cLogoutToken = mxLogin(t, h, w.c.Admin.Email, w.c.Admin.Password, "Cobalt-Agent/1.0")
	w.cRevokedToken = mxLogin(t, h, w.c.Admin.Email, w.c.Admin.Password, "Cobalt-Agent/1.0")
	mxDo(t, h, http.StatusOK, "POST", "/api/v1/auth/logout", apitest.Bearer(w.cRevokedToken))
	member := h.NewUser(w.c, auth.RoleMember)
	w.cMemberToken = mxLogin(t, h, member.Email, member.Password, "Cobalt-Agent/1.0")
	r = mxDo(t, h, http.StatusCreated, "POST", "/api/v1/public-api-keys", apitest.Bearer(w.cToken),
		apitest.JSON(map[string]any{"name": "soon revoked", "tier": "FULL"}))
	w.cRevokedKey = mxGet(t, r.Body, "data.plainKey")
	mxDo(t, h, http.StatusNoContent, "DELETE", apitest.Path("/api/v1/public-api-keys", mxGet(t, r.Body, "data.id")), apitest.Bearer(w.cToken))

	// C has a partner and a case of its own, so its lists are not trivially empty.
	dStd := h.Key(w.d, apitest.Standard)
	mxDo(t, h, http.StatusCreated, "PUT", apitest.Path(mxPub+"/network/outbound", w.d.ID.String()), apitest.APIKey(w.cKey[apitest.Standard]))
	mxDo(t, h, http.StatusOK, "PATCH", apitest.Path(mxPub+"/network/inbound", w.c.ID.String()), apitest.APIKey(dStd),
		apitest.JSON(map[string]any{"status": "active"}))
	mxDo(t, h, http.StatusCreated, "POST", mxPub+"/sent-cases", apitest.APIKey(w.cKey[apitest.Standard]), apitest.JSON(map[string]any{
		"title": "Cobalt own matter", "caseType": "Personal Injury", "jurisdiction": "WA",
		"clientFirstName": "Cora", "clientLastName": "Cobalt",
	}))

	w.markers = []string{
		// Not mxSalesforceID: external ids are the client's own, and C's import reuses it on
		// purpose (its case gets it; A's must not change).
		mxCaseTitle, mxClientFirst, mxClientLast, mxClientEmail, mxCaseDesc,
		mxRecvTitle, mxRecvFirst, mxRecvLast, mxDocName, mxRuleName, mxUserEmail, mxUserLast,
		mxProvider, mxNotifyEmail, mxKeyName, mxSFTokenName, mxHookURL, mxHookDesc, mxRelDesc, mxRelNotes, mxMessage,
		mxReferralNotes, mxMedicalInjury, mxSessionUA,
		w.caseID, w.caseRef, w.referralID, w.referralRef, w.recvID, w.recvCaseID, w.docID, w.downloadToken,
		w.ruleID, w.userID, w.medicalID, w.importJobID, w.keyID, w.sfTokenID, w.sessionID, w.hookID, w.deliveryID, w.echoToken,
		w.a.Admin.Email, w.b.Admin.Email,
	}
	return w
}

// mxForm is a multipart body.
type mxForm struct {
	contentType string
	body        []byte
}

func (f mxForm) opt() apitest.Opt { return apitest.Body(f.contentType, f.body) }

// mxFile is a multipart form with one file part and optional text fields.
func mxFile(h *apitest.Harness, field, fileName, contentType string, data []byte, fields ...string) mxForm {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, fileName))
	hdr.Set("Content-Type", contentType)
	pw := mxMust(mw.CreatePart(hdr))
	mxMust(pw.Write(data))
	for i := 0; i+1 < len(fields); i += 2 {
		if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
			panic(err)
		}
	}
	if err := mw.Close(); err != nil {
		panic(err)
	}
	return mxForm{contentType: mw.FormDataContentType(), body: buf.Bytes()}
}

// leaks returns the markers found in body, leaving out those the request itself carried
// (echoing the caller's own input back is not a leak).
func (w *mxWorld) leaks(req string, body []byte) []string {
	var out []string
	for _, m := range w.markers {
		if m == "" || strings.Contains(req, m) {
			continue
		}
		if strings.Contains(string(body), m) || strings.Contains(strings.ToLower(string(body)), strings.ToLower(m)) {
			out = append(out, m)
		}
	}
	return out
}
