package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
)

// Session cookies of the Internal API. The refresh cookie is scoped to the auth routes so that
// browsers send it only where it is used.
const (
	accessCookieName  = "auth_token"
	accessCookiePath  = "/"
	refreshCookieName = "refresh_token_id"
	refreshCookiePath = "/api/v1/auth"
)

// LoginUser checks an e-mail and password and opens a session; the tokens come back in the
// body and as the two session cookies.
func (s *Server) LoginUser(ctx context.Context, req api.LoginUserRequestObject) (api.LoginUserResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	ip, ua := RequestInfoFrom(ctx)
	res, err := s.Auth.Login(ctx, string(req.Body.Email), req.Body.Password, ip, ua)
	if err != nil {
		return withErrorHeaders(prefixFields(err, "body.", nil)), nil
	}
	return sessionResponse{
		status:  http.StatusOK,
		cookies: s.sessionCookies(res.Tokens),
		body: api.LoginResponse{
			Success: true,
			Data: api.LoginResult{
				User:         apiAuthUser(res.User),
				AccessToken:  res.Tokens.AccessToken,
				RefreshToken: res.Tokens.RefreshToken,
				ExpiresIn:    s.accessExpiresIn(res.Tokens),
				TokenType:    "Bearer",
			},
			Meta: internalMeta(ctx),
		},
	}, nil
}

// GetCurrentUser returns the user of the access token.
func (s *Server) GetCurrentUser(ctx context.Context, _ api.GetCurrentUserRequestObject) (api.GetCurrentUserResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.Auth.Me(ctx, up)
	if err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			// The session outlived its user: the token no longer names anyone.
			return nil, apperr.Unauthenticated(auth.CodeTokenInvalid, "The user of this access token no longer exists")
		}
		return nil, err
	}
	return api.GetCurrentUser200JSONResponse{Body: api.CurrentUserResponse{
		Success: true, Data: apiAuthUser(u), Meta: internalMeta(ctx),
	}}, nil
}

// RefreshSession rotates the refresh token (from the body, else the cookie) and sets both cookies
// again. Every failure clears the cookies, so a browser does not keep retrying a dead token.
func (s *Server) RefreshSession(ctx context.Context, req api.RefreshSessionRequestObject) (api.RefreshSessionResponseObject, error) {
	token := ""
	if req.Body != nil && req.Body.RefreshToken != nil {
		token = strings.TrimSpace(*req.Body.RefreshToken)
	}
	if token == "" && req.Params.RefreshTokenId != nil {
		token = strings.TrimSpace(*req.Params.RefreshTokenId)
	}
	fail := func(err error) (api.RefreshSessionResponseObject, error) {
		return errorHeaders{err: err, cookies: s.clearSessionCookies()}, nil
	}
	if token == "" {
		return fail(apperr.Unauthenticated(auth.CodeNoToken, "No refresh token: send the refresh_token_id cookie or a refreshToken in the body"))
	}
	ip, ua := RequestInfoFrom(ctx)
	res, err := s.Auth.Refresh(ctx, token, ip, ua)
	if err != nil {
		if errors.Is(err, apperr.ErrPermission) {
			// A deactivated user or firm: for the caller the token is simply no longer good.
			return fail(apperr.Unauthenticated(auth.CodeTokenInvalid, "This session is no longer valid; sign in again"))
		}
		return fail(err)
	}
	return sessionResponse{
		status:  http.StatusOK,
		cookies: s.sessionCookies(res.Tokens),
		body: api.SessionRefreshResponse{
			Success: true,
			Data: api.SessionRefreshResult{
				Message:      "Session refreshed.",
				User:         apiAuthUser(res.User),
				AccessToken:  res.Tokens.AccessToken,
				RefreshToken: res.Tokens.RefreshToken,
				ExpiresIn:    s.accessExpiresIn(res.Tokens),
				TokenType:    "Bearer",
			},
			Meta: internalMeta(ctx),
		},
	}, nil
}

// LogoutUser ends the session of the access token and clears both cookies.
func (s *Server) LogoutUser(ctx context.Context, _ api.LogoutUserRequestObject) (api.LogoutUserResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Auth.LogoutSession(ctx, up); err != nil {
		return nil, err
	}
	return sessionResponse{
		status:  http.StatusOK,
		cookies: s.clearSessionCookies(),
		body:    messageResponse(ctx, "Signed out."),
	}, nil
}

