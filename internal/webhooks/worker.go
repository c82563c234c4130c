package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/pkg/webhookverify"
)

// deliveryArgs is the job of one attempt of one delivery. Each failed attempt enqueues the next
// one, scheduled by the service clock; River's own retries only cover crashes and database
// errors while working it.
type deliveryArgs struct {
	DeliveryID uuid.UUID `json:"deliveryId"`
	Attempt    int       `json:"attempt"`
}

// DeliveryJobKind is the job kind of a delivery attempt.
const DeliveryJobKind = "webhook_delivery"

// Kind is the River job kind.
func (deliveryArgs) Kind() string { return DeliveryJobKind }

// InsertOpts bounds River's retries of an attempt job.
func (deliveryArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// maintenanceArgs is the hourly clean-up: delivery records after RecordRetention, their bodies
// after PayloadRetention, echo captures after EchoCaptureTTL. Delivery workers enqueue it, unique
// per hour, so it runs while there is traffic and costs nothing otherwise.
type maintenanceArgs struct{}

// Kind is the River job kind.
func (maintenanceArgs) Kind() string { return "webhook_maintenance" }

// InsertOpts makes the job unique per hour.
func (maintenanceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	s *Service
}

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	if err := w.s.attempt(ctx, job.Args.DeliveryID, job.Args.Attempt); err != nil {
		return err
	}
	// The clean-up rides on delivery traffic: at most one per hour (unique job), enqueued here
	// rather than in the domains' transactions so they never wait on its uniqueness check.
	if rc, err := river.ClientFromContextSafely[pgx.Tx](ctx); err == nil {
		_, _ = rc.Insert(ctx, maintenanceArgs{}, nil)
	}
	return nil
}

// Timeout leaves room for a full attempt (TotalTimeout) and the bookkeeping around it.
func (w *deliveryWorker) Timeout(*river.Job[deliveryArgs]) time.Duration { return 2 * time.Minute }

type maintenanceWorker struct {
	river.WorkerDefaults[maintenanceArgs]
	s *Service
}

func (w *maintenanceWorker) Work(ctx context.Context, _ *river.Job[maintenanceArgs]) error {
	return w.s.Maintain(ctx)
}

// Workers registers the delivery and maintenance workers for jobs.New.
func (s *Service) Workers() jobs.Register {
	return func(ws *river.Workers) {
		river.AddWorker(ws, &deliveryWorker{s: s})
		river.AddWorker(ws, &maintenanceWorker{s: s})
	}
}

// Maintain applies the retention periods.
func (s *Service) Maintain(ctx context.Context) error {
	now := s.now()
	q := db.New(s.pool)
	if _, err := q.WebhookDeliveryPurge(ctx, now.Add(-RecordRetention)); err != nil {
		return fmt.Errorf("webhooks: purge deliveries: %w", err)
	}
	if _, err := q.WebhookDeliveryDropPayloads(ctx, now.Add(-PayloadRetention)); err != nil {
		return fmt.Errorf("webhooks: drop payloads: %w", err)
	}
	if _, err := q.WebhookEchoCapturePurge(ctx, now.Add(-EchoCaptureTTL)); err != nil {
		return fmt.Errorf("webhooks: purge echo captures: %w", err)
	}
	return nil
}

// attemptTarget is everything one attempt needs, read when it starts (so the current secret and
// URL are used).
type attemptTarget struct {
	deliveryID     uuid.UUID
	subscriptionID uuid.UUID
	eventID        uuid.UUID
	eventType      string
	url            string
	secret         string
	echoToken      *string
	body           []byte
}

// result is the outcome of one attempt.
type result struct {
	ok         bool
	statusCode int // 0 when no response was received
	errText    string
	duration   time.Duration
	final      bool // no further attempt, whatever the count
}

const lastErrorPayloadExpired = "Payload expired"

