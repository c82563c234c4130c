package storage

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// Local keeps objects as files under one directory: the bytes at <dir>/<key> and the content
// type at <dir>/.meta/<key>. Writes go to a temporary file that is renamed into place, so a
// reader never sees a partial object. All file access goes through an os.Root, so no key can
// reach outside the directory.
//
// Its links point at DownloadPath on this server with a token carrying the key and the expiry,
// signed with HMAC-SHA256.
type Local struct {
	root    *os.Root
	secret  []byte
	baseURL func() string
	// Now is the clock used for link expiry; tests may replace it.
	Now func() time.Time
}

const (
	metaDir = ".meta"
	tmpDir  = ".tmp"
)

// NewLocal opens (creating it if needed) the directory dir. secret signs download links (at
// least 32 bytes); baseURL returns the absolute URL of this server.
func NewLocal(dir string, secret []byte, baseURL func() string) (*Local, error) {
	if len(secret) < 32 {
		return nil, errors.New("storage: the link secret must be at least 32 bytes")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	for _, d := range []string{metaDir, tmpDir} {
		if err := root.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("storage: create %s: %w", d, err)
		}
	}
	if baseURL == nil {
		baseURL = func() string { return "" }
	}
	return &Local{root: root, secret: secret, baseURL: baseURL, Now: time.Now}, nil
}

// Put writes the object through a temporary file renamed into place. A failure of the
// directory (unwritable, full, gone) matches apperr.ErrUnavailable; an error of r or a body
// shorter than size is returned as it is.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	src := &sourceReader{r: ctxReader{ctx: ctx, r: r}}
	err := l.put(key, src, size, contentType)
	if err == nil || src.err != nil || errors.Is(err, errShortBody) {
		return err
	}
	return unavailable(err)
}

// errShortBody reports a reader that ended before the announced size.
var errShortBody = errors.New("storage: body shorter than its size")

// sourceReader remembers the error of the reader it wraps, to tell it from the store's own.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

func (l *Local) put(key string, r io.Reader, size int64, contentType string) (err error) {
	tmpName := path.Join(tmpDir, randomName())
	f, err := l.root.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("storage: create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = l.root.Remove(tmpName)
		}
	}()
	n, err := io.Copy(f, r)
	if err != nil {
		return fmt.Errorf("storage: write %s: %w", key, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("storage: write %s: got %d bytes, want %d: %w", key, n, size, errShortBody)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("storage: sync %s: %w", key, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("storage: close %s: %w", key, err)
	}
	if dir := path.Dir(key); dir != "." {
		if err = l.root.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("storage: create %s: %w", dir, err)
		}
		if err = l.root.MkdirAll(path.Join(metaDir, dir), 0o750); err != nil {
			return fmt.Errorf("storage: create %s: %w", dir, err)
		}
	}
	if err = l.root.WriteFile(path.Join(metaDir, key), []byte(contentType), 0o640); err != nil {
		return fmt.Errorf("storage: write metadata of %s: %w", key, err)
	}
	if err = l.root.Rename(tmpName, key); err != nil {
		_ = l.root.Remove(path.Join(metaDir, key))
		return fmt.Errorf("storage: rename into %s: %w", key, err)
	}
	return nil
}

// Get opens the file at key.
func (l *Local) Get(_ context.Context, key string) (io.ReadCloser, Info, error) {
	if !ValidKey(key) {
		return nil, Info{}, ErrInvalidKey
	}
	f, err := l.root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, ErrNotExist
	}
	if err != nil {
		return nil, Info{}, unavailable(fmt.Errorf("storage: open %s: %w", key, err))
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		_ = f.Close()
		if err == nil {
			return nil, Info{}, ErrNotExist
		}
		return nil, Info{}, unavailable(fmt.Errorf("storage: stat %s: %w", key, err))
	}
	info := Info{Size: st.Size(), ContentType: "application/octet-stream"}
	if ct, err := l.root.ReadFile(path.Join(metaDir, key)); err == nil && len(ct) > 0 {
		info.ContentType = string(ct)
	}
	return f, info, nil
}

// Delete removes the file at key and its metadata.
func (l *Local) Delete(_ context.Context, key string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	if err := l.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return unavailable(fmt.Errorf("storage: delete %s: %w", key, err))
	}
	if err := l.root.Remove(path.Join(metaDir, key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return unavailable(fmt.Errorf("storage: delete metadata of %s: %w", key, err))
	}
	return nil
}

// PresignGet returns a link to this server's download route. The file name and content type
// come from the document's row when the link is used, so they are not part of the token.
func (l *Local) PresignGet(_ context.Context, key, _, _ string, ttl time.Duration) (string, time.Time, error) {
	if !ValidKey(key) {
		return "", time.Time{}, ErrInvalidKey
	}
	exp := l.Now().Add(ttl).Truncate(time.Second)
	return strings.TrimRight(l.baseURL(), "/") + DownloadPath + l.Token(key, exp), exp, nil
}

// linkClaims is the token payload: the key and the expiry in Unix seconds.
type linkClaims struct {
	Key string `json:"k"`
	Exp int64  `json:"e"`
}

// Token signs a download token for key valid until exp: base64url(JSON payload) "."
// base64url(HMAC-SHA256(secret, encoded payload)).
func (l *Local) Token(key string, exp time.Time) string {
	payload, _ := json.Marshal(linkClaims{Key: key, Exp: exp.Unix()})
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(l.sign(p))
}

// VerifyLink checks a token's signature and expiry and returns its key; ErrBadLink otherwise.
func (l *Local) VerifyLink(token string) (string, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok || p == "" || sig == "" || len(token) > 2048 {
		return "", ErrBadLink
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, l.sign(p)) {
		return "", ErrBadLink
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return "", ErrBadLink
	}
	var c linkClaims
	if err := json.Unmarshal(raw, &c); err != nil || !ValidKey(c.Key) {
		return "", ErrBadLink
	}
	if !l.Now().Before(time.Unix(c.Exp, 0)) {
		return "", ErrBadLink
	}
	return c.Key, nil
}

func (l *Local) sign(payload string) []byte {
	m := hmac.New(sha256.New, l.secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Close releases the directory handle.
func (l *Local) Close() error { return l.root.Close() }

func randomName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