// ChangePassword replaces the caller's password; the caller's other sessions end.
func (s *Server) ChangePassword(ctx context.Context, req api.ChangePasswordRequestObject) (api.ChangePasswordResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	ip, _ := RequestInfoFrom(ctx)
	err = s.Auth.ChangePassword(ctx, up, req.Body.CurrentPassword, req.Body.NewPassword, ip)
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Code == auth.CodeInvalidCurrentPassword {
			// The contract answers a wrong current password like a failed sign-in.
			e := apperr.Unauthenticated(auth.CodeInvalidCredentials, "The current password is incorrect")
			e.Details = []apperr.FieldError{{Field: "body.currentPassword", Message: "is incorrect"}}
			return nil, e
		}
		return withErrorHeaders(prefixFields(err, "body.", nil)), nil
	}
	return api.ChangePassword200JSONResponse{Body: messageResponse(ctx, "Password changed.")}, nil
}

// ListAuthSessions lists the caller's open sessions.
func (s *Server) ListAuthSessions(ctx context.Context, _ api.ListAuthSessionsRequestObject) (api.ListAuthSessionsResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	sessions, err := s.Auth.Sessions(ctx, up)
	if err != nil {
		return nil, err
	}
	out := make([]api.AuthSession, 0, len(sessions))
	for _, ss := range sessions {
		out = append(out, api.AuthSession{
			Id:         ss.ID,
			CreatedAt:  ss.StartedAt.UTC(),
			LastUsedAt: ss.LastUsedAt.UTC(),
			ExpiresAt:  ss.ExpiresAt.UTC(),
			UserAgent:  nilIfBlank(ss.UserAgent),
			IpAddress:  nilIfBlank(ss.IP),
			Current:    ss.Current,
		})
	}
	return api.ListAuthSessions200JSONResponse{Body: api.AuthSessionListResponse{
		Success: true, Data: out, Meta: internalMeta(ctx),
	}}, nil
}

// RevokeAuthSession ends one of the caller's sessions.
func (s *Server) RevokeAuthSession(ctx context.Context, req api.RevokeAuthSessionRequestObject) (api.RevokeAuthSessionResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Auth.RevokeSession(ctx, up, req.Id); err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, apperr.NotFound("session")
		}
		return nil, err
	}
	return api.RevokeAuthSession204Response{}, nil
}

// userPrincipalFrom returns the signed-in user of an Internal API request.
func userPrincipalFrom(ctx context.Context) (auth.UserPrincipal, error) {
	p := PrincipalFrom(ctx)
	if p == nil || p.UserID == uuid.Nil {
		return auth.UserPrincipal{}, apperr.Unauthenticated(auth.CodeNoToken, "No access token")
	}
	return auth.UserPrincipal{UserID: p.UserID, FirmID: p.FirmID, Role: auth.Role(p.Role), SessionID: p.SessionID}, nil
}

// internalMeta is the meta of Internal API success bodies.
func internalMeta(ctx context.Context) api.InternalResponseMeta {
	m := meta(ctx)
	return api.InternalResponseMeta{RequestId: m.RequestId, Timestamp: m.Timestamp, Success: true}
}

func messageResponse(ctx context.Context, msg string) api.MessageResponse {
	return api.MessageResponse{Success: true, Message: msg, Data: api.MessageResult{Message: msg}, Meta: internalMeta(ctx)}
}

// apiAuthUser shows a user the way the Internal API does: roles in lower case.
func apiAuthUser(u auth.User) api.AuthUser {
	out := api.AuthUser{
		Id:        u.ID,
		Email:     openapi_types.Email(u.Email),
		FirstName: u.FirstName,
		LastName:  u.LastName,
		Role:      strings.ToLower(string(u.Role)),
		FirmId:    u.FirmID,
		Firm:      api.AuthUserFirm{Id: u.FirmID, Name: u.FirmName},
		IsActive:  u.IsActive,
		CreatedAt: u.CreatedAt.UTC(),
		UpdatedAt: u.UpdatedAt.UTC(),
	}
	if u.LastLoginAt != nil {
		t := u.LastLoginAt.UTC()
		out.LastLogin = &t
	}
	out.Phone = nilIfBlank(u.Phone)
	return out
}

// accessExpiresIn is the lifetime of the access token in seconds, as issued.
func (s *Server) accessExpiresIn(t auth.Tokens) int {
	if ttl := s.Auth.Signer().TTL(); ttl > 0 {
		return int(ttl / time.Second)
	}
	return int(time.Until(t.AccessExpiresAt).Round(time.Second) / time.Second)
}

