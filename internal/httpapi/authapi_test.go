package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/testsummary"
)

const (
	fdLoginPath    = "/api/v1/auth/login"
	fdMePath       = "/api/v1/auth/me"
	fdRefreshPath  = "/api/v1/auth/refresh-session"
	fdLogoutPath   = "/api/v1/auth/logout"
	fdPasswordPath = "/api/v1/auth/change-password"
	fdSessionsPath = "/api/v1/auth/sessions"
)

func TestAuthAPI(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h    *apitest.Harness
		firm *apitest.Firm
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		return &testBundle{h: h, firm: h.NewFirm(apitest.FirmOpts{})}
	}
	login := func(t *testing.T, h *apitest.Harness, u apitest.User) *apitest.Response {
		t.Helper()
		r := h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": u.Email, "password": u.Password}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		return r
	}

	t.Run("login returns the tokens in the body and in two HttpOnly cookies", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := login(t, b.h, b.firm.Admin)

		var body api.LoginResponse
		r.Decode(&body)
		require.True(t, body.Success)
		require.True(t, body.Meta.Success)
		require.Equal(t, r.Header.Get("X-Request-Id"), body.Meta.RequestId)
		require.Equal(t, "Bearer", body.Data.TokenType)
		require.Equal(t, 900, body.Data.ExpiresIn)
		require.NotEmpty(t, body.Data.AccessToken)
		require.NotEmpty(t, body.Data.RefreshToken)
		require.Equal(t, b.firm.Admin.ID, body.Data.User.Id)
		require.Equal(t, "firm_admin", body.Data.User.Role)
		require.Equal(t, b.firm.ID, body.Data.User.Firm.Id)
		require.Equal(t, b.firm.Name, body.Data.User.Firm.Name)

		access := fdResponseCookie(t, r, "auth_token")
		require.Equal(t, body.Data.AccessToken, access.Value)
		require.Equal(t, "/", access.Path)
		require.True(t, access.HttpOnly)
		require.False(t, access.Secure)
		require.Equal(t, http.SameSiteLaxMode, access.SameSite)
		require.InDelta(t, 900, access.MaxAge, 2)

		refresh := fdResponseCookie(t, r, "refresh_token_id")
		require.Equal(t, body.Data.RefreshToken, refresh.Value)
		require.Equal(t, "/api/v1/auth", refresh.Path)
		require.True(t, refresh.HttpOnly)
		require.Equal(t, http.SameSiteLaxMode, refresh.SameSite)
		require.InDelta(t, 7*24*3600, refresh.MaxAge, 2)
	})

	t.Run("cookies are Secure when configured", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t, apitest.Options{Config: func(c *config.Config) { c.SecureCookies = true }})
		firm := h.NewFirm(apitest.FirmOpts{})
		r := login(t, h, firm.Admin)
		require.True(t, fdResponseCookie(t, r, "auth_token").Secure)
		require.True(t, fdResponseCookie(t, r, "refresh_token_id").Secure)
	})

	t.Run("wrong password and unknown email are the same invalid_credentials", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": b.firm.Admin.Email, "password": "not-the-password"}))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "invalid_credentials", r.ErrorCode())
		r2 := b.h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": "nobody@example.test", "password": "whatever-it-is"}))
		require.Equal(t, http.StatusUnauthorized, r2.StatusCode)
		require.Equal(t, "invalid_credentials", r2.ErrorCode())
		require.Equal(t, fdErrorMessage(t, r), fdErrorMessage(t, r2))
	})

	t.Run("email match ignores letter case", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": strings.ToUpper(b.firm.Admin.Email), "password": b.firm.Admin.Password}))
		require.Equal(t, http.StatusOK, r.StatusCode)
	})

	t.Run("invalid login bodies are validation_error naming the field", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": b.firm.Admin.Email}))
		fdRequireValidation(t, r, "body.password")

		r = b.h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": "not-an-email", "password": "x"}))
		fdRequireValidation(t, r, "body.email")

		r = b.h.Do("POST", fdLoginPath, apitest.Body("application/json", []byte(`{"email": "a@b.example",`)))
		fdRequireValidation(t, r, "")

		r = b.h.Do("POST", fdLoginPath, apitest.Body("text/plain", []byte("email=a@b.example")))
		fdRequireValidation(t, r, "")

		r = b.h.Do("POST", fdLoginPath)
		fdRequireValidation(t, r, "")
	})

	t.Run("an invited user who never set a password is invalid_credentials like a wrong password", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		email := "invited-" + uuid.NewString()[:8] + "@example.test"
		_, err := b.h.Pool.Exec(context.Background(),
			`INSERT INTO users (firm_id, email, role) VALUES ($1, $2, 'MEMBER')`, b.firm.ID, email)
		require.NoError(t, err)
		r := b.h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": email, "password": "anything-at-all"}))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "invalid_credentials", r.ErrorCode())
	})

	t.Run("a deactivated user with the right password is account_inactive_login_attempt", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.h.NewUser(b.firm, auth.RoleMember)
		_, err := b.h.Pool.Exec(context.Background(), `UPDATE users SET is_active = false WHERE id = $1`, u.ID)
		require.NoError(t, err)
		r := b.h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": u.Email, "password": u.Password}))
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "account_inactive_login_attempt", r.ErrorCode())

		// A wrong password does not reveal the deactivation.
		r = b.h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": u.Email, "password": "wrong-password-here"}))
		require.Equal(t, "invalid_credentials", r.ErrorCode())
	})

	t.Run("me answers the user of a bearer token or of the auth_token cookie", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		access, _ := b.h.Login(b.firm.Admin)
		for _, opt := range []apitest.Opt{apitest.Bearer(access), apitest.Cookie("auth_token", access)} {
			r := b.h.Do("GET", fdMePath, opt)
			require.Equal(t, http.StatusOK, r.StatusCode)
			var body api.CurrentUserResponse
			r.Decode(&body)
			require.True(t, body.Success)
			require.Equal(t, b.firm.Admin.ID, body.Data.Id)
			require.Equal(t, b.firm.Admin.Email, string(body.Data.Email))
			require.Equal(t, "firm_admin", body.Data.Role)
			require.True(t, body.Data.IsActive)
			require.NotNil(t, body.Data.LastLogin)
		}
	})

	t.Run("bad access tokens get no_token, token_expired or token_invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		access, _ := b.h.Login(b.firm.Admin)
		p, err := b.h.App.Auth.Signer().Verify(access)
		require.NoError(t, err)

		past := func() time.Time { return time.Now().Add(-time.Hour) }
		expiredSigner, err := auth.NewTokenSigner(b.h.App.Config.JWTSecret, time.Minute, past)
		require.NoError(t, err)
		expired, _, err := expiredSigner.Issue(p)
		require.NoError(t, err)

		otherSigner, err := auth.NewTokenSigner([]byte("a-completely-different-secret-0123456789"), 0, nil)
		require.NoError(t, err)
		foreign, _, err := otherSigner.Issue(p)
		require.NoError(t, err)

		parts := strings.Split(access, ".")
		require.Len(t, parts, 3)
		claims := fdDecodeSegment(t, parts[1])
		claims["role"] = "ADMIN"
		tampered := parts[0] + "." + fdEncodeSegment(t, claims) + "." + parts[2]
		algNone := fdEncodeSegment(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + "."

		for name, tc := range map[string]struct {
			opts []apitest.Opt
			code string
		}{
			"none":            {nil, "no_token"},
			"empty bearer":    {[]apitest.Opt{apitest.Header("Authorization", "Bearer ")}, "no_token"},
			"expired":         {[]apitest.Opt{apitest.Bearer(expired)}, "token_expired"},
			"wrong secret":    {[]apitest.Opt{apitest.Bearer(foreign)}, "token_invalid"},
			"tampered claims": {[]apitest.Opt{apitest.Bearer(tampered)}, "token_invalid"},
			"alg none":        {[]apitest.Opt{apitest.Bearer(algNone)}, "token_invalid"},
			"garbage":         {[]apitest.Opt{apitest.Bearer("not.a.jwt")}, "token_invalid"},
			"garbage cookie":  {[]apitest.Opt{apitest.Cookie("auth_token", "xyz")}, "token_invalid"},
		} {
			r := b.h.Do("GET", fdMePath, tc.opts...)
			require.Equal(t, http.StatusUnauthorized, r.StatusCode, name)
			require.Equal(t, tc.code, r.ErrorCode(), name)
		}
	})

	t.Run("refresh rotates the tokens from the body or the cookie", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, refresh := b.h.Login(b.firm.Admin)

		r := b.h.Do("POST", fdRefreshPath, apitest.JSON(map[string]string{"refreshToken": refresh}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var body api.SessionRefreshResponse
		r.Decode(&body)
		require.True(t, body.Success)
		require.Equal(t, "Bearer", body.Data.TokenType)
		require.NotEqual(t, refresh, body.Data.RefreshToken)
		require.Equal(t, b.firm.Admin.ID, body.Data.User.Id)
		require.Equal(t, body.Data.AccessToken, fdResponseCookie(t, r, "auth_token").Value)
		require.Equal(t, body.Data.RefreshToken, fdResponseCookie(t, r, "refresh_token_id").Value)

		// Browsers send only the cookie, and no body at all.
		r = b.h.Do("POST", fdRefreshPath, apitest.Cookie("refresh_token_id", body.Data.RefreshToken))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var second api.SessionRefreshResponse
		r.Decode(&second)

		// The new access token works.
		me := b.h.Do("GET", fdMePath, apitest.Bearer(second.Data.AccessToken))
		require.Equal(t, http.StatusOK, me.StatusCode)
	})

	t.Run("the body wins over the cookie", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, refresh := b.h.Login(b.firm.Admin)
		r := b.h.Do("POST", fdRefreshPath, apitest.JSON(map[string]string{"refreshToken": refresh}),
			apitest.Cookie("refresh_token_id", "garbage-cookie-value"))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	})

	t.Run("reusing a rotated refresh token revokes the whole session", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, first := b.h.Login(b.firm.Admin)
		r := b.h.Do("POST", fdRefreshPath, apitest.JSON(map[string]string{"refreshToken": first}))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var rotated api.SessionRefreshResponse
		r.Decode(&rotated)

		reuse := b.h.Do("POST", fdRefreshPath, apitest.JSON(map[string]string{"refreshToken": first}))
		require.Equal(t, http.StatusUnauthorized, reuse.StatusCode)
		require.Equal(t, "token_invalid", reuse.ErrorCode())
		fdRequireClearedCookies(t, reuse)

		// The thief's use ended the family: the legitimate holder's newer tokens stop working.
		next := b.h.Do("POST", fdRefreshPath, apitest.JSON(map[string]string{"refreshToken": rotated.Data.RefreshToken}))
		require.Equal(t, http.StatusUnauthorized, next.StatusCode)
		require.Equal(t, "token_invalid", next.ErrorCode())
		me := b.h.Do("GET", fdMePath, apitest.Bearer(rotated.Data.AccessToken))
		require.Equal(t, http.StatusUnauthorized, me.StatusCode)
		require.Equal(t, "token_invalid", me.ErrorCode())
	})

	t.Run("refresh failures clear the cookies", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("POST", fdRefreshPath)
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "no_token", r.ErrorCode())
		fdRequireClearedCookies(t, r)

		r = b.h.Do("POST", fdRefreshPath, apitest.Cookie("refresh_token_id", "unknown-token"))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "token_invalid", r.ErrorCode())
		fdRequireClearedCookies(t, r)
	})

	t.Run("an expired refresh token is token_expired", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, refresh := b.h.Login(b.firm.Admin)
		_, err := b.h.Pool.Exec(context.Background(),
			`UPDATE auth_sessions SET expires_at = now() - interval '1 minute' WHERE user_id = $1`, b.firm.Admin.ID)
		require.NoError(t, err)
		r := b.h.Do("POST", fdRefreshPath, apitest.JSON(map[string]string{"refreshToken": refresh}))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "token_expired", r.ErrorCode())
	})

	t.Run("refresh for a deactivated user is token_invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.h.NewUser(b.firm, auth.RoleMember)
		_, refresh := b.h.Login(u)
		_, err := b.h.Pool.Exec(context.Background(), `UPDATE users SET is_active = false WHERE id = $1`, u.ID)
		require.NoError(t, err)
		r := b.h.Do("POST", fdRefreshPath, apitest.JSON(map[string]string{"refreshToken": refresh}))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "token_invalid", r.ErrorCode())
	})

	t.Run("logout ends the session and clears the cookies", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		access, refresh := b.h.Login(b.firm.Admin)
		otherAccess, _ := b.h.Login(b.firm.Admin)

		r := b.h.Do("POST", fdLogoutPath, apitest.Bearer(access))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var body api.MessageResponse
		r.Decode(&body)
		require.True(t, body.Success)
		require.Equal(t, body.Message, body.Data.Message)
		fdRequireClearedCookies(t, r)

		me := b.h.Do("GET", fdMePath, apitest.Bearer(access))
		require.Equal(t, "token_invalid", me.ErrorCode())
		ref := b.h.Do("POST", fdRefreshPath, apitest.JSON(map[string]string{"refreshToken": refresh}))
		require.Equal(t, http.StatusUnauthorized, ref.StatusCode)

		// Other sessions of the user are untouched.
		require.Equal(t, http.StatusOK, b.h.Do("GET", fdMePath, apitest.Bearer(otherAccess)).StatusCode)

		require.Equal(t, "no_token", b.h.Do("POST", fdLogoutPath).ErrorCode())
	})

	t.Run("change password checks the current one and ends the other sessions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.h.NewUser(b.firm, auth.RoleMember)
		access, _ := b.h.Login(u)
		otherAccess, otherRefresh := b.h.Login(u)

		r := b.h.Do("POST", fdPasswordPath, apitest.Bearer(access),
			apitest.JSON(map[string]string{"currentPassword": "not-my-password", "newPassword": "a-brand-new-passphrase"}))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "invalid_credentials", r.ErrorCode())

		r = b.h.Do("POST", fdPasswordPath, apitest.Bearer(access),
			apitest.JSON(map[string]string{"currentPassword": u.Password, "newPassword": "short"}))
		fdRequireValidation(t, r, "body.newPassword")

		r = b.h.Do("POST", fdPasswordPath, apitest.Bearer(access),
			apitest.JSON(map[string]string{"currentPassword": u.Password, "newPassword": u.Password}))
		fdRequireValidation(t, r, "body.newPassword")

		r = b.h.Do("POST", fdPasswordPath, apitest.Bearer(access),
			apitest.JSON(map[string]string{"currentPassword": u.Password}))
		fdRequireValidation(t, r, "body.newPassword")

		r = b.h.Do("POST", fdPasswordPath,
			apitest.JSON(map[string]string{"currentPassword": u.Password, "newPassword": "a-brand-new-passphrase"}))
		require.Equal(t, "no_token", r.ErrorCode())

		r = b.h.Do("POST", fdPasswordPath, apitest.Bearer(access),
			apitest.JSON(map[string]string{"currentPassword": u.Password, "newPassword": "a-brand-new-passphrase"}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var body api.MessageResponse
		r.Decode(&body)
		require.True(t, body.Success)

		require.Equal(t, http.StatusOK, b.h.Do("GET", fdMePath, apitest.Bearer(access)).StatusCode)
		require.Equal(t, "token_invalid", b.h.Do("GET", fdMePath, apitest.Bearer(otherAccess)).ErrorCode())
		require.Equal(t, http.StatusUnauthorized,
			b.h.Do("POST", fdRefreshPath, apitest.JSON(map[string]string{"refreshToken": otherRefresh})).StatusCode)

		old := b.h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": u.Email, "password": u.Password}))
		require.Equal(t, "invalid_credentials", old.ErrorCode())
		u.Password = "a-brand-new-passphrase"
		login(t, b.h, u)
	})

	t.Run("sessions lists the open sessions and marks the current one", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.h.NewUser(b.firm, auth.RoleViewer)
		access, _ := b.h.Login(u)
		otherAccess, _ := b.h.Login(u)

		r := b.h.Do("GET", fdSessionsPath, apitest.Bearer(access), apitest.Header("User-Agent", "sessions-test/1.0"))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var body api.AuthSessionListResponse
		r.Decode(&body)
		require.True(t, body.Success)
		require.Len(t, body.Data, 2)
		current := 0
		for _, s := range body.Data {
			if s.Current {
				current++
			}
			require.NotNil(t, s.IpAddress)
		}
		require.Equal(t, 1, current)

		// The session of the other login can be ended; its tokens stop working.
		p, err := b.h.App.Auth.Signer().Verify(otherAccess)
		require.NoError(t, err)
		r = b.h.Do("DELETE", apitest.Path(fdSessionsPath, p.SessionID.String()), apitest.Bearer(access))
		require.Equal(t, http.StatusNoContent, r.StatusCode)
		require.Equal(t, "token_invalid", b.h.Do("GET", fdMePath, apitest.Bearer(otherAccess)).ErrorCode())
		require.Equal(t, http.StatusOK, b.h.Do("GET", fdMePath, apitest.Bearer(access)).StatusCode)

		// Ending it again, an unknown id, or another user's session: not found.
		r = b.h.Do("DELETE", apitest.Path(fdSessionsPath, p.SessionID.String()), apitest.Bearer(access))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		require.Equal(t, "resource_not_found", r.ErrorCode())
		r = b.h.Do("DELETE", apitest.Path(fdSessionsPath, uuid.NewString()), apitest.Bearer(access))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		adminAccess, _ := b.h.Login(b.firm.Admin)
		ap, err := b.h.App.Auth.Signer().Verify(adminAccess)
		require.NoError(t, err)
		r = b.h.Do("DELETE", apitest.Path(fdSessionsPath, ap.SessionID.String()), apitest.Bearer(access))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		require.Equal(t, http.StatusOK, b.h.Do("GET", fdMePath, apitest.Bearer(adminAccess)).StatusCode)

		r = b.h.Do("DELETE", apitest.Path(fdSessionsPath, "not-a-uuid"), apitest.Bearer(access))
		fdRequireValidation(t, r, "path.id")
	})
}

