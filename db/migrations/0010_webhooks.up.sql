-- Firm webhooks: subscriptions, the delivery outbox and echo-mode captures.

-- A firm's endpoint. The signing secret is kept in clear because every attempt re-signs the
-- payload with it; it is shown to the firm only at creation and rotation.
CREATE TABLE webhook_subscriptions (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    firm_id               uuid        NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    url                   text        NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description           text        CHECK (length(description) <= 255),
    -- Event types delivered; NULL means every event type.
    events                text[],
    secret                text        NOT NULL CHECK (secret ~ '^whsec_[0-9a-f]{64}$'),
    is_active             boolean     NOT NULL DEFAULT true,
    -- Why the subscription was switched off: 'manual' (PATCH) or 'circuit_breaker'.
    deactivated_reason    text        CHECK (deactivated_reason IN ('manual', 'circuit_breaker')),
    -- Deliveries that ran out of attempts since the last successful one (the circuit breaker).
    consecutive_exhausted integer     NOT NULL DEFAULT 0,
    -- Echo mode: while echo_token is set, deliveries go to the server's own echo endpoint.
    echo_token            text        UNIQUE,
    echo_enabled_at       timestamptz,
    secret_rotated_at     timestamptz,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
-- Recipient lookup at enqueue time (active subscriptions of a firm) and the per-firm listing.
CREATE INDEX webhook_subscriptions_firm_idx ON webhook_subscriptions (firm_id, created_at, id);

-- The outbox: one row per subscription and event, written in the transaction of the change and
-- worked by the job queue after it commits. payload holds the exact bytes that are signed and
-- sent; it is dropped before the record itself (see the maintenance job).
CREATE TABLE webhook_deliveries (
    id               uuid        PRIMARY KEY,
    -- Insertion order, the tie-break of the newest-first listing.
    seq              bigint      GENERATED ALWAYS AS IDENTITY,
    subscription_id  uuid        NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    firm_id          uuid        NOT NULL REFERENCES firms (id) ON DELETE CASCADE,
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    payload          text,
    status           text        NOT NULL DEFAULT 'PENDING'
                                 CHECK (status IN ('PENDING', 'IN_PROGRESS', 'FAILED', 'DELIVERED', 'EXHAUSTED')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
    last_status_code integer,
    last_error       text,
    delivered_at     timestamptz,
    next_retry_at    timestamptz,
    -- Set on a copy made by redelivery: the delivery it repeats.
    redelivery_of    uuid,
    -- A test delivery (webhook.test) is attempted once and never counts for the circuit breaker.
    is_test          boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
-- Newest-first listing per subscription.
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, created_at DESC, seq DESC);
-- Cancelling the queued deliveries of a subscription.
CREATE INDEX webhook_deliveries_queued_idx ON webhook_deliveries (subscription_id)
    WHERE status IN ('PENDING', 'IN_PROGRESS', 'FAILED');
-- Retention (records and payload copies).
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at);

-- What the echo endpoint received, kept for an hour, at most 50 per subscription.
CREATE TABLE webhook_echo_captures (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint      GENERATED ALWAYS AS IDENTITY,
    subscription_id uuid        NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_type      text,
    event_id        text,
    delivery_id     text,
    signature       text,
    signature_valid boolean     NOT NULL,
    body            text        NOT NULL,
    received_at     timestamptz NOT NULL
);
CREATE INDEX webhook_echo_captures_subscription_idx ON webhook_echo_captures (subscription_id, received_at DESC, seq DESC);
CREATE INDEX webhook_echo_captures_received_idx ON webhook_echo_captures (received_at);
