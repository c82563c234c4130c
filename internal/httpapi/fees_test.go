package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/webhooks/webhookstest"
)

// The fee agreement and ledger story over HTTP, from both firms.

const feeBase = "/api/public/v1"

type feeBundle struct {
	h                      *apitest.Harness
	a, b, c                *apitest.Firm // a refers to b; c is a stranger
	aStd, aFull, bStd, bRO string
	bFull, cStd            string
	recv                   *webhookstest.Receiver
}

func feeSetup(t *testing.T, hooks bool) *feeBundle {
	t.Helper()
	h := apitest.New(t)
	f := &feeBundle{h: h}
	f.a = h.NewFirm(apitest.FirmOpts{Name: "Harborview Referral Law"})
	f.b = h.NewFirm(apitest.FirmOpts{Name: "Lakeshore Trial Lawyers"})
	f.c = h.NewFirm(apitest.FirmOpts{Name: "Outsider Legal"})
	f.aStd, f.aFull = h.Key(f.a, apitest.Standard), h.Key(f.a, apitest.Full)
	f.bStd, f.bRO, f.bFull = h.Key(f.b, apitest.Standard), h.Key(f.b, apitest.ReadOnly), h.Key(f.b, apitest.Full)
	f.cStd = h.Key(f.c, apitest.Standard)
	connectFirms(t, h, f.a, f.b)
	if hooks {
		f.recv = webhookstest.NewReceiver(t)
		webhookstest.Trust(h.App.Server.Webhooks, f.recv, nil)
		require.NoError(t, h.App.Jobs.Start(context.WithoutCancel(t.Context())))
		events := []string{"fee_agreement.proposed", "fee_agreement.accepted", "fee_agreement.amended", "fee_consent.recorded",
			"fee.due", "fee.payment_recorded", "fee.paid"}
		for _, k := range []string{f.aStd, f.bStd} {
			r := h.Do("POST", whPath, apitest.APIKey(k), apitest.JSON(map[string]any{"url": f.recv.URL(), "events": events}))
			require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		}
	}
	return f
}

// referral makes a case of a in jurisdiction, sent to b and acknowledged and investigated by b.
func (f *feeBundle) referral(t *testing.T, jurisdiction string) string {
	t.Helper()
	caseID := newCase(t, f.h, f.aStd, &f.b.ID, map[string]any{"jurisdiction": jurisdiction})
	receivedAction(t, f.h, f.bStd, caseID, "acknowledge", nil)
	receivedAction(t, f.h, f.bStd, caseID, "begin-investigating", nil)
	return caseID.String()
}

func (f *feeBundle) agreement(t *testing.T, key, ref string) api.FeeAgreement {
	t.Helper()
	r := f.h.Do("GET", apitest.Path(feeBase+"/referrals", ref, "fee-agreement"), apitest.APIKey(key))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var out api.FeeAgreementResponse
	r.Decode(&out)
	return out.Data
}

func (f *feeBundle) propose(t *testing.T, key, ref string, body map[string]any, want int) api.FeeAgreement {
	t.Helper()
	r := f.h.Do("POST", apitest.Path(feeBase+"/referrals", ref, "fee-agreement", "versions"), apitest.APIKey(key), apitest.JSON(body))
	require.Equal(t, want, r.StatusCode, string(r.Body))
	var out api.FeeAgreementResponse
	r.Decode(&out)
	return out.Data
}

func (f *feeBundle) accept(t *testing.T, key, ref string, version string, want int) api.FeeAgreement {
	t.Helper()
	r := f.h.Do("POST", apitest.Path(feeBase+"/referrals", ref, "fee-agreement", "versions", version, "accept"), apitest.APIKey(key))
	require.Equal(t, want, r.StatusCode, string(r.Body))
	var out api.FeeAgreementResponse
	r.Decode(&out)
	return out.Data
}

func (f *feeBundle) consent(t *testing.T, key, ref string, body map[string]any, want int) api.FeeAgreement {
	t.Helper()
	r := f.h.Do("POST", apitest.Path(feeBase+"/referrals", ref, "fee-agreement", "consents"), apitest.APIKey(key), apitest.JSON(body))
	require.Equal(t, want, r.StatusCode, string(r.Body))
	var out api.FeeAgreementResponse
	r.Decode(&out)
	return out.Data
}

