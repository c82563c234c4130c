package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/casexchange/server/internal/apperr"
)

// Issuer is the iss claim of every access token.
const Issuer = "casexchange"

// MinJWTSecretLength is the shortest HS256 secret accepted: the key should be as long as the
// hash output.
const MinJWTSecretLength = 32

// DefaultAccessTTL is the lifetime of an access token.
const DefaultAccessTTL = 15 * time.Minute

// accessClaims is the payload of an access token.
type accessClaims struct {
	FirmID    string `json:"fid"`
	Role      string `json:"role"`
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// TokenSigner issues and verifies HS256 access tokens.
type TokenSigner struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser
}

// NewTokenSigner returns a signer for secret (at least MinJWTSecretLength bytes) issuing tokens
// that live ttl (DefaultAccessTTL when zero). now may be nil (time.Now).
func NewTokenSigner(secret []byte, ttl time.Duration, now func() time.Time) (*TokenSigner, error) {
	if len(secret) < MinJWTSecretLength {
		return nil, fmt.Errorf("auth: JWT secret must be at least %d bytes, got %d", MinJWTSecretLength, len(secret))
	}
	if ttl <= 0 {
		ttl = DefaultAccessTTL
	}
	if now == nil {
		now = time.Now
	}
	s := &TokenSigner{secret: append([]byte(nil), secret...), ttl: ttl, now: now}
	s.parser = jwt.NewParser(
		// Only HS256: this rejects "none", every asymmetric algorithm (the classic confusion
		// of an RSA public key used as an HMAC secret) and the other HMAC sizes.
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return s.now() }),
		jwt.WithLeeway(5*time.Second),
	)
	return s, nil
}

// TTL returns the lifetime of the tokens s issues.
func (s *TokenSigner) TTL() time.Duration { return s.ttl }

// Issue signs an access token for p (p.ExpiresAt is ignored) and returns it with its expiry.
func (s *TokenSigner) Issue(p UserPrincipal) (string, time.Time, error) {
	now := s.now().Truncate(time.Second)
	exp := now.Add(s.ttl)
	claims := accessClaims{
		FirmID:    p.FirmID.String(),
		Role:      string(p.Role),
		SessionID: p.SessionID.String(),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   p.UserID.String(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return tok, exp, nil
}

// Verify checks an access token's algorithm, signature, issuer and lifetime and returns its
// principal. It does not look at the database: a revoked session keeps verifying until the
// token expires (see Service.AuthenticateBearer for the checked variant).
//
// Errors are apperr.ErrUnauthenticated with code CodeTokenExpired for an authentic token past
// its expiry, and CodeTokenInvalid for anything else (malformed, wrong algorithm, bad
// signature, wrong issuer, missing or unparsable claims). The signature is checked before the
// expiry, so a forged expired token is invalid, not expired.
func (s *TokenSigner) Verify(token string) (UserPrincipal, error) {
	var claims accessClaims
	_, err := s.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		// Belt and braces next to WithValidMethods: the key is only ever handed to HMAC.
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok || t.Method.Alg() != jwt.SigningMethodHS256.Alg() {
			return nil, fmt.Errorf("unexpected signing method %q", t.Method.Alg())
		}
		return s.secret, nil
	})
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			return UserPrincipal{}, apperr.Unauthenticated(CodeTokenExpired, "Access token has expired")
		}
		return UserPrincipal{}, invalidToken()
	}
	userID, err1 := uuid.Parse(claims.Subject)
	firmID, err2 := uuid.Parse(claims.FirmID)
	sessionID, err3 := uuid.Parse(claims.SessionID)
	role := Role(claims.Role)
	if err1 != nil || err2 != nil || err3 != nil || !role.Valid() || claims.ExpiresAt == nil {
		return UserPrincipal{}, invalidToken()
	}
	return UserPrincipal{
		UserID:    userID,
		FirmID:    firmID,
		Role:      role,
		SessionID: sessionID,
		ExpiresAt: claims.ExpiresAt.Time,
	}, nil
}

func invalidToken() *apperr.Error {
	return apperr.Unauthenticated(CodeTokenInvalid, "Access token is invalid")
}