// TestLoginThrottling has its own servers: the failures it provokes count against the test
// client's address, which every request of a harness shares.
func TestLoginThrottling(t *testing.T) {
	t.Parallel()

	t.Run("repeated failures for one email are rate_limited_email with Retry-After", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		firm := h.NewFirm(apitest.FirmOpts{})
		bad := apitest.JSON(map[string]string{"email": firm.Admin.Email, "password": "wrong-password-here"})
		for i := 0; i < auth.DefaultEmailFailures; i++ {
			require.Equal(t, "invalid_credentials", h.Do("POST", fdLoginPath, bad).ErrorCode())
		}
		r := h.Do("POST", fdLoginPath, bad)
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
		require.Equal(t, "rate_limited_email", r.ErrorCode())
		require.NotEmpty(t, r.Header.Get("Retry-After"))
		require.NotEqual(t, "0", r.Header.Get("Retry-After"))

		// Even the right password waits.
		r = h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": firm.Admin.Email, "password": firm.Admin.Password}))
		require.Equal(t, "rate_limited_email", r.ErrorCode())
	})

	t.Run("failures across many emails from one address are rate_limited_ip", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		for i := 0; i < auth.DefaultIPFailures; i++ {
			r := h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{
				"email": fmt.Sprintf("nobody%d@example.test", i), "password": "wrong-password-here",
			}))
			require.Equal(t, "invalid_credentials", r.ErrorCode())
		}
		r := h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": "someone-else@example.test", "password": "x"}))
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
		require.Equal(t, "rate_limited_ip", r.ErrorCode())
		require.NotEmpty(t, r.Header.Get("Retry-After"))
	})
}

