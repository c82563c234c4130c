package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/idempotency"
)

const (
	headerIdempotencyKey     = "Idempotency-Key"
	headerIdempotentReplayed = "Idempotent-Replayed"
	// maxStoredResponse caps the body kept for a replay. Write responses are small envelopes;
	// a larger one is not stored (and the key released) rather than held in memory twice.
	maxStoredResponse = 8 << 20
	// finishTimeout bounds storing or releasing the outcome after the response was sent.
	finishTimeout = 10 * time.Second
)

// idempotencyMiddleware makes Public API POST and PATCH requests that carry an Idempotency-Key
// safe to retry. It runs after auth and request validation, so only valid requests
// of an authenticated firm are stored or replayed:
//
//   - first request with a key: a pending claim is written, the handler runs, and its
//     response is stored (2xx and 4xx except 409 and 429) or the claim released (anything
//     else, so that a retry runs anew);
//   - same key, same request: the stored status, Content-Type, Location and body are sent
//     again with Idempotent-Replayed: true (X-Request-Id and the rate-limit headers are those
//     of the new request; meta inside the body is the original's);
//   - same key, another request: 422 idempotency_key_reused;
//   - same key while the first still runs: 409 conflict.
//
// The request is identified by method, path with query, and body bytes. Multipart bodies are
// streamed to their handler and not read here: method, path and Content-Length stand in.
func (s *Server) idempotencyMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if s.Idempotency == nil || (req.Method != http.MethodPost && req.Method != http.MethodPatch) {
			return next(c)
		}
		values, present := req.Header[headerIdempotencyKey]
		if !present {
			return next(c)
		}
		acc, ok := s.access[req.Method+" "+c.Path()]
		p := PrincipalFrom(req.Context())
		if !ok || !acc.public || acc.anonymous || p == nil {
			return next(c)
		}
		if len(values) != 1 {
			return apperr.Field("header."+headerIdempotencyKey, "send one Idempotency-Key header")
		}
		key := values[0]
		if err := checkIdempotencyKey(key); err != nil {
			return err
		}
		hash, err := requestHash(req)
		if err != nil {
			return err
		}
		claim, stored, err := s.Idempotency.Begin(req.Context(), idempotency.Request{FirmID: p.FirmID, Key: key, Hash: hash})
		switch {
		case errors.Is(err, idempotency.ErrKeyReused):
			s.writeEnvelope(c, http.StatusUnprocessableEntity, errorBody{Code: "idempotency_key_reused",
				Message: "This Idempotency-Key was already used for a different request; use a new key for a new request"})
			return nil
		case err != nil:
			return err
		case stored != nil:
			return replay(c, stored)
		}
		return s.runClaimed(c, next, claim)
	}
}

// checkIdempotencyKey accepts 1 to 255 printable ASCII characters (the validator checks the
// same for operations that declare the header; this covers the rest).
func checkIdempotencyKey(key string) error {
	if key == "" || len(key) > 255 {
		return apperr.Field("header."+headerIdempotencyKey, "must be 1 to 255 characters long")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return apperr.Field("header."+headerIdempotencyKey, "must contain printable ASCII characters only")
		}
	}
	return nil
}

// requestHash reads (and puts back) a non-multipart body and hashes the request.
func requestHash(req *http.Request) ([]byte, error) {
	target := req.URL.EscapedPath()
	if req.URL.RawQuery != "" {
		target += "?" + req.URL.RawQuery
	}
	if strings.HasPrefix(strings.ToLower(req.Header.Get(echo.HeaderContentType)), "multipart/") {
		return idempotency.StreamedRequestHash(req.Method, target, req.ContentLength), nil
	}
	var body []byte
	if req.Body != nil {
		b, err := bodyBytes(req)
		if err != nil {
			return nil, err // the body limit's 413, or a broken connection
		}
		body = b
	}
	return idempotency.RequestHash(req.Method, target, body), nil
}

// replay sends a stored outcome again.
func replay(c echo.Context, r *idempotency.Response) error {
	h := c.Response().Header()
	if r.ContentType != "" {
		h.Set(echo.HeaderContentType, r.ContentType)
	}
	if r.Location != "" {
		h.Set(echo.HeaderLocation, r.Location)
	}
	h.Set(headerIdempotentReplayed, "true")
	c.Response().WriteHeader(r.Status)
	_, err := c.Response().Write(r.Body)
	return err
}

// runClaimed runs the handler under a claim, capturing its response to store it.
func (s *Server) runClaimed(c echo.Context, next echo.HandlerFunc, claim *idempotency.Claim) error {
	res := c.Response()
	rec := &captureWriter{ResponseWriter: res.Writer}
	res.Writer = rec
	finished := false
	defer func() {
		res.Writer = rec.ResponseWriter
		if !finished { // the handler panicked: let a retry run again
			s.finishClaim(c, claim, nil)
		}
	}()
	if err := next(c); err != nil {
		// Render the error here, through the recorder, so that a 4xx envelope is stored too.
		c.Error(err)
	}
	finished = true
	status := res.Status
	if !res.Committed || !storable(status) || rec.overflow {
		s.finishClaim(c, claim, nil)
		return nil
	}
	s.finishClaim(c, claim, &idempotency.Response{
		Status:      status,
		ContentType: res.Header().Get(echo.HeaderContentType),
		Location:    res.Header().Get(echo.HeaderLocation),
		Body:        rec.body.Bytes(),
	})
	return nil
}

