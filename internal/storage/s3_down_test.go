package storage_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/storage"
)

// TestS3StoreDown checks that an S3 store that is not there, or hangs, fails every operation
// within a bounded time (the API turns these errors into 503) instead of holding the request.
func TestS3StoreDown(t *testing.T) {
	t.Parallel()

	// exercise runs each network operation and returns the slowest.
	exercise := func(t *testing.T, s *storage.S3) time.Duration {
		t.Helper()
		ctx := context.Background()
		var slowest time.Duration
		ops := map[string]func() error{
			"put": func() error {
				return s.Put(ctx, "cases/a/b", bytes.NewReader([]byte("payload")), 7, "text/plain")
			},
			"put-stream": func() error {
				return s.Put(ctx, "cases/a/c", io.LimitReader(bytes.NewReader(make([]byte, 100)), 100), -1, "text/plain")
			},
			"get": func() error {
				rc, _, err := s.Get(ctx, "cases/a/b")
				if err == nil {
					rc.Close()
				}
				require.NotErrorIs(t, err, storage.ErrNotExist, "a store that is down is not an empty one")
				return err
			},
			"delete": func() error { return s.Delete(ctx, "cases/a/b") },
		}
		for name, op := range ops {
			start := time.Now()
			err := op()
			took := time.Since(start)
			require.ErrorIs(t, err, apperr.ErrUnavailable, name)
			slowest = max(slowest, took)
		}
		return slowest
	}

	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		s, err := storage.NewS3(storage.S3Config{
			Endpoint: "http://" + addr, Bucket: "documents", AccessKey: "a", SecretKey: "s", PathStyle: true,
		})
		require.NoError(t, err)
		require.Less(t, exercise(t, s), 5*time.Second)
	})

	t.Run("NeverAnswers", func(t *testing.T) {
		t.Parallel()
		// Accepts connections and reads requests but never replies.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		var mu sync.Mutex
		var conns []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				go func() { _, _ = io.Copy(io.Discard, c) }()
			}
		}()
		t.Cleanup(func() {
			_ = ln.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				_ = c.Close()
			}
		})
		s, err := storage.NewS3(storage.S3Config{
			Endpoint: "http://" + ln.Addr().String(), Bucket: "documents", AccessKey: "a", SecretKey: "s", PathStyle: true,
			ReplyTimeout: 200 * time.Millisecond,
		})
		require.NoError(t, err)
		// Four attempts of 200 ms plus minio's backoff between them.
		require.Less(t, exercise(t, s), 5*time.Second)
	})
}

// TestLocalStoreUnwritable checks how the local backend reports a directory it cannot write:
// as apperr.ErrUnavailable, leaving nothing behind, while a failing reader stays the caller's
// error.
func TestLocalStoreUnwritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := storage.NewLocal(dir, bytes.Repeat([]byte("k"), 32), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	require.NoError(t, s.Put(ctx, "cases/a/kept", bytes.NewReader([]byte("kept")), 4, "text/plain"))

	t.Run("FailingReaderIsNotUnavailable", func(t *testing.T) {
		err := s.Put(ctx, "cases/a/broken", &failingReader{n: 4}, -1, "text/plain")
		require.Error(t, err)
		require.NotErrorIs(t, err, apperr.ErrUnavailable)
		err = s.Put(ctx, "cases/a/short", bytes.NewReader([]byte("abc")), 10, "text/plain")
		require.Error(t, err)
		require.NotErrorIs(t, err, apperr.ErrUnavailable)
	})

	t.Run("DirectoryGoneIsUnavailable", func(t *testing.T) {
		// Permission bits do not stop root, so take the temporary directory away instead.
		tmp := filepath.Join(dir, ".tmp")
		require.NoError(t, os.Rename(tmp, tmp+"-away"))
		t.Cleanup(func() { _ = os.Rename(tmp+"-away", tmp) })
		err := s.Put(ctx, "cases/a/new", bytes.NewReader([]byte("new")), 3, "text/plain")
		require.ErrorIs(t, err, apperr.ErrUnavailable)
		_, _, err = s.Get(ctx, "cases/a/new")
		require.ErrorIs(t, err, storage.ErrNotExist)
		rc, _, err := s.Get(ctx, "cases/a/kept")
		require.NoError(t, err)
		rc.Close()
	})
}

// TestReaderErrorIsNotUnavailable: when the caller's stream breaks, no backend blames the store.
func TestReaderErrorIsNotUnavailable(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		err := b.store.Put(context.Background(), "cases/a/broken", &failingReader{n: 1000}, -1, "text/plain")
		require.Error(t, err, b.name)
		require.NotErrorIs(t, err, apperr.ErrUnavailable, b.name)
	}
}
