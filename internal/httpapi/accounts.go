package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/users"
)

// The account life cycle of the Internal API: accepting an invitation, forgetting and
// resetting a password, the user's own profile and resending an invitation.

// CompleteInvitation accepts an invitation with its first password and signs the user in: the
// answer and cookies are those of a login.
func (s *Server) CompleteInvitation(ctx context.Context, req api.CompleteInvitationRequestObject) (api.CompleteInvitationResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	ip, ua := RequestInfoFrom(ctx)
	res, err := s.Users.CompleteInvitation(ctx, req.Body.Token, req.Body.Password, ip, ua)
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
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

// forgotPasswordMessage is the one answer of forgotPassword, whatever the address.
const forgotPasswordMessage = "If this address belongs to an active account, a link to reset its password is on its way."

// ForgotPassword queues a reset link for the address; the answer never says whether it exists.
func (s *Server) ForgotPassword(ctx context.Context, req api.ForgotPasswordRequestObject) (api.ForgotPasswordResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	ip, _ := RequestInfoFrom(ctx)
	if err := s.Users.RequestPasswordReset(ctx, string(req.Body.Email), ip); err != nil {
		return withErrorHeaders(prefixFields(err, "body.", nil)), nil
	}
	return api.ForgotPassword200JSONResponse{Body: messageResponse(ctx, forgotPasswordMessage)}, nil
}

// ResetPassword sets a new password with a reset token; every session of the user ends.
func (s *Server) ResetPassword(ctx context.Context, req api.ResetPasswordRequestObject) (api.ResetPasswordResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	if err := s.Users.ResetPassword(ctx, req.Body.Token, req.Body.Password); err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	return api.ResetPassword200JSONResponse{Body: messageResponse(ctx, "Password changed. Sign in with the new password.")}, nil
}

// GetCurrentUserProfile returns the signed-in user with their phone.
func (s *Server) GetCurrentUserProfile(ctx context.Context, _ api.GetCurrentUserProfileRequestObject) (api.GetCurrentUserProfileResponseObject, error) {
	u, err := s.currentUser(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetCurrentUserProfile200JSONResponse{Body: api.CurrentUserResponse{Success: true, Data: apiAuthUser(u), Meta: internalMeta(ctx)}}, nil
}

// UpdateCurrentUserProfile changes the signed-in user's name and phone.
func (s *Server) UpdateCurrentUserProfile(ctx context.Context, req api.UpdateCurrentUserProfileRequestObject) (api.UpdateCurrentUserProfileResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var in users.ProfileUpdate
	if b := req.Body; b != nil {
		in.FirstName, in.LastName = b.FirstName, b.LastName
		if b.Phone != nil || sentNull(ctx, "phone") {
			in.SetPhone, in.Phone = true, b.Phone
		}
	}
	if err := s.Users.UpdateProfile(ctx, up.UserID, in); err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	u, err := s.currentUser(ctx)
	if err != nil {
		return nil, err
	}
	return api.UpdateCurrentUserProfile200JSONResponse{Body: api.CurrentUserResponse{Success: true, Data: apiAuthUser(u), Meta: internalMeta(ctx)}}, nil
}

// currentUser loads the user of the access token.
func (s *Server) currentUser(ctx context.Context) (auth.User, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return auth.User{}, err
	}
	u, err := s.Auth.Me(ctx, up)
	if errors.Is(err, apperr.ErrNotFound) {
		return auth.User{}, apperr.Unauthenticated(auth.CodeTokenInvalid, "The user of this access token no longer exists")
	}
	return u, err
}

// ResendInvitation sends an invited user of the caller's firm a new link.
func (s *Server) ResendInvitation(ctx context.Context, req api.ResendInvitationRequestObject) (api.ResendInvitationResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Users.ResendInvitation(ctx, up, req.Id); err != nil {
		return nil, err
	}
	return api.ResendInvitation200JSONResponse{Body: messageResponse(ctx, "A new invitation was sent; the previous link no longer works.")}, nil
}

func (r sessionResponse) VisitCompleteInvitationResponse(w http.ResponseWriter) error {
	return r.visit(w)
}
func (r errorHeaders) VisitForgotPasswordResponse(w http.ResponseWriter) error { return r.visit(w) }
