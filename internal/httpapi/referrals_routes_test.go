package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

// ---- shared fixtures of the referral lifecycle tests ------------------------------------------

const pub = "/api/public/v1"

// lcBundle is a server with three firms: sender refers cases to recv and other (active
// network relationships in both cases); recv and other refer nothing.
type lcBundle struct {
	h                   *apitest.Harness
	sender, recv, other *apitest.Firm
	sStd, sFull, sRO    string
	rStd, rFull, rRO    string
	oStd                string
}

func lcSetup(t *testing.T) *lcBundle {
	t.Helper()
	h := apitest.New(t)
	b := &lcBundle{h: h}
	b.sender = h.NewFirm(apitest.FirmOpts{Name: "Halvorsen Injury Law"})
	b.recv = h.NewFirm(apitest.FirmOpts{Name: "Brennan Trial Group"})
	b.other = h.NewFirm(apitest.FirmOpts{Name: "Cedar Legal"})
	b.sStd, b.sFull, b.sRO = h.Key(b.sender, apitest.Standard), h.Key(b.sender, apitest.Full), h.Key(b.sender, apitest.ReadOnly)
	b.rStd, b.rFull, b.rRO = h.Key(b.recv, apitest.Standard), h.Key(b.recv, apitest.Full), h.Key(b.recv, apitest.ReadOnly)
	b.oStd = h.Key(b.other, apitest.Standard)
	b.relate(t, b.sender, b.recv)
	b.relate(t, b.sender, b.other)
	return b
}

// relate makes an active relationship in which from refers cases to to.
func (b *lcBundle) relate(t *testing.T, from, to *apitest.Firm) {
	t.Helper()
	_, err := b.h.Pool.Exec(context.Background(),
		`INSERT INTO network_relationships (from_firm_id, to_firm_id, status) VALUES ($1, $2, 'active')
		 ON CONFLICT (from_firm_id, to_firm_id) DO UPDATE SET status = 'active'`, from.ID, to.ID)
	require.NoError(t, err)
}

// call sends a Public API request (path relative to /api/public/v1), requires the status and
// decodes the body into out when given.
func (b *lcBundle) call(t *testing.T, want int, method, path, key string, body, out any) *apitest.Response {
	t.Helper()
	opts := []apitest.Opt{apitest.APIKey(key)}
	if body != nil {
		opts = append(opts, apitest.JSON(body))
	}
	r := b.h.Do(method, pub+path, opts...)
	require.Equal(t, want, r.StatusCode, "%s %s: %s", method, path, r.Body)
	if out != nil {
		r.Decode(out)
	}
	return r
}

// callErr sends a request that must fail with status and error code.
func (b *lcBundle) callErr(t *testing.T, want int, code, method, path, key string, body any) *apitest.Response {
	t.Helper()
	r := b.call(t, want, method, path, key, body, nil)
	require.Equal(t, code, r.ErrorCode(), "%s %s: %s", method, path, r.Body)
	return r
}

func caseBody(to *apitest.Firm) map[string]any {
	body := map[string]any{
		"title": "Okafor v. Lakeside Grocers", "description": "Fell on a spill; wrist fracture.",
		"caseType": "Personal Injury", "jurisdiction": "IL", "county": "Cook",
		"clientFirstName": "Adaeze", "clientLastName": "Okafor", "clientEmail": "a.okafor@example.org",
		"clientPhone": "312-555-0147", "clientDateOfBirth": "1979-08-30", "incidentDate": "2026-02-21",
		"tier": 3, "source": "Radio ad", "notes": "Photos available.",
	}
	if to != nil {
		body["referentFirmId"] = to.ID.String()
	}
	return body
}

// sentCase creates a case through POST /sent-cases, sent at once to `to` (draft when nil).
func (b *lcBundle) sentCase(t *testing.T, to *apitest.Firm) api.SentCaseDetail {
	t.Helper()
	var out api.SentCaseResponse
	b.call(t, http.StatusCreated, "POST", "/sent-cases", b.sStd, caseBody(to), &out)
	return out.Data
}

