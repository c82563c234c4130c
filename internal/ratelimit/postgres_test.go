package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/ratelimit"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Two limiters on one database stand for two server processes: they share one budget.
func TestPostgresLimiterIsShared(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewDB(t)
	now := time.Date(2026, 5, 1, 12, 0, 10, 0, time.UTC)
	clock := func() time.Time { return now }
	a, b := ratelimit.NewPostgres(pool, clock), ratelimit.NewPostgres(pool, clock)
	ctx := context.Background()

	for i := 0; i < 4; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		r, err := l.Take(ctx, "key:1", 5, time.Minute)
		require.NoError(t, err)
		require.True(t, r.Allowed)
		require.Equal(t, 5-(i+1), r.Remaining, "both processes count against one window")
	}
	r, err := b.Take(ctx, "key:1", 5, time.Minute)
	require.NoError(t, err)
	require.True(t, r.Allowed)
	require.Equal(t, 0, r.Remaining)
	r, err = a.Take(ctx, "key:1", 5, time.Minute)
	require.NoError(t, err)
	require.False(t, r.Allowed, "the sixth request in the window is refused whichever process gets it")
	require.Equal(t, time.Date(2026, 5, 1, 12, 1, 0, 0, time.UTC), r.Reset)

	other, err := a.Take(ctx, "key:2", 5, time.Minute)
	require.NoError(t, err)
	require.Equal(t, 4, other.Remaining, "keys are counted separately")

	now = now.Add(time.Minute)
	r, err = b.Take(ctx, "key:1", 5, time.Minute)
	require.NoError(t, err)
	require.True(t, r.Allowed, "a new window starts afresh")

	n, err := a.Purge(ctx, now.Truncate(time.Minute))
	require.NoError(t, err)
	require.Equal(t, int64(2), n, "the ended windows of both keys are purged")
}

// Both stores count one request against several budgets at once and report the binding one.
func TestTakeAllBinds(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewDB(t)
	now := time.Date(2026, 5, 1, 12, 0, 10, 0, time.UTC)
	clock := func() time.Time { return now }
	stores := map[string]ratelimit.Limiter{
		"memory":   ratelimit.NewMemory(clock),
		"postgres": ratelimit.NewPostgres(pool, clock),
	}
	ctx := context.Background()
	for name, l := range stores {
		t.Run(name, func(t *testing.T) {
			key := func(k string) ratelimit.Budget { return ratelimit.Budget{Key: name + ":key:" + k, Limit: 3} }
			firm := ratelimit.Budget{Key: name + ":firm", Limit: 4}
			for i := 1; i <= 3; i++ {
				r, err := ratelimit.TakeAll(ctx, l, time.Minute, key("a"), firm)
				require.NoError(t, err)
				require.True(t, r.Allowed)
				require.Equal(t, 3, r.Limit, "the key has fewer left than the firm")
				require.Equal(t, 3-i, r.Remaining)
			}
			r, err := ratelimit.TakeAll(ctx, l, time.Minute, key("b"), firm)
			require.NoError(t, err)
			require.True(t, r.Allowed)
			require.Equal(t, 4, r.Limit, "the firm binds: 0 left against the key's 2")
			require.Equal(t, 0, r.Remaining)
			r, err = ratelimit.TakeAll(ctx, l, time.Minute, key("b"), firm)
			require.NoError(t, err)
			require.False(t, r.Allowed, "the firm's budget is spent although key b has requests left")
			require.Equal(t, 4, r.Limit)
			require.Equal(t, time.Date(2026, 5, 1, 12, 1, 0, 0, time.UTC), r.Reset)
		})
	}
}
