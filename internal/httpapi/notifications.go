package httpapi

import (
	"context"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/notify"
)

// GetNotificationPreferences returns the e-mail switches of the caller's firm.
func (s *Server) GetNotificationPreferences(ctx context.Context, _ api.GetNotificationPreferencesRequestObject) (api.GetNotificationPreferencesResponseObject, error) {
	p, err := s.Notify.Preferences(ctx, PrincipalFrom(ctx).FirmID)
	if err != nil {
		return nil, err
	}
	return api.GetNotificationPreferences200JSONResponse{Body: api.NotificationPreferencesResponse{Data: apiPreferences(p), Meta: meta(ctx)}}, nil
}

// UpdateNotificationPreferences sets some of the caller's firm's e-mail switches.
func (s *Server) UpdateNotificationPreferences(ctx context.Context, req api.UpdateNotificationPreferencesRequestObject) (api.UpdateNotificationPreferencesResponseObject, error) {
	var u notify.PreferencesUpdate
	if b := req.Body; b != nil {
		u = notify.PreferencesUpdate{NewReferral: b.EmailOnNewReferral, StatusChange: b.EmailOnStatusChange, DocumentUpload: b.EmailOnDocumentUpload}
	}
	p, err := s.Notify.UpdatePreferences(ctx, PrincipalFrom(ctx).FirmID, u)
	if err != nil {
		return nil, err
	}
	return api.UpdateNotificationPreferences200JSONResponse{Body: api.NotificationPreferencesResponse{Data: apiPreferences(p), Meta: meta(ctx)}}, nil
}

// ListNotificationEmails lists the caller's firm's recipient addresses.
func (s *Server) ListNotificationEmails(ctx context.Context, _ api.ListNotificationEmailsRequestObject) (api.ListNotificationEmailsResponseObject, error) {
	list, err := s.Notify.Recipients(ctx, PrincipalFrom(ctx).FirmID)
	if err != nil {
		return nil, err
	}
	data := make([]api.NotificationEmail, 0, len(list))
	for _, r := range list {
		data = append(data, apiRecipient(r))
	}
	return api.ListNotificationEmails200JSONResponse{Body: api.NotificationEmailListResponse{Data: data, Meta: meta(ctx)}}, nil
}

// AddNotificationEmail adds a recipient address: 201 when new, 200 with the existing entry
// when the address is already listed.
func (s *Server) AddNotificationEmail(ctx context.Context, req api.AddNotificationEmailRequestObject) (api.AddNotificationEmailResponseObject, error) {
	r, created, err := s.Notify.AddRecipient(ctx, PrincipalFrom(ctx).FirmID, string(req.Body.Email))
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	body := api.NotificationEmailResponse{Data: apiRecipient(r), Meta: meta(ctx)}
	if created {
		return api.AddNotificationEmail201JSONResponse{Body: body}, nil
	}
	return api.AddNotificationEmail200JSONResponse{Body: body}, nil
}

func apiPreferences(p notify.Preferences) api.NotificationPreferences {
	return api.NotificationPreferences{
		EmailOnNewReferral:    p.NewReferral,
		EmailOnStatusChange:   p.StatusChange,
		EmailOnDocumentUpload: p.DocumentUpload,
		UpdatedAt:             p.UpdatedAt,
	}
}

func apiRecipient(r notify.Recipient) api.NotificationEmail {
	return api.NotificationEmail{Id: r.ID, Email: openapi_types.Email(r.Email), CreatedAt: r.CreatedAt}
}
