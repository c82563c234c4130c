package httpapi

import (
	"context"
	"errors"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
)

// ListPublicApiKeys lists every key of the caller's firm, revoked ones included.
func (s *Server) ListPublicApiKeys(ctx context.Context, _ api.ListPublicApiKeysRequestObject) (api.ListPublicApiKeysResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := s.Auth.ListKeys(ctx, up, true)
	if err != nil {
		return nil, err
	}
	out := make([]api.PublicApiKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, apiPublicKey(k))
	}
	return api.ListPublicApiKeys200JSONResponse{Body: api.PublicApiKeyListResponse{
		Success: true, Data: out, Meta: internalMeta(ctx),
	}}, nil
}

// CreatePublicApiKey issues a key for the caller's firm; the secret is in this response only.
func (s *Server) CreatePublicApiKey(ctx context.Context, req api.CreatePublicApiKeyRequestObject) (api.CreatePublicApiKeyResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	created, err := s.Auth.CreateKey(ctx, up, auth.KeyInput{Name: req.Body.Name, Tier: auth.Tier(req.Body.Tier)})
	if err != nil {
		return nil, prefixFields(err, "body.", nil)
	}
	k := apiPublicKey(created.APIKey)
	return api.CreatePublicApiKey201JSONResponse{Body: api.PublicApiKeyCreatedResponse{
		Success: true,
		Data: api.PublicApiKeyCreated{
			Id: k.Id, Name: k.Name, Tier: k.Tier, KeyPrefix: k.KeyPrefix, FirmId: k.FirmId,
			IsActive: k.IsActive, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt,
			CreatedById: k.CreatedById, CreatedBy: k.CreatedBy,
			Key: created.Key, PlainKey: created.Key,
		},
		Meta: internalMeta(ctx),
	}}, nil
}

// GetPublicApiKeyUsage returns the daily request counts of a key of the caller's firm.
func (s *Server) GetPublicApiKeyUsage(ctx context.Context, req api.GetPublicApiKeyUsageRequestObject) (api.GetPublicApiKeyUsageResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	days := auth.DefaultUsageDays
	if req.Params.Days != nil {
		days = *req.Params.Days
	}
	u, err := s.Auth.KeyUsage(ctx, up, req.Id, days)
	if err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, apperr.NotFound("API key")
		}
		return nil, prefixFields(err, "query.", nil)
	}
	out := api.PublicApiKeyUsage{
		KeyId:         u.Key.ID,
		TotalRequests: u.Total,
		LastUsedAt:    utcPtr(u.Key.LastUsedAt),
		From:          openapi_types.Date{Time: u.Since.UTC()},
		To:            openapi_types.Date{Time: time.Now().UTC()},
		Daily:         make([]api.PublicApiKeyUsageDay, 0, len(u.Days)),
	}
	for _, d := range u.Days {
		day, err := time.Parse(time.DateOnly, d.Date)
		if err != nil {
			return nil, err
		}
		out.Daily = append(out.Daily, api.PublicApiKeyUsageDay{Date: openapi_types.Date{Time: day}, Count: int(d.Count)})
		out.RequestsInPeriod += d.Count
	}
	if n := len(out.Daily); n > 0 {
		out.From, out.To = out.Daily[0].Date, out.Daily[n-1].Date
	}
	return api.GetPublicApiKeyUsage200JSONResponse{Body: api.PublicApiKeyUsageResponse{
		Success: true, Data: out, Meta: internalMeta(ctx),
	}}, nil
}

// RevokePublicApiKey revokes a key of the caller's firm; it stops working at once.
func (s *Server) RevokePublicApiKey(ctx context.Context, req api.RevokePublicApiKeyRequestObject) (api.RevokePublicApiKeyResponseObject, error) {
	up, err := userPrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.Auth.RevokeKey(ctx, up, req.Id); err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, apperr.NotFound("API key")
		}
		return nil, err
	}
	return api.RevokePublicApiKey204Response{}, nil
}

func apiPublicKey(k auth.APIKey) api.PublicApiKey {
	var creator *api.PublicApiKeyCreator
	if c := k.Creator; c != nil {
		creator = &api.PublicApiKeyCreator{Id: c.ID, FirstName: c.FirstName, LastName: c.LastName, Email: openapi_types.Email(c.Email)}
	}
	out := api.PublicApiKey{
		Id:         k.ID,
		Name:       k.Name,
		Tier:       api.PublicApiKeyTier(k.Tier),
		KeyPrefix:  k.Prefix,
		FirmId:     k.FirmID,
		IsActive:   !k.Revoked(),
		CreatedAt:  k.CreatedAt.UTC(),
		LastUsedAt: utcPtr(k.LastUsedAt),
		RevokedAt:  utcPtr(k.RevokedAt),
		CreatedBy:  creator,
	}
	if creator != nil {
		id := creator.Id
		out.CreatedById = &id
	}
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
