package ratelimit

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
)

// Postgres is a Limiter whose counts live in PostgreSQL, shared by every process on the database.
type Postgres struct {
	q   *db.Queries
	now func() time.Time
}

// NewPostgres returns a shared limiter over pool; now may be nil (time.Now).
func NewPostgres(pool *pgxpool.Pool, now func() time.Time) *Postgres {
	if now == nil {
		now = time.Now
	}
	return &Postgres{q: db.New(pool), now: now}
}

// Take implements Limiter.
func (p *Postgres) Take(ctx context.Context, key string, limit int, window time.Duration) (Result, error) {
	start := WindowStart(p.now(), window)
	n, err := p.q.RateLimitTake(ctx, db.RateLimitTakeParams{Key: key, WindowStart: start})
	if err != nil {
		return Result{}, err
	}
	return Evaluate(n, limit, start, window), nil
}

// Purge deletes windows that ended before cutoff.
func (p *Postgres) Purge(ctx context.Context, before time.Time) (int64, error) {
	return p.q.RateLimitPurge(ctx, before)
}

// TakeMany implements MultiLimiter in one statement.
func (p *Postgres) TakeMany(ctx context.Context, budgets []Budget, window time.Duration) ([]Result, error) {
	start := WindowStart(p.now(), window)
	keys := make([]string, len(budgets))
	for i, b := range budgets {
		keys[i] = b.Key
	}
	rows, err := p.q.RateLimitTakeMany(ctx, db.RateLimitTakeManyParams{WindowStart: start, Keys: keys})
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int64, len(rows))
	for _, r := range rows {
		counts[r.Key] = r.Count
	}
	out := make([]Result, len(budgets))
	for i, b := range budgets {
		out[i] = Evaluate(counts[b.Key], b.Limit, start, window)
	}
	return out, nil
}
