package httpapi

import (
	"context"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
)

// Salesforce integration tokens: Public API credentials of a firm's Salesforce
// package, administered by the firm's administrators.

// ListSalesforceIntegrationTokens lists the tokens of the caller's firm.
func (s *Server) ListSalesforceIntegrationTokens(ctx context.Context, _ api.ListSalesforceIntegrationTokensRequestObject) (api.ListSalesforceIntegrationTokensResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	toks, err := s.Auth.SalesforceTokens(ctx, up)
	if err != nil {
		return nil, err
	}
	out := make([]api.SalesforceIntegrationToken, 0, len(toks))
	for _, t := range toks {
		out = append(out, apiSalesforceToken(t))
	}
	body := api.SalesforceIntegrationTokenListResponse{Success: true, Meta: internalMeta(ctx)}
	body.Data.Tokens = out
	return api.ListSalesforceIntegrationTokens200JSONResponse{Body: body}, nil
}

// CreateSalesforceIntegrationToken issues a token; its secret is in this response only.
func (s *Server) CreateSalesforceIntegrationToken(ctx context.Context, req api.CreateSalesforceIntegrationTokenRequestObject) (api.CreateSalesforceIntegrationTokenResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	created, err := s.Auth.CreateSalesforceToken(ctx, up, auth.SalesforceTokenInput{Name: req.Body.Name, ConnectionID: req.Body.SalesforceConnectionId})
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	return api.CreateSalesforceIntegrationToken201JSONResponse{Body: api.SalesforceIntegrationTokenCreatedResponse{
		Success: true, Data: apiCreatedSalesforceToken(created), Meta: internalMeta(ctx),
	}}, nil
}

// RotateSalesforceIntegrationToken gives a token a new secret; the old one stops working.
func (s *Server) RotateSalesforceIntegrationToken(ctx context.Context, req api.RotateSalesforceIntegrationTokenRequestObject) (api.RotateSalesforceIntegrationTokenResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	created, err := s.Auth.RotateSalesforceToken(ctx, up, req.Id)
	if err != nil {
		return nil, err
	}
	return api.RotateSalesforceIntegrationToken200JSONResponse{Body: api.SalesforceIntegrationTokenCreatedResponse{
		Success: true, Data: apiCreatedSalesforceToken(created), Meta: internalMeta(ctx),
	}}, nil
}

// DeleteSalesforceIntegrationToken revokes a token.
func (s *Server) DeleteSalesforceIntegrationToken(ctx context.Context, req api.DeleteSalesforceIntegrationTokenRequestObject) (api.DeleteSalesforceIntegrationTokenResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Auth.RevokeSalesforceToken(ctx, up, req.Id); err != nil {
		return nil, err
	}
	return api.DeleteSalesforceIntegrationToken204Response{}, nil
}

func salesforceTokenStatus(t auth.SalesforceToken) string {
	if t.Revoked() {
		return "revoked"
	}
	return "active"
}

func apiSalesforceToken(t auth.SalesforceToken) api.SalesforceIntegrationToken {
	return api.SalesforceIntegrationToken{
		Id: t.ID, Name: t.Name, Prefix: t.Prefix, Status: api.SalesforceIntegrationTokenStatus(salesforceTokenStatus(t)),
		SalesforceConnectionId: t.ConnectionID, CreatedAt: t.CreatedAt.UTC(), LastUsedAt: utcPtr(t.LastUsedAt),
	}
}

func apiCreatedSalesforceToken(c auth.CreatedSalesforceToken) api.SalesforceIntegrationTokenCreated {
	t := c.SalesforceToken
	return api.SalesforceIntegrationTokenCreated{
		Id: t.ID, Name: t.Name, Prefix: t.Prefix, Status: api.SalesforceIntegrationTokenCreatedStatus(salesforceTokenStatus(t)),
		SalesforceConnectionId: t.ConnectionID, CreatedAt: t.CreatedAt.UTC(), LastUsedAt: utcPtr(t.LastUsedAt), PlainToken: c.Token,
	}
}
