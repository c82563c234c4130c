package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/webhooks"
	"github.com/casexchange/server/internal/webhooks/webhookstest"
	"github.com/casexchange/server/pkg/webhookverify"
)

const whPath = "/api/public/v1/webhooks"

type whBundle struct {
	h        *apitest.Harness
	firm     *apitest.Firm
	std, ro  string // the firm's standard and read-only keys
	other    *apitest.Firm
	otherStd string
	recv     *webhookstest.Receiver
	clock    *webhookstest.Clock
}

// whSetup starts a server whose deliveries may reach the test's HTTPS receiver on 127.0.0.1
// (the unsafe switch, on for this server only), with the job queue running.
func whSetup(t *testing.T) *whBundle {
	t.Helper()
	h := apitest.New(t)
	b := &whBundle{h: h, recv: webhookstest.NewReceiver(t), clock: webhookstest.NewClock(time.Now().UTC().Truncate(time.Second))}
	webhookstest.Trust(h.App.Server.Webhooks, b.recv, b.clock)
	require.NoError(t, h.App.Jobs.Start(context.WithoutCancel(t.Context())))
	b.firm = h.NewFirm(apitest.FirmOpts{Name: "Hook Firm"})
	b.std, b.ro = h.Key(b.firm, apitest.Standard), h.Key(b.firm, apitest.ReadOnly)
	b.other = h.NewFirm(apitest.FirmOpts{Name: "Other Firm"})
	b.otherStd = h.Key(b.other, apitest.Standard)
	return b
}

func (b *whBundle) create(t *testing.T, body map[string]any) api.WebhookSubscriptionWithSecret {
	t.Helper()
	r := b.h.Do("POST", whPath, apitest.APIKey(b.std), apitest.JSON(body))
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	var out api.WebhookSubscriptionSecretResponse
	r.Decode(&out)
	return out.Data
}

func (b *whBundle) deliveries(t *testing.T, id uuid.UUID) []api.WebhookDelivery {
	t.Helper()
	r := b.h.Do("GET", apitest.Path(whPath, id.String(), "deliveries"), apitest.APIKey(b.ro))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var out api.WebhookDeliveryListResponse
	r.Decode(&out)
	return out.Data
}