// fdResponseCookie returns the Set-Cookie of name, failing the test when it is missing.
func fdResponseCookie(t *testing.T, r *apitest.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, r.Header.Values("Set-Cookie"))
	return nil
}

// fdRequireClearedCookies checks that both session cookies are expired on their own paths.
func fdRequireClearedCookies(t *testing.T, r *apitest.Response) {
	t.Helper()
	for name, path := range map[string]string{"auth_token": "/", "refresh_token_id": "/api/v1/auth"} {
		c := fdResponseCookie(t, r, name)
		require.Empty(t, c.Value, name)
		require.Equal(t, path, c.Path, name)
		require.Less(t, c.MaxAge, 0, "%s must be sent with Max-Age=0", name)
		require.True(t, c.HttpOnly, name)
	}
}

// fdRequireValidation checks a 400 validation_error and, when field is set, that a detail names it.
func fdRequireValidation(t *testing.T, r *apitest.Response, field string) {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
	require.Equal(t, "validation_error", r.ErrorCode(), string(r.Body))
	var env api.Error
	r.Decode(&env)
	require.NotNil(t, env.Error.Details, string(r.Body))
	require.NotEmpty(t, *env.Error.Details, string(r.Body))
	if field == "" {
		return
	}
	var fields []string
	for _, d := range *env.Error.Details {
		fields = append(fields, d.Field)
	}
	require.Contains(t, fields, field, string(r.Body))
}

