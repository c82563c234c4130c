package idempotency_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/idempotency"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestService(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		ctx   context.Context
		pool  *pgxpool.Pool
		svc   *idempotency.Service
		clock *testClock
		firm  uuid.UUID
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		pool, _ := pgtest.NewDB(t)
		ctx := context.Background()
		var firm uuid.UUID
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO firms (name) VALUES ('Idem Firm') RETURNING id`).Scan(&firm))
		clock := &testClock{now: time.Date(2026, 4, 20, 9, 0, 0, 0, time.UTC)}
		return &testBundle{ctx: ctx, pool: pool, clock: clock, firm: firm,
			svc: idempotency.New(pool, idempotency.WithClock(clock.Now))}
	}
	req := func(b *testBundle, key, body string) idempotency.Request {
		return idempotency.Request{FirmID: b.firm, Key: key, Hash: idempotency.RequestHash("POST", "/x", []byte(body))}
	}
	rows := func(t *testing.T, b *testBundle) int {
		t.Helper()
		var n int
		require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&n))
		return n
	}
	stored := idempotency.Response{Status: 201, ContentType: "application/json", Location: "/x/1", Body: []byte(`{"data":1}` + "\n")}

	t.Run("a completed request is replayed exactly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		claim, resp, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		require.Nil(t, resp)
		require.NoError(t, claim.Complete(b.ctx, stored))

		claim, resp, err = b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		require.Nil(t, claim)
		require.Equal(t, &stored, resp)
	})

	t.Run("a different request with the same key is refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		claim, _, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		_, _, err = b.svc.Begin(b.ctx, req(b, "k1", "b"))
		require.ErrorIs(t, err, idempotency.ErrKeyReused, "while the first runs")
		require.NoError(t, claim.Complete(b.ctx, stored))
		_, _, err = b.svc.Begin(b.ctx, req(b, "k1", "b"))
		require.ErrorIs(t, err, idempotency.ErrKeyReused, "after it finished")
	})

	t.Run("a retry while the first runs is a conflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		_, _, err = b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.ErrorIs(t, err, apperr.ErrConflict)
		ae, ok := apperr.As(err)
		require.True(t, ok)
		require.Equal(t, "conflict", ae.Code)
	})

	t.Run("a released key runs again", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		claim, _, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		require.NoError(t, claim.Release(b.ctx))
		require.Zero(t, rows(t, b))
		claim, resp, err := b.svc.Begin(b.ctx, req(b, "k1", "b"))
		require.NoError(t, err, "a released key may even carry another request")
		require.Nil(t, resp)
		require.NotNil(t, claim)
	})

	t.Run("keys are scoped to the firm", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var other uuid.UUID
		require.NoError(t, b.pool.QueryRow(b.ctx, `INSERT INTO firms (name) VALUES ('Other') RETURNING id`).Scan(&other))
		claim, _, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		require.NoError(t, claim.Complete(b.ctx, stored))
		r := req(b, "k1", "b")
		r.FirmID = other
		claim, resp, err := b.svc.Begin(b.ctx, r)
		require.NoError(t, err)
		require.Nil(t, resp)
		require.NotNil(t, claim)
	})

	t.Run("outcomes expire after a day and are purged", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		claim, _, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		require.NoError(t, claim.Complete(b.ctx, stored))
		claim, _, err = b.svc.Begin(b.ctx, req(b, "k2", "a"))
		require.NoError(t, err)
		require.NoError(t, claim.Complete(b.ctx, stored))

		b.clock.Advance(idempotency.TTL - time.Second)
		_, resp, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		require.NotNil(t, resp, "still stored just before the TTL")

		b.clock.Advance(2 * time.Second)
		claim, resp, err = b.svc.Begin(b.ctx, req(b, "k1", "other body"))
		require.NoError(t, err, "an expired key is free for a new request")
		require.Nil(t, resp)
		require.NotNil(t, claim)

		n, err := b.svc.Purge(b.ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "k2 expired; k1 was claimed anew")
		require.Equal(t, 1, rows(t, b))
	})

	t.Run("an abandoned pending claim is taken over and the old owner stores nothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		old, _, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		b.clock.Advance(idempotency.AbandonAfter + time.Second)
		claim, _, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		require.NotNil(t, claim)

		require.NoError(t, old.Complete(b.ctx, idempotency.Response{Status: 200, Body: []byte("old")}))
		require.NoError(t, old.Release(b.ctx))
		require.NoError(t, claim.Complete(b.ctx, stored))
		_, resp, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
		require.NoError(t, err)
		require.Equal(t, &stored, resp)
	})

	t.Run("concurrent claims: exactly one wins", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				claim, _, err := b.svc.Begin(b.ctx, req(b, "k1", "a"))
				switch {
				case err == nil && claim != nil:
					wins.Add(1)
				case errors.Is(err, apperr.ErrConflict):
					conflicts.Add(1)
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 1, wins.Load())
		require.EqualValues(t, 9, conflicts.Load())
	})

	t.Run("hashes separate method, target and body", func(t *testing.T) {
		t.Parallel()
		h := idempotency.RequestHash("POST", "/a", []byte("b"))
		require.Equal(t, h, idempotency.RequestHash("POST", "/a", []byte("b")))
		require.NotEqual(t, h, idempotency.RequestHash("PATCH", "/a", []byte("b")))
		require.NotEqual(t, h, idempotency.RequestHash("POST", "/ab", nil))
		require.NotEqual(t, h, idempotency.RequestHash("POST", "/a", []byte("c")))
		s := idempotency.StreamedRequestHash("POST", "/a", 10)
		require.Equal(t, s, idempotency.StreamedRequestHash("POST", "/a", 10))
		require.NotEqual(t, s, idempotency.StreamedRequestHash("POST", "/a", 11))
	})
}
