package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/jobs/jobstest"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/webhooks"
	"github.com/casexchange/server/internal/webhooks/webhookstest"
	"github.com/casexchange/server/pkg/webhookverify"
)

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	webhookstest.PrintSummary()
	os.Exit(code)
}

var firmSeq atomic.Int64

type testBundle struct {
	pool     *pgxpool.Pool
	svc      *webhooks.Service
	jobs     *jobs.Client
	clock    *webhookstest.Clock
	recv     *webhookstest.Receiver
	sender   webhooks.Firm
	receiver webhooks.Firm
}

// setup starts a service with a running job queue, a test clock and a trusted HTTPS receiver,
// and creates the two firms of the fixture events.
func setup(t *testing.T) *testBundle {
	t.Helper()
	pool, _ := pgtest.NewDB(t)
	require.NoError(t, jobs.Migrate(t.Context(), pool))
	b := &testBundle{pool: pool, clock: webhookstest.NewClock(time.Now().UTC().Truncate(time.Second)), recv: webhookstest.NewReceiver(t)}
	b.svc = webhooks.New(pool, webhooks.Config{})
	webhookstest.Trust(b.svc, b.recv, b.clock)
	jc, err := jobs.New(pool, nil, jobs.Config{PollInterval: 50 * time.Millisecond, TestOnly: true}, b.svc.Workers())
	require.NoError(t, err)
	b.svc.UseQueue(jc)
	require.NoError(t, jc.Start(context.WithoutCancel(t.Context())))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = jc.Stop(ctx)
	})
	b.jobs = jc
	b.sender = b.newFirm(t)
	b.receiver = b.newFirm(t)
	return b
}

func (b *testBundle) newFirm(t *testing.T) webhooks.Firm {
	t.Helper()
	f := webhooks.Firm{Name: fmt.Sprintf("Firm %d", firmSeq.Add(1))}
	require.NoError(t, b.pool.QueryRow(t.Context(), "INSERT INTO firms (name) VALUES ($1) RETURNING id", f.Name).Scan(&f.ID))
	return f
}

// subscribe creates a subscription of firm to the receiver and returns it with its secret.
func (b *testBundle) subscribe(t *testing.T, firm webhooks.Firm, events ...webhooks.EventType) (webhooks.Subscription, string) {
	t.Helper()
	sub, secret, err := b.svc.Create(t.Context(), firm.ID, webhooks.CreateInput{URL: b.recv.URL(), Events: events})
	require.NoError(t, err)
	return sub, secret
}

// event is a fixture event between the bundle's firms.
func (b *testBundle) event(o eventOpts) webhooks.Event {
	ev := fixtureEvent(o)
	ev.ReferringFirm = b.sender
	ev.Actor.FirmID = &b.sender.ID
	if ev.ReferentFirm != nil {
		ev.ReferentFirm = &b.receiver
	}
	fix := func(s *webhooks.CaseSnapshot) {
		s.ReferringFirmID, s.ReferringFirmName = b.sender.ID, b.sender.Name
		if s.ReferentFirmID != nil {
			s.ReferentFirmID, s.ReferentFirmName = &b.receiver.ID, &b.receiver.Name
		}
	}
	if ev.Case != nil {
		fix(ev.Case)
	}
	if ev.StatusChange != nil {
		fix(&ev.StatusChange.Case)
	}
	if ev.Note != nil && ev.Note.AuthorFirmID != nil && *ev.Note.AuthorFirmID == senderFirm.ID {
		ev.Note.AuthorFirmID = &b.sender.ID
	}
	return ev
}

// enqueue commits ev in its own transaction.
func (b *testBundle) enqueue(t *testing.T, ev webhooks.Event) {
	t.Helper()
	require.NoError(t, postgres.RunTx(t.Context(), b.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		return b.svc.EnqueueTx(t.Context(), tx, ev)
	}))
}

type deliveryRow struct {
	ID          uuid.UUID
	Status      string
	Attempts    int
	LastCode    *int
	LastError   *string
	NextRetryAt *time.Time
	DeliveredAt *time.Time
}

func (b *testBundle) deliveries(t *testing.T, sub uuid.UUID) []deliveryRow {
	t.Helper()
	rows, err := b.pool.Query(t.Context(), `SELECT id, status, attempts, last_status_code, last_error, next_retry_at, delivered_at
		FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY created_at, seq`, sub)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (deliveryRow, error) {
		var d deliveryRow
		return d, r.Scan(&d.ID, &d.Status, &d.Attempts, &d.LastCode, &d.LastError, &d.NextRetryAt, &d.DeliveredAt)
	})
	require.NoError(t, err)
	return out
}