// attempt runs attempt n of a delivery: claims it, sends it, records the outcome. A job that
// finds its delivery gone, finished or past attempt n does nothing, so duplicated or stale jobs
// are harmless.
func (s *Service) attempt(ctx context.Context, id uuid.UUID, n int) error {
	now := s.now()
	var target *attemptTarget
	var isTest bool
	err := postgres.WithTx(ctx, s.pool, func(q *db.Queries) error {
		target = nil
		row, err := q.WebhookDeliveryClaim(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted with its subscription
		}
		if err != nil {
			return fmt.Errorf("claim delivery: %w", err)
		}
		switch {
		case row.Status == StatusDelivered || row.Status == StatusExhausted:
			return nil
		case int(row.Attempts) > n:
			return nil
		case int(row.Attempts) == n && row.Status != StatusInProgress:
			return nil // already recorded
		}
		if !row.IsActive {
			return cancelQueuedTx(ctx, q, row.SubscriptionID, now)
		}
		if err := q.WebhookDeliveryStart(ctx, db.WebhookDeliveryStartParams{ID: id, Attempt: int32(n), Now: now}); err != nil {
			return fmt.Errorf("start delivery: %w", err)
		}
		isTest = row.IsTest
		t := attemptTarget{
			deliveryID: id, subscriptionID: row.SubscriptionID, eventID: row.EventID, eventType: row.EventType,
			url: row.Url, secret: row.Secret, echoToken: row.EchoToken,
		}
		if row.Payload != nil {
			t.body = []byte(*row.Payload)
		}
		target = &t
		return nil
	})
	if err != nil || target == nil {
		return err
	}
	var res result
	if target.body == nil {
		res = result{errText: lastErrorPayloadExpired, final: true}
	} else {
		res = s.send(ctx, *target)
	}
	return s.record(ctx, *target, n, isTest, res)
}

// record stores the outcome of attempt n and what follows from it: the next attempt, the end of
// the delivery, the circuit breaker. It does nothing when the delivery was ended meanwhile (its
// subscription switched off).
func (s *Service) record(ctx context.Context, t attemptTarget, n int, isTest bool, res result) error {
	now := s.now()
	return postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := db.New(tx)
		p := db.WebhookDeliveryFinishParams{ID: t.deliveryID, Attempt: int32(n), Now: now}
		if res.statusCode != 0 {
			code := int32(res.statusCode)
			p.LastStatusCode = &code
		}
		var next time.Time
		switch {
		case res.ok:
			p.Status, p.DeliveredAt = StatusDelivered, &now
		case isTest:
			p.Status, p.LastError = StatusFailed, &res.errText
		case n < MaxAttempts && !res.final:
			next = now.Add(RetryWaits[n-1])
			p.Status, p.LastError, p.NextRetryAt = StatusFailed, &res.errText, &next
		default:
			p.Status, p.LastError = StatusExhausted, &res.errText
		}
		rows, err := q.WebhookDeliveryFinish(ctx, p)
		if err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		if rows == 0 {
			return nil
		}
		switch {
		case isTest:
		case res.ok:
			if err := q.WebhookSubscriptionResetBreaker(ctx, t.subscriptionID); err != nil {
				return fmt.Errorf("reset breaker: %w", err)
			}
		case p.Status == StatusFailed:
			queue, err := s.getQueue()
			if err != nil {
				return err
			}
			return queue.InsertTx(ctx, tx, deliveryArgs{DeliveryID: t.deliveryID, Attempt: n + 1},
				&river.InsertOpts{ScheduledAt: next})
		case p.Status == StatusExhausted:
			c, err := q.WebhookSubscriptionCountExhausted(ctx, t.subscriptionID)
			if err != nil {
				return fmt.Errorf("count exhausted: %w", err)
			}
			if c.IsActive && c.ConsecutiveExhausted >= BreakerThreshold {
				if err := q.WebhookSubscriptionTrip(ctx, db.WebhookSubscriptionTripParams{ID: t.subscriptionID, Now: now}); err != nil {
					return fmt.Errorf("trip breaker: %w", err)
				}
				return cancelQueuedTx(ctx, q, t.subscriptionID, now)
			}
		}
		return nil
	})
}

// Delivery errors: which of the two timeouts ended an attempt.
var (
	errTotalTimeout = errors.New("total timeout")
	errIdleTimeout  = errors.New("idle timeout")
)

// maxResponseRead is how much of a response body is read (and ignored) before closing it.
const maxResponseRead = 64 << 10

