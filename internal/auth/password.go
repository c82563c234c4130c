package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/casexchange/server/internal/apperr"
)

// Password length limits. The upper bound keeps a single hash from turning into a denial of
// service; argon2 itself would accept anything.
const (
	MinPasswordLength = 12   // characters
	MaxPasswordLength = 1024 // bytes
)

// PasswordParams are argon2id cost parameters.
type PasswordParams struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLength  uint32
	KeyLength   uint32
}

// DefaultPasswordParams follow the OWASP guidance for argon2id: 64 MiB, two passes, two lanes.
var DefaultPasswordParams = PasswordParams{Memory: 64 * 1024, Iterations: 2, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// TestPasswordParams are cheap parameters for tests and seeds. Never use them in production.
var TestPasswordParams = PasswordParams{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

var errMalformedHash = errors.New("malformed argon2id hash")

// Hasher hashes and verifies passwords. At 64 MiB per hash, unbounded concurrency could
// exhaust memory under a login flood, so a semaphore caps simultaneous hashes.
type Hasher struct {
	params PasswordParams
	sem    chan struct{}

	dummyOnce sync.Once
	dummy     string
}

// NewHasher returns a Hasher with params; the zero value of params means DefaultPasswordParams.
// At most runtime.NumCPU() hashes run at once.
func NewHasher(params PasswordParams) *Hasher {
	if params == (PasswordParams{}) {
		params = DefaultPasswordParams
	}
	n := runtime.NumCPU()
	if n < 2 {
		n = 2
	}
	return &Hasher{params: params, sem: make(chan struct{}, n)}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns the PHC string of password: $argon2id$v=19$m=..,t=..,p=..$salt$key.
// It returns ctx's error if ctx ends while waiting for a hashing slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	return encodePHC(p, salt, key), nil
}

// Verify reports whether password matches the PHC string encoded. The parameters come from
// the string, so hashes made with older parameters keep verifying. It returns an error only
// for a malformed hash or a canceled ctx.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, key, err := decodePHC(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// VerifyDummy burns the time of one verification, so that "no such user" answers as slowly as
// "wrong password" and response times do not reveal which e-mail addresses exist.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	h.dummyOnce.Do(func() {
		h.dummy, _ = h.Hash(context.Background(), "dummy password for timing equalization")
	})
	_, _ = h.Verify(ctx, password, h.dummy)
}

// CheckPasswordPolicy validates a new password. field names the input in the error details.
func CheckPasswordPolicy(field, password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return apperr.Field(field, fmt.Sprintf("must be at least %d characters long", MinPasswordLength))
	case len(password) > MaxPasswordLength:
		return apperr.Field(field, fmt.Sprintf("must be at most %d bytes long", MaxPasswordLength))
	case strings.TrimSpace(password) == "":
		return apperr.Field(field, "must not be blank")
	case !utf8.ValidString(password):
		return apperr.Field(field, "must be valid UTF-8")
	}
	return nil
}

var b64 = base64.RawStdEncoding

func encodePHC(p PasswordParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC parses a PHC argon2id string. Parameters outside sane bounds are rejected, so a
// tampered row cannot make the server allocate gigabytes.
func decodePHC(s string) (PasswordParams, []byte, []byte, error) {
	var p PasswordParams
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errMalformedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, errMalformedHash
	}
	if p.Memory < 8*uint32(p.Parallelism) || p.Memory > 1024*1024 || p.Iterations < 1 || p.Iterations > 16 ||
		p.Parallelism < 1 || p.Parallelism > 16 {
		return p, nil, nil, errMalformedHash
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, errMalformedHash
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errMalformedHash
	}
	p.SaltLength, p.KeyLength = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