// sessionCookies are the two HttpOnly cookies carrying fresh tokens, each living as long as its
// token.
func (s *Server) sessionCookies(t auth.Tokens) []*http.Cookie {
	now := time.Now()
	return []*http.Cookie{
		s.sessionCookie(accessCookieName, t.AccessToken, accessCookiePath, t.AccessExpiresAt.Sub(now)),
		s.sessionCookie(refreshCookieName, t.RefreshToken, refreshCookiePath, t.RefreshExpiresAt.Sub(now)),
	}
}

// clearSessionCookies expire both session cookies (Max-Age=0).
func (s *Server) clearSessionCookies() []*http.Cookie {
	return []*http.Cookie{
		s.sessionCookie(accessCookieName, "", accessCookiePath, 0),
		s.sessionCookie(refreshCookieName, "", refreshCookiePath, 0),
	}
}

func (s *Server) sessionCookie(name, value, path string, ttl time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: path,
		HttpOnly: true, Secure: s.cookies.Secure, SameSite: http.SameSiteLaxMode,
	}
	if secs := int(ttl / time.Second); secs > 0 {
		c.MaxAge = secs
	} else {
		c.MaxAge = -1 // written as Max-Age=0: delete now
	}
	return c
}

// sessionResponse is a JSON success body sent with several Set-Cookie headers, which the
// generated response types (one Set-Cookie value) cannot express.
type sessionResponse struct {
	status  int
	cookies []*http.Cookie
	body    any
}

func (r sessionResponse) visit(w http.ResponseWriter) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.body); err != nil {
		return err
	}
	for _, c := range r.cookies {
		http.SetCookie(w, c)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(r.status)
	_, err := buf.WriteTo(w)
	return err
}

func (r sessionResponse) VisitLoginUserResponse(w http.ResponseWriter) error      { return r.visit(w) }
func (r sessionResponse) VisitRefreshSessionResponse(w http.ResponseWriter) error { return r.visit(w) }
func (r sessionResponse) VisitLogoutUserResponse(w http.ResponseWriter) error     { return r.visit(w) }

// errorHeaders adds headers (cookies, Retry-After) to an error response without writing it:
// its Visit method hands err back to Echo, whose error handler writes the envelope on the same
// response, so the one error writer stays in charge of the body.
type errorHeaders struct {
	err        error
	cookies    []*http.Cookie
	retryAfter time.Duration
}

func (r errorHeaders) visit(w http.ResponseWriter) error {
	for _, c := range r.cookies {
		http.SetCookie(w, c)
	}
	if r.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((r.retryAfter+time.Second-1)/time.Second)))
	}
	return r.err
}

func (r errorHeaders) VisitLoginUserResponse(w http.ResponseWriter) error      { return r.visit(w) }
func (r errorHeaders) VisitRefreshSessionResponse(w http.ResponseWriter) error { return r.visit(w) }
func (r errorHeaders) VisitChangePasswordResponse(w http.ResponseWriter) error { return r.visit(w) }

// withErrorHeaders carries the Retry-After of a throttled login or password change.
func withErrorHeaders(err error) errorHeaders {
	out := errorHeaders{err: err}
	var re *auth.RetryError
	if errors.As(err, &re) {
		out.retryAfter = re.After
		if out.retryAfter < time.Second {
			out.retryAfter = time.Second
		}
	}
	return out
}

// prefixFields returns err with the field names of its details made request-relative: renamed
// through rename when listed, then prefixed ("body.", "query."). Other errors are returned as
// they are.
func prefixFields(err error, prefix string, rename map[string]string) error {
	ae, ok := apperr.As(err)
	if !ok || len(ae.Details) == 0 || !errors.Is(err, apperr.ErrValidation) {
		return err
	}
	cp := *ae
	cp.Details = make([]apperr.FieldError, len(ae.Details))
	for i, d := range ae.Details {
		f := d.Field
		if r, ok := rename[f]; ok {
			f = r
		}
		if !strings.HasPrefix(f, "body") && !strings.HasPrefix(f, "query.") && !strings.HasPrefix(f, "path.") {
			f = prefix + f
		}
		cp.Details[i] = apperr.FieldError{Field: f, Message: d.Message}
	}
	return &cp
}

func nilIfBlank(s string) *string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return &s
}
