package httpapi_test

// Regression tests for security findings 7 and 8: what a receiving firm sees of the sending
// firm's record ids, and of the client once its referral ended before signing.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

// maskSFID is the sending firm's Salesforce id on the test case.
const maskSFID = "SF-ZEB-001"

// maskCase creates the test case (with a Salesforce id) sent to the receiving firm and returns
// the case id and its referral id.
func maskCase(t *testing.T, b *lcBundle) (caseID, refID string) {
	t.Helper()
	body := caseBody(b.recv)
	body["salesforceId"], body["salesforceObjectType"] = maskSFID, "Opportunity"
	var out api.SentCaseResponse
	b.call(t, http.StatusCreated, "POST", "/sent-cases", b.sStd, body, &out)
	return out.Data.Id.String(), referralID(out.Data)
}

// receiverViews lists every read route through which the receiving firm sees the case.
func receiverViews(caseID, refID string) []string {
	return []string{
		refPath("cases", caseID),
		"/cases",
		"/cases?view=received",
		"/received-referrals",
		refPath("received-referrals", refID),
		refPath("received-referrals", caseID),
		"/referrals",
		refPath("referrals", refID),
		refPath("cases", caseID, "referrals"),
		refPath("cases", caseID, "referrals", refID),
		"/cases/export",
		"/cases/export?view=received",
		"/status-updates",
		"/status-updates/lookup?id=" + url.QueryEscape(caseID),
		refPath("cases", caseID, "status-history"),
	}
}

// requireNoneOf requires that no view of the receiving firm contains any of secrets, and that
// none of them reports unmasked client data.
func requireNoneOf(t *testing.T, b *lcBundle, key string, views []string, secrets ...string) {
	t.Helper()
	for _, p := range views {
		r := b.call(t, http.StatusOK, "GET", p, key, nil, nil)
		body := string(r.Body)
		for _, s := range secrets {
			require.NotContains(t, body, s, "GET %s", p)
		}
	}
}

// requireExternalIDsNull requires cmsId, salesforceId and salesforceObjectType to be null (or
// absent) in the detail views of the receiving firm.
func requireExternalIDsNull(t *testing.T, b *lcBundle, key string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		r := b.call(t, http.StatusOK, "GET", p, key, nil, nil)
		var env struct {
			Data map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &env))
		for _, k := range []string{"cmsId", "salesforceId", "salesforceObjectType"} {
			require.Nil(t, env.Data[k], "GET %s: %s", p, k)
		}
	}
}

// requireExternalLookupsFail requires every flexible-id route to answer 404 to the receiving
// firm for the sender's Salesforce id.
func requireExternalLookupsFail(t *testing.T, b *lcBundle, key string) {
	t.Helper()
	for _, p := range []string{
		refPath("cases", maskSFID),
		refPath("received-referrals", maskSFID),
		refPath("referrals", maskSFID),
		refPath("cases", maskSFID, "referrals"),
		refPath("cases", maskSFID, "status-history"),
		refPath("received-referrals", maskSFID, "available-statuses"),
		"/status-updates/lookup?id=" + maskSFID,
	} {
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", p, key, nil)
	}
	b.callErr(t, http.StatusNotFound, "resource_not_found", "POST", "/messages/send", key,
		map[string]any{"id": maskSFID, "message": "Who is this?"})
}

