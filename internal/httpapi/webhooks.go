package httpapi

import (
	"context"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/webhooks"
)

// Firm webhooks: subscriptions, deliveries, tests, rotation, echo mode.

func (s *Server) apiWebhook(sub webhooks.Subscription) api.WebhookSubscription {
	out := api.WebhookSubscription{
		Id: sub.ID, Url: sub.URL, Description: sub.Description, IsActive: sub.IsActive,
		DeactivatedReason: sub.DeactivatedReason, ConsecutiveFailures: sub.ConsecutiveFailures,
		EchoMode: sub.EchoMode(), EchoUrl: s.Webhooks.EchoURL(sub), SecretRotatedAt: sub.SecretRotatedAt,
		CreatedAt: sub.CreatedAt, UpdatedAt: sub.UpdatedAt,
	}
	if sub.Events != nil {
		ev := make([]api.WebhookEventType, 0, len(sub.Events))
		for _, e := range sub.Events {
			ev = append(ev, api.WebhookEventType(e))
		}
		out.Events = &ev
	}
	return out
}

func (s *Server) apiWebhookWithSecret(sub webhooks.Subscription, secret string) api.WebhookSubscriptionWithSecret {
	w := s.apiWebhook(sub)
	return api.WebhookSubscriptionWithSecret{
		Id: w.Id, Url: w.Url, Description: w.Description, Events: w.Events, IsActive: w.IsActive,
		DeactivatedReason: w.DeactivatedReason, ConsecutiveFailures: w.ConsecutiveFailures, EchoMode: w.EchoMode,
		EchoUrl: w.EchoUrl, SecretRotatedAt: w.SecretRotatedAt, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		Secret: secret,
	}
}

func apiWebhookDelivery(d webhooks.Delivery) api.WebhookDelivery {
	return api.WebhookDelivery{
		Id: d.ID, EventId: d.EventID, EventType: d.EventType, Status: api.WebhookDeliveryStatus(d.Status),
		Attempts: d.Attempts, LastStatusCode: d.LastStatusCode, LastError: d.LastError, DeliveredAt: d.DeliveredAt,
		NextRetryAt: d.NextRetryAt, RedeliveryOf: d.RedeliveryOf, CreatedAt: d.CreatedAt,
	}
}

func eventTypes(in *[]api.WebhookEventType) *[]webhooks.EventType {
	if in == nil {
		return nil
	}
	out := make([]webhooks.EventType, 0, len(*in))
	for _, e := range *in {
		out = append(out, webhooks.EventType(e))
	}
	return &out
}

// ListWebhooks lists the caller's firm's subscriptions, oldest first.
func (s *Server) ListWebhooks(ctx context.Context, req api.ListWebhooksRequestObject) (api.ListWebhooksResponseObject, error) {
	page, limit := pageParams(req.Params.Page, req.Params.Limit)
	subs, total, err := s.Webhooks.List(ctx, PrincipalFrom(ctx).FirmID, page, limit)
	if err != nil {
		return nil, err
	}
	data := make([]api.WebhookSubscription, 0, len(subs))
	for _, sub := range subs {
		data = append(data, s.apiWebhook(sub))
	}
	return api.ListWebhooks200JSONResponse{Body: api.WebhookSubscriptionListResponse{
		Data: data, Pagination: pagination(page, limit, total), Meta: meta(ctx),
	}}, nil
}

// CreateWebhook registers a subscription and shows its secret once.
func (s *Server) CreateWebhook(ctx context.Context, req api.CreateWebhookRequestObject) (api.CreateWebhookResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.Field("body", "is required")
	}
	in := webhooks.CreateInput{URL: req.Body.Url, Description: req.Body.Description}
	if ev := eventTypes(req.Body.Events); ev != nil {
		in.Events = *ev
	}
	sub, secret, err := s.Webhooks.Create(ctx, PrincipalFrom(ctx).FirmID, in)
	if err != nil {
		return nil, err
	}
	return api.CreateWebhook201JSONResponse{Body: api.WebhookSubscriptionSecretResponse{
		Data: s.apiWebhookWithSecret(sub, secret), Meta: meta(ctx),
	}}, nil
}

