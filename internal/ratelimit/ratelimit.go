// Package ratelimit counts requests per key in fixed windows. The in-memory Limiter serves one
// process; the PostgreSQL limiter shares the count between every process using one database.
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Result is the state of a key's window after one request was counted.
type Result struct {
	Allowed   bool
	Limit     int
	Remaining int
	Reset     time.Time // end of the current window
}

// RetryAfter is how long the caller should wait before the window resets (at least 1 s).
func (r Result) RetryAfter(now time.Time) time.Duration {
	d := r.Reset.Sub(now)
	if d < time.Second {
		d = time.Second
	}
	return d
}

// Limiter counts one request for key against limit per window.
type Limiter interface {
	Take(ctx context.Context, key string, limit int, window time.Duration) (Result, error)
}

// WindowStart returns the start of the fixed window containing now.
func WindowStart(now time.Time, window time.Duration) time.Time {
	return now.Truncate(window)
}

// Evaluate builds the Result for a window in which count requests (this one included) were made.
func Evaluate(count int64, limit int, start time.Time, window time.Duration) Result {
	rem := int64(limit) - count
	if rem < 0 {
		rem = 0
	}
	return Result{Allowed: count <= int64(limit), Limit: limit, Remaining: int(rem), Reset: start.Add(window)}
}

// Memory is a Limiter for a single process.
type Memory struct {
	mu      sync.Mutex
	now     func() time.Time
	windows map[string]*memWindow
	sweep   time.Time
}

type memWindow struct {
	start time.Time
	count int64
}

// NewMemory returns an in-process limiter; now may be nil (time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, windows: map[string]*memWindow{}}
}

// Take implements Limiter.
func (m *Memory) Take(_ context.Context, key string, limit int, window time.Duration) (Result, error) {
	now := m.now()
	start := WindowStart(now, window)
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.sweep) > time.Minute {
		for k, w := range m.windows {
			if now.Sub(w.start) > 2*window && now.Sub(w.start) > time.Hour {
				delete(m.windows, k)
			}
		}
		m.sweep = now
	}
	w := m.windows[key]
	if w == nil || !w.start.Equal(start) {
		w = &memWindow{start: start}
		m.windows[key] = w
	}
	w.count++
	return Evaluate(w.count, limit, start, window), nil
}
