package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Key format: a tier prefix, then KeySecretLength base62 characters
// (40 * log2(62) ≈ 238 bits of entropy).
const (
	KeySecretLength = 40
	// KeyDisplayPrefixLength is how much of a key is stored in clear to tell keys apart.
	KeyDisplayPrefixLength = 12
)

const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

var tierPrefixes = map[Tier]string{
	TierReadOnly: "cxp_ro_",
	TierStandard: "cxp_std_",
	TierFull:     "cxp_full_",
}

// KeyPrefix returns the prefix of keys of tier t ("cxp_ro_", "cxp_std_", "cxp_full_"), or ""
// for an unknown tier.
func KeyPrefix(t Tier) string { return tierPrefixes[t] }

// GenerateKey returns a new plaintext key of tier t: its prefix plus KeySecretLength base62
// characters from crypto/rand.
func GenerateKey(t Tier) (string, error) {
	prefix, ok := tierPrefixes[t]
	if !ok {
		return "", fmt.Errorf("auth: unknown tier %q", t)
	}
	secret, err := randomBase62(KeySecretLength)
	if err != nil {
		return "", err
	}
	return prefix + secret, nil
}

// randomBase62 draws n characters uniformly from base62Alphabet. Bytes of 248 and above are
// discarded (rejection sampling): 248 = 4*62, so keeping them would favour the first eight
// characters (a modulo bias).
func randomBase62(n int) (string, error) {
	const limit = 256 - 256%len(base62Alphabet) // 248
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, base62Alphabet[int(b)%len(base62Alphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// SalesforceTokenPrefix starts every Salesforce integration token. Such a token is a key of
// the standard tier (SalesforceTokenTier) stored with its own kind.
const SalesforceTokenPrefix = "cxsf_"

// SalesforceTokenTier is what a Salesforce integration token may do on the Public API.
const SalesforceTokenTier = TierStandard

// GenerateSalesforceToken returns a new plaintext Salesforce integration token:
// SalesforceTokenPrefix plus KeySecretLength base62 characters from crypto/rand.
func GenerateSalesforceToken() (string, error) {
	secret, err := randomBase62(KeySecretLength)
	if err != nil {
		return "", err
	}
	return SalesforceTokenPrefix + secret, nil
}

// ParseKeyTier checks the shape of a presented key and returns the tier its prefix names
// (SalesforceTokenTier for a Salesforce integration token). It does not touch the database; a
// false result means the key cannot be valid.
func ParseKeyTier(key string) (Tier, bool) {
	prefixes := tierPrefixes
	if strings.HasPrefix(key, SalesforceTokenPrefix) {
		prefixes = map[Tier]string{SalesforceTokenTier: SalesforceTokenPrefix}
	}
	for t, prefix := range prefixes {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		secret := key[len(prefix):]
		if len(secret) != KeySecretLength {
			return "", false
		}
		for i := 0; i < len(secret); i++ {
			if strings.IndexByte(base62Alphabet, secret[i]) < 0 {
				return "", false
			}
		}
		return t, true
	}
	return "", false
}

// HashKey returns the stored form of a key: hex SHA-256. A fast hash is right here because
// keys are long random strings, not human-chosen secrets.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// DisplayPrefix returns the part of key kept in clear.
func DisplayPrefix(key string) string {
	if len(key) <= KeyDisplayPrefixLength {
		return key
	}
	return key[:KeyDisplayPrefixLength]
}

// Refresh tokens: 32 random bytes, base64url without padding (43 characters).
const refreshTokenBytes = 32

func newRefreshToken() (string, error) {
	b := make([]byte, refreshTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// refreshTokenShapeOK rejects tokens that cannot be ours before any database work.
func refreshTokenShapeOK(token string) bool {
	if len(token) != base64.RawURLEncoding.EncodedLen(refreshTokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(token)
	return err == nil
}

// hashToken is the stored form of a refresh token: hex SHA-256.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
