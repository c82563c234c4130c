// Package idempotency remembers the outcome of Public API writes sent with an Idempotency-Key,
// so that a client retrying a write (after a timeout or a dropped connection) gets the first
// outcome back instead of repeating the work.
//
// One row per (firm, key) lives for 24 hours. The first request claims the key with a
// 'pending' row in its own short statement, before the work starts; concurrent duplicates
// therefore find the row and never run the handler. When the work ends the row either stores
// the response ('done') or is deleted (outcomes worth retrying), so the next retry runs anew.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
)

// Defaults of a Service.
const (
	// TTL is how long an outcome is kept; afterwards the key may be used again.
	TTL = 24 * time.Hour
	// AbandonAfter is how long a pending claim may stay unfinished before a retry may take it
	// over: longer than any request runs, so that only claims of a crashed process expire.
	AbandonAfter = 15 * time.Minute
	// purgeEvery bounds how often one process deletes expired rows.
	purgeEvery = 10 * time.Minute
)

// ErrKeyReused reports a key already used by the firm for a different request. The HTTP layer
// answers 422 idempotency_key_reused.
var ErrKeyReused = errors.New("idempotency key reused for a different request")

// inProgress is the error of a retry that arrives while the first request still runs.
func inProgress() error {
	return apperr.New(apperr.ErrConflict, "conflict",
		"A request with this Idempotency-Key is still being processed; retry after it finishes")
}

// Service stores and replays outcomes.
type Service struct {
	pool         *pgxpool.Pool
	now          func() time.Time
	ttl          time.Duration
	abandonAfter time.Duration
	lastPurge    atomic.Int64 // unix nanoseconds of the last purge by this process
}

// Option adjusts a Service.
type Option func(*Service)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithAbandonAfter sets how long a pending claim blocks retries before it may be taken over.
func WithAbandonAfter(d time.Duration) Option { return func(s *Service) { s.abandonAfter = d } }

// New returns a Service over pool.
func New(pool *pgxpool.Pool, opts ...Option) *Service {
	s := &Service{pool: pool, now: time.Now, ttl: TTL, abandonAfter: AbandonAfter}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Request identifies one write: the firm's key and a hash of what the request asks for.
type Request struct {
	FirmID uuid.UUID
	Key    string
	Hash   []byte
}

// Response is a stored outcome: the status, the representation headers that belong to it and
// the exact body bytes.
type Response struct {
	Status      int
	ContentType string
	Location    string
	Body        []byte
}

// Claim is the ownership of a key by one running request. Exactly one of Complete and Release
// should be called when the request ends.
type Claim struct {
	s    *Service
	firm uuid.UUID
	key  string
	lock uuid.UUID
}

// Begin claims r's key for a new attempt, or returns the stored outcome of an earlier one.
// It returns a Claim when the caller must do the work, or a Response to send again.
// Errors: ErrKeyReused when the key's stored request hash differs from r.Hash, an
// apperr.ErrConflict (code conflict) while an earlier attempt with the key still runs, and
// apperr.ErrUnavailable (or another interpreted database error) when the store fails.
func (s *Service) Begin(ctx context.Context, r Request) (*Claim, *Response, error) {
	q := db.New(s.pool)
	lock := uuid.New()
	for range 3 {
		now := s.now()
		_, err := q.IdempotencyKeyClaim(ctx, db.IdempotencyKeyClaimParams{
			FirmID: r.FirmID, IdemKey: r.Key, RequestHash: r.Hash, LockID: lock, Now: now,
			ExpiredBefore: now.Add(-s.ttl), AbandonedBefore: now.Add(-s.abandonAfter),
		})
		if err == nil {
			return &Claim{s: s, firm: r.FirmID, key: r.Key, lock: lock}, nil, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, postgres.InterpretError(err)
		}
		row, err := q.IdempotencyKeyGet(ctx, db.IdempotencyKeyGetParams{FirmID: r.FirmID, IdemKey: r.Key})
		if errors.Is(err, pgx.ErrNoRows) {
			continue // released between the two statements: claim again
		}
		if err != nil {
			return nil, nil, postgres.InterpretError(err)
		}
		// A different request is refused even while the first runs: the answer does not
		// depend on timing.
		if !bytes.Equal(row.RequestHash, r.Hash) {
			return nil, nil, ErrKeyReused
		}
		if row.State != "done" || row.StatusCode == nil {
			return nil, nil, inProgress()
		}
		return nil, responseFromRow(row), nil
	}
	return nil, nil, inProgress()
}

// Complete stores resp as the outcome of the claim. A claim taken over in the meantime (see
// AbandonAfter) stores nothing. It returns only database errors.
func (c *Claim) Complete(ctx context.Context, resp Response) error {
	now := c.s.now()
	status := int32(resp.Status)
	_, err := db.New(c.s.pool).IdempotencyKeyComplete(ctx, db.IdempotencyKeyCompleteParams{
		StatusCode: &status, ContentType: nonEmpty(resp.ContentType), Location: nonEmpty(resp.Location),
		Body: orEmpty(resp.Body), Now: &now, FirmID: c.firm, IdemKey: c.key, LockID: c.lock,
	})
	if err != nil {
		return postgres.InterpretError(err)
	}
	c.s.maybePurge(ctx)
	return nil
}

// Release deletes the claim so that the next request with the key runs anew. It returns only
// database errors.
func (c *Claim) Release(ctx context.Context) error {
	_, err := db.New(c.s.pool).IdempotencyKeyRelease(ctx, db.IdempotencyKeyReleaseParams{
		FirmID: c.firm, IdemKey: c.key, LockID: c.lock,
	})
	return postgres.InterpretError(err)
}

// Purge deletes every row older than the TTL and returns how many it deleted.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	n, err := db.New(s.pool).IdempotencyKeyPurge(ctx, s.now().Add(-s.ttl))
	return n, postgres.InterpretError(err)
}

// maybePurge purges at most once per purgeEvery per process. Expired rows are already ignored
// by Begin, so a failure only delays the cleanup.
func (s *Service) maybePurge(ctx context.Context) {
	now := s.now().UnixNano()
	last := s.lastPurge.Load()
	if now-last < int64(purgeEvery) || !s.lastPurge.CompareAndSwap(last, now) {
		return
	}
	_, _ = s.Purge(ctx)
}

// RequestHash identifies a request by method, target (path and query) and body bytes.
func RequestHash(method, target string, body []byte) []byte {
	return hashParts([]byte(method), []byte(target), body)
}

// StreamedRequestHash identifies a request whose body is not read up front (multipart uploads)
// by method, target and declared length.
func StreamedRequestHash(method, target string, contentLength int64) []byte {
	return hashParts([]byte(method), []byte(target), []byte("streamed"), []byte(strconv.FormatInt(contentLength, 10)))
}

// hashParts hashes length-prefixed parts, so that no two lists of parts collide by concatenation.
func hashParts(parts ...[]byte) []byte {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	return h.Sum(nil)
}
