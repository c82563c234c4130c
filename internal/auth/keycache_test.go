package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres"
)

// startListener runs the key cache listener of b until the test ends and waits until it is
// connected.
func startListener(t *testing.T, b *testBundle) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.svc.RunKeyListener(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	require.Eventually(t, func() bool { return b.svc.KeyCacheStats().Live }, 10*time.Second, 5*time.Millisecond, "listener never connected")
}

func TestKeyCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	newKey := func(t *testing.T, b *testBundle) auth.CreatedKey {
		t.Helper()
		k, err := b.svc.CreateKeyForFirm(ctx, b.firm.ID, auth.KeyInput{Name: "k", Tier: auth.TierStandard})
		require.NoError(t, err)
		return k
	}

	t.Run("CachedKeysCostNoLookupAndUnknownKeysAreNotCached", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		startListener(t, b)
		k := newKey(t, b)
		_, err := b.svc.AuthenticateKey(ctx, k.Key)
		require.NoError(t, err)
		before := b.svc.KeyCacheStats()
		require.Equal(t, 1, before.Entries)

		const n = 500
		for range n {
			p, err := b.svc.AuthenticateKey(ctx, k.Key)
			require.NoError(t, err)
			require.Equal(t, k.ID, p.KeyID)
		}
		after := b.svc.KeyCacheStats()
		require.Equal(t, before.Lookups, after.Lookups, "%d cached requests read the database", n)
		require.Equal(t, before.Hits+n, after.Hits)

		// A flood of unknown keys reads the database every time and stores nothing.
		for range 200 {
			unknown, err := auth.GenerateKey(auth.TierFull)
			require.NoError(t, err)
			_, err = b.svc.AuthenticateKey(ctx, unknown)
			requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidAPIKey)
		}
		flood := b.svc.KeyCacheStats()
		require.Equal(t, 1, flood.Entries)
		require.Equal(t, after.Lookups+200, flood.Lookups)

		// The usage counters still see the cached requests.
		require.NoError(t, b.svc.FlushUsage(ctx))
		var count int64
		require.NoError(t, b.pool.QueryRow(ctx, "SELECT request_count FROM api_keys WHERE id = $1", k.ID).Scan(&count))
		require.EqualValues(t, n+1, count)
	})

	t.Run("WithoutAListenerTheCacheIsBypassed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		k := newKey(t, b)
		for range 3 {
			_, err := b.svc.AuthenticateKey(ctx, k.Key)
			require.NoError(t, err)
		}
		st := b.svc.KeyCacheStats()
		require.False(t, st.Live)
		require.Equal(t, 0, st.Entries)
		require.EqualValues(t, 3, st.Lookups)
	})

	t.Run("TheCacheIsBoundedLeastRecentlyUsedFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{KeyCacheSize: 2})
		startListener(t, b)
		k1, k2, k3 := newKey(t, b), newKey(t, b), newKey(t, b)
		for _, k := range []auth.CreatedKey{k1, k2, k1, k3} { // k2 is the least recently used
			_, err := b.svc.AuthenticateKey(ctx, k.Key)
			require.NoError(t, err)
		}
		st := b.svc.KeyCacheStats()
		require.Equal(t, 2, st.Entries)
		_, err := b.svc.AuthenticateKey(ctx, k1.Key)
		require.NoError(t, err)
		require.Equal(t, st.Lookups, b.svc.KeyCacheStats().Lookups, "k1 stays cached")
		_, err = b.svc.AuthenticateKey(ctx, k2.Key)
		require.NoError(t, err)
		require.Equal(t, st.Lookups+1, b.svc.KeyCacheStats().Lookups, "k2 was evicted")
	})

	t.Run("EntriesExpireAfterTheTTL", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		}
		b := setup(t, auth.Config{KeyCacheTTL: time.Minute, Now: clock})
		startListener(t, b)
		k := newKey(t, b)
		_, err := b.svc.AuthenticateKey(ctx, k.Key)
		require.NoError(t, err)
		st := b.svc.KeyCacheStats()
		mu.Lock()
		now = now.Add(59 * time.Second)
		mu.Unlock()
		_, err = b.svc.AuthenticateKey(ctx, k.Key)
		require.NoError(t, err)
		require.Equal(t, st.Lookups, b.svc.KeyCacheStats().Lookups, "59 s old: cached")
		mu.Lock()
		now = now.Add(time.Second)
		mu.Unlock()
		_, err = b.svc.AuthenticateKey(ctx, k.Key)
		require.NoError(t, err)
		require.Equal(t, st.Lookups+1, b.svc.KeyCacheStats().Lookups, "60 s old: read again")
	})

	t.Run("RevocationEvictsAtOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		startListener(t, b)
		k := newKey(t, b)
		_, err := b.svc.AuthenticateKey(ctx, k.Key)
		require.NoError(t, err)
		_, err = b.svc.RevokeKeyForFirm(ctx, b.firm.ID, k.ID)
		require.NoError(t, err)
		_, err = b.svc.AuthenticateKey(ctx, k.Key)
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidAPIKey)
		require.True(t, b.svc.KeyCacheStats().Live)
	})

	t.Run("AnyWriterNotifiesThroughNotifyKeysChangedTx", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		startListener(t, b)
		k1, k2 := newKey(t, b), newKey(t, b)
		for _, k := range []auth.CreatedKey{k1, k2} {
			_, err := b.svc.AuthenticateKey(ctx, k.Key)
			require.NoError(t, err)
		}
		require.Equal(t, 2, b.svc.KeyCacheStats().Entries)
		// Firm deactivation, as another domain would write it: the change and the
		// notification in one transaction, Await after commit.
		var notice *auth.KeyNotice
		require.NoError(t, postgres.RunTx(ctx, b.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "UPDATE firms SET is_active = false WHERE id = $1", b.firm.ID); err != nil {
				return err
			}
			n, err := b.svc.NotifyKeysChangedTx(ctx, db.New(tx), auth.FirmKeysChanged(b.firm.ID))
			notice = n
			return err
		}))
		notice.Await(ctx)
		require.Equal(t, 0, b.svc.KeyCacheStats().Entries)
		for _, k := range []auth.CreatedKey{k1, k2} {
			_, err := b.svc.AuthenticateKey(ctx, k.Key)
			requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidAPIKey)
		}
	})

	t.Run("AnUnparseableNotificationFlushesEverything", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		startListener(t, b)
		k := newKey(t, b)
		_, err := b.svc.AuthenticateKey(ctx, k.Key)
		require.NoError(t, err)
		require.Equal(t, 1, b.svc.KeyCacheStats().Entries)
		_, err = b.pool.Exec(ctx, "SELECT pg_notify($1, 'not a payload')", auth.KeyChannel)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return b.svc.KeyCacheStats().Entries == 0 }, 10*time.Second, 5*time.Millisecond)
	})

	t.Run("AListenerThatNeverAcknowledgesDelaysARevocationByTheTimeoutOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		var mu sync.Mutex
		var reported []error
		svc, err := auth.New(b.pool, auth.Config{
			JWTSecret: []byte("test secret that is at least thirty-two bytes long"), KeyAckTimeout: 300 * time.Millisecond,
		}, auth.WithErrorHandler(func(err error) {
			mu.Lock()
			defer mu.Unlock()
			reported = append(reported, err)
		}))
		require.NoError(t, err)
		startListener(t, &testBundle{svc: svc})
		// A backend that claims to be a listener but never listens (a process stuck before
		// LISTEN, say).
		cc := b.pool.Config().ConnConfig.Copy()
		cc.RuntimeParams = map[string]string{"application_name": auth.KeyListenerApplicationName}
		stuck, err := pgx.ConnectConfig(ctx, cc)
		require.NoError(t, err)
		t.Cleanup(func() { _ = stuck.Close(context.Background()) })

		k := newKey(t, b)
		_, err = svc.AuthenticateKey(ctx, k.Key)
		require.NoError(t, err)
		start := time.Now()
		_, err = svc.RevokeKeyForFirm(ctx, b.firm.ID, k.ID)
		took := time.Since(start)
		require.NoError(t, err)
		require.GreaterOrEqual(t, took, 300*time.Millisecond)
		require.Less(t, took, 5*time.Second)
		_, err = svc.AuthenticateKey(ctx, k.Key)
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidAPIKey)
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, reported, 1)
		require.ErrorContains(t, reported[0], "not acknowledged by every process")
	})
}
