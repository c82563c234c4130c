package webhooks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/webhooks"
	"github.com/casexchange/server/internal/webhooks/webhookstest"
	"github.com/casexchange/server/pkg/webhookverify"
)

func requireCode(t *testing.T, err error, kind error, code string) {
	t.Helper()
	require.ErrorIs(t, err, kind)
	ae, ok := apperr.As(err)
	require.True(t, ok)
	require.Equal(t, code, ae.Code)
}

func TestSubscriptions(t *testing.T) {
	t.Parallel()

	// production returns a bundle whose service runs with the unsafe switch off, resolving
	// through a table: hooks.example.test is public, the others private.
	production := func(t *testing.T) (*testBundle, *webhookstest.Resolver) {
		t.Helper()
		b := setup(t)
		res := webhookstest.NewResolver()
		res.Set("hooks.example.test", "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
		res.Set("internal.example.test", "10.0.0.7")
		res.Set("mixed.example.test", "93.184.216.34", "127.0.0.1")
		res.Set("metadata.example.test", "169.254.169.254")
		res.Set("v6local.example.test", "fd12:3456::1")
		b.svc.Configure(func(c *webhooks.Config) { c.AllowPrivate, c.Resolver = false, res })
		return b, res
	}

	t.Run("a valid https URL on a public host is accepted, with a secret shown once", func(t *testing.T) {
		t.Parallel()
		b, _ := production(t)
		desc := "  CMS sync  "
		sub, secret, err := b.svc.Create(t.Context(), b.sender.ID, webhooks.CreateInput{
			URL: "https://hooks.example.test/cx?src=1", Description: &desc,
			Events: []webhooks.EventType{webhooks.EventNoteCreated, webhooks.EventCaseCreated, webhooks.EventNoteCreated},
		})
		require.NoError(t, err)
		require.Regexp(t, `^whsec_[0-9a-f]{64}$`, secret)
		require.Equal(t, "https://hooks.example.test/cx?src=1", sub.URL)
		require.Equal(t, "CMS sync", *sub.Description)
		require.Equal(t, []webhooks.EventType{webhooks.EventCaseCreated, webhooks.EventNoteCreated}, sub.Events)
		require.True(t, sub.IsActive)
		_, _, err = b.svc.Create(t.Context(), b.sender.ID, webhooks.CreateInput{URL: "https://hooks.example.test:443/x"})
		require.NoError(t, err)
	})

	t.Run("unacceptable URLs are refused with invalid_webhook_url", func(t *testing.T) {
		t.Parallel()
		b, _ := production(t)
		for _, u := range []string{
			"http://hooks.example.test/x",                             // not https
			"https://hooks.example.test:8443/x",                       // not port 443
			"https://user:pw@hooks.example.test/x",                    // credentials
			"https://internal.example.test/x",                         // private address
			"https://mixed.example.test/x",                            // one of the addresses is loopback
			"https://metadata.example.test/x",                         // link-local
			"https://v6local.example.test/x",                          // IPv6 unique local
			"https://127.0.0.1/x",                                     // literal loopback
			"https://[::1]/x",                                         // literal IPv6 loopback
			"https://100.64.1.1/x",                                    // CGNAT
			"https://nowhere.example.test/x",                          // does not resolve
			"ftp://hooks.example.test/x",                              // another scheme
			"hooks.example.test/x",                                    // not absolute
			"https://hooks.example.test/" + strings.Repeat("a", 2048), // too long
		} {
			_, _, err := b.svc.Create(t.Context(), b.sender.ID, webhooks.CreateInput{URL: u})
			requireCode(t, err, apperr.ErrValidation, "invalid_webhook_url")
		}
	})

	t.Run("the private-address switch allows plain http and any port for development", func(t *testing.T) {
		t.Parallel()
		b, _ := production(t)
		b.svc.Configure(func(c *webhooks.Config) { c.AllowPrivate = true })
		_, _, err := b.svc.Create(t.Context(), b.sender.ID, webhooks.CreateInput{URL: "http://internal.example.test:8080/x"})
		require.NoError(t, err)
	})

	t.Run("a host that rebinds to a private address is refused at delivery", func(t *testing.T) {
		t.Parallel()
		b, res := production(t)
		res.Set("rebind.example.test", "93.184.216.34")
		sub, _, err := b.svc.Create(t.Context(), b.sender.ID, webhooks.CreateInput{URL: "https://rebind.example.test/x"})
		require.NoError(t, err)
		res.Set("rebind.example.test", "127.0.0.1")
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		ds := b.waitFor(t, sub.ID, allIn(1, webhooks.StatusFailed))
		require.Equal(t, "Address not allowed: rebind.example.test resolves to a non-public address", *ds[0].LastError)
		require.Nil(t, ds[0].LastCode)

		res.Set("rebind.example.test")
		b.runScheduled(t, webhooks.RetryWaits[0])
		ds = b.waitFor(t, sub.ID, func(ds []deliveryRow) bool { return ds[0].Attempts == 2 && ds[0].Status == webhooks.StatusFailed })
		require.Equal(t, "DNS error: rebind.example.test could not be resolved", *ds[0].LastError)
		require.Empty(t, b.recv.Requests())
	})

	t.Run("a changed URL is checked again", func(t *testing.T) {
		t.Parallel()
		b, _ := production(t)
		sub, _, err := b.svc.Create(t.Context(), b.sender.ID, webhooks.CreateInput{URL: "https://hooks.example.test/x"})
		require.NoError(t, err)
		bad := "https://internal.example.test/x"
		_, err = b.svc.Update(t.Context(), b.sender.ID, sub.ID, webhooks.Patch{URL: &bad})
		requireCode(t, err, apperr.ErrValidation, "invalid_webhook_url")
		good, empty := "https://hooks.example.test/y", ""
		events := []webhooks.EventType{}
		got, err := b.svc.Update(t.Context(), b.sender.ID, sub.ID, webhooks.Patch{URL: &good, Description: &empty, Events: &events})
		require.NoError(t, err)
		require.Equal(t, good, got.URL)
		require.Nil(t, got.Description)
		require.Nil(t, got.Events)
		_, err = b.svc.Update(t.Context(), b.sender.ID, sub.ID, webhooks.Patch{})
		require.ErrorIs(t, err, apperr.ErrValidation)
		_, err = b.svc.Update(t.Context(), b.receiver.ID, sub.ID, webhooks.Patch{URL: &good})
		require.ErrorIs(t, err, apperr.ErrNotFound)
	})

	t.Run("a firm may have five active subscriptions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var last webhooks.Subscription
		for range webhooks.MaxActiveSubscriptions {
			last, _ = b.subscribe(t, b.sender)
		}
		_, _, err := b.svc.Create(t.Context(), b.sender.ID, webhooks.CreateInput{URL: b.recv.URL()})
		requireCode(t, err, apperr.ErrValidation, "subscription_limit_reached")
		_, _, err = b.svc.Create(t.Context(), b.receiver.ID, webhooks.CreateInput{URL: b.recv.URL()})
		require.NoError(t, err, "the limit is per firm")

		off, on := false, true
		_, err = b.svc.Update(t.Context(), b.sender.ID, last.ID, webhooks.Patch{IsActive: &off})
		require.NoError(t, err)
		_, _, err = b.svc.Create(t.Context(), b.sender.ID, webhooks.CreateInput{URL: b.recv.URL()})
		require.NoError(t, err, "an inactive one does not count")
		_, err = b.svc.Update(t.Context(), b.sender.ID, last.ID, webhooks.Patch{IsActive: &on})
		requireCode(t, err, apperr.ErrValidation, "subscription_limit_reached")
		subs, total, err := b.svc.List(t.Context(), b.sender.ID, 1, 3)
		require.NoError(t, err)
		require.EqualValues(t, 6, total)
		require.Len(t, subs, 3)
	})
}