func TestMaskSenderExternalIDs(t *testing.T) {
	t.Parallel()

	t.Run("ReceiverNeverSeesOrResolvesTheSendersRecordIDs", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		caseID, refID := maskCase(t, b)
		details := []string{
			refPath("cases", caseID), refPath("received-referrals", refID), refPath("referrals", refID),
			refPath("cases", caseID, "referrals", refID),
		}

		// Before acknowledging.
		requireNoneOf(t, b, b.rRO, receiverViews(caseID, refID), maskSFID, "Opportunity")
		requireExternalIDsNull(t, b, b.rRO, details...)
		requireExternalLookupsFail(t, b, b.rStd)

		// After acknowledging: the ids stay the sender's own (no receiver view shows them, as the
		// received-referral views and the export always did), so they resolve for it no more.
		b.call(t, http.StatusOK, "POST", refPath("received-referrals", refID, "acknowledge"), b.rStd, nil, nil)
		requireNoneOf(t, b, b.rRO, receiverViews(caseID, refID), maskSFID, "Opportunity")
		requireExternalIDsNull(t, b, b.rRO, details...)
		requireExternalLookupsFail(t, b, b.rStd)

		// The owner still finds its case by its own record id, and sees it.
		var own api.CaseResponse
		b.call(t, http.StatusOK, "GET", refPath("cases", maskSFID), b.sRO, nil, &own)
		require.Equal(t, caseID, own.Data.Id.String())
		require.Equal(t, maskSFID, *own.Data.SalesforceId)
		require.Equal(t, maskSFID, *own.Data.CmsId)
		b.call(t, http.StatusOK, "GET", refPath("sent-cases", maskSFID), b.sRO, nil, nil)
		b.call(t, http.StatusOK, "GET", "/status-updates/lookup?id="+maskSFID, b.sRO, nil, nil)
		apitest.SecurityFinding(t, 7, "receiver: 15 views null the sender's ids, 8 lookups by them 404, before and after ack")
	})

	t.Run("ReceiverWebhooksCarryNoRecordIDs", func(t *testing.T) {
		t.Parallel()
		wb, owner, recv, caseID := maskHooks(t)
		got := wb.waitFor(t, 3) // case.created, referral.sent, referral.received
		require.Len(t, got[recv], 1)
		require.NotContains(t, string(got[recv][0].raw), maskSFID)
		receivedAction(t, wb.h, wb.otherStd, caseID, "acknowledge", nil)
		got = wb.waitFor(t, 2)
		require.Len(t, got[recv], 1)
		acc := got[recv][0]
		require.Equal(t, false, acc.env["piiMasked"])
		snap := acc.env["data"].(map[string]any)["case"].(map[string]any)
		require.Equal(t, "Adaeze", snap["clientFirstName"], "unmasked after acknowledging")
		for _, k := range []string{"cmsId", "salesforceId", "salesforceObjectType"} {
			require.Contains(t, snap, k)
			require.Nil(t, snap[k], k)
		}
		require.Equal(t, maskSFID, got[owner][0].env["data"].(map[string]any)["case"].(map[string]any)["salesforceId"])
		apitest.SecurityFinding(t, 7, "")
	})
}

// hookBundle is a webhook receiver subscribed for both firms of one referred case.
type hookBundle struct {
	*whBundle
	seen int
}

type rawEvent struct {
	raw []byte
	env map[string]any
}

// waitFor waits for n more deliveries and returns them by recipient firm id.
func (b *hookBundle) waitFor(t *testing.T, n int) map[string][]rawEvent {
	t.Helper()
	reqs := b.recv.Wait(t, b.seen+n, 15*time.Second)
	fresh := reqs[b.seen : b.seen+n]
	b.seen += n
	out := map[string][]rawEvent{}
	for _, r := range fresh {
		var env map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &env))
		firm, _ := env["recipientFirmId"].(string)
		out[firm] = append(out[firm], rawEvent{raw: r.Body, env: env})
	}
	return out
}

