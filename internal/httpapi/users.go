package httpapi

import (
	"context"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/users"
)

// ListUsers lists the users of the caller's firm.
func (s *Server) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	p := req.Params
	page, limit := pageParams(p.Page, p.Limit)
	q := users.ListQuery{Active: p.IsActive, Page: page, Limit: limit}
	if p.Search != nil {
		q.Search = *p.Search
	}
	if p.Role != nil {
		q.Role = *p.Role
	}
	res, err := s.Users.List(ctx, PrincipalFrom(ctx).FirmID, q)
	if err != nil {
		return nil, prefixFields(err, "query.", nil)
	}
	data := make([]api.User, 0, len(res.Users))
	for _, u := range res.Users {
		data = append(data, apiUser(u))
	}
	return api.ListUsers200JSONResponse{Body: api.UserListResponse{
		Data: data, Pagination: pagination(page, limit, res.Total), Meta: meta(ctx),
	}}, nil
}

// InviteUser creates an invited user in the caller's firm and e-mails the invitation.
func (s *Server) InviteUser(ctx context.Context, req api.InviteUserRequestObject) (api.InviteUserResponseObject, error) {
	b := req.Body
	in := users.InviteInput{Email: string(b.Email), FirstName: b.FirstName, LastName: b.LastName}
	if b.Role != nil {
		in.Role = string(*b.Role)
	}
	u, err := s.Users.Invite(ctx, PrincipalFrom(ctx).FirmID, in)
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	return api.InviteUser201JSONResponse{Body: api.UserResponse{Data: apiUser(u), Meta: meta(ctx)}}, nil
}

// UpdateUser changes a user of the caller's firm.
func (s *Server) UpdateUser(ctx context.Context, req api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	var in users.UpdateInput
	if b := req.Body; b != nil {
		in.FirstName, in.LastName, in.Active = b.FirstName, b.LastName, b.IsActive
		if b.Email != nil {
			e := string(*b.Email)
			in.Email = &e
		}
		if b.Role != nil {
			r := string(*b.Role)
			in.Role = &r
		}
	}
	u, err := s.Users.Update(ctx, PrincipalFrom(ctx).FirmID, req.Id, in)
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	return api.UpdateUser200JSONResponse{Body: api.UserResponse{Data: apiUser(u), Meta: meta(ctx)}}, nil
}

// DeactivateUser switches a user of the caller's firm off and ends their sessions.
func (s *Server) DeactivateUser(ctx context.Context, req api.DeactivateUserRequestObject) (api.DeactivateUserResponseObject, error) {
	if err := s.Users.Deactivate(ctx, PrincipalFrom(ctx).FirmID, req.Id); err != nil {
		return nil, err
	}
	return api.DeactivateUser204Response{}, nil
}

func apiUser(u users.User) api.User {
	updated := u.UpdatedAt
	return api.User{
		Id:        u.ID,
		FirmId:    u.FirmID,
		Email:     openapi_types.Email(u.Email),
		FirstName: u.FirstName,
		LastName:  u.LastName,
		Role:      string(u.Role),
		IsActive:  u.Active,
		Status:    api.UserStatus(u.Status),
		LastLogin: u.LastLoginAt,
		CreatedAt: u.CreatedAt,
		UpdatedAt: &updated,
	}
}
