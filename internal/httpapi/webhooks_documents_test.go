package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/webhooks/webhookstest"
	"github.com/casexchange/server/pkg/webhookverify"
)

func TestWebhookDocumentEvents(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		*whBundle
		owner, partner         *apitest.Firm
		ownerStd, ownerFull    string
		partnerStd, partnerFul string
		secrets                map[string]string // by firm id
		seen                   int
	}
	subscribe := func(t *testing.T, b *testBundle, f *apitest.Firm, key string) {
		t.Helper()
		r := b.h.Do("POST", whPath, apitest.APIKey(key), apitest.JSON(map[string]any{
			"url": b.recv.URL(), "events": []string{"document.uploaded", "document.deleted"},
		}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		var out api.WebhookSubscriptionSecretResponse
		r.Decode(&out)
		b.secrets[f.ID.String()] = out.Data.Secret
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		wb := whSetup(t)
		b := &testBundle{
			whBundle: wb, owner: wb.firm, partner: wb.other, ownerStd: wb.std, partnerStd: wb.otherStd,
			ownerFull: wb.h.Key(wb.firm, apitest.Full), partnerFul: wb.h.Key(wb.other, apitest.Full),
			secrets: map[string]string{},
		}
		connectFirms(t, b.h, b.owner, b.partner)
		subscribe(t, b, b.owner, b.ownerStd)
		subscribe(t, b, b.partner, b.partnerStd)
		return b
	}
	// next waits for exactly n more deliveries and returns them by recipient firm, checking
	// every signature.
	next := func(t *testing.T, b *testBundle, n int) map[string][]hookEvent {
		t.Helper()
		if n > 0 {
			b.recv.Wait(t, b.seen+n, 15*time.Second)
		}
		webhookstest.WaitSettled(t, b.h.Pool, 15*time.Second) // whatever was committed has arrived
		reqs := b.recv.Requests()
		require.Len(t, reqs, b.seen+n, "unexpected deliveries")
		fresh := reqs[b.seen:]
		b.seen += n
		for _, r := range fresh {
			var env map[string]any
			require.NoError(t, json.Unmarshal(r.Body, &env))
			secret := b.secrets[env["recipientFirmId"].(string)]
			require.NoError(t, webhookverify.VerifyAt(secret, r.Header.Get(webhookverify.SignatureHeader), r.Body, time.Minute, b.clock.Now()))
		}
		return hookEvents(t, fresh)
	}
	// twoReceivers makes a case of the owner's referred to the partner, which acknowledges it,
	// and then to a third subscribed firm, which has not yet.
	twoReceivers := func(t *testing.T, b *testBundle) (uuid.UUID, *apitest.Firm, string) {
		t.Helper()
		third := b.h.NewFirm(apitest.FirmOpts{Name: "Third Firm"})
		thirdStd := b.h.Key(third, apitest.Standard)
		subscribe(t, b, third, thirdStd)
		connectFirms(t, b.h, b.owner, third)
		caseID := newCase(t, b.h, b.ownerStd, &b.partner.ID, nil)
		receivedAction(t, b.h, b.partnerStd, caseID, "acknowledge", nil)
		r := b.h.Do("POST", apitest.Path("/api/public/v1/sent-cases", caseID.String(), "refer"), apitest.APIKey(b.ownerStd),
			apitest.JSON(map[string]any{"referentFirmId": third.ID}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		return caseID, third, thirdStd
	}
	del := func(t *testing.T, b *testBundle, key string, d api.Document) {
		t.Helper()
		r := b.h.Do("DELETE", docsPath(d.CaseId, d.Id.String()), apitest.APIKey(key))
		require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.Body))
	}

	t.Run("the owner hears of its uploads and deletions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		owner := b.owner.ID.String()
		caseID := newCase(t, b.h, b.ownerStd, nil, nil)

		d := uploadOK(t, b.h, b.ownerStd, caseID, "er-discharge.pdf", samplePDF, "description", "Discharge paperwork")
		got := next(t, b, 1)
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[owner]))
		up := got[owner][0]
		require.Equal(t, "sent", up.Env["perspective"])
		require.Nil(t, up.Env["referralId"], "a case never referred")
		require.Nil(t, up.Env["referentFirm"])
		require.Equal(t, caseID.String(), up.Env["baseCaseId"])
		require.Equal(t, map[string]any{"firmId": owner, "source": "api"}, up.Env["actor"])
		require.Equal(t, map[string]any{
			"id": d.Id.String(), "caseId": caseID.String(), "fileName": "er-discharge.pdf", "mimeType": "application/pdf",
			"sizeBytes": float64(len(samplePDF)), "description": "Discharge paperwork", "isPublic": true,
			"uploadedByFirmId": owner, "createdAt": d.CreatedAt.UTC().Format(time.RFC3339Nano),
		}, up.data())

		// Private documents of its own are the owner's to hear of as well.
		private := uploadOK(t, b.h, b.ownerStd, caseID, "intake.pdf", samplePDF, "isPublic", "false")
		got = next(t, b, 1)
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[owner]))
		require.Equal(t, false, got[owner][0].data()["isPublic"])

		del(t, b, b.ownerFull, private)
		got = next(t, b, 1)
		require.Equal(t, []string{"document.deleted"}, eventTypesOf(got[owner]))
		gone := got[owner][0].data()
		require.Equal(t, private.Id.String(), gone["id"])
		require.Equal(t, caseID.String(), gone["caseId"])
		require.Equal(t, "intake.pdf", gone["fileName"])
		require.NotEmpty(t, gone["deletedAt"])
		require.Len(t, gone, 4, "the tombstone carries no visibility fields")
		require.NotEqual(t, up.EventID, got[owner][0].EventID)
	})

	t.Run("the receiving firm hears only after acknowledging and only of what it may see", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		owner, recv := b.owner.ID.String(), b.partner.ID.String()
		caseID := newCase(t, b.h, b.ownerStd, &b.partner.ID, nil)

		before := uploadOK(t, b.h, b.ownerStd, caseID, "before.pdf", samplePDF)
		got := next(t, b, 1)
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[owner]))
		require.Empty(t, got[recv], "not acknowledged yet")
		require.NotNil(t, got[owner][0].Env["referralId"])
		require.Equal(t, recv, got[owner][0].Env["referentFirm"].(map[string]any)["id"])

		receivedAction(t, b.h, b.partnerStd, caseID, "acknowledge", nil)

		pub := uploadOK(t, b.h, b.ownerStd, caseID, "public.pdf", samplePDF)
		got = next(t, b, 2)
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[owner]))
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[recv]))
		require.Equal(t, got[owner][0].EventID, got[recv][0].EventID, "one event id per fact")
		require.NotEqual(t, got[owner][0].Delivery, got[recv][0].Delivery)
		require.Equal(t, "received", got[recv][0].Env["perspective"])
		require.Equal(t, false, got[recv][0].Env["piiMasked"])
		require.Equal(t, pub.Id.String(), got[recv][0].data()["id"])

		uploadOK(t, b.h, b.ownerStd, caseID, "private.pdf", samplePDF, "isPublic", "false")
		got = next(t, b, 1)
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[owner]))
		require.Empty(t, got[recv], "the owner's private document")

		// The receiving firm's own private upload is its own business.
		recvPrivate := uploadOK(t, b.h, b.partnerStd, caseID, "work-product.pdf", samplePDF, "isPublic", "false")
		got = next(t, b, 1)
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[recv]))
		require.Empty(t, got[owner])
		require.Equal(t, map[string]any{"firmId": recv, "source": "api"}, got[recv][0].Env["actor"])

		recvPublic := uploadOK(t, b.h, b.partnerStd, caseID, "medical-records.pdf", samplePDF)
		got = next(t, b, 2)
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[owner]))
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[recv]))

		del(t, b, b.ownerFull, pub)
		got = next(t, b, 2)
		require.Equal(t, []string{"document.deleted"}, eventTypesOf(got[owner]))
		require.Equal(t, []string{"document.deleted"}, eventTypesOf(got[recv]))
		require.Equal(t, got[owner][0].EventID, got[recv][0].EventID)

		del(t, b, b.partnerFul, recvPrivate)
		got = next(t, b, 1)
		require.Equal(t, []string{"document.deleted"}, eventTypesOf(got[recv]))
		require.Empty(t, got[owner])

		receivedAction(t, b.h, b.partnerStd, caseID, "sign", nil)
		del(t, b, b.partnerFul, recvPublic)
		got = next(t, b, 2)
		require.Equal(t, []string{"document.deleted"}, eventTypesOf(got[recv]), "signed is a working status")
		require.Equal(t, []string{"document.deleted"}, eventTypesOf(got[owner]))

		// Once the referral is closed the receiving firm hears of documents no more.
		receivedAction(t, b.h, b.partnerFul, caseID, "close", map[string]any{"closingStatus": "won_settled"})
		del(t, b, b.ownerFull, before)
		got = next(t, b, 1)
		require.Equal(t, []string{"document.deleted"}, eventTypesOf(got[owner]))
		require.Empty(t, got[recv])
	})

	t.Run("the owner hears once when only one of several receiving firms may", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		owner, recv := b.owner.ID.String(), b.partner.ID.String()
		caseID, third, _ := twoReceivers(t, b)

		uploadOK(t, b.h, b.ownerStd, caseID, "shared.pdf", samplePDF)
		got := next(t, b, 2)
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[owner]), "one copy for the owner")
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[recv]))
		require.Empty(t, got[third.ID.String()], "the third firm has not acknowledged")
		require.Equal(t, got[owner][0].Env["referralId"], got[recv][0].Env["referralId"], "the copy names the referral that reached a firm")
	})

	t.Run("each firm hears once when several receiving firms do", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		owner, recv := b.owner.ID.String(), b.partner.ID.String()
		caseID, third, thirdStd := twoReceivers(t, b)
		receivedAction(t, b.h, thirdStd, caseID, "acknowledge", nil)

		d := uploadOK(t, b.h, b.ownerStd, caseID, "shared.pdf", samplePDF)
		got := next(t, b, 3)
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[owner]), "one copy for the owner")
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[recv]))
		require.Equal(t, []string{"document.uploaded"}, eventTypesOf(got[third.ID.String()]))
		require.Equal(t, got[owner][0].EventID, got[recv][0].EventID, "one event id per fact")
		require.Equal(t, got[owner][0].EventID, got[third.ID.String()][0].EventID)
		require.Equal(t, got[third.ID.String()][0].Env["referralId"], got[owner][0].Env["referralId"], "the owner's copy names the latest referral")

		del(t, b, b.ownerFull, d)
		got = next(t, b, 3)
		require.Equal(t, []string{"document.deleted"}, eventTypesOf(got[owner]), "one copy for the owner")
		require.Equal(t, []string{"document.deleted"}, eventTypesOf(got[recv]))
		require.Equal(t, []string{"document.deleted"}, eventTypesOf(got[third.ID.String()]))
	})

	t.Run("a failed upload sends nothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		caseID := newCase(t, b.h, b.ownerStd, &b.partner.ID, nil)
		receivedAction(t, b.h, b.partnerStd, caseID, "acknowledge", nil)

		r := upload(t, b.h, b.ownerStd, caseID, "payload.exe", []byte("MZ\x90\x00 not a document"))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		r = upload(t, b.h, b.ownerStd, caseID, "a.pdf", samplePDF, "isPublic", "maybe")
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		r = upload(t, b.h, b.h.Key(b.owner, apitest.ReadOnly), caseID, "a.pdf", samplePDF)
		require.Equal(t, http.StatusForbidden, r.StatusCode, string(r.Body))
		next(t, b, 0)

		// A document that is not there cannot be deleted, and its deletion tells no one.
		r = b.h.Do("DELETE", docsPath(caseID, caseID.String()), apitest.APIKey(b.ownerFull))
		require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
		d := uploadOK(t, b.h, b.ownerStd, caseID, "keep.pdf", samplePDF)
		next(t, b, 2)
		r = b.h.Do("DELETE", docsPath(caseID, d.Id.String()), apitest.APIKey(b.partnerFul))
		require.Equal(t, http.StatusForbidden, r.StatusCode, "only the uploader deletes")
		next(t, b, 0)
	})
}
