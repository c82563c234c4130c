// Package storage keeps the bytes of uploaded documents in an object store. Two backends exist:
// a directory on local disk (the default, served through this server's signed download links)
// and any S3-compatible service (served through pre-signed object-store URLs). The database
// keeps the metadata; a Store only knows keys and bytes.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/casexchange/server/internal/apperr"
)

// Errors returned by stores. Match them with errors.Is.
var (
	// ErrNotExist reports a key with no object behind it.
	ErrNotExist = errors.New("storage: object does not exist")
	// ErrInvalidKey reports a key outside the accepted shape (see ValidKey).
	ErrInvalidKey = errors.New("storage: invalid object key")
	// ErrBadLink reports a download token that is malformed, altered, signed with another
	// secret or past its expiry.
	ErrBadLink = errors.New("storage: invalid or expired download link")
)

// unavailable marks a failure of the store itself (as opposed to a missing object, a bad key or
// an error of the caller's reader): it matches apperr.ErrUnavailable, which the API answers
// with 503, and keeps err in its chain.
func unavailable(err error) error {
	return apperr.Unavailable("The document store is unavailable; retry later", err)
}

// Info describes a stored object.
type Info struct {
	Size        int64
	ContentType string
}

// Store is an object store. Failures of the store itself (down, unreachable, unwritable)
// match apperr.ErrUnavailable.
type Store interface {
	// Put writes the object at key from r, replacing any object there. size is the exact
	// length when known, or -1 to stream until EOF. On error (including an error from r) no
	// object is left at key.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens the object at key; ErrNotExist when there is none. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Delete removes the object at key; a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// PresignGet returns an absolute URL from which the object can be fetched without other
	// credentials until the returned expiry, served with contentType and as an attachment
	// named fileName.
	PresignGet(ctx context.Context, key, fileName, contentType string, ttl time.Duration) (url string, expires time.Time, err error)
}

// LinkVerifier is implemented by stores whose pre-signed links point at this server (the local
// backend): the download route hands it the token from the URL.
type LinkVerifier interface {
	// VerifyLink returns the key a token was issued for, or ErrBadLink.
	VerifyLink(token string) (key string, err error)
}

// DownloadPath is the route of this server that serves the local backend's links; the token
// follows it.
const DownloadPath = "/api/public/v1/documents/download/"

// ValidKey reports whether key is usable by every backend: 1-512 bytes of slash-separated
// segments made of ASCII letters, digits, '.', '_' and '-', no segment empty or starting with
// a dot (which keeps "..", hidden files and the local backend's own bookkeeping out of reach).
func ValidKey(key string) bool {
	if key == "" || len(key) > 512 {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
			if !ok {
				return false
			}
		}
	}
	return true
}

// Backends of Config.Backend.
const (
	BackendLocal = "local"
	BackendS3    = "s3"
)

// Config chooses and configures the store.
type Config struct {
	Backend    string   // BackendLocal (also when empty) or BackendS3
	LocalDir   string   // local: the directory of the objects
	LinkSecret []byte   // local: signs download links, at least 32 bytes
	S3         S3Config // s3
}

// Open builds the store cfg describes. publicBaseURL is asked for the server's absolute URL
// each time the local backend makes a link.
func Open(cfg Config, publicBaseURL func() string) (Store, error) {
	switch cfg.Backend {
	case BackendLocal, "":
		return NewLocal(cfg.LocalDir, cfg.LinkSecret, publicBaseURL)
	case BackendS3:
		return NewS3(cfg.S3)
	}
	return nil, fmt.Errorf("storage: unknown backend %q (want local or s3)", cfg.Backend)
}
