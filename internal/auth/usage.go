package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
)

// usageRecorder counts key uses in memory. Writing the counters on every request would turn
// each key row into a hot spot, so requests are summed per key and UTC day and flushed in one
// statement per bucket.
type usageRecorder struct {
	mu      sync.Mutex
	buckets map[usageBucket]*usageCount
}

type usageBucket struct {
	keyID uuid.UUID
	day   string // YYYY-MM-DD, UTC
}

type usageCount struct {
	n    int64
	last time.Time
}

func newUsageRecorder() *usageRecorder {
	return &usageRecorder{buckets: make(map[usageBucket]*usageCount)}
}

func (r *usageRecorder) record(keyID uuid.UUID, at time.Time) {
	b := usageBucket{keyID: keyID, day: at.UTC().Format(time.DateOnly)}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.buckets[b]
	if c == nil {
		c = &usageCount{}
		r.buckets[b] = c
	}
	c.n++
	if at.After(c.last) {
		c.last = at
	}
}

// take empties the recorder and returns what it held.
func (r *usageRecorder) take() map[usageBucket]*usageCount {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.buckets
	r.buckets = make(map[usageBucket]*usageCount)
	return out
}

// putBack returns unflushed counts so the next flush retries them.
func (r *usageRecorder) putBack(b usageBucket, c *usageCount) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.buckets[b]
	if cur == nil {
		r.buckets[b] = c
		return
	}
	cur.n += c.n
	if c.last.After(cur.last) {
		cur.last = c.last
	}
}

// FlushUsage writes the key usage counted since the last flush: last_used_at, the lifetime
// request count and the daily bucket of each key. Counts that fail to write are kept for the
// next flush; the first error is returned.
func (s *Service) FlushUsage(ctx context.Context) error {
	var errs []error
	for b, c := range s.usage.take() {
		if len(errs) > 0 && ctx.Err() != nil {
			s.usage.putBack(b, c)
			continue
		}
		// last carries the bucket's day: the statement derives the day from it.
		err := s.q.ApiKeyTouch(ctx, db.ApiKeyTouchParams{ID: b.keyID, N: c.n, UsedAt: c.last})
		if err != nil {
			s.usage.putBack(b, c)
			errs = append(errs, fmt.Errorf("flush usage of api key %s: %w", b.keyID, err))
		}
	}
	return errors.Join(errs...)
}

// RunUsageFlusher flushes key usage every interval (DefaultUsageFlushPeriod when zero) until
// ctx ends, then flushes once more with a short grace period so a clean shutdown loses
// nothing. Flush errors go to the error handler (WithErrorHandler).
func (s *Service) RunUsageFlusher(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultUsageFlushPeriod
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.report(s.FlushUsage(ctx))
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			s.report(s.FlushUsage(fctx))
			cancel()
			return
		}
	}
}