func TestWebhooksAPI(t *testing.T) {
	t.Parallel()

	t.Run("the secret is shown on creation and never on reads", func(t *testing.T) {
		t.Parallel()
		b := whSetup(t)
		sub := b.create(t, map[string]any{"url": b.recv.URL(), "description": "CMS sync", "events": []string{"case.created", "note.created"}})
		require.Regexp(t, `^whsec_[0-9a-f]{64}$`, sub.Secret)
		require.True(t, sub.IsActive)
		require.Equal(t, []api.WebhookEventType{"case.created", "note.created"}, *sub.Events)

		r := b.h.Do("GET", apitest.Path(whPath, sub.Id.String()), apitest.APIKey(b.ro))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.NotContains(t, r.Map()["data"], "secret")
		require.NotContains(t, string(r.Body), sub.Secret)
		r = b.h.Do("GET", whPath, apitest.APIKey(b.ro))
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.NotContains(t, string(r.Body), sub.Secret)
		var list api.WebhookSubscriptionListResponse
		r.Decode(&list)
		require.Len(t, list.Data, 1)
		require.Equal(t, 1, list.Pagination.Total)

		r = b.h.Do("GET", apitest.Path(whPath, sub.Id.String()), apitest.APIKey(b.otherStd))
		require.Equal(t, http.StatusNotFound, r.StatusCode, "another firm's subscription")
	})

	t.Run("writes need a standard key", func(t *testing.T) {
		t.Parallel()
		b := whSetup(t)
		r := b.h.Do("POST", whPath, apitest.APIKey(b.ro), apitest.JSON(map[string]any{"url": b.recv.URL()}))
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "insufficient_tier", r.ErrorCode())
		r = b.h.Do("POST", whPath, apitest.JSON(map[string]any{"url": b.recv.URL()}))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
	})

	t.Run("invalid input gets the documented codes", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t) // the unsafe switch stays off
		firm := h.NewFirm(apitest.FirmOpts{})
		key := h.Key(firm, apitest.Full)
		for _, u := range []string{"https://127.0.0.1/hook", "http://example.com/hook", "https://example.com:8443/hook",
			"https://u:p@example.com/hook", "https://10.1.2.3/hook", "https://[fe80::1]/hook"} {
			r := h.Do("POST", whPath, apitest.APIKey(key), apitest.JSON(map[string]any{"url": u}))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, u)
			require.Equal(t, "invalid_webhook_url", r.ErrorCode(), u)
		}
		r := h.Do("POST", whPath, apitest.APIKey(key), apitest.JSON(map[string]any{"url": "https://example.com/" + strings.Repeat("a", 2050)}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		r = h.Do("POST", whPath, apitest.APIKey(key), apitest.JSON(map[string]any{"url": "https://example.com/x", "events": []string{"case.exploded"}}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, "validation_error", r.ErrorCode())
		r = h.Do("POST", whPath, apitest.APIKey(key), apitest.JSON(map[string]any{"url": "https://example.com/x", "description": strings.Repeat("d", 256)}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		r = h.Do("PATCH", apitest.Path(whPath, uuid.NewString()), apitest.APIKey(key), apitest.JSON(map[string]any{}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, "at least one field")
		r = h.Do("GET", apitest.Path(whPath, "not-a-uuid"), apitest.APIKey(key))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
	})

	t.Run("a firm may keep five active subscriptions", func(t *testing.T) {
		t.Parallel()
		b := whSetup(t)
		var last api.WebhookSubscriptionWithSecret
		for range webhooks.MaxActiveSubscriptions {
			last = b.create(t, map[string]any{"url": b.recv.URL()})
		}
		r := b.h.Do("POST", whPath, apitest.APIKey(b.std), apitest.JSON(map[string]any{"url": b.recv.URL()}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, "subscription_limit_reached", r.ErrorCode())
		r = b.h.Do("PATCH", apitest.Path(whPath, last.Id.String()), apitest.APIKey(b.std), apitest.JSON(map[string]any{"isActive": false}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var got api.WebhookSubscriptionResponse
		r.Decode(&got)
		require.False(t, got.Data.IsActive)
		require.Equal(t, "manual", *got.Data.DeactivatedReason)
		b.create(t, map[string]any{"url": b.recv.URL()})
		r = b.h.Do("PATCH", apitest.Path(whPath, last.Id.String()), apitest.APIKey(b.std), apitest.JSON(map[string]any{"isActive": true}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, "subscription_limit_reached", r.ErrorCode())
	})

	t.Run("a test delivery reaches the HTTPS receiver, signed", func(t *testing.T) {
		t.Parallel()
		b := whSetup(t)
		sub := b.create(t, map[string]any{"url": b.recv.URL()})
		r := b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "test"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var res api.WebhookTestResponse
		r.Decode(&res)
		require.True(t, res.Data.Delivered)
		require.Equal(t, 200, *res.Data.StatusCode)
		require.False(t, res.Data.Echo)

		req := b.recv.Requests()[0]
		require.Equal(t, "/hook", req.Path)
		require.Equal(t, "webhook.test", req.Header.Get(webhookverify.EventHeader))
		require.Equal(t, res.Data.EventId.String(), req.Header.Get(webhookverify.EventIDHeader))
		require.Equal(t, res.Data.DeliveryId.String(), req.Header.Get(webhookverify.DeliveryHeader))
		require.NoError(t, webhookverify.VerifyAt(sub.Secret, req.Header.Get(webhookverify.SignatureHeader), req.Body, time.Minute, b.clock.Now()))
		var body api.WebhookTestEvent
		require.NoError(t, json.Unmarshal(req.Body, &body))
		require.Equal(t, sub.Id, body.Data.SubscriptionId)

		ds := b.deliveries(t, sub.Id)
		require.Len(t, ds, 1)
		require.Equal(t, api.WebhookDeliveryStatusDELIVERED, ds[0].Status)
		require.Equal(t, "webhook.test", ds[0].EventType)
		require.NotContains(t, string(b.h.Do("GET", apitest.Path(whPath, sub.Id.String(), "deliveries"), apitest.APIKey(b.ro)).Body), "payload")

		// Rotation takes effect on the next attempt.
		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "rotate-secret"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var rot api.WebhookSubscriptionSecretResponse
		r.Decode(&rot)
		require.NotEqual(t, sub.Secret, rot.Data.Secret)
		require.NotNil(t, rot.Data.SecretRotatedAt)
		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "test"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusOK, r.StatusCode)
		req = b.recv.Requests()[1]
		sig := req.Header.Get(webhookverify.SignatureHeader)
		require.NoError(t, webhookverify.VerifyAt(rot.Data.Secret, sig, req.Body, time.Minute, b.clock.Now()))
		require.ErrorIs(t, webhookverify.VerifyAt(sub.Secret, sig, req.Body, time.Minute, b.clock.Now()), webhookverify.ErrMismatch)

		// A failing receiver is reported, not retried.
		b.recv.Status(http.StatusServiceUnavailable)
		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "test"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusOK, r.StatusCode)
		r.Decode(&res)
		require.False(t, res.Data.Delivered)
		require.Equal(t, "HTTP 503", *res.Data.Error)

		// An inactive subscription cannot be tested.
		r = b.h.Do("PATCH", apitest.Path(whPath, sub.Id.String()), apitest.APIKey(b.std), apitest.JSON(map[string]any{"isActive": false}))
		require.Equal(t, http.StatusOK, r.StatusCode)
		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "test"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusConflict, r.StatusCode)
		require.Equal(t, "subscription_inactive", r.ErrorCode())
	})

	t.Run("a delivered event can be sent again with a new delivery id", func(t *testing.T) {
		t.Parallel()
		b := whSetup(t)
		sub := b.create(t, map[string]any{"url": b.recv.URL()})
		r := b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "test"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusOK, r.StatusCode)
		first := b.deliveries(t, sub.Id)[0]
		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "deliveries", first.Id.String(), "redeliver"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusAccepted, r.StatusCode, string(r.Body))
		var d api.WebhookDeliveryResponse
		r.Decode(&d)
		require.NotEqual(t, first.Id, d.Data.Id)
		require.Equal(t, first.Id, *d.Data.RedeliveryOf)
		require.Equal(t, first.EventId, d.Data.EventId)
		reqs := b.recv.Wait(t, 2, 10*time.Second)
		require.Equal(t, d.Data.Id.String(), reqs[1].Header.Get(webhookverify.DeliveryHeader))
		require.Equal(t, reqs[0].Body, reqs[1].Body)

		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "deliveries", uuid.NewString(), "redeliver"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "deliveries", first.Id.String(), "redeliver"), apitest.APIKey(b.otherStd))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
	})

	t.Run("echo mode captures deliveries on the server itself", func(t *testing.T) {
		t.Parallel()
		b := whSetup(t)
		sub := b.create(t, map[string]any{"url": b.recv.URL()})
		r := b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "echo", "enable"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var echo api.WebhookEchoResponse
		r.Decode(&echo)
		require.Equal(t, b.h.URL+"/api/v1/webhooks/echo/"+echo.Data.EchoToken, echo.Data.EchoUrl)
		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "echo", "enable"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, "echo_mode_active", r.ErrorCode())

		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "test"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var res api.WebhookTestResponse
		r.Decode(&res)
		require.True(t, res.Data.Echo)
		require.Empty(t, b.recv.Requests())

		// The echo URL itself takes anonymous posts; signatures are checked.
		echoPath := strings.TrimPrefix(echo.Data.EchoUrl, b.h.URL)
		payload := []byte(`{"event":"case.updated","n":1}`)
		r = b.h.Do("POST", echoPath, apitest.Body("application/json", payload),
			apitest.Header(webhookverify.SignatureHeader, webhookverify.Sign(sub.Secret, b.clock.Now(), payload)),
			apitest.Header(webhookverify.EventHeader, "case.updated"))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var receipt api.WebhookEchoReceiptResponse
		r.Decode(&receipt)
		require.True(t, receipt.Data.SignatureValid)
		r = b.h.Do("POST", echoPath, apitest.Body("application/json", payload), apitest.Header(webhookverify.SignatureHeader, "t=1,v1=00"))
		require.Equal(t, http.StatusOK, r.StatusCode)
		r.Decode(&receipt)
		require.False(t, receipt.Data.SignatureValid)
		big := []byte(`{"pad":"` + strings.Repeat("x", webhooks.EchoMaxBody) + `"}`)
		r = b.h.Do("POST", echoPath, apitest.Body("application/json", big))
		require.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode)
		r = b.h.Do("POST", "/api/v1/webhooks/echo/echo_unknown", apitest.Body("application/json", payload))
		require.Equal(t, http.StatusNotFound, r.StatusCode)

		r = b.h.Do("GET", apitest.Path(whPath, sub.Id.String(), "echo", "captures"), apitest.APIKey(b.ro))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var caps api.WebhookEchoCaptureListResponse
		r.Decode(&caps)
		require.Len(t, caps.Data, 3)
		require.Equal(t, string(payload), caps.Data[0].Body)
		require.False(t, caps.Data[0].SignatureValid)
		require.True(t, caps.Data[1].SignatureValid)
		require.Equal(t, "webhook.test", *caps.Data[2].EventType)
		require.True(t, caps.Data[2].SignatureValid)

		r = b.h.Do("GET", apitest.Path(whPath, sub.Id.String()), apitest.APIKey(b.ro))
		var got api.WebhookSubscriptionResponse
		r.Decode(&got)
		require.True(t, got.Data.EchoMode)
		require.Equal(t, echo.Data.EchoUrl, *got.Data.EchoUrl)

		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "echo", "disable"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusOK, r.StatusCode)
		r = b.h.Do("GET", apitest.Path(whPath, sub.Id.String(), "echo", "captures"), apitest.APIKey(b.ro))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, "echo_not_active", r.ErrorCode())
		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "echo", "disable"), apitest.APIKey(b.std))
		require.Equal(t, "echo_not_active", r.ErrorCode())
		r = b.h.Do("POST", echoPath, apitest.Body("application/json", payload))
		require.Equal(t, http.StatusNotFound, r.StatusCode)

		r = b.h.Do("PATCH", apitest.Path(whPath, sub.Id.String()), apitest.APIKey(b.std), apitest.JSON(map[string]any{"isActive": false}))
		require.Equal(t, http.StatusOK, r.StatusCode)
		r = b.h.Do("POST", apitest.Path(whPath, sub.Id.String(), "echo", "enable"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, "echo_requires_active", r.ErrorCode())
	})

	t.Run("a deleted subscription is gone", func(t *testing.T) {
		t.Parallel()
		b := whSetup(t)
		sub := b.create(t, map[string]any{"url": b.recv.URL()})
		r := b.h.Do("DELETE", apitest.Path(whPath, sub.Id.String()), apitest.APIKey(b.otherStd))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		r = b.h.Do("DELETE", apitest.Path(whPath, sub.Id.String()), apitest.APIKey(b.std))
		require.Equal(t, http.StatusNoContent, r.StatusCode)
		r = b.h.Do("GET", apitest.Path(whPath, sub.Id.String()), apitest.APIKey(b.std))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		r = b.h.Do("GET", apitest.Path(whPath, sub.Id.String(), "deliveries"), apitest.APIKey(b.std))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
	})
}