// waitFor polls the deliveries of sub until cond holds.
func (b *testBundle) waitFor(t *testing.T, sub uuid.UUID, cond func([]deliveryRow) bool) []deliveryRow {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ds := b.deliveries(t, sub)
		if cond(ds) {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries never reached the expected state: %+v", ds)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func allIn(n int, statuses ...string) func([]deliveryRow) bool {
	return func(ds []deliveryRow) bool {
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			ok := false
			for _, s := range statuses {
				ok = ok || d.Status == s
			}
			if !ok {
				return false
			}
		}
		return true
	}
}

// runScheduled advances the clock by d and runs now every delivery job scheduled for later.
// It returns the scheduled times the jobs had.
func (b *testBundle) runScheduled(t *testing.T, d time.Duration) []time.Time {
	t.Helper()
	b.clock.Advance(d)
	rows, err := b.pool.Query(t.Context(), `SELECT id, scheduled_at FROM river_job
		WHERE kind = 'webhook_delivery' AND state = 'scheduled' ORDER BY id`)
	require.NoError(t, err)
	type job struct {
		ID int64
		At time.Time
	}
	js, err := pgx.CollectRows(rows, pgx.RowToStructByPos[job])
	require.NoError(t, err)
	var at []time.Time
	for _, j := range js {
		at = append(at, j.At)
		_, err := b.jobs.River().JobRetry(t.Context(), j.ID)
		require.NoError(t, err)
	}
	return at
}

