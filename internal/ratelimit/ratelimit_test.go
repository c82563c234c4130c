package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMemoryWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 10, 0, 30, 0, time.UTC)
	m := NewMemory(func() time.Time { return now })
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		r, err := m.Take(ctx, "k", 3, time.Minute)
		require.NoError(t, err)
		require.True(t, r.Allowed)
		require.Equal(t, 3-i, r.Remaining)
		require.Equal(t, time.Date(2026, 1, 1, 10, 1, 0, 0, time.UTC), r.Reset)
	}
	r, _ := m.Take(ctx, "k", 3, time.Minute)
	require.False(t, r.Allowed)
	require.Equal(t, 0, r.Remaining)
	require.Equal(t, 30*time.Second, r.RetryAfter(now))

	other, _ := m.Take(ctx, "other", 3, time.Minute)
	require.True(t, other.Allowed, "keys are counted separately")

	now = now.Add(time.Minute)
	r, _ = m.Take(ctx, "k", 3, time.Minute)
	require.True(t, r.Allowed, "a new window starts afresh")
	require.Equal(t, 2, r.Remaining)
}