// storable reports whether an outcome is final: retrying a 5xx, 409 or 429 may succeed.
func storable(status int) bool {
	switch {
	case status >= 200 && status < 300:
		return true
	case status >= 400 && status < 500:
		return status != http.StatusConflict && status != http.StatusTooManyRequests
	}
	return false
}

// finishClaim stores resp, or releases the claim when resp is nil. The response was already
// sent, so failures are only logged; a failed release blocks the key until AbandonAfter.
func (s *Server) finishClaim(c echo.Context, claim *idempotency.Claim, resp *idempotency.Response) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), finishTimeout)
	defer cancel()
	var err error
	if resp != nil {
		err = claim.Complete(ctx, *resp)
	} else {
		err = claim.Release(ctx)
	}
	if err == nil {
		return
	}
	s.log.Error("idempotency: finishing a claim failed", slog.String("request_id", requestID(c)),
		slog.Bool("store", resp != nil), slog.String("error", err.Error()))
	if errors.Is(err, apperr.ErrUnavailable) {
		// The database went away between the work and its bookkeeping. Keep trying in the
		// background, or a client retrying with the same key would be told "still in progress"
		// until the claim is abandoned.
		s.retries.start(s, requestID(c), claim, resp)
	}
}

// maxFinishRetries bounds the claims finished in the background at once. During an outage
// every write with a key would otherwise add a goroutine; a claim
// beyond the bound is left pending and is abandoned after idempotency.AbandonAfter, which is
// what happens anyway when the database stays away longer than retryFinish tries.
const maxFinishRetries = 64

// finishRetries runs retryFinish goroutines, at most maxFinishRetries at once, until Close.
type finishRetries struct {
	sem     chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	dropped atomic.Int64
}

func newFinishRetries() *finishRetries {
	ctx, cancel := context.WithCancel(context.Background())
	return &finishRetries{sem: make(chan struct{}, maxFinishRetries), ctx: ctx, cancel: cancel}
}

func (r *finishRetries) start(s *Server, reqID string, claim *idempotency.Claim, resp *idempotency.Response) {
	if r.ctx.Err() != nil {
		return
	}
	select {
	case r.sem <- struct{}{}:
	default:
		r.dropped.Add(1)
		s.log.Warn("idempotency: too many claims waiting for the database; this one is left to be abandoned",
			slog.String("request_id", reqID))
		return
	}
	r.wg.Add(1)
	go func() {
		defer func() { <-r.sem; r.wg.Done() }()
		s.retryFinish(r.ctx, reqID, claim, resp)
	}()
}

// close stops the retries and waits for them (each attempt is bounded by finishTimeout).
func (r *finishRetries) close() {
	r.cancel()
	r.wg.Wait()
}

// Close stops the background work of the HTTP layer: the idempotency claims still being
// finished are left pending (they are abandoned after idempotency.AbandonAfter). It returns
// once no such goroutine runs. Calling it again does nothing.
func (s *Server) Close() { s.retries.close() }

// retryFinish finishes a claim once the database answers again, backing off up to a minute
// and giving up after about ten minutes (the claim is then abandoned and may be taken over)
// or when ctx ends (shutdown).
func (s *Server) retryFinish(stop context.Context, reqID string, claim *idempotency.Claim, resp *idempotency.Response) {
	wait := 250 * time.Millisecond
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		t := time.NewTimer(wait)
		select {
		case <-stop.Done():
			t.Stop()
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(stop, finishTimeout)
		var err error
		if resp != nil {
			err = claim.Complete(ctx, *resp)
		} else {
			err = claim.Release(ctx)
		}
		cancel()
		if err == nil {
			s.log.Info("idempotency: claim finished after the database returned", slog.String("request_id", reqID))
			return
		}
		if wait < time.Minute {
			wait *= 2
		}
	}
}

// writeEnvelope writes an error envelope with a status the kind table does not produce.
func (s *Server) writeEnvelope(c echo.Context, status int, body errorBody) {
	c.Set(ctxErrorCode, body.Code)
	buf, _ := json.Marshal(errorEnvelope{Error: body, Meta: newMeta(c)})
	_ = c.Blob(status, echo.MIMEApplicationJSON, buf)
}

// captureWriter passes the response through and keeps a copy of the body (up to
// maxStoredResponse).
type captureWriter struct {
	http.ResponseWriter
	body     bytes.Buffer
	overflow bool
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if !w.overflow {
		if w.body.Len()+len(b) > maxStoredResponse {
			w.overflow = true
			w.body = bytes.Buffer{}
		} else {
			w.body.Write(b)
		}
	}
	return w.ResponseWriter.Write(b)
}

func (w *captureWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