func TestDelivery(t *testing.T) {
	t.Parallel()

	t.Run("a committed event arrives signed with the published algorithm", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, secret := b.subscribe(t, b.sender)
		ev := b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "signed", Acknowledged: true})
		ev.ID = uuid.New()
		b.enqueue(t, ev)

		req := b.recv.Wait(t, 1, 10*time.Second)[0]
		require.Equal(t, http.MethodPost, req.Method)
		require.Equal(t, "application/json", req.Header.Get("Content-Type"))
		require.Equal(t, "case.status_changed", req.Header.Get("X-CaseXchange-Event"))
		require.Equal(t, ev.ID.String(), req.Header.Get("X-CaseXchange-Event-Id"))
		ds := b.waitFor(t, sub.ID, allIn(1, webhooks.StatusDelivered))
		require.Equal(t, ds[0].ID.String(), req.Header.Get("X-CaseXchange-Delivery"))
		require.Equal(t, 1, ds[0].Attempts)
		require.Equal(t, 200, *ds[0].LastCode)
		require.Nil(t, ds[0].LastError)

		sig := req.Header.Get("X-CaseXchange-Signature")
		require.Regexp(t, `^t=\d+,v1=[0-9a-f]{64}$`, sig)
		require.Equal(t, fmt.Sprintf("t=%d,", b.clock.Now().Unix()), sig[:strings.Index(sig, ",")+1])
		require.NoError(t, webhookverify.VerifyAt(secret, sig, req.Body, time.Minute, b.clock.Now()))
		require.ErrorIs(t, webhookverify.VerifyAt(secret, sig, append(req.Body, ' '), time.Minute, b.clock.Now()), webhookverify.ErrMismatch)

		var env map[string]any
		require.NoError(t, json.Unmarshal(req.Body, &env))
		require.Equal(t, "sent", env["perspective"])
		require.Equal(t, b.sender.ID.String(), env["recipientFirmId"])
		require.Equal(t, ev.ID.String(), env["eventId"])
	})

	t.Run("both firms get the same event id, each its own delivery id and view", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		subA, _ := b.subscribe(t, b.sender)
		subB, _ := b.subscribe(t, b.receiver)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventReferralSent, Status: "sent"}))
		reqs := b.recv.Wait(t, 2, 10*time.Second)
		b.waitFor(t, subA.ID, allIn(1, webhooks.StatusDelivered))
		b.waitFor(t, subB.ID, allIn(1, webhooks.StatusDelivered))
		require.Equal(t, reqs[0].Header.Get("X-CaseXchange-Event-Id"), reqs[1].Header.Get("X-CaseXchange-Event-Id"))
		require.NotEqual(t, reqs[0].Header.Get("X-CaseXchange-Delivery"), reqs[1].Header.Get("X-CaseXchange-Delivery"))
		byType := map[string]map[string]any{}
		for _, r := range reqs {
			var env map[string]any
			require.NoError(t, json.Unmarshal(r.Body, &env))
			byType[r.Header.Get("X-CaseXchange-Event")] = env
		}
		require.Equal(t, false, byType["referral.sent"]["piiMasked"])
		require.Equal(t, true, byType["referral.received"]["piiMasked"])
		require.Equal(t, b.receiver.ID.String(), byType["referral.received"]["recipientFirmId"])
		masked := byType["referral.received"]["data"].(map[string]any)["case"].(map[string]any)
		require.Len(t, masked, 14)
		require.NotContains(t, masked, "clientFirstName")
	})

	t.Run("an event filter limits what a subscription gets", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		only, _ := b.subscribe(t, b.sender, webhooks.EventCaseCreated)
		all, _ := b.subscribe(t, b.sender)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseCreated, Status: "draft", NoReferent: true}))
		b.waitFor(t, all.ID, allIn(2, webhooks.StatusDelivered))
		ds := b.waitFor(t, only.ID, allIn(1, webhooks.StatusDelivered))
		require.Len(t, ds, 1)
	})

	t.Run("nothing is delivered when the transaction rolls back", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, _ := b.subscribe(t, b.sender)
		boom := errors.New("boom")
		err := postgres.RunTx(t.Context(), b.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			require.NoError(t, b.svc.EnqueueTx(t.Context(), tx, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"})))
			return boom
		})
		require.ErrorIs(t, err, boom)
		// A committed event afterwards is the only one to arrive.
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseCreated, Status: "draft", NoReferent: true}))
		b.waitFor(t, sub.ID, allIn(1, webhooks.StatusDelivered))
		// Every delivery job has run: whatever the rolled-back event left would have been sent.
		jobstest.WaitDone(t, b.pool, 15*time.Second, webhooks.DeliveryJobKind)
		reqs := b.recv.Requests()
		require.Len(t, reqs, 1)
		require.Equal(t, "case.created", reqs[0].Header.Get("X-CaseXchange-Event"))
		var jobsLeft int
		require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'`).Scan(&jobsLeft))
		require.Equal(t, 1, jobsLeft)
	})

	t.Run("failed attempts are retried on the schedule, then exhausted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.recv.Status(http.StatusServiceUnavailable)
		sub, _ := b.subscribe(t, b.sender)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))

		var deliveryID string
		for i, wait := range webhooks.RetryWaits {
			ds := b.waitFor(t, sub.ID, func(ds []deliveryRow) bool {
				return len(ds) == 1 && ds[0].Status == webhooks.StatusFailed && ds[0].Attempts == i+1
			})
			require.Equal(t, 503, *ds[0].LastCode)
			require.Equal(t, "HTTP 503", *ds[0].LastError)
			want := b.clock.Now().Add(wait)
			require.WithinDuration(t, want, *ds[0].NextRetryAt, time.Millisecond, "attempt %d", i+1)
			at := b.runScheduled(t, wait)
			require.Len(t, at, 1)
			require.WithinDuration(t, want, at[0], time.Millisecond)
			deliveryID = ds[0].ID.String()
		}
		ds := b.waitFor(t, sub.ID, allIn(1, webhooks.StatusExhausted))
		require.Equal(t, webhooks.MaxAttempts, ds[0].Attempts)
		require.Nil(t, ds[0].NextRetryAt)
		reqs := b.recv.Requests()
		require.Len(t, reqs, webhooks.MaxAttempts)
		for _, r := range reqs {
			require.Equal(t, deliveryID, r.Header.Get("X-CaseXchange-Delivery"), "stable across retries")
		}
		got, err := b.svc.Get(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, 1, got.ConsecutiveFailures)
		require.True(t, got.IsActive)

		// A success resets the count.
		b.recv.Status(http.StatusNoContent)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		b.waitFor(t, sub.ID, func(ds []deliveryRow) bool { return len(ds) == 2 && ds[1].Status == webhooks.StatusDelivered })
		got, err = b.svc.Get(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.Equal(t, 0, got.ConsecutiveFailures)
	})

	t.Run("ten exhausted deliveries in a row switch the subscription off", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.recv.Status(http.StatusInternalServerError)
		sub, _ := b.subscribe(t, b.sender)
		for range webhooks.BreakerThreshold {
			b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		}
		for i, wait := range webhooks.RetryWaits {
			b.waitFor(t, sub.ID, func(ds []deliveryRow) bool {
				if len(ds) != webhooks.BreakerThreshold {
					return false
				}
				for _, d := range ds {
					if d.Status != webhooks.StatusFailed || d.Attempts != i+1 {
						return false
					}
				}
				return true
			})
			require.Len(t, b.runScheduled(t, wait), webhooks.BreakerThreshold)
		}
		b.waitFor(t, sub.ID, allIn(webhooks.BreakerThreshold, webhooks.StatusExhausted))
		got, err := b.svc.Get(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.False(t, got.IsActive)
		require.Equal(t, webhooks.DeactivatedCircuitBreaker, *got.DeactivatedReason)
		require.Equal(t, webhooks.BreakerThreshold, got.ConsecutiveFailures)

		// Nothing more is sent to it.
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		require.Len(t, b.deliveries(t, sub.ID), webhooks.BreakerThreshold, "the committed event made no delivery")
		jobstest.WaitDone(t, b.pool, 15*time.Second, webhooks.DeliveryJobKind)
		require.Len(t, b.recv.Requests(), webhooks.BreakerThreshold*webhooks.MaxAttempts)
	})

	t.Run("switching a subscription off cancels its queued deliveries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.recv.Status(http.StatusBadGateway)
		sub, _ := b.subscribe(t, b.sender)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		b.waitFor(t, sub.ID, allIn(1, webhooks.StatusFailed))
		off := false
		_, err := b.svc.Update(t.Context(), b.sender.ID, sub.ID, webhooks.Patch{IsActive: &off})
		require.NoError(t, err)
		ds := b.deliveries(t, sub.ID)
		require.Equal(t, webhooks.StatusExhausted, ds[0].Status)
		require.Equal(t, "Subscription deactivated", *ds[0].LastError)
		require.Nil(t, ds[0].NextRetryAt)
		// The scheduled retry runs and sends nothing.
		require.Len(t, b.runScheduled(t, time.Minute), 1)
		jobstest.WaitDone(t, b.pool, 15*time.Second, webhooks.DeliveryJobKind)
		require.Len(t, b.recv.Requests(), 1)
		require.Equal(t, 1, b.deliveries(t, sub.ID)[0].Attempts)
	})

	t.Run("a rotated secret signs the next attempt at once", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.recv.Status(http.StatusInternalServerError)
		sub, oldSecret := b.subscribe(t, b.sender)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		b.waitFor(t, sub.ID, allIn(1, webhooks.StatusFailed))
		_, newSecret, err := b.svc.RotateSecret(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.NotEqual(t, oldSecret, newSecret)
		require.Regexp(t, `^whsec_[0-9a-f]{64}$`, newSecret)
		b.recv.Status(http.StatusOK)
		b.runScheduled(t, webhooks.RetryWaits[0])
		b.waitFor(t, sub.ID, allIn(1, webhooks.StatusDelivered))
		reqs := b.recv.Requests()
		require.Len(t, reqs, 2)
		first, second := reqs[0], reqs[1]
		require.NoError(t, webhookverify.VerifyAt(oldSecret, first.Header.Get("X-CaseXchange-Signature"), first.Body, time.Hour, b.clock.Now()))
		require.NoError(t, webhookverify.VerifyAt(newSecret, second.Header.Get("X-CaseXchange-Signature"), second.Body, time.Minute, b.clock.Now()))
		require.ErrorIs(t, webhookverify.VerifyAt(oldSecret, second.Header.Get("X-CaseXchange-Signature"), second.Body, time.Minute, b.clock.Now()), webhookverify.ErrMismatch)
		require.Equal(t, string(first.Body), string(second.Body), "the same bytes on every attempt")
	})

	t.Run("redirects are not followed and timeouts fail the attempt", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.svc.Configure(func(c *webhooks.Config) { c.IdleTimeout, c.TotalTimeout = 300*time.Millisecond, 900*time.Millisecond })
		b.recv.Handle(func(n int, r *http.Request, w http.ResponseWriter) bool {
			switch n {
			case 1:
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			case 2:
				time.Sleep(time.Second) // no data at all
			case 3:
				w.WriteHeader(http.StatusOK) // then trickles past the total timeout
				for range 8 {
					_, _ = w.Write([]byte("."))
					w.(http.Flusher).Flush()
					time.Sleep(150 * time.Millisecond)
				}
			}
			return true
		})
		sub, _ := b.subscribe(t, b.sender)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		ds := b.waitFor(t, sub.ID, allIn(1, webhooks.StatusFailed))
		require.Equal(t, "HTTP 302", *ds[0].LastError)
		b.runScheduled(t, webhooks.RetryWaits[0])
		ds = b.waitFor(t, sub.ID, func(ds []deliveryRow) bool { return ds[0].Status == webhooks.StatusFailed && ds[0].Attempts == 2 })
		require.Equal(t, "Timeout: no data for 10 s", *ds[0].LastError)
		require.Nil(t, ds[0].LastCode)
		b.runScheduled(t, webhooks.RetryWaits[1])
		ds = b.waitFor(t, sub.ID, func(ds []deliveryRow) bool { return ds[0].Status == webhooks.StatusFailed && ds[0].Attempts == 3 })
		require.Equal(t, "Timeout: no complete response within 30 s", *ds[0].LastError)
		require.Len(t, b.recv.Requests(), 3, "no request to the redirect target")
	})

	t.Run("a receiver with an untrusted certificate fails with a TLS error", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.svc.Configure(func(c *webhooks.Config) { c.RootCAs = nil })
		sub, _ := b.subscribe(t, b.sender)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		ds := b.waitFor(t, sub.ID, allIn(1, webhooks.StatusFailed))
		require.True(t, strings.HasPrefix(*ds[0].LastError, "TLS error: "), *ds[0].LastError)
	})

	t.Run("deleting a subscription drops its queued deliveries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.recv.Status(http.StatusInternalServerError)
		sub, _ := b.subscribe(t, b.sender)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		b.waitFor(t, sub.ID, allIn(1, webhooks.StatusFailed))
		require.NoError(t, b.svc.Delete(t.Context(), b.sender.ID, sub.ID))
		require.Len(t, b.runScheduled(t, time.Minute), 1)
		jobstest.WaitDone(t, b.pool, 15*time.Second, webhooks.DeliveryJobKind)
		require.Len(t, b.recv.Requests(), 1)
		require.ErrorIs(t, b.svc.Delete(t.Context(), b.sender.ID, sub.ID), apperr.ErrNotFound)
	})
}

