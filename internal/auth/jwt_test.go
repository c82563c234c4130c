package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

func requireCode(t *testing.T, err error, kind error, code string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind)
	e, ok := apperr.As(err)
	require.True(t, ok, "not an *apperr.Error: %v", err)
	require.Equal(t, code, e.Code, "error: %v", err)
}

func TestTokenSigner(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		signer *TokenSigner
		now    time.Time
		p      UserPrincipal
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := &testBundle{now: time.Now()}
		var err error
		b.signer, err = NewTokenSigner(testSecret, 0, func() time.Time { return b.now })
		require.NoError(t, err)
		b.p = UserPrincipal{UserID: uuid.New(), FirmID: uuid.New(), Role: RoleFirmAdmin, SessionID: uuid.New()}
		return b
	}
	// claims builds a payload like the signer's, for hand-made tokens.
	claims := func(b *testBundle) jwt.MapClaims {
		return jwt.MapClaims{
			"sub": b.p.UserID.String(), "fid": b.p.FirmID.String(), "role": string(b.p.Role),
			"sid": b.p.SessionID.String(), "iss": Issuer,
			"iat": b.now.Unix(), "exp": b.now.Add(time.Minute).Unix(),
		}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tok, exp, err := b.signer.Issue(b.p)
		require.NoError(t, err)
		require.WithinDuration(t, b.now.Add(DefaultAccessTTL), exp, time.Second)
		got, err := b.signer.Verify(tok)
		require.NoError(t, err)
		require.Equal(t, b.p.UserID, got.UserID)
		require.Equal(t, b.p.FirmID, got.FirmID)
		require.Equal(t, b.p.Role, got.Role)
		require.Equal(t, b.p.SessionID, got.SessionID)
		require.Equal(t, exp.Unix(), got.ExpiresAt.Unix())

		header, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		require.NoError(t, err)
		require.Contains(t, string(header), `"alg":"HS256"`)
	})

	t.Run("ShortSecretIsRejected", func(t *testing.T) {
		t.Parallel()
		_, err := NewTokenSigner([]byte("short"), 0, nil)
		require.Error(t, err)
	})

	t.Run("ExpiredTokenIsExpired", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tok, _, err := b.signer.Issue(b.p)
		require.NoError(t, err)
		b.now = b.now.Add(DefaultAccessTTL + time.Minute)
		_, err = b.signer.Verify(tok)
		requireCode(t, err, apperr.ErrUnauthenticated, CodeTokenExpired)
	})

	t.Run("ForgedExpiredTokenIsInvalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := claims(b)
		c["exp"] = b.now.Add(-time.Hour).Unix()
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("another secret of thirty-two bytes!!"))
		require.NoError(t, err)
		_, err = b.signer.Verify(tok)
		requireCode(t, err, apperr.ErrUnauthenticated, CodeTokenInvalid)
	})

	invalid := map[string]func(t *testing.T, b *testBundle) string{
		"AlgNone": func(t *testing.T, b *testBundle) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(b)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			require.NoError(t, err)
			return tok
		},
		"AlgNoneUpperCaseHandMade": func(t *testing.T, b *testBundle) string {
			tok, _, err := b.signer.Issue(b.p)
			require.NoError(t, err)
			parts := strings.Split(tok, ".")
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"NONE","typ":"JWT"}`))
			return h + "." + parts[1] + "."
		},
		"RS256": func(t *testing.T, b *testBundle) string {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			require.NoError(t, err)
			tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(b)).SignedString(key)
			require.NoError(t, err)
			return tok
		},
		"RS256HeaderWithHMACSignature": func(t *testing.T, b *testBundle) string {
			// Key confusion: an RS256 header over an HMAC made with the shared secret.
			tok, _, err := b.signer.Issue(b.p)
			require.NoError(t, err)
			parts := strings.Split(tok, ".")
			parts[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
			sig, err := jwt.SigningMethodHS256.Sign(parts[0]+"."+parts[1], testSecret)
			require.NoError(t, err)
			return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
		},
		"HS256KeyedWithPublicKeyPEM": func(t *testing.T, b *testBundle) string {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			require.NoError(t, err)
			der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
			require.NoError(t, err)
			pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(b)).SignedString(pub)
			require.NoError(t, err)
			return tok
		},
		"HS512SameSecret": func(t *testing.T, b *testBundle) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS512, claims(b)).SignedString(testSecret)
			require.NoError(t, err)
			return tok
		},
		"WrongSecret": func(t *testing.T, b *testBundle) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(b)).SignedString([]byte("yet another secret, thirty-two bytes"))
			require.NoError(t, err)
			return tok
		},
		"TamperedPayload": func(t *testing.T, b *testBundle) string {
			tok, _, err := b.signer.Issue(b.p)
			require.NoError(t, err)
			parts := strings.Split(tok, ".")
			c := claims(b)
			c["role"] = string(RoleAdmin)
			forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SigningString()
			require.NoError(t, err)
			return strings.Split(forged, ".")[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
		},
		"TamperedSignature": func(t *testing.T, b *testBundle) string {
			tok, _, err := b.signer.Issue(b.p)
			require.NoError(t, err)
			last := tok[len(tok)-2]
			repl := byte('A')
			if last == 'A' {
				repl = 'B'
			}
			return tok[:len(tok)-2] + string(repl) + tok[len(tok)-1:]
		},
		"WrongIssuer": func(t *testing.T, b *testBundle) string {
			c := claims(b)
			c["iss"] = "someone-else"
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testSecret)
			require.NoError(t, err)
			return tok
		},
		"NoExpiry": func(t *testing.T, b *testBundle) string {
			c := claims(b)
			delete(c, "exp")
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testSecret)
			require.NoError(t, err)
			return tok
		},
		"IssuedInTheFuture": func(t *testing.T, b *testBundle) string {
			c := claims(b)
			c["iat"] = b.now.Add(time.Hour).Unix()
			c["exp"] = b.now.Add(2 * time.Hour).Unix()
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testSecret)
			require.NoError(t, err)
			return tok
		},
		"BadSubject": func(t *testing.T, b *testBundle) string {
			c := claims(b)
			c["sub"] = "not-a-uuid"
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testSecret)
			require.NoError(t, err)
			return tok
		},
		"MissingSessionID": func(t *testing.T, b *testBundle) string {
			c := claims(b)
			delete(c, "sid")
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testSecret)
			require.NoError(t, err)
			return tok
		},
		"UnknownRole": func(t *testing.T, b *testBundle) string {
			c := claims(b)
			c["role"] = "SUPERUSER"
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testSecret)
			require.NoError(t, err)
			return tok
		},
		"Garbage":    func(*testing.T, *testBundle) string { return "not.a.token" },
		"Empty":      func(*testing.T, *testBundle) string { return "" },
		"TwoSegment": func(*testing.T, *testBundle) string { return "eyJhbGciOiJIUzI1NiJ9.e30" },
	}
	for name, mk := range invalid {
		t.Run("Rejects"+name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, err := b.signer.Verify(mk(t, b))
			requireCode(t, err, apperr.ErrUnauthenticated, CodeTokenInvalid)
			require.False(t, errors.Is(err, apperr.ErrPermission))
		})
	}
}
