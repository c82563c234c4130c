package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/storage"
)

// backend is one store under test with what the conformance tests need to know about it.
type backend struct {
	name  string
	store storage.Store
}

// newLocal returns a local store whose links are served by a test server doing what the
// download route does: verify the token, then stream the object.
func newLocal(t *testing.T) *storage.Local {
	t.Helper()
	var local *storage.Local
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.URL.Path, storage.DownloadPath)
		if !ok {
			http.NotFound(w, r)
			return
		}
		key, err := local.VerifyLink(token)
		if err != nil {
			http.Error(w, "bad link", http.StatusForbidden)
			return
		}
		rc, info, err := local.Get(r.Context(), key)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer rc.Close()
		w.Header().Set("Content-Type", info.ContentType)
		_, _ = io.Copy(w, rc)
	}))
	t.Cleanup(srv.Close)
	var err error
	local, err = storage.NewLocal(t.TempDir(), bytes.Repeat([]byte("k"), 32), func() string { return srv.URL })
	require.NoError(t, err)
	t.Cleanup(func() { _ = local.Close() })
	return local
}

// newFakeS3 starts an S3-protocol server (gofakes3, in memory) with one bucket and returns a
// store talking to it over HTTP.
func newFakeS3(t *testing.T) *storage.S3 {
	t.Helper()
	mem := s3mem.New()
	require.NoError(t, mem.CreateBucket("documents"))
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	s, err := storage.NewS3(storage.S3Config{
		Endpoint: srv.URL, Bucket: "documents", AccessKey: "test-access", SecretKey: "test-secret-key",
		PathStyle: true,
	})
	require.NoError(t, err)
	return s
}

func backends(t *testing.T) []backend {
	return []backend{{"local", newLocal(t)}, {"s3", newFakeS3(t)}}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func readAll(t *testing.T, s storage.Store, key string) ([]byte, storage.Info) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), key)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return b, info
}

// failingReader yields n bytes, then an error.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("client went away")
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

// TestStoreConformance runs the same behaviour checks against every backend.
func TestStoreConformance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.store

			t.Run("PutThenGetReturnsTheBytesOfKnownLength", func(t *testing.T) {
				t.Parallel()
				data := randomBytes(t, 70_000)
				require.NoError(t, s.Put(ctx, "cases/a/known", bytes.NewReader(data), int64(len(data)), "application/pdf"))
				got, info := readAll(t, s, "cases/a/known")
				require.Equal(t, data, got)
				require.Equal(t, int64(len(data)), info.Size)
				require.Equal(t, "application/pdf", info.ContentType)
			})

			t.Run("PutStreamsUnknownLengthAcrossSeveralParts", func(t *testing.T) {
				t.Parallel()
				data := randomBytes(t, 9<<20) // more than one 8 MiB part
				require.NoError(t, s.Put(ctx, "cases/a/stream", io.MultiReader(bytes.NewReader(data)), -1, "image/png"))
				got, info := readAll(t, s, "cases/a/stream")
				require.Equal(t, len(data), len(got))
				require.True(t, bytes.Equal(data, got))
				require.Equal(t, int64(len(data)), info.Size)
			})

			t.Run("PutReplacesAnExistingObject", func(t *testing.T) {
				t.Parallel()
				require.NoError(t, s.Put(ctx, "cases/a/replace", strings.NewReader("first"), -1, "text/plain"))
				require.NoError(t, s.Put(ctx, "cases/a/replace", strings.NewReader("second"), -1, "text/plain"))
				got, _ := readAll(t, s, "cases/a/replace")
				require.Equal(t, "second", string(got))
			})

			t.Run("FailedPutLeavesNoObject", func(t *testing.T) {
				t.Parallel()
				err := s.Put(ctx, "cases/a/failed", &failingReader{n: 100_000}, -1, "application/pdf")
				require.Error(t, err)
				_, _, err = s.Get(ctx, "cases/a/failed")
				require.ErrorIs(t, err, storage.ErrNotExist)
			})

			t.Run("PutWithWrongDeclaredSizeFails", func(t *testing.T) {
				t.Parallel()
				err := s.Put(ctx, "cases/a/short", strings.NewReader("abc"), 10, "text/plain")
				require.Error(t, err)
				_, _, err = s.Get(ctx, "cases/a/short")
				require.ErrorIs(t, err, storage.ErrNotExist)
			})

			t.Run("GetOfMissingKeyIsErrNotExist", func(t *testing.T) {
				t.Parallel()
				_, _, err := s.Get(ctx, "cases/none/missing")
				require.ErrorIs(t, err, storage.ErrNotExist)
			})

			t.Run("DeleteRemovesAndIsIdempotent", func(t *testing.T) {
				t.Parallel()
				require.NoError(t, s.Put(ctx, "cases/a/delete", strings.NewReader("bye"), 3, "text/plain"))
				require.NoError(t, s.Delete(ctx, "cases/a/delete"))
				_, _, err := s.Get(ctx, "cases/a/delete")
				require.ErrorIs(t, err, storage.ErrNotExist)
				require.NoError(t, s.Delete(ctx, "cases/a/delete"))
			})

			t.Run("InvalidKeysAreRefused", func(t *testing.T) {
				t.Parallel()
				for _, key := range []string{"", "../escape", "a/../../b", "/abs", "a//b", ".meta/x", "a/.hidden", "sp ace", "a\\b"} {
					require.ErrorIs(t, s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"), storage.ErrInvalidKey, key)
					_, _, err := s.Get(ctx, key)
					require.ErrorIs(t, err, storage.ErrInvalidKey, key)
				}
			})

			t.Run("PresignedURLServesTheObjectUntilExpiry", func(t *testing.T) {
				t.Parallel()
				data := []byte("%PDF-1.7 signed link body")
				require.NoError(t, s.Put(ctx, "cases/a/linked", bytes.NewReader(data), int64(len(data)), "application/pdf"))
				before := time.Now()
				link, exp, err := s.PresignGet(ctx, "cases/a/linked", "report ü.pdf", "application/pdf", 15*time.Minute)
				require.NoError(t, err)
				require.WithinDuration(t, before.Add(15*time.Minute), exp, 2*time.Second)
				u, err := url.Parse(link)
				require.NoError(t, err)
				require.True(t, u.IsAbs(), link)

				resp, err := http.Get(link)
				require.NoError(t, err)
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
				require.Equal(t, data, body)
				require.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
			})
		})
	}
}

