-- name: WebhookSubscriptionLockFirm :exec
-- Serializes subscription changes of one firm, so the active-subscription limit holds.
SELECT pg_advisory_xact_lock(hashtextextended('webhook_subscriptions:' || (sqlc.arg(firm_id)::uuid)::text, 0));

-- name: WebhookSubscriptionCountActive :one
SELECT count(*) FROM webhook_subscriptions WHERE firm_id = @firm_id AND is_active;

-- name: WebhookSubscriptionCreate :one
INSERT INTO webhook_subscriptions (firm_id, url, description, events, secret, created_at, updated_at)
VALUES (@firm_id, @url, @description, @events, @secret, @now, @now)
RETURNING *;

-- name: WebhookSubscriptionGet :one
SELECT * FROM webhook_subscriptions WHERE id = @id AND firm_id = @firm_id;

-- name: WebhookSubscriptionGetForUpdate :one
SELECT * FROM webhook_subscriptions WHERE id = @id AND firm_id = @firm_id FOR NO KEY UPDATE;

-- name: WebhookSubscriptionGetByEchoToken :one
SELECT * FROM webhook_subscriptions WHERE echo_token = @echo_token;

-- name: WebhookSubscriptionList :many
SELECT * FROM webhook_subscriptions WHERE firm_id = @firm_id
ORDER BY created_at, id
LIMIT @lim OFFSET @off;

-- name: WebhookSubscriptionCount :one
SELECT count(*) FROM webhook_subscriptions WHERE firm_id = @firm_id;

-- name: WebhookSubscriptionListRecipients :many
-- Active subscriptions of the given firms that take events of the given type.
SELECT id, firm_id FROM webhook_subscriptions
WHERE firm_id = ANY(@firm_ids::uuid[]) AND is_active
  AND (events IS NULL OR @event_type::text = ANY(events))
ORDER BY firm_id, created_at, id;

-- name: WebhookSubscriptionUpdate :one
UPDATE webhook_subscriptions
SET url                = @url,
    description        = @description,
    events             = @events,
    is_active          = @is_active,
    deactivated_reason = @deactivated_reason,
    consecutive_exhausted = CASE WHEN @is_active::boolean AND NOT is_active THEN 0 ELSE consecutive_exhausted END,
    echo_token         = @echo_token,
    echo_enabled_at    = @echo_enabled_at,
    updated_at         = @now
WHERE id = @id
RETURNING *;

-- name: WebhookSubscriptionSetSecret :one
UPDATE webhook_subscriptions SET secret = @secret, secret_rotated_at = @now::timestamptz, updated_at = @now::timestamptz
WHERE id = @id AND firm_id = @firm_id
RETURNING *;

-- name: WebhookSubscriptionDelete :execrows
DELETE FROM webhook_subscriptions WHERE id = @id AND firm_id = @firm_id;

-- name: WebhookSubscriptionResetBreaker :exec
UPDATE webhook_subscriptions SET consecutive_exhausted = 0 WHERE id = @id AND consecutive_exhausted <> 0;

-- name: WebhookSubscriptionCountExhausted :one
-- Counts one more exhausted delivery; returns the new count and whether the subscription is active.
UPDATE webhook_subscriptions SET consecutive_exhausted = consecutive_exhausted + 1
WHERE id = @id
RETURNING consecutive_exhausted, is_active;

-- name: WebhookSubscriptionTrip :exec
-- The circuit breaker: switches the subscription off (and echo mode with it).
UPDATE webhook_subscriptions
SET is_active = false, deactivated_reason = 'circuit_breaker', echo_token = NULL, echo_enabled_at = NULL,
    updated_at = @now
WHERE id = @id AND is_active;

-- name: WebhookDeliveryCreate :exec
INSERT INTO webhook_deliveries (id, subscription_id, firm_id, event_id, event_type, payload, redelivery_of, is_test,
                                created_at, updated_at)
VALUES (@id, @subscription_id, @firm_id, @event_id, @event_type, @payload, @redelivery_of, @is_test, @now, @now);

