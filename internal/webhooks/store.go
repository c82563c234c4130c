package webhooks

import (
	"github.com/casexchange/server/gen/db"
)

// This file converts sqlc rows into the package's types.

func subscriptionFromRow(r db.WebhookSubscription) Subscription {
	var events []EventType
	if r.Events != nil {
		events = make([]EventType, 0, len(r.Events))
		for _, e := range r.Events {
			events = append(events, EventType(e))
		}
	}
	return Subscription{
		ID: r.ID, FirmID: r.FirmID, URL: r.Url, Description: r.Description, Events: events, IsActive: r.IsActive,
		DeactivatedReason: r.DeactivatedReason, ConsecutiveFailures: int(r.ConsecutiveExhausted),
		EchoToken: r.EchoToken, EchoEnabledAt: r.EchoEnabledAt, SecretRotatedAt: r.SecretRotatedAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

func deliveryFromRow(r db.WebhookDelivery) Delivery {
	return Delivery{
		ID: r.ID, SubscriptionID: r.SubscriptionID, EventID: r.EventID, EventType: r.EventType, Status: r.Status,
		Attempts: int(r.Attempts), LastStatusCode: intPtr(r.LastStatusCode), LastError: r.LastError,
		DeliveredAt: r.DeliveredAt, NextRetryAt: r.NextRetryAt, RedeliveryOf: r.RedeliveryOf, CreatedAt: r.CreatedAt,
	}
}

func deliveryFromListRow(r db.WebhookDeliveryListRow) Delivery {
	return Delivery{
		ID: r.ID, SubscriptionID: r.SubscriptionID, EventID: r.EventID, EventType: r.EventType, Status: r.Status,
		Attempts: int(r.Attempts), LastStatusCode: intPtr(r.LastStatusCode), LastError: r.LastError,
		DeliveredAt: r.DeliveredAt, NextRetryAt: r.NextRetryAt, RedeliveryOf: r.RedeliveryOf, CreatedAt: r.CreatedAt,
	}
}

func captureFromRow(r db.WebhookEchoCapture) EchoCapture {
	return EchoCapture{
		ID: r.ID, ReceivedAt: r.ReceivedAt, Event: r.EventType, EventID: r.EventID, DeliveryID: r.DeliveryID,
		Signature: r.Signature, SignatureValid: r.SignatureValid, Body: r.Body,
	}
}
