package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode"
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

// MinPasswordDistinctChars is how many different characters a password must contain.
const MinPasswordDistinctChars = 5

// CheckPasswordPolicy validates a new password of the user with address email (may be empty
// when unknown). field names the input in the error details. Besides the length bounds, it
// refuses, comparing without regard to letter case:
//   - passwords with fewer than MinPasswordDistinctChars different characters;
//   - repetitions of a shorter pattern ("abcabcabcabc") and runs along the alphabet, the
//     digits or a keyboard row ("qwertyuiopas", "123456789012");
//   - passwords on the bundled list of common passwords (common_passwords.txt), also when digits
//     or symbols were added at either end or letters replaced by look-alike digits or symbols
//     ("P@ssw0rd2024!");
//   - passwords that contain the local part of email (the part before "@"), when it has at
//     least three characters.
//
// Errors: ErrValidation naming field, whose message states the rule broken.
func CheckPasswordPolicy(field, password, email string) error {
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
	lower := strings.ToLower(password)
	if distinctRunes(lower) < MinPasswordDistinctChars {
		return apperr.Field(field, fmt.Sprintf("must contain at least %d different characters", MinPasswordDistinctChars))
	}
	if isRepetition(lower) || isSequence(lower) {
		return apperr.Field(field, "must not be a repeated pattern or a run of the alphabet, the digits or a keyboard row")
	}
	if isCommonPassword(lower) {
		return apperr.Field(field, "must not be a common password, also not with digits or symbols added at the ends or letters replaced by look-alike characters")
	}
	if local := emailLocalPart(email); utf8.RuneCountInString(local) >= 3 && strings.Contains(lower, local) {
		return apperr.Field(field, "must not contain the part of the account's e-mail address before the @")
	}
	return nil
}

//go:embed common_passwords.txt
var commonPasswordsFile string

// commonPasswords is the bundled list, lower-cased: one password per line, compiled from the
// well-known public lists of the most used passwords.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 2500)
	for _, line := range strings.Split(commonPasswordsFile, "\n") {
		if line = strings.ToLower(strings.TrimSpace(line)); line != "" {
			m[line] = struct{}{}
		}
	}
	return m
})

// lookAlikes undo the usual substitutions of letters by digits and symbols. "1" stands for
// either "i" or "l", so both readings are tried.
var lookAlikes = []*strings.Replacer{
	strings.NewReplacer("@", "a", "4", "a", "0", "o", "3", "e", "1", "i", "!", "i", "$", "s", "5", "s", "7", "t", "+", "t", "8", "b", "9", "g"),
	strings.NewReplacer("@", "a", "4", "a", "0", "o", "3", "e", "1", "l", "!", "l", "$", "s", "5", "s", "7", "t", "+", "t", "8", "b", "9", "g"),
}

// isCommonPassword reports whether lower (a lower-cased password) is on the list: as it is,
// without the non-letters at its ends, or with look-alike characters read as letters after
// trimming either the non-letters or only the digits and spaces at its ends
// ("P@ssw0rd2024!" -> "p@ssw0rd" -> "password"; "$ecret123456" -> "$ecret" -> "secret").
func isCommonPassword(lower string) bool {
	list := commonPasswords()
	listed := func(c string) bool {
		_, ok := list[c]
		return c != "" && ok
	}
	notLetter := func(r rune) bool { return !unicode.IsLetter(r) }
	digitOrSpace := func(r rune) bool { return unicode.IsDigit(r) || unicode.IsSpace(r) }
	if listed(lower) || listed(strings.TrimFunc(lower, notLetter)) {
		return true
	}
	for _, trimmed := range []string{strings.TrimFunc(lower, notLetter), strings.TrimFunc(lower, digitOrSpace)} {
		for _, r := range lookAlikes {
			if listed(strings.TrimFunc(r.Replace(trimmed), notLetter)) {
				return true
			}
		}
	}
	return false
}

func distinctRunes(s string) int {
	seen := map[rune]struct{}{}
	for _, r := range s {
		seen[r] = struct{}{}
	}
	return len(seen)
}

// isRepetition reports whether s repeats a shorter pattern throughout ("abcabcabca").
func isRepetition(s string) bool {
	rs := []rune(s)
	for period := 1; period <= len(rs)/2; period++ {
		rep := true
		for i := period; i < len(rs); i++ {
			if rs[i] != rs[i-period] {
				rep = false
				break
			}
		}
		if rep {
			return true
		}
	}
	return false
}

// passwordSequences are runs people type instead of choosing: the alphabet, the digits (with
// wrap-around) and keyboard rows and columns of the common layouts.
var passwordSequences = func() []string {
	seqs := []string{
		"abcdefghijklmnopqrstuvwxyz",
		strings.Repeat("0123456789", 4),
		"1234567890qwertyuiopasdfghjklzxcvbnm",
		"1234567890qwertzuiopasdfghjklyxcvbnm",
		"1234567890azertyuiopqsdfghjklmwxcvbn",
		"!@#$%^&*()_+",
		"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
		"qazwsxedcrfvtgbyhnujmikolp",
		"1q2w3e4r5t6y7u8i9o0p",
		"zaq12wsxcde34rfvbgt56yhnmju78ik,.lo90p;/-['=]",
	}
	out := make([]string, 0, 2*len(seqs))
	for _, s := range seqs {
		rs := []rune(s)
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		out = append(out, s, string(rs))
	}
	return out
}()

// isSequence reports whether s is a stretch of one of passwordSequences.
func isSequence(s string) bool {
	for _, seq := range passwordSequences {
		if strings.Contains(seq, s) {
			return true
		}
	}
	return false
}

// emailLocalPart is the lower-cased part of an address before its last "@".
func emailLocalPart(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[:i]
	}
	return email
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