func TestS3PresignedURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newFakeS3(t)
	require.NoError(t, s.Put(ctx, "cases/b/doc", strings.NewReader("hello"), 5, "text/plain"))

	t.Run("IsSignedWithExpiryAndResponseHeaders", func(t *testing.T) {
		t.Parallel()
		link, _, err := s.PresignGet(ctx, "cases/b/doc", "notes.txt", "text/plain", 15*time.Minute)
		require.NoError(t, err)
		u, err := url.Parse(link)
		require.NoError(t, err)
		q := u.Query()
		require.Equal(t, "AWS4-HMAC-SHA256", q.Get("X-Amz-Algorithm"))
		require.Equal(t, "900", q.Get("X-Amz-Expires"))
		require.NotEmpty(t, q.Get("X-Amz-Signature"))
		require.Equal(t, "text/plain", q.Get("response-content-type"))
		require.Equal(t, `attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`, q.Get("response-content-disposition"))

		resp, err := http.Get(link)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, `attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`, resp.Header.Get("Content-Disposition"))
	})
}

func TestLocalLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		local *storage.Local
		now   time.Time
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		tb := &testBundle{now: time.Date(2026, 4, 9, 15, 0, 0, 0, time.UTC)}
		l, err := storage.NewLocal(t.TempDir(), bytes.Repeat([]byte("s"), 32), func() string { return "https://cx.example/" })
		require.NoError(t, err)
		l.Now = func() time.Time { return tb.now }
		tb.local = l
		return tb
	}
	tokenOf := func(t *testing.T, link string) string {
		t.Helper()
		tok, ok := strings.CutPrefix(link, "https://cx.example"+storage.DownloadPath)
		require.True(t, ok, link)
		return tok
	}

	t.Run("ValidTokenYieldsItsKeyUntilExpiry", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		link, exp, err := tb.local.PresignGet(ctx, "cases/c/doc", "a.pdf", "application/pdf", 15*time.Minute)
		require.NoError(t, err)
		require.Equal(t, tb.now.Add(15*time.Minute), exp)
		key, err := tb.local.VerifyLink(tokenOf(t, link))
		require.NoError(t, err)
		require.Equal(t, "cases/c/doc", key)

		tb.now = exp.Add(-time.Second)
		_, err = tb.local.VerifyLink(tokenOf(t, link))
		require.NoError(t, err)
		tb.now = exp
		_, err = tb.local.VerifyLink(tokenOf(t, link))
		require.ErrorIs(t, err, storage.ErrBadLink)
	})

	t.Run("TamperedTokensAreRefused", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		link, _, err := tb.local.PresignGet(ctx, "cases/c/doc", "a.pdf", "application/pdf", 15*time.Minute)
		require.NoError(t, err)
		tok := tokenOf(t, link)
		payload, sig, _ := strings.Cut(tok, ".")
		forged := tb.local.Token("cases/c/other", tb.now.Add(time.Hour))
		forgedPayload, _, _ := strings.Cut(forged, ".")
		flip := func(s string, i int) string {
			b := []byte(s)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			return string(b)
		}
		for name, bad := range map[string]string{
			"flipped payload":   flip(payload, 3) + "." + sig,
			"flipped signature": payload + "." + flip(sig, 5),
			"swapped payload":   forgedPayload + "." + sig,
			"no signature":      payload,
			"empty signature":   payload + ".",
			"garbage":           "not-a-token",
			"empty":             "",
			"extra dot":         tok + ".x",
		} {
			_, err := tb.local.VerifyLink(bad)
			require.ErrorIs(t, err, storage.ErrBadLink, name)
		}
	})

	t.Run("TokenOfAnotherSecretIsRefused", func(t *testing.T) {
		t.Parallel()
		tb := setup(t)
		other, err := storage.NewLocal(t.TempDir(), bytes.Repeat([]byte("o"), 32), nil)
		require.NoError(t, err)
		_, err = tb.local.VerifyLink(other.Token("cases/c/doc", tb.now.Add(time.Hour)))
		require.ErrorIs(t, err, storage.ErrBadLink)
	})

	t.Run("ShortSecretIsRejected", func(t *testing.T) {
		t.Parallel()
		_, err := storage.NewLocal(t.TempDir(), []byte("short"), nil)
		require.Error(t, err)
	})
}