func TestEcho(t *testing.T) {
	t.Parallel()

	t.Run("in echo mode deliveries are captured with a verified signature instead of sent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.svc.Configure(func(c *webhooks.Config) { c.BaseURL = func() string { return "https://cx.example.test/" } })
		sub, _ := b.subscribe(t, b.sender)
		echo, err := b.svc.EnableEcho(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, "https://cx.example.test/api/v1/webhooks/echo/"+echo.Token, echo.URL)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		ds := b.waitFor(t, sub.ID, allIn(1, webhooks.StatusDelivered))
		res, err := b.svc.Test(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.True(t, res.Echo)
		require.True(t, res.Delivered)

		caps, err := b.svc.EchoCaptures(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.Len(t, caps, 2)
		require.Equal(t, "webhook.test", *caps[0].Event, "newest first")
		require.Equal(t, "case.status_changed", *caps[1].Event)
		require.Equal(t, ds[0].ID.String(), *caps[1].DeliveryID)
		require.True(t, caps[0].SignatureValid)
		require.True(t, caps[1].SignatureValid)
		require.Contains(t, caps[1].Body, `"schemaVersion":1`)
		require.Empty(t, b.recv.Requests(), "nothing reached the subscription URL")

		// Anyone may post to the echo URL; a bad signature is recorded as such.
		c, err := b.svc.ReceiveEcho(t.Context(), echo.Token, webhooks.EchoRequest{Signature: strp("t=1,v1=00"), Body: []byte(`{"x":1}`)})
		require.NoError(t, err)
		require.False(t, c.SignatureValid)
		secret := rotate(t, b, sub.ID)
		sig := webhookverify.Sign(secret, b.clock.Now(), []byte(`{"y":2}`))
		c, err = b.svc.ReceiveEcho(t.Context(), echo.Token, webhooks.EchoRequest{Signature: &sig, Body: []byte(`{"y":2}`)})
		require.NoError(t, err)
		require.True(t, c.SignatureValid)

		_, err = b.svc.ReceiveEcho(t.Context(), echo.Token, webhooks.EchoRequest{Body: []byte(strings.Repeat(" ", webhooks.EchoMaxBody+1))})
		require.ErrorIs(t, err, apperr.ErrTooLarge)

		_, err = b.svc.EnableEcho(t.Context(), b.sender.ID, sub.ID)
		requireCode(t, err, apperr.ErrValidation, "echo_mode_active")
		_, err = b.svc.DisableEcho(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		_, err = b.svc.ReceiveEcho(t.Context(), echo.Token, webhooks.EchoRequest{Body: []byte(`{}`)})
		require.ErrorIs(t, err, apperr.ErrNotFound, "the echo URL stops working")
		_, err = b.svc.EchoCaptures(t.Context(), b.sender.ID, sub.ID)
		requireCode(t, err, apperr.ErrValidation, "echo_not_active")
		_, err = b.svc.DisableEcho(t.Context(), b.sender.ID, sub.ID)
		requireCode(t, err, apperr.ErrValidation, "echo_not_active")

		// Back to normal delivery.
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		b.recv.Wait(t, 1, 10*time.Second)
	})

	t.Run("captures keep the 50 newest of the last hour", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, _ := b.subscribe(t, b.sender)
		echo, err := b.svc.EnableEcho(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		for i := range webhooks.EchoCaptureLimit + 5 {
			b.clock.Advance(time.Second)
			_, err := b.svc.ReceiveEcho(t.Context(), echo.Token, webhooks.EchoRequest{Body: []byte(`{"i":` + string(rune('0'+i%10)) + `}`)})
			require.NoError(t, err)
		}
		caps, err := b.svc.EchoCaptures(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.Len(t, caps, webhooks.EchoCaptureLimit)
		b.clock.Advance(webhooks.EchoCaptureTTL + time.Minute)
		caps, err = b.svc.EchoCaptures(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.Empty(t, caps)
	})

	t.Run("echo mode needs an active subscription and ends with it", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, _ := b.subscribe(t, b.sender)
		_, err := b.svc.EnableEcho(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		off := false
		got, err := b.svc.Update(t.Context(), b.sender.ID, sub.ID, webhooks.Patch{IsActive: &off})
		require.NoError(t, err)
		require.False(t, got.EchoMode())
		_, err = b.svc.EnableEcho(t.Context(), b.sender.ID, sub.ID)
		requireCode(t, err, apperr.ErrValidation, "echo_requires_active")
	})

	t.Run("a failing receiver is not involved in echo mode", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.recv.Status(http.StatusInternalServerError)
		sub, _ := b.subscribe(t, b.sender)
		_, err := b.svc.EnableEcho(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventReferralSent, Status: "sent"}))
		b.waitFor(t, sub.ID, allIn(1, webhooks.StatusDelivered))
	})
}

func rotate(t *testing.T, b *testBundle, id uuid.UUID) string {
	t.Helper()
	_, secret, err := b.svc.RotateSecret(t.Context(), b.sender.ID, id)
	require.NoError(t, err)
	return secret
}