// hookEvent is a delivered envelope with its headers.
type hookEvent struct {
	Type     string
	EventID  string
	Delivery string
	Env      map[string]any
}

func (e hookEvent) data() map[string]any { return e.Env["data"].(map[string]any) }

// hookEvents splits what the receiver got by recipient firm.
func hookEvents(t *testing.T, reqs []webhookstest.Request) map[string][]hookEvent {
	t.Helper()
	out := map[string][]hookEvent{}
	for _, r := range reqs {
		var env map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &env))
		firm, _ := env["recipientFirmId"].(string)
		out[firm] = append(out[firm], hookEvent{
			Type: r.Header.Get(webhookverify.EventHeader), EventID: r.Header.Get(webhookverify.EventIDHeader),
			Delivery: r.Header.Get(webhookverify.DeliveryHeader), Env: env,
		})
	}
	return out
}

func eventTypesOf(evs []hookEvent) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func TestWebhookLifecycleEvents(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		*whBundle
		owner, partner       *apitest.Firm
		ownerStd, partnerStd string
		secrets              map[string]string // by firm id
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		wb := whSetup(t)
		b := &testBundle{whBundle: wb, owner: wb.firm, partner: wb.other, ownerStd: wb.std, partnerStd: wb.otherStd, secrets: map[string]string{}}
		connectFirms(t, b.h, b.owner, b.partner)
		for _, f := range []struct {
			firm *apitest.Firm
			key  string
		}{{b.owner, b.ownerStd}, {b.partner, b.partnerStd}} {
			r := b.h.Do("POST", whPath, apitest.APIKey(f.key), apitest.JSON(map[string]any{"url": b.recv.URL()}))
			require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
			var out api.WebhookSubscriptionSecretResponse
			r.Decode(&out)
			b.secrets[f.firm.ID.String()] = out.Data.Secret
		}
		return b
	}
	// next waits for n more requests and returns them by recipient, checking every signature.
	seen := map[*testBundle]int{}
	next := func(t *testing.T, b *testBundle, n int) map[string][]hookEvent {
		t.Helper()
		b.recv.Wait(t, seen[b]+n, 15*time.Second)
		webhookstest.WaitSettled(t, b.h.Pool, 15*time.Second) // whatever was committed has arrived
		reqs := b.recv.Requests()
		require.Len(t, reqs, seen[b]+n, "unexpected extra deliveries")
		fresh := reqs[seen[b]:]
		seen[b] += n
		for _, r := range fresh {
			var env map[string]any
			require.NoError(t, json.Unmarshal(r.Body, &env))
			secret := b.secrets[env["recipientFirmId"].(string)]
			require.NoError(t, webhookverify.VerifyAt(secret, r.Header.Get(webhookverify.SignatureHeader), r.Body, time.Minute, b.clock.Now()))
		}
		return hookEvents(t, fresh)
	}
	message := func(t *testing.T, b *testBundle, key string, caseID uuid.UUID, text string) {
		t.Helper()
		r := b.h.Do("POST", "/api/public/v1/messages/send", apitest.APIKey(key), apitest.JSON(map[string]any{"id": caseID.String(), "message": text}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	}

	t.Run("the lifecycle produces each event for the right firms, masked until acknowledgment", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		owner, recv := b.owner.ID.String(), b.partner.ID.String()

		caseID := newCase(t, b.h, b.ownerStd, &b.partner.ID, map[string]any{"clientEmail": "marcus@example.test", "tier": 4, "source": "Website lead"})
		got := next(t, b, 3)
		require.ElementsMatch(t, []string{"case.created", "referral.sent"}, eventTypesOf(got[owner]))
		require.Equal(t, []string{"referral.received"}, eventTypesOf(got[recv]))
		var sent hookEvent
		for _, e := range got[owner] {
			if e.Type == "referral.sent" {
				sent = e
			}
		}
		received := got[recv][0]
		require.Equal(t, sent.EventID, received.EventID, "one event id per fact, shared by both firms")
		require.NotEqual(t, sent.Delivery, received.Delivery)
		require.Equal(t, "sent", sent.Env["perspective"])
		require.Equal(t, false, sent.Env["piiMasked"])
		require.Equal(t, "Marcus", sent.data()["case"].(map[string]any)["clientFirstName"])
		require.Equal(t, "received", received.Env["perspective"])
		require.Equal(t, true, received.Env["piiMasked"])
		require.Nil(t, received.data()["message"])
		masked := received.data()["case"].(map[string]any)
		require.Len(t, masked, 14)
		require.Equal(t, "sent", masked["status"])
		require.Equal(t, caseID.String(), received.Env["baseCaseId"])
		require.Equal(t, map[string]any{"id": owner, "name": b.owner.Name}, received.Env["referringFirm"])
		require.Equal(t, map[string]any{"firmId": owner, "source": "api"}, received.Env["actor"])
		for _, k := range []string{"tier", "source", "customFields"} {
			require.NotContains(t, sent.data()["case"], k, "never in a snapshot")
		}

		// Before acknowledgment the receiving firm hears of no note.
		message(t, b, b.ownerStd, caseID, "Photos attached to the file")
		got = next(t, b, 1)
		require.Equal(t, []string{"note.created"}, eventTypesOf(got[owner]))
		require.Empty(t, got[recv])

		receivedAction(t, b.h, b.partnerStd, caseID, "acknowledge", nil)
		got = next(t, b, 2)
		require.Equal(t, []string{"referral.accepted"}, eventTypesOf(got[owner]))
		require.Equal(t, []string{"referral.accepted"}, eventTypesOf(got[recv]))
		acc := got[recv][0]
		require.Equal(t, false, acc.Env["piiMasked"])
		require.Equal(t, "Marcus", acc.data()["case"].(map[string]any)["clientFirstName"])
		require.Equal(t, "marcus@example.test", acc.data()["case"].(map[string]any)["clientEmail"])
		require.Equal(t, "sent", acc.data()["previousStatus"])
		require.Equal(t, "under_evaluation", acc.data()["status"])
		require.Equal(t, map[string]any{"firmId": recv, "source": "api"}, acc.Env["actor"])

		r := b.h.Do("PUT", apitest.Path("/api/public/v1/cases", caseID.String()), apitest.APIKey(b.ownerStd),
			apitest.JSON(map[string]any{"title": "Rear-end collision on I-5 (two vehicles)"}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		got = next(t, b, 2)
		for _, firm := range []string{owner, recv} {
			require.Equal(t, []string{"case.updated"}, eventTypesOf(got[firm]))
			require.Equal(t, []any{"title"}, got[firm][0].Env["changedFields"])
			require.Equal(t, "Rear-end collision on I-5 (two vehicles)", got[firm][0].data()["title"])
		}

		message(t, b, b.ownerStd, caseID, "Client is available Tuesday")
		got = next(t, b, 2)
		require.Equal(t, []string{"note.created"}, eventTypesOf(got[recv]))
		require.Equal(t, "Client is available Tuesday", got[recv][0].data()["message"])
		require.Equal(t, owner, got[recv][0].data()["authorFirmId"])
		message(t, b, b.partnerStd, caseID, "Thanks, we will call")
		got = next(t, b, 1)
		require.Equal(t, []string{"note.created"}, eventTypesOf(got[owner]), "the receiver's own note goes to the sender only")

		receivedAction(t, b.h, b.partnerStd, caseID, "begin-investigating", nil)
		got = next(t, b, 2)
		for _, firm := range []string{owner, recv} {
			require.Equal(t, []string{"case.status_changed"}, eventTypesOf(got[firm]))
			require.Equal(t, "investigating", got[firm][0].data()["status"])
			require.NotNil(t, got[firm][0].data()["statusUpdateId"])
		}

		r = b.h.Do("PATCH", apitest.Path("/api/public/v1/received-referrals", caseID.String()), apitest.APIKey(b.partnerStd),
			apitest.JSON(map[string]any{"ratedTier": 5}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		got = next(t, b, 3)
		require.ElementsMatch(t, []string{"case.updated", "case.rated"}, eventTypesOf(got[owner]))
		require.Equal(t, []string{"case.updated"}, eventTypesOf(got[recv]))
	})

	t.Run("a referral declined before acknowledgment stays masked for the receiver", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		owner, recv := b.owner.ID.String(), b.partner.ID.String()
		caseID := newCase(t, b.h, b.ownerStd, &b.partner.ID, nil)
		next(t, b, 3)
		receivedAction(t, b.h, b.partnerStd, caseID, "reject", map[string]any{"reason": "Conflict with the Delgado family"})
		got := next(t, b, 2)
		require.Equal(t, []string{"referral.rejected"}, eventTypesOf(got[owner]))
		require.Equal(t, "Conflict with the Delgado family", got[owner][0].data()["message"])
		require.Equal(t, "Conflict with the Delgado family", got[owner][0].data()["closureReason"])
		require.Equal(t, []string{"referral.rejected"}, eventTypesOf(got[recv]))
		require.Equal(t, true, got[recv][0].Env["piiMasked"])
		require.Nil(t, got[recv][0].data()["message"])
		require.Nil(t, got[recv][0].data()["closureReason"])
		require.Len(t, got[recv][0].data()["case"], 14)

		// The case is the owner's again: updates reach only it.
		r := b.h.Do("PUT", apitest.Path("/api/public/v1/cases", caseID.String()), apitest.APIKey(b.ownerStd), apitest.JSON(map[string]any{"title": "Renamed"}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		got = next(t, b, 1)
		require.Equal(t, []string{"case.updated"}, eventTypesOf(got[owner]))
	})

	t.Run("a change refused by the lifecycle sends nothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		caseID := newCase(t, b.h, b.ownerStd, &b.partner.ID, nil)
		next(t, b, 3)
		// Signing is not allowed from sent: the transaction ends without a commit.
		r := b.h.Do("POST", apitest.Path("/api/public/v1/received-referrals", caseID.String(), "sign"), apitest.APIKey(b.partnerStd))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		webhookstest.WaitSettled(t, b.h.Pool, 15*time.Second)
		require.Len(t, b.recv.Requests(), 3)
	})
}