func TestContentDisposition(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ in, want string }{
		"plain":   {"police-report.pdf", `attachment; filename="police-report.pdf"; filename*=UTF-8''police-report.pdf`},
		"spaces":  {"ER notes.txt", `attachment; filename="ER notes.txt"; filename*=UTF-8''ER%20notes.txt`},
		"unicode": {"résumé.pdf", `attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`},
		"quotes":  {`a"b\c;d.pdf`, `attachment; filename="a_b_c;d.pdf"; filename*=UTF-8''a%22b%5Cc%3Bd.pdf`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, storage.ContentDisposition(tc.in))
		})
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	t.Run("LocalByDefault", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s, err := storage.Open(storage.Config{LocalDir: dir, LinkSecret: secret}, func() string { return "http://x" })
		require.NoError(t, err)
		l, ok := s.(*storage.Local)
		require.True(t, ok)
		tok := l.Token("k", time.Now().Add(time.Hour))

		s2, err := storage.Open(storage.Config{Backend: storage.BackendLocal, LocalDir: dir, LinkSecret: secret}, nil)
		require.NoError(t, err)
		key, err := s2.(*storage.Local).VerifyLink(tok)
		require.NoError(t, err, "the same secret verifies the links of another process")
		require.Equal(t, "k", key)
	})
	t.Run("LocalWithoutSecretFails", func(t *testing.T) {
		t.Parallel()
		_, err := storage.Open(storage.Config{LocalDir: t.TempDir()}, nil)
		require.Error(t, err)
	})
	t.Run("S3", func(t *testing.T) {
		t.Parallel()
		s, err := storage.Open(storage.Config{Backend: storage.BackendS3, S3: storage.S3Config{
			Bucket: "b", AccessKey: "a", SecretKey: "s", Endpoint: "http://127.0.0.1:9", PathStyle: true,
		}}, nil)
		require.NoError(t, err)
		_, ok := s.(*storage.S3)
		require.True(t, ok)
	})
	t.Run("S3WithoutCredentialsFails", func(t *testing.T) {
		t.Parallel()
		_, err := storage.Open(storage.Config{Backend: storage.BackendS3, S3: storage.S3Config{Bucket: "b"}}, nil)
		require.Error(t, err)
	})
	t.Run("UnknownBackendFails", func(t *testing.T) {
		t.Parallel()
		_, err := storage.Open(storage.Config{Backend: "ftp"}, nil)
		require.Error(t, err)
	})
}