// signedCase sends a case to b.recv, which acknowledges and signs it: three feed entries.
func (b *lcBundle) signedCase(t *testing.T) api.SentCaseDetail {
	t.Helper()
	c := b.sentCase(t, b.recv)
	rp := refPath("referrals", referralID(c))
	b.call(t, http.StatusOK, "POST", rp+"/acknowledge", b.rStd, nil, nil)
	b.call(t, http.StatusOK, "POST", rp+"/sign", b.rStd, nil, nil)
	return c
}

// referralID is the id of the latest referral of a sent case.
func referralID(c api.SentCaseDetail) string {
	return c.Referrals[len(c.Referrals)-1].Id.String()
}

func refPath(parts ...string) string { return apitest.Path("", parts...) }

// ---- the referral route families --------------------------------------------------------------

func TestReferralRoutes(t *testing.T) {
	t.Parallel()

	t.Run("DraftSentThroughNestedRouteAndWalkedThroughTopLevel", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		var created api.CaseResponse
		b.call(t, http.StatusCreated, "POST", "/cases", b.sStd, caseBody(nil), &created)
		c := created.Data
		require.Equal(t, api.ReferralStatus("draft"), c.Status)
		require.NotNil(t, c.CurrentReferralId, "POST /cases creates referral #1 as a draft")
		rid := c.CurrentReferralId.String()
		nested := refPath("cases", c.Id.String(), "referrals", rid)

		var ref api.ReferralResponse
		b.call(t, http.StatusOK, "GET", nested, b.sRO, nil, &ref)
		require.Equal(t, 1, ref.Data.SequenceNumber)
		require.Nil(t, ref.Data.ReferentFirmId)
		require.Equal(t, c.ReferenceNumber+"-R1", ref.Data.ReferenceNumber)

		// The future receiver cannot see the draft at all.
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", refPath("referrals", rid), b.rRO, nil)
		// Sending validates the body first, then the firm.
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", nested+"/send", b.sStd, map[string]any{"referentFirmId": b.sender.ID})
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", nested+"/send", b.sStd, map[string]any{"referentFirmId": uuid.New()})
		stranger := b.h.NewFirm(apitest.FirmOpts{})
		b.callErr(t, http.StatusConflict, "conflict", "POST", nested+"/send", b.sStd, map[string]any{"referentFirmId": stranger.ID})

		b.call(t, http.StatusOK, "POST", nested+"/send", b.sStd, map[string]any{"referentFirmId": b.recv.ID}, &ref)
		require.Equal(t, api.ReferralStatus("sent"), ref.Data.Status)
		require.NotNil(t, ref.Data.SentAt)
		require.Equal(t, b.recv.ID, *ref.Data.ReferentFirmId)
		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "POST", nested+"/send", b.sStd, map[string]any{"referentFirmId": b.other.ID})

		top := refPath("referrals", rid)
		b.call(t, http.StatusOK, "GET", top, b.rRO, nil, &ref)
		require.Nil(t, ref.Data.Notes, "notes are withheld until acknowledged")
		b.call(t, http.StatusOK, "POST", top+"/acknowledge", b.rStd, nil, &ref)
		require.Equal(t, api.ReferralStatus("under_evaluation"), ref.Data.Status)
		require.NotNil(t, ref.Data.AcknowledgedAt)
		b.call(t, http.StatusOK, "POST", nested+"/begin-investigating", b.rStd, nil, &ref)
		b.call(t, http.StatusOK, "POST", top+"/sign", b.rStd, nil, &ref)
		require.True(t, ref.Data.IsRetainerSigned)
		b.call(t, http.StatusOK, "POST", nested+"/start-litigation", b.rStd, nil, &ref)
		require.Equal(t, api.ReferralStatus("in_litigation"), ref.Data.Status)
		closeBody := map[string]any{"closingStatus": "won_settled", "closureReason": "Settlement reached", "settlementAmount": 75000, "attorneyFees": 25000}
		b.callErr(t, http.StatusForbidden, "insufficient_tier", "POST", top+"/close", b.rStd, closeBody)
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", top+"/close", b.rFull, map[string]any{"closingStatus": "won"})
		b.call(t, http.StatusOK, "POST", top+"/close", b.rFull, closeBody, &ref)
		require.Equal(t, api.ReferralStatus("closed"), ref.Data.Status)
		require.Equal(t, api.ReferralClosingStatus("won_settled"), *ref.Data.ClosingStatus)
		require.Equal(t, 75000.0, *ref.Data.SettlementAmount)

		var hist api.ReferralStatusHistoryResponse
		b.call(t, http.StatusOK, "GET", nested+"/status-history", b.sRO, nil, &hist)
		statuses := []api.ReferralStatus{}
		for _, e := range hist.Data {
			statuses = append(statuses, e.Status)
			require.Equal(t, api.ReferralStatusHistoryEntrySource("api"), e.Source)
			require.False(t, e.IsMessage)
		}
		require.Equal(t, []api.ReferralStatus{"sent", "under_evaluation", "investigating", "signed", "in_litigation", "closed"}, statuses)
		var hist2 api.ReferralStatusHistoryResponse
		b.call(t, http.StatusOK, "GET", top+"/status-history", b.rRO, nil, &hist2)
		require.Equal(t, hist.Data, hist2.Data, "both firms and both route families read the same history")
	})

	t.Run("WrongSideGetsPermissionDeniedAndStrangersNotFound", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		top := refPath("referrals", referralID(c))
		nested := refPath("cases", c.Id.String(), "referrals", referralID(c))
		for _, p := range []string{top, nested} {
			b.callErr(t, http.StatusForbidden, "permission_denied", "POST", p+"/acknowledge", b.sStd, nil)
			b.callErr(t, http.StatusForbidden, "permission_denied", "POST", p+"/reject", b.sStd, map[string]any{"reason": "no"})
			b.callErr(t, http.StatusForbidden, "permission_denied", "POST", p+"/withdraw", b.rStd, map[string]any{"reason": "no"})
			b.callErr(t, http.StatusForbidden, "permission_denied", "POST", p+"/send", b.rStd, map[string]any{"referentFirmId": b.other.ID})
			b.callErr(t, http.StatusForbidden, "permission_denied", "DELETE", p, b.rFull, nil)
			b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", p, b.oStd, nil)
			b.callErr(t, http.StatusNotFound, "resource_not_found", "POST", p+"/acknowledge", b.oStd, nil)
		}
		// A referral of another case under this case's path is not found.
		c2 := b.sentCase(t, b.recv)
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", refPath("cases", c2.Id.String(), "referrals", referralID(c)), b.sRO, nil)
		// reason is checked before anything else, and required non-blank.
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", top+"/reject", b.oStd, map[string]any{"reason": "  "})
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", top+"/withdraw", b.sStd, map[string]any{})
	})

	t.Run("EveryDisallowedTransitionIsRefused", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		type step struct {
			path, key string
			body      any
		}
		ack := step{"/acknowledge", b.rStd, nil}
		inv := step{"/begin-investigating", b.rStd, nil}
		sign := step{"/sign", b.rStd, nil}
		lit := step{"/start-litigation", b.rStd, nil}
		closing := step{"closing", b.rStd, nil}
		closeS := step{"/close", b.rFull, map[string]any{"closingStatus": "lost"}}
		reject := step{"/reject", b.rStd, map[string]any{"reason": "Out of area"}}
		withdraw := step{"/withdraw", b.sStd, map[string]any{"reason": "Client left"}}
		// How to reach each status from sent, and which receiver/sender actions it allows.
		reach := map[string][]step{
			"sent": {}, "under_evaluation": {ack}, "investigating": {ack, inv}, "signed": {ack, sign},
			"in_litigation": {ack, sign, lit}, "closing": {ack, sign, closing}, "closed": {ack, inv, closeS},
			"rejected": {reject}, "withdrawn": {withdraw},
		}
		allowed := map[string]map[string]bool{
			"sent":             {"/acknowledge": true, "/reject": true, "/withdraw": true},
			"under_evaluation": {"/begin-investigating": true, "/sign": true, "/reject": true, "/withdraw": true},
			"investigating":    {"/sign": true, "/close": true, "/reject": true},
			"signed":           {"/start-litigation": true, "/close": true},
			"in_litigation":    {"/close": true},
			"closing":          {"/close": true},
		}
		for status, steps := range reach {
			c := b.sentCase(t, b.recv)
			rp := refPath("referrals", referralID(c))
			for _, s := range steps {
				if s.path == "closing" {
					b.call(t, http.StatusOK, "POST", refPath("cases", c.Id.String(), "status"), s.key, map[string]any{"status": "closing"}, nil)
					continue
				}
				b.call(t, http.StatusOK, "POST", rp+s.path, s.key, s.body, nil)
			}
			var ref api.ReferralResponse
			b.call(t, http.StatusOK, "GET", rp, b.sRO, nil, &ref)
			require.Equal(t, api.ReferralStatus(status), ref.Data.Status)
			for _, s := range []step{ack, inv, sign, lit, closeS, reject, withdraw} {
				if allowed[status][s.path] {
					continue
				}
				r := b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "POST", rp+s.path, s.key, s.body)
				require.Contains(t, string(r.Body), `status \"`+status+`\"`)
			}
			b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "POST", rp+"/send", b.sStd, map[string]any{"referentFirmId": b.other.ID})
			b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "DELETE", rp, b.sFull, nil)
		}
	})

	t.Run("DeleteRemovesOnlyDrafts", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		var created api.CaseResponse
		b.call(t, http.StatusCreated, "POST", "/cases", b.sStd, caseBody(nil), &created)
		rp := refPath("cases", created.Data.ReferenceNumber, "referrals", created.Data.CurrentReferralId.String())
		b.callErr(t, http.StatusForbidden, "insufficient_tier", "DELETE", rp, b.sStd, nil)
		b.call(t, http.StatusNoContent, "DELETE", rp, b.sFull, nil, nil)
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", rp, b.sRO, nil)
		var c api.CaseResponse
		b.call(t, http.StatusOK, "GET", refPath("cases", created.Data.Id.String()), b.sRO, nil, &c)
		require.Equal(t, api.ReferralStatus("draft"), c.Data.Status)
		require.Nil(t, c.Data.CurrentReferralId)
		// The case can still be referred; the new referral is #1 again.
		var sc api.SentCaseResponse
		b.call(t, http.StatusOK, "POST", refPath("sent-cases", created.Data.Id.String(), "refer"), b.sStd, map[string]any{"referentFirmId": b.recv.ID}, &sc)
		require.Equal(t, 1, sc.Data.Referrals[0].SequenceNumber)
	})

	t.Run("UpdateFollowsFieldOwnership", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		rp := refPath("referrals", referralID(c))
		b.callErr(t, http.StatusBadRequest, "validation_error", "PUT", rp, b.sStd, map[string]any{})
		b.callErr(t, http.StatusBadRequest, "validation_error", "PUT", rp, b.sStd, map[string]any{"clientFeeAgreementPercentage": 33})
		b.callErr(t, http.StatusBadRequest, "validation_error", "PUT", rp, b.sStd, map[string]any{"sendingFirmPercentage": 101})
		b.callErr(t, http.StatusForbidden, "permission_denied", "PUT", rp, b.sStd, map[string]any{"notes": "mine"})
		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "PUT", rp, b.rStd, map[string]any{"phase": "intake"})
		var ref api.ReferralResponse
		b.call(t, http.StatusOK, "PUT", rp, b.sStd, map[string]any{"sendingFirmPercentage": 25}, &ref)
		require.Equal(t, 25.0, *ref.Data.SendingFirmPercentage)
		b.call(t, http.StatusOK, "POST", rp+"/acknowledge", b.rStd, nil, nil)
		b.call(t, http.StatusOK, "PUT", refPath("cases", c.Id.String(), "referrals", referralID(c)), b.rStd,
			map[string]any{"notes": "Updated via API", "phase": "investigation", "clientFeeAgreementPercentage": 0.33,
				"estimatedDateOfResolution": "2027-01-15"}, &ref)
		require.Equal(t, "Updated via API", *ref.Data.Notes)
		require.Equal(t, "2027-01-15", ref.Data.EstimatedDateOfResolution.String())
		b.call(t, http.StatusOK, "POST", rp+"/reject", b.rStd, map[string]any{"reason": "Conflict of interest"}, nil)
		b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "PUT", rp, b.rStd, map[string]any{"phase": "done"})
	})

	t.Run("ReReferralsAreNumberedAndReceiversSeeOnlyTheirOwn", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		b.call(t, http.StatusOK, "POST", refPath("referrals", referralID(c), "withdraw"), b.sStd, map[string]any{"reason": "Client moved"}, nil)
		var sc api.SentCaseResponse
		b.call(t, http.StatusOK, "POST", refPath("sent-cases", c.Id.String(), "refer"), b.sStd, map[string]any{"referentFirmId": b.other.ID}, &sc)
		require.Len(t, sc.Data.Referrals, 2)
		require.Equal(t, 2, sc.Data.Referrals[1].SequenceNumber)
		require.Equal(t, api.LifecycleStatus("withdrawn"), sc.Data.Referrals[0].Status)
		// Back to the first firm: allowed again, its earlier referral having ended.
		b.call(t, http.StatusOK, "POST", refPath("sent-cases", c.Id.String(), "refer"), b.sStd, map[string]any{"referentFirmId": b.recv.ID}, &sc)
		require.Equal(t, 3, sc.Data.Referrals[2].SequenceNumber)
		require.Equal(t, *c.ReferenceNumber+"-R3", *sc.Data.Referrals[2].ReferenceNumber)

		var list api.ReferralListResponse
		b.call(t, http.StatusOK, "GET", refPath("cases", c.Id.String(), "referrals"), b.sRO, nil, &list)
		require.Len(t, list.Data, 3)
		for i, r := range list.Data {
			require.Equal(t, i+1, r.SequenceNumber)
		}
		b.call(t, http.StatusOK, "GET", refPath("cases", c.Id.String(), "referrals"), b.rRO, nil, &list)
		require.Len(t, list.Data, 2, "the first receiver sees referrals #1 and #3 only")
		b.call(t, http.StatusOK, "GET", refPath("cases", *c.ReferenceNumber, "referrals"), b.oStd, nil, &list)
		require.Len(t, list.Data, 1)
		require.Equal(t, 2, list.Data[0].SequenceNumber)
		b.call(t, http.StatusOK, "GET", "/referrals", b.rRO, nil, &list)
		require.Len(t, list.Data, 2)
		b.call(t, http.StatusOK, "GET", "/referrals?status=withdrawn", b.sRO, nil, &list)
		require.Len(t, list.Data, 1)
		b.callErr(t, http.StatusBadRequest, "validation_error", "GET", "/referrals?status=bogus", b.sRO, nil)

		// A case id on the referral routes selects the caller's newest referral of the case.
		var ref api.ReferralResponse
		b.call(t, http.StatusOK, "GET", refPath("referrals", c.Id.String()), b.oStd, nil, &ref)
		require.Equal(t, 2, ref.Data.SequenceNumber)
		b.call(t, http.StatusOK, "GET", refPath("referrals", *c.ReferenceNumber), b.sRO, nil, &ref)
		require.Equal(t, 3, ref.Data.SequenceNumber)
		b.call(t, http.StatusOK, "GET", refPath("referrals", *c.ReferenceNumber+"-R1"), b.rRO, nil, &ref)
		require.Equal(t, 1, ref.Data.SequenceNumber)
	})

	t.Run("RacingAcknowledgementsHaveExactlyOneWinner", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		path := pub + refPath("referrals", referralID(c), "acknowledge")
		const n = 20
		codes := make([]int, n)
		errCodes := make([]string, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := b.h.Do("POST", path, apitest.APIKey(b.rStd))
				codes[i], errCodes[i] = r.StatusCode, r.ErrorCode()
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, code := range codes {
			switch code {
			case http.StatusOK:
				wins++
			case http.StatusConflict:
				require.Equal(t, "conflict", errCodes[i])
			case http.StatusBadRequest:
				require.Equal(t, "invalid_state_transition", errCodes[i])
			default:
				t.Fatalf("unexpected status %d", code)
			}
		}
		require.Equal(t, 1, wins)
		var hist api.ReferralStatusHistoryResponse
		b.call(t, http.StatusOK, "GET", refPath("referrals", referralID(c), "status-history"), b.sRO, nil, &hist)
		require.Len(t, hist.Data, 2)
	})
}
