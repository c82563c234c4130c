// Package ratelimit counts requests per key in fixed windows. The in-memory Limiter serves one
// process; the PostgreSQL limiter shares the count between every process using one database.
package ratelimit

import (
	"context"
	"sort"
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

// Budget is one limit a request counts against, such as its API key's or its firm's.
type Budget struct {
	Key   string
	Limit int
}

// MultiLimiter counts one request against several budgets of one window at once. Both stores
// implement it; TakeAll falls back to one Take per budget for other Limiters.
type MultiLimiter interface {
	TakeMany(ctx context.Context, budgets []Budget, window time.Duration) ([]Result, error)
}

// TakeAll counts one request against every budget (a key's own limit and
// its firm's, a session's and its address's, so that more keys do not mean more requests) and returns the binding result: a refused budget
// if any, else the one with the fewest requests left. The request counts against each budget
// even when another refuses it, as a refused request counts against its own budget.
func TakeAll(ctx context.Context, l Limiter, window time.Duration, budgets ...Budget) (Result, error) {
	sorted := append([]Budget(nil), budgets...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	var results []Result
	if m, ok := l.(MultiLimiter); ok {
		var err error
		if results, err = m.TakeMany(ctx, sorted, window); err != nil {
			return Result{}, err
		}
	} else {
		for _, b := range sorted {
			r, err := l.Take(ctx, b.Key, b.Limit, window)
			if err != nil {
				return Result{}, err
			}
			results = append(results, r)
		}
	}
	return Binding(results...), nil
}

// Binding returns the result that decides a request counted against several budgets: the
// first refused one (the latest to reset among the refused), else the one with the fewest
// requests left (the smaller limit on a tie). It returns an allowing zero Result for none.
func Binding(results ...Result) Result {
	if len(results) == 0 {
		return Result{Allowed: true}
	}
	best := results[0]
	for _, r := range results[1:] {
		switch {
		case !r.Allowed && best.Allowed:
			best = r
		case r.Allowed != best.Allowed:
		case !r.Allowed && r.Reset.After(best.Reset):
			best = r
		case r.Allowed && (r.Remaining < best.Remaining || r.Remaining == best.Remaining && r.Limit < best.Limit):
			best = r
		}
	}
	return best
}

// TakeMany implements MultiLimiter.
func (m *Memory) TakeMany(ctx context.Context, budgets []Budget, window time.Duration) ([]Result, error) {
	out := make([]Result, 0, len(budgets))
	for _, b := range budgets {
		r, err := m.Take(ctx, b.Key, b.Limit, window)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