func TestRedeliver(t *testing.T) {
	t.Parallel()

	t.Run("an exhausted or delivered event is sent again with a new delivery id", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, _ := b.subscribe(t, b.sender)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		ds := b.waitFor(t, sub.ID, allIn(1, webhooks.StatusDelivered))
		d, err := b.svc.Redeliver(t.Context(), b.sender.ID, sub.ID, ds[0].ID)
		require.NoError(t, err)
		require.NotEqual(t, ds[0].ID, d.ID)
		require.Equal(t, ds[0].ID, *d.RedeliveryOf)
		require.Equal(t, webhooks.StatusPending, d.Status)
		reqs := b.recv.Wait(t, 2, 10*time.Second)
		require.Equal(t, reqs[0].Header.Get("X-CaseXchange-Event-Id"), reqs[1].Header.Get("X-CaseXchange-Event-Id"))
		require.Equal(t, d.ID.String(), reqs[1].Header.Get("X-CaseXchange-Delivery"))
		require.Equal(t, string(reqs[0].Body), string(reqs[1].Body))
		b.waitFor(t, sub.ID, allIn(2, webhooks.StatusDelivered))
		list, total, err := b.svc.Deliveries(t.Context(), b.sender.ID, sub.ID, 1, 20)
		require.NoError(t, err)
		require.EqualValues(t, 2, total)
		require.Equal(t, d.ID, list[0].ID, "newest first")
	})

	t.Run("a delivery still being retried cannot be sent again", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.recv.Status(http.StatusInternalServerError)
		sub, _ := b.subscribe(t, b.sender)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseStatusChanged, Status: "sent"}))
		ds := b.waitFor(t, sub.ID, allIn(1, webhooks.StatusFailed))
		_, err := b.svc.Redeliver(t.Context(), b.sender.ID, sub.ID, ds[0].ID)
		require.ErrorIs(t, err, apperr.ErrInvalidTransition)
		_, err = b.svc.Redeliver(t.Context(), b.sender.ID, sub.ID, uuid.New())
		require.ErrorIs(t, err, apperr.ErrNotFound)
		_, err = b.svc.Redeliver(t.Context(), b.receiver.ID, sub.ID, ds[0].ID)
		require.ErrorIs(t, err, apperr.ErrNotFound, "another firm's subscription")
	})
}

