package storage_test

// Fuzz targets for the local backend's signed download links and for object keys. Plain `go
// test` runs the seeds and testdata/fuzz; `go test -run=^$ -fuzz=FuzzVerifyLink
// ./internal/storage` explores.

import (
	"errors"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/casexchange/server/internal/storage"
)

var fuzzNow = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

func fuzzLocal(t testing.TB, secret string) *storage.Local {
	l, err := storage.NewLocal(t.TempDir(), []byte(secret), func() string { return "https://cx.example" })
	if err != nil {
		t.Fatal(err)
	}
	l.Now = func() time.Time { return fuzzNow }
	t.Cleanup(func() { _ = l.Close() })
	return l
}

const (
	fuzzSecret      = "fuzz-secret-0123456789abcdef0123456789abcdef"
	fuzzOtherSecret = "other-secret-0123456789abcdef0123456789abcdef"
)

// FuzzVerifyLink: only tokens this store signed, for a valid key and not yet expired, verify;
// anything else (forged, re-signed with another secret, altered, expired, garbage) is
// ErrBadLink, and nothing panics.
func FuzzVerifyLink(f *testing.F) {
	seedStore := fuzzLocal(f, fuzzSecret)
	other := fuzzLocal(f, fuzzOtherSecret)
	good := seedStore.Token("cases/3f1c2a9e/doc.pdf", fuzzNow.Add(time.Hour))
	for _, s := range []string{
		good,
		other.Token("cases/3f1c2a9e/doc.pdf", fuzzNow.Add(time.Hour)),
		seedStore.Token("cases/x", fuzzNow.Add(-time.Second)),
		seedStore.Token("../etc/passwd", fuzzNow.Add(time.Hour)),
		"", ".", "a.b", good + "x", "x" + good, strings.Replace(good, ".", "..", 1),
		"eyJrIjoiLi4vZXRjL3Bhc3N3ZCIsImUiOjk5OTk5OTk5OTl9.AAAA",
		strings.Repeat("A", 3000) + "." + strings.Repeat("B", 43),
	} {
		f.Add(s, "cases/3f1c2a9e/doc.pdf", int64(3600), uint16(0))
	}
	f.Fuzz(func(t *testing.T, token, key string, ttl int64, flip uint16) {
		l := seedStore
		got, err := l.VerifyLink(token)
		if err == nil {
			// Only a token of ours verifies, and only for a valid key.
			if !storage.ValidKey(got) {
				t.Fatalf("token %q verified for invalid key %q", token, got)
			}
		} else if !errors.Is(err, storage.ErrBadLink) {
			t.Fatalf("VerifyLink(%q): %v, want ErrBadLink", token, err)
		}

		if !storage.ValidKey(key) {
			if _, _, err := l.PresignGet(t.Context(), key, "f", "application/pdf", time.Hour); !errors.Is(err, storage.ErrInvalidKey) {
				t.Fatalf("PresignGet(%q): %v, want ErrInvalidKey", key, err)
			}
			return
		}
		exp := fuzzNow.Add(time.Duration(ttl%(48*3600)) * time.Second).Truncate(time.Second)
		tok := l.Token(key, exp)
		got, err = l.VerifyLink(tok)
		switch {
		case exp.After(fuzzNow) && (err != nil || got != key):
			t.Fatalf("fresh token for %q: %q, %v", key, got, err)
		case !exp.After(fuzzNow) && !errors.Is(err, storage.ErrBadLink):
			t.Fatalf("expired token for %q: %q, %v", key, got, err)
		}
		if _, err := other.VerifyLink(tok); !errors.Is(err, storage.ErrBadLink) {
			t.Fatalf("a token verified under another secret: %v", err)
		}
		// Any change to the signed part (the payload) breaks the signature.
		payload, _, _ := strings.Cut(tok, ".")
		i := int(flip) % len(payload)
		b := []byte(tok)
		b[i] ^= 1 + byte(flip>>8)%0x7f
		if _, err := l.VerifyLink(string(b)); !errors.Is(err, storage.ErrBadLink) {
			t.Fatalf("altered token %q verified: %v", b, err)
		}
	})
}

// FuzzValidKey: a valid key never escapes the store's directory and is stable under path
// cleaning.
func FuzzValidKey(f *testing.F) {
	for _, s := range []string{"cases/a/b.pdf", "", "/abs", "a//b", "../x", "a/../b", ".meta/x", "a/.tmp", "a\\b", "é", "a\x00b",
		strings.Repeat("a", 512), strings.Repeat("a", 513), "a/b/", "..", "a.b/c-d_e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if !storage.ValidKey(key) {
			return
		}
		if key == "" || len(key) > 512 || strings.HasPrefix(key, "/") || path.Clean(key) != key ||
			strings.Contains(key, "..") && strings.Contains("/"+key+"/", "/../") {
			t.Fatalf("ValidKey accepted %q", key)
		}
		for _, seg := range strings.Split(key, "/") {
			if seg == "" || seg[0] == '.' {
				t.Fatalf("ValidKey accepted segment %q of %q", seg, key)
			}
		}
	})
}