func fdErrorMessage(t *testing.T, r *apitest.Response) string {
	t.Helper()
	var env api.Error
	r.Decode(&env)
	return env.Error.Message
}

func fdDecodeSegment(t *testing.T, s string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func fdEncodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestInternalAuthChecks sends forged, expired and otherwise bad access tokens to every Internal
// API operation that needs a session, and firm B's admin at firm A's keys and sessions. Each
// must be refused and change nothing.
func TestInternalAuthChecks(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	a, b := h.NewFirm(apitest.FirmOpts{}), h.NewFirm(apitest.FirmOpts{})
	aAccess, _ := h.Login(a.Admin)
	bAccess, _ := h.Login(b.Admin)
	secret := h.App.Config.JWTSecret

	r := h.Do("POST", fdKeysPath, apitest.Bearer(aAccess), apitest.JSON(map[string]string{"name": "A key", "tier": "FULL"}))
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	aKeyID, aKey := mxGet(t, r.Body, "data.id"), mxGet(t, r.Body, "data.key")
	r = h.Do("POST", "/api/v1/integrations/salesforce/tokens", apitest.Bearer(aAccess), apitest.JSON(map[string]string{"name": "A org"}))
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	aTokenID := mxGet(t, r.Body, "data.id")
	aInvitee := h.Do("POST", "/api/public/v1/users", apitest.APIKey(aKey), apitest.JSON(map[string]string{"email": "invitee@a-firm.example", "firstName": "I", "lastName": "N"}))
	require.Equal(t, http.StatusCreated, aInvitee.StatusCode, string(aInvitee.Body))
	aUserID := mxGet(t, aInvitee.Body, "data.id")
	parts := strings.Split(aAccess, ".")
	require.Len(t, parts, 3)
	claims := fdDecodeSegment(t, parts[1])
	aSession := claims["sid"].(string)

	// sign makes a token with the given header algorithm and claims, signed with secret by
	// method (nil: no signature).
	sign := func(alg string, c map[string]any, method jwt.SigningMethod, key []byte) string {
		head := fdEncodeSegment(t, map[string]any{"alg": alg, "typ": "JWT"})
		payload := fdEncodeSegment(t, c)
		if method == nil {
			return head + "." + payload + "."
		}
		sig, err := method.Sign(head+"."+payload, key)
		require.NoError(t, err)
		return head + "." + payload + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for x, y := range claims {
			c[x] = y
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	now := time.Now()
	// A logged-out session's token is still correctly signed.
	revoked, _ := h.Login(a.Admin)
	require.Equal(t, http.StatusOK, h.Do("POST", fdLogoutPath, apitest.Bearer(revoked)).StatusCode)

	forgeries := []struct {
		name, token, code string
	}{
		{"alg none", sign("none", claims, nil, nil), "token_invalid"},
		{"alg none keeping the signature", fdEncodeSegment(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + "." + parts[2], "token_invalid"},
		{"tampered role", parts[0] + "." + fdEncodeSegment(t, with("role", "ADMIN")) + "." + parts[2], "token_invalid"},
		{"tampered firm", parts[0] + "." + fdEncodeSegment(t, with("fid", b.ID.String())) + "." + parts[2], "token_invalid"},
		{"tampered user", parts[0] + "." + fdEncodeSegment(t, with("sub", b.Admin.ID.String())) + "." + parts[2], "token_invalid"},
		{"signature stripped", parts[0] + "." + parts[1] + ".", "token_invalid"},
		{"wrong secret", sign("HS256", claims, jwt.SigningMethodHS256, []byte("another-secret-of-at-least-32-bytes!!")), "token_invalid"},
		{"wrong alg HS384", sign("HS384", claims, jwt.SigningMethodHS384, secret), "token_invalid"},
		{"wrong alg HS512", sign("HS512", claims, jwt.SigningMethodHS512, secret), "token_invalid"},
		{"RS256 header over an HMAC signature", sign("RS256", claims, jwt.SigningMethodHS256, secret), "token_invalid"},
		{"wrong issuer", sign("HS256", with("iss", "someone-else"), jwt.SigningMethodHS256, secret), "token_invalid"},
		{"no expiry", sign("HS256", with("exp", nil), jwt.SigningMethodHS256, secret), "token_invalid"},
		{"expired", sign("HS256", with("exp", now.Add(-time.Hour).Unix()), jwt.SigningMethodHS256, secret), "token_expired"},
		{"expired and forged", sign("HS256", with("exp", now.Add(-time.Hour).Unix()), jwt.SigningMethodHS256, []byte("another-secret-of-at-least-32-bytes!!")), "token_invalid"},
		{"session logged out", revoked, "token_invalid"},
	}

	type call struct {
		method, path string
		body         any
	}
	var calls []call
	for _, op := range mxSpecOps(t) {
		if !op.internal || op.anonymous {
			continue
		}
		c := call{method: strings.ToUpper(op.method), path: op.path}
		c.path = strings.ReplaceAll(c.path, "/public-api-keys/{id}", "/public-api-keys/"+aKeyID)
		c.path = strings.ReplaceAll(c.path, "/sessions/{id}", "/sessions/"+aSession)
		c.path = strings.ReplaceAll(c.path, "/salesforce/tokens/{id}", "/salesforce/tokens/"+aTokenID)
		c.path = strings.ReplaceAll(c.path, "/users/{id}", "/users/"+aUserID)
		require.NotContains(t, c.path, "{", "no id for %s", op.id)
		switch op.id {
		case "changePassword":
			c.body = map[string]string{"currentPassword": a.Admin.Password, "newPassword": "a-forged-new-passphrase"}
		case "createPublicApiKey":
			c.body = map[string]string{"name": "Forged", "tier": "FULL"}
		case "createSalesforceIntegrationToken":
			c.body = map[string]string{"name": "Forged"}
		case "updateCurrentUserProfile":
			c.body = map[string]string{"firstName": "Forged"}
		}
		calls = append(calls, c)
	}
	require.GreaterOrEqual(t, len(calls), 9)

	refused := 0
	for _, fg := range forgeries {
		for _, c := range calls {
			for _, cred := range []apitest.Opt{apitest.Bearer(fg.token), apitest.Cookie("auth_token", fg.token)} {
				opts := []apitest.Opt{cred}
				if c.body != nil {
					opts = append(opts, apitest.JSON(c.body))
				}
				r := h.Do(c.method, c.path, opts...)
				require.Equal(t, http.StatusUnauthorized, r.StatusCode, "%s: %s %s: %s", fg.name, c.method, c.path, r.Body)
				require.Equal(t, fg.code, r.ErrorCode(), "%s: %s %s", fg.name, c.method, c.path)
				refused++
			}
		}
	}

	// Firm B's admin, with a genuine session, at firm A's key and session.
	crossFirm := 0
	for _, c := range []call{
		{"GET", apitest.Path(fdKeysPath, aKeyID, "usage"), nil},
		{"DELETE", apitest.Path(fdKeysPath, aKeyID), nil},
		{"DELETE", apitest.Path(fdSessionsPath, aSession), nil},
		{"POST", apitest.Path("/api/v1/integrations/salesforce/tokens", aTokenID, "rotate"), nil},
		{"DELETE", apitest.Path("/api/v1/integrations/salesforce/tokens", aTokenID), nil},
		{"POST", apitest.Path("/api/v1/users", aUserID, "resend-invitation"), nil},
	} {
		for _, cred := range []apitest.Opt{apitest.Bearer(bAccess), apitest.Cookie("auth_token", bAccess)} {
			r := h.Do(c.method, c.path, cred)
			require.Equal(t, http.StatusNotFound, r.StatusCode, "%s %s: %s", c.method, c.path, r.Body)
			require.Equal(t, "resource_not_found", r.ErrorCode())
			crossFirm++
		}
	}
	r = h.Do("GET", fdKeysPath, apitest.Bearer(bAccess))
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.NotContains(t, string(r.Body), aKeyID, "B lists A's key")
	r = h.Do("GET", fdSessionsPath, apitest.Bearer(bAccess))
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.NotContains(t, string(r.Body), aSession, "B lists A's session")

	// Nothing changed: A's session, key and password still work, and no key was added.
	r = h.Do("GET", fdMePath, apitest.Bearer(aAccess))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	r = h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(aKey))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	r = h.Do("GET", fdKeysPath, apitest.Bearer(aAccess))
	require.Equal(t, 1, strings.Count(string(r.Body), `"keyPrefix"`), string(r.Body))
	h.Login(a.Admin)

	if !t.Failed() {
		testsummary.Printf("internal-auth: %d token forgeries refused (%d kinds: alg none, tampered, expired, wrong secret/alg/issuer, logged out; %d operations, bearer and cookie), %d cross-firm attempts refused",
			refused, len(forgeries), len(calls), crossFirm)
	}
}