func TestTestDelivery(t *testing.T) {
	t.Parallel()

	t.Run("a test event is sent once and its outcome reported", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, secret := b.subscribe(t, b.sender)
		res, err := b.svc.Test(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.True(t, res.Delivered)
		require.Equal(t, 200, *res.StatusCode)
		require.Nil(t, res.Error)
		req := b.recv.Requests()[0]
		require.Equal(t, "webhook.test", req.Header.Get("X-CaseXchange-Event"))
		require.NoError(t, webhookverify.VerifyAt(secret, req.Header.Get("X-CaseXchange-Signature"), req.Body, time.Minute, b.clock.Now()))
		var body map[string]any
		require.NoError(t, json.Unmarshal(req.Body, &body))
		require.Equal(t, "webhook.test", body["event"])
		require.Equal(t, b.clock.Now().Format(time.RFC3339), body["timestamp"])
		require.Equal(t, sub.ID.String(), body["data"].(map[string]any)["subscriptionId"])
		require.NotEmpty(t, body["data"].(map[string]any)["message"])
		require.Len(t, body, 3)
	})

	t.Run("a failed test is not retried and does not count for the breaker", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.recv.Status(http.StatusTeapot)
		sub, _ := b.subscribe(t, b.sender)
		res, err := b.svc.Test(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.False(t, res.Delivered)
		require.Equal(t, "HTTP 418", *res.Error)
		ds := b.deliveries(t, sub.ID)
		require.Equal(t, webhooks.StatusFailed, ds[0].Status)
		require.Nil(t, ds[0].NextRetryAt)
		got, err := b.svc.Get(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		require.Zero(t, got.ConsecutiveFailures)
	})

	t.Run("an inactive subscription cannot be tested", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, _ := b.subscribe(t, b.sender)
		off := false
		_, err := b.svc.Update(t.Context(), b.sender.ID, sub.ID, webhooks.Patch{IsActive: &off})
		require.NoError(t, err)
		_, err = b.svc.Test(t.Context(), b.sender.ID, sub.ID)
		require.ErrorIs(t, err, apperr.ErrConflict)
		ae, _ := apperr.As(err)
		require.Equal(t, "subscription_inactive", ae.Code)
	})
}