func (f *feeBundle) closeWon(t *testing.T, ref string, fees float64) {
	t.Helper()
	r := f.h.Do("POST", apitest.Path(feeBase+"/referrals", ref, "close"), apitest.APIKey(f.bFull),
		apitest.JSON(map[string]any{"closingStatus": "won_settled", "attorneyFees": fees, "settlementAmount": fees * 3}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
}

func (f *feeBundle) ledger(t *testing.T, key string, query ...string) api.FeeLedgerListResponse {
	t.Helper()
	r := f.h.Do("GET", feeBase+"/fees/ledger", apitest.APIKey(key), apitest.Query(query...))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var out api.FeeLedgerListResponse
	r.Decode(&out)
	return out
}

func (f *feeBundle) entryAction(t *testing.T, key string, id uuid.UUID, action string, body map[string]any, want int) api.FeeLedgerEntry {
	t.Helper()
	opts := []apitest.Opt{apitest.APIKey(key)}
	if body != nil {
		opts = append(opts, apitest.JSON(body))
	}
	r := f.h.Do("POST", apitest.Path(feeBase+"/fees/ledger", id.String(), action), opts...)
	require.Equal(t, want, r.StatusCode, string(r.Body))
	var out api.FeeLedgerEntryResponse
	r.Decode(&out)
	return out.Data
}

func (f *feeBundle) onlyEntry(t *testing.T, key, direction string) api.FeeLedgerEntry {
	t.Helper()
	l := f.ledger(t, key, "direction", direction)
	require.Len(t, l.Data, 1)
	return l.Data[0]
}

var today = func() string { return time.Now().UTC().Format(time.DateOnly) }

func TestFeesStory(t *testing.T) {
	t.Parallel()

	t.Run("propose, counter-amend, accept, consent, close won, pay in two parts: amounts to the cent and events to both firms", func(t *testing.T) {
		t.Parallel()
		f := feeSetup(t, true)
		ref := f.referral(t, "CA")

		ag := f.agreement(t, f.bRO, ref)
		require.Empty(t, ag.Versions)
		require.Equal(t, api.FeeComplianceStatusNeedsAcceptance, ag.Compliance.Status)
		require.Equal(t, "CA", ag.Profile.Code)
		require.Equal(t, 30, *ag.Profile.ConsentDeadlineDays)

		// A proposes 40/60 at a 33.33 % contingency; B counters with 33.33/66.67.
		ag = f.propose(t, f.aStd, ref, map[string]any{"basis": "proportional", "referringFirmPercentage": 40, "receivingFirmPercentage": 60,
			"clientContingencyPercentage": 33.33}, http.StatusOK)
		require.Len(t, ag.Versions, 1)
		f.accept(t, f.aStd, ref, "1", http.StatusForbidden) // the proposer may not accept its own version
		ag = f.propose(t, f.bStd, ref, map[string]any{"basis": "proportional", "referringFirmPercentage": 33.33, "receivingFirmPercentage": 66.67,
			"clientContingencyPercentage": 33.33, "notes": "B's counter-proposal"}, http.StatusOK)
		require.Len(t, ag.Versions, 2)
		require.Equal(t, api.FeeAgreementVersionStatusSuperseded, ag.Versions[0].Status)
		require.Equal(t, api.FeeAgreementVersionStatusProposed, ag.Versions[1].Status)
		f.accept(t, f.bStd, ref, "1", http.StatusBadRequest) // replaced by version 2
		f.accept(t, f.bStd, ref, "2", http.StatusForbidden)
		ag = f.accept(t, f.aStd, ref, "2", http.StatusOK)
		require.Equal(t, 2, *ag.InForceVersion)
		v2 := ag.Versions[1]
		require.Equal(t, api.FeeAgreementVersionStatusAccepted, v2.Status)
		require.Equal(t, f.b.ID, v2.ProposedByFirmId)
		require.Equal(t, f.a.ID, *v2.AcceptedByFirmId)
		require.NotNil(t, v2.AcceptedAt)
		require.Equal(t, "33.33", v2.ReferringFirmShare)
		require.Equal(t, "66.67", v2.ReceivingFirmShare)
		require.Equal(t, api.FeeComplianceStatusNeedsClientConsent, ag.Compliance.Status)
		f.accept(t, f.bStd, ref, "2", http.StatusForbidden)

		// The referral's own fields show the accepted version, and a PATCH cannot override them.
		r := f.h.Do("PUT", apitest.Path(feeBase+"/referrals", ref), apitest.APIKey(f.bStd), apitest.JSON(map[string]any{"sendingFirmPercentage": 10}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		r = f.h.Do("GET", apitest.Path(feeBase+"/referrals", ref), apitest.APIKey(f.aStd))
		var refResp api.ReferralResponse
		r.Decode(&refResp)
		require.InDelta(t, 33.33, *refResp.Data.SendingFirmPercentage, 1e-9)
		require.InDelta(t, 0.3333, *refResp.Data.ClientFeeAgreementPercentage, 1e-9)

		// Consent on time (the referral was sent today, California allows 30 days).
		ag = f.consent(t, f.aStd, ref, map[string]any{"consentedOn": today(), "method": "written", "signerName": "Marcus Delgado"}, http.StatusOK)
		require.Equal(t, api.FeeComplianceStatusCompliant, ag.Compliance.Status, ag.Compliance.Reasons)
		require.Len(t, ag.Consents, 1)
		require.Equal(t, 2, ag.Consents[0].Version)
		// The nested route family reads the same agreement.
		caseRef := refResp.Data.BaseCaseId.String()
		r = f.h.Do("GET", apitest.Path(feeBase+"/cases", caseRef, "referrals", ref, "fee-agreement"), apitest.APIKey(f.bRO))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))

		// Close won with 100,000.05 in fees: 33.33 % is 33,330.016665, rounded half-up 33,330.02; B keeps 66,670.03.
		f.closeWon(t, ref, 100000.05)
		owed := f.onlyEntry(t, f.aStd, "owed_to_me")
		owes := f.onlyEntry(t, f.bStd, "i_owe")
		require.Equal(t, owed.Id, owes.Id, "one entry, seen from both sides")
		require.Equal(t, api.FeeLedgerStatusDue, owed.Status)
		require.Equal(t, "100000.05", owed.AttorneyFees)
		require.Equal(t, "33330.02", *owed.AmountDue)
		require.Equal(t, "33330.02", *owed.AmountOutstanding)
		require.Equal(t, time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly), owed.DueDate.Format(time.DateOnly))
		require.Equal(t, api.FeeLedgerEntryAgingBucket("current"), *owed.AgingBucket)
		require.Empty(t, f.ledger(t, f.aStd, "direction", "i_owe").Data)
		require.Empty(t, f.ledger(t, f.cStd).Data)

		// Payments: too much is refused; 10,000.00 then the remaining 23,330.02.
		f.entryAction(t, f.bStd, owed.Id, "payments", map[string]any{"amount": "33330.03", "paidOn": today(), "method": "wire"}, http.StatusBadRequest)
		f.entryAction(t, f.bRO, owed.Id, "payments", map[string]any{"amount": "1.00", "paidOn": today(), "method": "wire"}, http.StatusForbidden)
		e := f.entryAction(t, f.bStd, owed.Id, "payments", map[string]any{"amount": "10000", "paidOn": today(), "method": "check", "reference": "CHK-1001"}, http.StatusOK)
		require.Equal(t, api.FeeLedgerStatusPartiallyPaid, e.Status)
		require.Equal(t, "10000.00", e.AmountPaid)
		require.Equal(t, "23330.02", *e.AmountOutstanding)
		e = f.entryAction(t, f.aStd, owed.Id, "payments", map[string]any{"amount": "23330.02", "paidOn": today(), "method": "wire"}, http.StatusOK)
		require.Equal(t, api.FeeLedgerStatusPaid, e.Status)
		require.Equal(t, "0.00", *e.AmountOutstanding)
		require.Len(t, e.Payments, 2)
		require.Nil(t, e.AgingBucket)
		f.entryAction(t, f.bStd, owed.Id, "payments", map[string]any{"amount": "0.01", "paidOn": today(), "method": "wire"}, http.StatusBadRequest)
		require.Len(t, f.ledger(t, f.aStd, "status", "paid").Data, 1)
		require.Empty(t, f.ledger(t, f.aStd, "status", "due").Data)
		require.Len(t, f.ledger(t, f.bStd, "direction", "i_owe", "partnerFirmId", f.a.ID.String()).Data, 1)
		require.Empty(t, f.ledger(t, f.bStd, "direction", "i_owe", "partnerFirmId", f.c.ID.String()).Data)

		// The stranger sees none of it.
		r = f.h.Do("GET", apitest.Path(feeBase+"/referrals", ref, "fee-agreement"), apitest.APIKey(f.cStd))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		r = f.h.Do("GET", apitest.Path(feeBase+"/fees/ledger", owed.Id.String()), apitest.APIKey(f.cStd))
		require.Equal(t, http.StatusNotFound, r.StatusCode)

		// Events: 8 facts (proposed, amended, accepted, consent, due, payment, payment + paid), each to both firms.
		reqs := f.recv.Wait(t, 16, 20*time.Second)
		got := hookEvents(t, reqs)
		want := []string{"fee_agreement.proposed", "fee_agreement.amended", "fee_agreement.accepted", "fee_consent.recorded",
			"fee.due", "fee.payment_recorded", "fee.payment_recorded", "fee.paid"}
		for _, firm := range []uuid.UUID{f.a.ID, f.b.ID} {
			require.ElementsMatch(t, want, eventTypesOf(got[firm.String()]), "events of %s", firm)
			for _, ev := range got[firm.String()] {
				if ev.Type == "fee.due" {
					require.Equal(t, "33330.02", ev.data()["amountDue"])
				}
			}
		}
	})

	t.Run("consent after the profile's deadline is consent_late; a signed-consent profile refuses a merely written one", func(t *testing.T) {
		t.Parallel()
		f := feeSetup(t, false)
		ref := f.referral(t, "CA")
		f.propose(t, f.aStd, ref, map[string]any{"basis": "joint_responsibility", "referringFirmPercentage": 25, "receivingFirmPercentage": 75, "clientContingencyPercentage": 40}, http.StatusOK)
		f.accept(t, f.bStd, ref, "1", http.StatusOK)
		// The referral was sent 45 days ago.
		_, err := f.h.Pool.Exec(t.Context(), `UPDATE referrals SET sent_at = now() - interval '45 days' WHERE base_case_id = $1`, ref)
		require.NoError(t, err)
		ag := f.consent(t, f.bStd, ref, map[string]any{"consentedOn": today(), "method": "signed", "signerName": "Ana Ruiz"}, http.StatusOK)
		require.Equal(t, api.FeeComplianceStatusConsentLate, ag.Compliance.Status, ag.Compliance.Reasons)
		// California: the division may not raise the client's total fee.
		f.propose(t, f.aStd, ref, map[string]any{"basis": "joint_responsibility", "referringFirmPercentage": 25, "receivingFirmPercentage": 75, "clientContingencyPercentage": 45}, http.StatusBadRequest)

		az := f.referral(t, "AZ")
		f.propose(t, f.bStd, az, map[string]any{"basis": "proportional", "referringFirmAmount": "1500", "receivingFirmAmount": "3500.50", "clientContingencyPercentage": 33.33}, http.StatusOK)
		f.accept(t, f.aStd, az, "1", http.StatusOK)
		ag = f.consent(t, f.aStd, az, map[string]any{"consentedOn": today(), "method": "written", "signerName": "Ana Ruiz"}, http.StatusOK)
		require.Equal(t, "AZ", ag.Profile.Code)
		require.Equal(t, api.FeeComplianceStatusNeedsClientConsent, ag.Compliance.Status)
		ag = f.consent(t, f.aStd, az, map[string]any{"consentedOn": today(), "method": "signed", "signerName": "Ana Ruiz"}, http.StatusOK)
		require.Equal(t, api.FeeComplianceStatusCompliant, ag.Compliance.Status)
		require.Equal(t, "1500.00", ag.Versions[0].ReferringFirmShare)

		// Jurisdictions without a profile use the ABA default.
		wa := f.referral(t, "WA")
		require.Equal(t, "US-ABA", f.agreement(t, f.aStd, wa).Profile.Code)
	})

	t.Run("an amendment of the shares after consent needs a new consent", func(t *testing.T) {
		t.Parallel()
		f := feeSetup(t, false)
		ref := f.referral(t, "WA")
		f.propose(t, f.aStd, ref, map[string]any{"basis": "proportional", "referringFirmPercentage": 30, "receivingFirmPercentage": 70, "clientContingencyPercentage": 33.33}, http.StatusOK)
		f.accept(t, f.bStd, ref, "1", http.StatusOK)
		ag := f.consent(t, f.bStd, ref, map[string]any{"consentedOn": today(), "method": "written", "signerName": "Lee Park"}, http.StatusOK)
		require.Equal(t, api.FeeComplianceStatusCompliant, ag.Compliance.Status)
		// A notes-only amendment keeps the consent; a change of the shares does not.
		f.propose(t, f.aStd, ref, map[string]any{"basis": "proportional", "referringFirmPercentage": 30, "receivingFirmPercentage": 70, "clientContingencyPercentage": 33.33, "notes": "typo"}, http.StatusOK)
		ag = f.accept(t, f.bStd, ref, "2", http.StatusOK)
		require.Equal(t, api.FeeComplianceStatusCompliant, ag.Compliance.Status)
		ag = f.propose(t, f.aStd, ref, map[string]any{"basis": "proportional", "referringFirmPercentage": 35, "receivingFirmPercentage": 65, "clientContingencyPercentage": 33.33}, http.StatusOK)
		require.Equal(t, api.FeeComplianceStatusNeedsAcceptance, ag.Compliance.Status)
		require.Equal(t, 2, *ag.InForceVersion, "the accepted version stays in force until the amendment is accepted")
		ag = f.accept(t, f.bStd, ref, "3", http.StatusOK)
		require.Equal(t, api.FeeComplianceStatusTermsChangedSinceConsent, ag.Compliance.Status)
		ag = f.consent(t, f.aStd, ref, map[string]any{"consentedOn": today(), "method": "written", "signerName": "Lee Park"}, http.StatusOK)
		require.Equal(t, api.FeeComplianceStatusCompliant, ag.Compliance.Status)
	})

	t.Run("dispute and write-off by the receiving firm; a tie of cents goes to the referring firm", func(t *testing.T) {
		t.Parallel()
		f := feeSetup(t, false)
		ref := f.referral(t, "WA")
		f.propose(t, f.aStd, ref, map[string]any{"basis": "proportional", "referringFirmPercentage": 50, "receivingFirmPercentage": 50, "clientContingencyPercentage": 33.33}, http.StatusOK)
		f.accept(t, f.bStd, ref, "1", http.StatusOK)
		f.closeWon(t, ref, 1000.01)
		e := f.onlyEntry(t, f.bStd, "i_owe")
		require.Equal(t, "500.01", *e.AmountDue, "1000.01 halved: 500.005 each, the odd cent to the referring firm")
		f.entryAction(t, f.aStd, e.Id, "dispute", map[string]any{"reason": "not mine to dispute"}, http.StatusForbidden)
		e = f.entryAction(t, f.bStd, e.Id, "dispute", map[string]any{"reason": "The settlement check has not cleared"}, http.StatusOK)
		require.Equal(t, api.FeeLedgerStatusDisputed, e.Status)
		e = f.entryAction(t, f.bStd, e.Id, "payments", map[string]any{"amount": "100.00", "paidOn": today(), "method": "ach"}, http.StatusOK)
		require.Equal(t, api.FeeLedgerStatusDisputed, e.Status, "a disputed entry stays disputed until paid in full")
		require.Len(t, f.ledger(t, f.aStd, "aging", "current").Data, 1)
		require.Empty(t, f.ledger(t, f.aStd, "aging", "1_30").Data)
		f.entryAction(t, f.bStd, e.Id, "write-off", map[string]any{"reason": "uncollectible"}, http.StatusForbidden) // standard tier
		f.entryAction(t, f.aFull, e.Id, "write-off", map[string]any{"reason": "uncollectible"}, http.StatusForbidden)
		e = f.entryAction(t, f.bFull, e.Id, "write-off", map[string]any{"reason": "uncollectible"}, http.StatusOK)
		require.Equal(t, api.FeeLedgerStatusWrittenOff, e.Status)
		require.Equal(t, "0.00", *e.AmountOutstanding)
		require.Equal(t, "100.00", e.AmountPaid)
		f.entryAction(t, f.bStd, e.Id, "payments", map[string]any{"amount": "1.00", "paidOn": today(), "method": "ach"}, http.StatusBadRequest)
	})

	t.Run("closing won without an accepted agreement waits for one, then becomes due", func(t *testing.T) {
		t.Parallel()
		f := feeSetup(t, false)
		ref := f.referral(t, "WA")
		f.closeWon(t, ref, 9000)
		e := f.onlyEntry(t, f.aStd, "owed_to_me")
		require.Equal(t, api.FeeLedgerStatusNeedsAgreement, e.Status)
		require.Nil(t, e.AmountDue)
		require.Nil(t, e.DueDate)
		f.entryAction(t, f.bStd, e.Id, "payments", map[string]any{"amount": "1.00", "paidOn": today(), "method": "ach"}, http.StatusBadRequest)
		f.entryAction(t, f.bFull, e.Id, "write-off", map[string]any{"reason": "no amount yet"}, http.StatusBadRequest)
		f.entryAction(t, f.bStd, e.Id, "dispute", map[string]any{"reason": "no amount yet"}, http.StatusBadRequest)
		f.propose(t, f.bStd, ref, map[string]any{"basis": "proportional", "referringFirmPercentage": 33.33, "receivingFirmPercentage": 66.67, "clientContingencyPercentage": 30}, http.StatusOK)
		f.accept(t, f.aStd, ref, "1", http.StatusOK)
		e = f.onlyEntry(t, f.aStd, "owed_to_me")
		require.Equal(t, api.FeeLedgerStatusDue, e.Status)
		require.Equal(t, "2999.70", *e.AmountDue)
	})

	t.Run("bad input names the field", func(t *testing.T) {
		t.Parallel()
		f := feeSetup(t, false)
		ref := f.referral(t, "WA")
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"basis": "proportional", "referringFirmPercentage": 40, "receivingFirmPercentage": 50, "clientContingencyPercentage": 33}, "body.receivingFirmPercentage"},
			{map[string]any{"basis": "proportional", "referringFirmPercentage": 40.001, "receivingFirmPercentage": 59.999, "clientContingencyPercentage": 33}, "body.referringFirmPercentage"},
			{map[string]any{"basis": "proportional", "clientContingencyPercentage": 33}, "body.referringFirmPercentage"},
			{map[string]any{"basis": "proportional", "referringFirmPercentage": 40, "receivingFirmPercentage": 60, "referringFirmAmount": "1", "receivingFirmAmount": "2", "clientContingencyPercentage": 33}, "body.referringFirmAmount"},
		} {
			r := f.h.Do("POST", apitest.Path(feeBase+"/referrals", ref, "fee-agreement", "versions"), apitest.APIKey(f.aStd), apitest.JSON(c.body))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
			require.Contains(t, errorFields(t, r), c.field, string(r.Body))
		}
		f.consent(t, f.aStd, ref, map[string]any{"consentedOn": today(), "method": "written", "signerName": "X"}, http.StatusBadRequest) // nothing proposed
		f.propose(t, f.aStd, ref, map[string]any{"basis": "proportional", "referringFirmPercentage": 40, "receivingFirmPercentage": 60, "clientContingencyPercentage": 33}, http.StatusOK)
		r := f.h.Do("POST", apitest.Path(feeBase+"/referrals", ref, "fee-agreement", "consents"), apitest.APIKey(f.aStd),
			apitest.JSON(map[string]any{"consentedOn": today(), "method": "written", "signerName": "X", "documentId": uuid.NewString()}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Contains(t, errorFields(t, r), "body.documentId")
		r = f.h.Do("POST", apitest.Path(feeBase+"/referrals", ref, "fee-agreement", "consents"), apitest.APIKey(f.aStd),
			apitest.JSON(map[string]any{"consentedOn": time.Now().AddDate(0, 0, 5).Format(time.DateOnly), "method": "written", "signerName": "X"}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Contains(t, errorFields(t, r), "body.consentedOn")
		r = f.h.Do("GET", feeBase+"/fee-rule-profiles", apitest.APIKey(f.bRO))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var ps api.FeeRuleProfileListResponse
		require.NoError(t, json.Unmarshal(r.Body, &ps))
		require.Equal(t, "US-ABA", ps.Data[0].Code)
	})
}