-- WebhookDeliveryCreateMany records the deliveries of a batch of events in one statement (the
-- arrays are parallel: one element per delivery).
-- name: WebhookDeliveryCreateMany :exec
INSERT INTO webhook_deliveries (id, subscription_id, firm_id, event_id, event_type, payload, created_at, updated_at)
SELECT unnest(@ids::uuid[]), unnest(@subscription_ids::uuid[]), unnest(@firm_ids::uuid[]),
       unnest(@event_ids::uuid[]), unnest(@event_types::text[]), unnest(@payloads::text[]), @now, @now;

-- name: WebhookDeliveryGet :one
SELECT * FROM webhook_deliveries WHERE id = @id AND subscription_id = @subscription_id;

-- name: WebhookDeliveryList :many
SELECT id, subscription_id, event_id, event_type, status, attempts, last_status_code, last_error, delivered_at,
       next_retry_at, redelivery_of, is_test, created_at, updated_at
FROM webhook_deliveries
WHERE subscription_id = @subscription_id
ORDER BY created_at DESC, seq DESC
LIMIT @lim OFFSET @off;

-- name: WebhookDeliveryCount :one
SELECT count(*) FROM webhook_deliveries WHERE subscription_id = @subscription_id;

-- name: WebhookDeliveryClaim :one
-- Locks a delivery and its subscription for an attempt.
SELECT d.id, d.subscription_id, d.firm_id, d.event_id, d.event_type, d.payload, d.status, d.attempts, d.is_test,
       s.url, s.secret, s.is_active, s.echo_token
FROM webhook_deliveries d
JOIN webhook_subscriptions s ON s.id = d.subscription_id
WHERE d.id = @id
FOR UPDATE OF d;

-- name: WebhookDeliveryStart :exec
UPDATE webhook_deliveries
SET status = 'IN_PROGRESS', attempts = @attempt, next_retry_at = NULL, updated_at = @now
WHERE id = @id;

-- name: WebhookDeliveryFinish :execrows
-- Records the outcome of attempt @attempt, unless the delivery moved on meanwhile (cancelled).
UPDATE webhook_deliveries
SET status = @status, last_status_code = @last_status_code, last_error = @last_error,
    delivered_at = @delivered_at, next_retry_at = @next_retry_at, updated_at = @now
WHERE id = @id AND attempts = @attempt AND status = 'IN_PROGRESS';

-- name: WebhookDeliveryCancelQueued :execrows
-- Ends the queued deliveries of a subscription that was switched off.
UPDATE webhook_deliveries
SET status = 'EXHAUSTED', last_error = @last_error, next_retry_at = NULL, updated_at = @now
WHERE subscription_id = @subscription_id AND status IN ('PENDING', 'IN_PROGRESS', 'FAILED');

-- name: WebhookDeliveryPurge :execrows
DELETE FROM webhook_deliveries WHERE created_at < @before;

-- name: WebhookDeliveryDropPayloads :execrows
UPDATE webhook_deliveries SET payload = NULL
WHERE created_at < @before AND payload IS NOT NULL AND status IN ('DELIVERED', 'EXHAUSTED', 'FAILED')
  AND next_retry_at IS NULL;

-- name: WebhookEchoCaptureCreate :one
INSERT INTO webhook_echo_captures (subscription_id, event_type, event_id, delivery_id, signature, signature_valid,
                                   body, received_at)
VALUES (@subscription_id, @event_type, @event_id, @delivery_id, @signature, @signature_valid, @body, @now)
RETURNING *;

-- name: WebhookEchoCaptureTrim :exec
-- Keeps the newest @keep captures of a subscription that are younger than @since.
DELETE FROM webhook_echo_captures c
WHERE c.subscription_id = @subscription_id
  AND (c.received_at < @since OR c.id NOT IN (
        SELECT k.id FROM webhook_echo_captures k WHERE k.subscription_id = @subscription_id
        ORDER BY k.received_at DESC, k.seq DESC LIMIT @keep));

-- name: WebhookEchoCaptureList :many
SELECT * FROM webhook_echo_captures
WHERE subscription_id = @subscription_id AND received_at >= @since
ORDER BY received_at DESC, seq DESC
LIMIT @keep;

-- name: WebhookEchoCaptureDeleteAll :exec
DELETE FROM webhook_echo_captures WHERE subscription_id = @subscription_id;

-- name: WebhookEchoCapturePurge :execrows
DELETE FROM webhook_echo_captures WHERE received_at < @before;