func TestMaintain(t *testing.T) {
	t.Parallel()

	t.Run("records, bodies and echo captures expire on their schedules", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		sub, _ := b.subscribe(t, b.sender)
		b.enqueue(t, b.event(eventOpts{Type: webhooks.EventCaseCreated, Status: "draft", NoReferent: true}))
		b.waitFor(t, sub.ID, allIn(1, webhooks.StatusDelivered))
		echo, err := b.svc.EnableEcho(t.Context(), b.sender.ID, sub.ID)
		require.NoError(t, err)
		_, err = b.svc.ReceiveEcho(t.Context(), echo.Token, webhooks.EchoRequest{Body: []byte(`{}`)})
		require.NoError(t, err)
		payload := func() *string {
			var p *string
			require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT payload FROM webhook_deliveries WHERE subscription_id = $1`, sub.ID).Scan(&p))
			return p
		}
		captures := func() int {
			var n int
			require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT count(*) FROM webhook_echo_captures`).Scan(&n))
			return n
		}

		b.clock.Advance(59 * time.Minute)
		require.NoError(t, b.svc.Maintain(t.Context()))
		require.Equal(t, 1, captures())
		b.clock.Advance(2 * time.Minute)
		require.NoError(t, b.svc.Maintain(t.Context()))
		require.Zero(t, captures())
		require.NotNil(t, payload())

		b.clock.Advance(webhooks.PayloadRetention)
		require.NoError(t, b.svc.Maintain(t.Context()))
		require.Nil(t, payload(), "the body goes first")
		require.Len(t, b.deliveries(t, sub.ID), 1)
		_, err = b.svc.Redeliver(t.Context(), b.sender.ID, sub.ID, b.deliveries(t, sub.ID)[0].ID)
		require.ErrorIs(t, err, apperr.ErrConflict, "nothing left to send again")

		b.clock.Advance(webhooks.RecordRetention - webhooks.PayloadRetention)
		require.NoError(t, b.svc.Maintain(t.Context()))
		require.Empty(t, b.deliveries(t, sub.ID))
	})
}