// maskHooks subscribes both firms and sends them the test case (with a Salesforce id).
func maskHooks(t *testing.T) (b *hookBundle, owner, recv string, caseID uuid.UUID) {
	t.Helper()
	b = &hookBundle{whBundle: whSetup(t)}
	connectFirms(t, b.h, b.firm, b.other)
	for _, key := range []string{b.std, b.otherStd} {
		r := b.h.Do("POST", whPath, apitest.APIKey(key), apitest.JSON(map[string]any{"url": b.recv.URL()}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	}
	body := caseBody(b.other)
	body["salesforceId"], body["salesforceObjectType"] = maskSFID, "Opportunity"
	body["caseType"], body["jurisdiction"], body["county"] = "Personal Injury", "IL", "Cook"
	r := b.h.Do("POST", "/api/public/v1/sent-cases", apitest.APIKey(b.std), apitest.JSON(body))
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	var out api.SentCaseResponse
	r.Decode(&out)
	return b, b.firm.ID.String(), b.other.ID.String(), out.Data.Id
}

func TestMaskAfterReferralEnded(t *testing.T) {
	t.Parallel()

	// Each way a referral ends before signing, after the receiver acknowledged it.
	ends := []struct {
		name string
		end  func(t *testing.T, b *lcBundle, caseID, refID string)
	}{
		{"Rejected", func(t *testing.T, b *lcBundle, _, refID string) {
			b.call(t, http.StatusOK, "POST", refPath("received-referrals", refID, "reject"), b.rStd,
				map[string]any{"reason": "Outside our practice area"}, nil)
		}},
		{"Withdrawn", func(t *testing.T, b *lcBundle, caseID, refID string) {
			b.call(t, http.StatusOK, "POST", refPath("cases", caseID, "referrals", refID, "withdraw"), b.sStd,
				map[string]any{"reason": "Client went elsewhere"}, nil)
		}},
	}
	for _, e := range ends {
		t.Run(e.name+"ReceiverIsMaskedAgainEverywhere", func(t *testing.T) {
			t.Parallel()
			b := lcSetup(t)
			caseID, refID := maskCase(t, b)
			docs := refPath("cases", caseID, "documents")
			before := b.h.Do("GET", pub+docs, apitest.APIKey(b.rRO))
			require.NotEqual(t, http.StatusOK, before.StatusCode, "no documents before acknowledging")

			b.call(t, http.StatusOK, "POST", refPath("received-referrals", refID, "acknowledge"), b.rStd, nil, nil)
			var seen api.CaseResponse
			b.call(t, http.StatusOK, "GET", refPath("cases", caseID), b.rRO, nil, &seen)
			require.False(t, seen.Data.PiiMasked)
			require.Equal(t, "312-555-0147", *seen.Data.ClientPhone)
			var list api.CaseListResponse
			b.call(t, http.StatusOK, "GET", "/cases?search=adaeze", b.rRO, nil, &list)
			require.Len(t, list.Data.Items, 1, "an acknowledged receiver finds the client by name")

			e.end(t, b, caseID, refID)
			// The sender changes the client's phone after the referral ended.
			b.call(t, http.StatusOK, "PUT", refPath("cases", caseID), b.sStd, map[string]any{"clientPhone": "312-555-0199"}, nil)

			secrets := []string{"Adaeze", "a.okafor@example.org", "312-555-0147", "312-555-0199", "Fell on a spill", "Photos available.", `"piiMasked":false`}
			requireNoneOf(t, b, b.rRO, receiverViews(caseID, refID), secrets...)
			// The views that carry the flag (the referral views have none: they hold no client data).
			for _, p := range []string{refPath("cases", caseID), refPath("received-referrals", refID), "/cases", "/cases?view=received"} {
				r := b.call(t, http.StatusOK, "GET", p, b.rRO, nil, nil)
				require.Contains(t, string(r.Body), `"piiMasked":true`, "GET %s", p)
			}
			var recvList api.CaseListResponse // fresh: decoding reuses slice elements
			b.call(t, http.StatusOK, "GET", "/cases?search=adaeze", b.rRO, nil, &recvList)
			require.Empty(t, recvList.Data.Items, "the client's name no longer finds the case")
			require.Equal(t, 0, recvList.Pagination.Total)
			var byTitle api.CaseListResponse
			b.call(t, http.StatusOK, "GET", "/cases?search=lakeside", b.rRO, nil, &byTitle)
			require.Len(t, byTitle.Data.Items, 1, "the case itself stays listed")
			require.True(t, byTitle.Data.Items[0].PiiMasked)

			after := b.h.Do("GET", pub+docs, apitest.APIKey(b.rRO))
			require.Equal(t, before.StatusCode, after.StatusCode, "documents answer as before acknowledging: %s", after.Body)
			require.Equal(t, before.ErrorCode(), after.ErrorCode())

			// The sender keeps everything.
			var own api.CaseResponse
			b.call(t, http.StatusOK, "GET", refPath("cases", caseID), b.sRO, nil, &own)
			require.Equal(t, "312-555-0199", *own.Data.ClientPhone)
			apitest.SecurityFinding(t, 8, "%s after ack: 15 receiver views masked, name search 0 hits, documents %d as before ack", strings.ToLower(e.name), after.StatusCode)
		})
	}

	t.Run("RejectionWebhookIsMaskedForTheReceiver", func(t *testing.T) {
		t.Parallel()
		wb, owner, recv, caseID := maskHooks(t)
		wb.waitFor(t, 3)
		receivedAction(t, wb.h, wb.otherStd, caseID, "acknowledge", nil)
		wb.waitFor(t, 2)
		receivedAction(t, wb.h, wb.otherStd, caseID, "reject", map[string]any{"reason": "Outside our practice area"})
		got := wb.waitFor(t, 2)
		require.Len(t, got[recv], 1)
		rej := got[recv][0]
		require.Equal(t, "referral.rejected", rej.env["event"])
		require.Equal(t, true, rej.env["piiMasked"])
		require.NotContains(t, string(rej.raw), "Adaeze")
		require.NotContains(t, string(rej.raw), "312-555-0147")
		require.Len(t, got[owner], 1)
		require.Equal(t, false, got[owner][0].env["piiMasked"])
		apitest.SecurityFinding(t, 8, "")
	})
}