// GetWebhook returns one subscription, without its secret.
func (s *Server) GetWebhook(ctx context.Context, req api.GetWebhookRequestObject) (api.GetWebhookResponseObject, error) {
	sub, err := s.Webhooks.Get(ctx, PrincipalFrom(ctx).FirmID, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetWebhook200JSONResponse{Body: api.WebhookSubscriptionResponse{Data: s.apiWebhook(sub), Meta: meta(ctx)}}, nil
}

// UpdateWebhook changes the fields present in the body.
func (s *Server) UpdateWebhook(ctx context.Context, req api.UpdateWebhookRequestObject) (api.UpdateWebhookResponseObject, error) {
	var p webhooks.Patch
	if b := req.Body; b != nil {
		p = webhooks.Patch{URL: b.Url, Description: b.Description, Events: eventTypes(b.Events), IsActive: b.IsActive}
	}
	sub, err := s.Webhooks.Update(ctx, PrincipalFrom(ctx).FirmID, req.Id, p)
	if err != nil {
		return nil, err
	}
	return api.UpdateWebhook200JSONResponse{Body: api.WebhookSubscriptionResponse{Data: s.apiWebhook(sub), Meta: meta(ctx)}}, nil
}

// DeleteWebhook removes a subscription with its records.
func (s *Server) DeleteWebhook(ctx context.Context, req api.DeleteWebhookRequestObject) (api.DeleteWebhookResponseObject, error) {
	if err := s.Webhooks.Delete(ctx, PrincipalFrom(ctx).FirmID, req.Id); err != nil {
		return nil, err
	}
	return api.DeleteWebhook204Response{}, nil
}

// ListWebhookDeliveries lists a subscription's delivery records, newest first.
func (s *Server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	page, limit := pageParams(req.Params.Page, req.Params.Limit)
	ds, total, err := s.Webhooks.Deliveries(ctx, PrincipalFrom(ctx).FirmID, req.Id, page, limit)
	if err != nil {
		return nil, err
	}
	data := make([]api.WebhookDelivery, 0, len(ds))
	for _, d := range ds {
		data = append(data, apiWebhookDelivery(d))
	}
	return api.ListWebhookDeliveries200JSONResponse{Body: api.WebhookDeliveryListResponse{
		Data: data, Pagination: pagination(page, limit, total), Meta: meta(ctx),
	}}, nil
}

// RedeliverWebhookDelivery queues a finished delivery's event again.
func (s *Server) RedeliverWebhookDelivery(ctx context.Context, req api.RedeliverWebhookDeliveryRequestObject) (api.RedeliverWebhookDeliveryResponseObject, error) {
	d, err := s.Webhooks.Redeliver(ctx, PrincipalFrom(ctx).FirmID, req.Id, req.DeliveryId)
	if err != nil {
		return nil, err
	}
	return api.RedeliverWebhookDelivery202JSONResponse{Body: api.WebhookDeliveryResponse{Data: apiWebhookDelivery(d), Meta: meta(ctx)}}, nil
}

// TestWebhook sends a test event now and reports the outcome.
func (s *Server) TestWebhook(ctx context.Context, req api.TestWebhookRequestObject) (api.TestWebhookResponseObject, error) {
	r, err := s.Webhooks.Test(ctx, PrincipalFrom(ctx).FirmID, req.Id)
	if err != nil {
		return nil, err
	}
	return api.TestWebhook200JSONResponse{Body: api.WebhookTestResponse{Data: api.WebhookTestResult{
		DeliveryId: r.DeliveryID, EventId: r.EventID, Delivered: r.Delivered, StatusCode: r.StatusCode,
		Error: r.Error, DurationMs: int(r.Duration.Milliseconds()), Echo: r.Echo,
	}, Meta: meta(ctx)}}, nil
}

// RotateWebhookSecret replaces the signing secret at once and shows the new one.
func (s *Server) RotateWebhookSecret(ctx context.Context, req api.RotateWebhookSecretRequestObject) (api.RotateWebhookSecretResponseObject, error) {
	sub, secret, err := s.Webhooks.RotateSecret(ctx, PrincipalFrom(ctx).FirmID, req.Id)
	if err != nil {
		return nil, err
	}
	return api.RotateWebhookSecret200JSONResponse{Body: api.WebhookSubscriptionSecretResponse{
		Data: s.apiWebhookWithSecret(sub, secret), Meta: meta(ctx),
	}}, nil
}

// EnableWebhookEcho sends the subscription's deliveries to this server's echo endpoint.
func (s *Server) EnableWebhookEcho(ctx context.Context, req api.EnableWebhookEchoRequestObject) (api.EnableWebhookEchoResponseObject, error) {
	e, err := s.Webhooks.EnableEcho(ctx, PrincipalFrom(ctx).FirmID, req.Id)
	if err != nil {
		return nil, err
	}
	return api.EnableWebhookEcho200JSONResponse{Body: api.WebhookEchoResponse{Data: api.WebhookEcho{
		SubscriptionId: e.SubscriptionID, EchoUrl: e.URL, EchoToken: e.Token, EnabledAt: e.EnabledAt,
	}, Meta: meta(ctx)}}, nil
}

// DisableWebhookEcho sends deliveries to the subscription URL again.
func (s *Server) DisableWebhookEcho(ctx context.Context, req api.DisableWebhookEchoRequestObject) (api.DisableWebhookEchoResponseObject, error) {
	sub, err := s.Webhooks.DisableEcho(ctx, PrincipalFrom(ctx).FirmID, req.Id)
	if err != nil {
		return nil, err
	}
	return api.DisableWebhookEcho200JSONResponse{Body: api.WebhookSubscriptionResponse{Data: s.apiWebhook(sub), Meta: meta(ctx)}}, nil
}

// ListWebhookEchoCaptures returns what the echo endpoint kept, newest first.
func (s *Server) ListWebhookEchoCaptures(ctx context.Context, req api.ListWebhookEchoCapturesRequestObject) (api.ListWebhookEchoCapturesResponseObject, error) {
	caps, err := s.Webhooks.EchoCaptures(ctx, PrincipalFrom(ctx).FirmID, req.Id)
	if err != nil {
		return nil, err
	}
	data := make([]api.WebhookEchoCapture, 0, len(caps))
	for _, c := range caps {
		data = append(data, api.WebhookEchoCapture{
			Id: c.ID, ReceivedAt: c.ReceivedAt, EventType: c.Event, EventId: c.EventID, DeliveryId: c.DeliveryID,
			Signature: c.Signature, SignatureValid: c.SignatureValid, Body: c.Body,
		})
	}
	return api.ListWebhookEchoCaptures200JSONResponse{Body: api.WebhookEchoCaptureListResponse{Data: data, Meta: meta(ctx)}}, nil
}

// ReceiveWebhookEcho is the echo endpoint: it needs no credentials (the token is the secret).
// The body arrives as the raw bytes of the JSON value, which is what the signature covers.
func (s *Server) ReceiveWebhookEcho(ctx context.Context, req api.ReceiveWebhookEchoRequestObject) (api.ReceiveWebhookEchoResponseObject, error) {
	var body []byte
	if req.Body != nil {
		body = *req.Body
	}
	c, err := s.Webhooks.ReceiveEcho(ctx, req.Token, webhooks.EchoRequest{
		Event: req.Params.XCaseXchangeEvent, EventID: req.Params.XCaseXchangeEventId,
		DeliveryID: req.Params.XCaseXchangeDelivery, Signature: req.Params.XCaseXchangeSignature, Body: body,
	})
	if err != nil {
		return nil, err
	}
	return api.ReceiveWebhookEcho200JSONResponse{Body: api.WebhookEchoReceiptResponse{
		Data: api.WebhookEchoReceipt{CaptureId: c.ID, SignatureValid: c.SignatureValid}, Meta: meta(ctx),
	}}, nil
}