// send makes one attempt: signs the body with the subscription's current secret at the service
// clock and POSTs it, or hands it to the echo endpoint in echo mode.
func (s *Service) send(ctx context.Context, t attemptTarget) result {
	start := time.Now()
	sig := webhookverify.Sign(t.secret, s.now(), t.body)
	eventID, deliveryID := t.eventID.String(), t.deliveryID.String()
	if t.echoToken != nil {
		_, err := s.ReceiveEcho(ctx, *t.echoToken, EchoRequest{
			Event: &t.eventType, EventID: &eventID, DeliveryID: &deliveryID, Signature: &sig, Body: t.body,
		})
		// Answer as the echo endpoint would over HTTP.
		switch {
		case err == nil:
			return result{ok: true, statusCode: http.StatusOK, duration: time.Since(start)}
		case errors.Is(err, apperr.ErrTooLarge):
			return result{statusCode: http.StatusRequestEntityTooLarge, errText: "HTTP 413", duration: time.Since(start)}
		case errors.Is(err, apperr.ErrNotFound):
			return result{statusCode: http.StatusNotFound, errText: "HTTP 404", duration: time.Since(start)}
		}
		return result{statusCode: http.StatusInternalServerError, errText: "HTTP 500", duration: time.Since(start)}
	}

	cfg, client, _ := s.config()
	totalCtx, cancelTotal := context.WithTimeoutCause(ctx, cfg.TotalTimeout, errTotalTimeout)
	defer cancelTotal()
	reqCtx, cancelReq := context.WithCancelCause(totalCtx)
	defer cancelReq(nil)
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, t.url, bytes.NewReader(t.body))
	if err != nil {
		return result{errText: "Connection error: invalid URL", duration: time.Since(start)}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "CaseXchange-Webhooks/1")
	h.Set(webhookverify.EventHeader, t.eventType)
	h.Set(webhookverify.EventIDHeader, eventID)
	h.Set(webhookverify.DeliveryHeader, deliveryID)
	h.Set(webhookverify.SignatureHeader, sig)

	resp, err := client.Do(req)
	if err != nil {
		return result{errText: describe(reqCtx, req.URL, err), duration: time.Since(start)}
	}
	defer resp.Body.Close()
	// The body is read (and dropped) under the idle timeout: a receiver that answers and then
	// stalls still fails the attempt.
	idle := time.AfterFunc(cfg.IdleTimeout, func() { cancelReq(errIdleTimeout) })
	defer idle.Stop()
	buf := make([]byte, 4096)
	read := 0
	for read < maxResponseRead {
		k, rerr := resp.Body.Read(buf)
		read += k
		idle.Reset(cfg.IdleTimeout)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return result{statusCode: resp.StatusCode, errText: describe(reqCtx, req.URL, rerr), duration: time.Since(start)}
		}
	}
	res := result{statusCode: resp.StatusCode, duration: time.Since(start)}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		res.ok = true
	} else {
		res.errText = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return res
}

// describe turns a failed exchange into one of the documented lastError texts.
func describe(ctx context.Context, u *url.URL, err error) string {
	cause := context.Cause(ctx)
	var ne net.Error
	switch {
	case errors.Is(cause, errTotalTimeout):
		return "Timeout: no complete response within 30 s"
	case errors.Is(cause, errIdleTimeout):
		return "Timeout: no data for 10 s"
	case errors.Is(err, errAddrNotAllowed):
		return "Address not allowed: " + u.Hostname() + " resolves to a non-public address"
	case errors.Is(err, errDNS):
		return "DNS error: " + u.Hostname() + " could not be resolved"
	case isTLSError(err):
		return "TLS error: " + detail(err)
	case errors.As(err, &ne) && ne.Timeout():
		return "Timeout: no data for 10 s"
	}
	return "Connection error: " + detail(err)
}

func isTLSError(err error) bool {
	var (
		verr  *tls.CertificateVerificationError
		rerr  tls.RecordHeaderError
		aerr  tls.AlertError
		uaerr x509.UnknownAuthorityError
		herr  x509.HostnameError
		cerr  x509.CertificateInvalidError
	)
	return errors.As(err, &verr) || errors.As(err, &rerr) || errors.As(err, &aerr) || errors.As(err, &uaerr) ||
		errors.As(err, &herr) || errors.As(err, &cerr) || strings.Contains(err.Error(), "tls: ")
}

// detail is the error without the request URL (which url.Error repeats), bounded.
func detail(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}
