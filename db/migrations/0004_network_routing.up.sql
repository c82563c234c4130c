-- 0004_network_routing: the private referral network between firms and each firm's routing rules.

-- One row per direction. from_firm_id is the firm that sends referrals, to_firm_id the firm that
-- receives them. The sending firm creates the row (status 'pending') and owns the commercial
-- terms; the receiving firm accepts ('active') or declines/pauses ('inactive') and owns its
-- referral instructions. Each side keeps its own private note.
CREATE TABLE network_relationships (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    from_firm_id                uuid NOT NULL REFERENCES firms (id),
    to_firm_id                  uuid NOT NULL REFERENCES firms (id),
    status                      text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'inactive')),
    sending_percentage          numeric(5, 2) CHECK (sending_percentage BETWEEN 0 AND 100),
    days_for_under_evaluation   integer CHECK (days_for_under_evaluation BETWEEN 1 AND 365),
    days_for_investigating      integer CHECK (days_for_investigating BETWEEN 1 AND 365),
    -- The sending firm's private note.
    description                 text CHECK (length(description) <= 2000),
    -- The receiving firm's private note.
    receiver_description        text CHECK (length(receiver_description) <= 2000),
    -- Written by the receiving firm, shown to the sending firm.
    referral_instructions       text CHECK (length(referral_instructions) <= 5000),
    -- When the sending firm last asked: creation, or a replace that turned inactive into pending.
    requested_at                timestamptz NOT NULL DEFAULT now(),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT network_relationships_pair_key UNIQUE (from_firm_id, to_firm_id),
    CONSTRAINT network_relationships_not_self CHECK (from_firm_id <> to_firm_id)
);

-- The unique constraint serves lookups by sender; this one serves the receiver's inbound views.
CREATE INDEX network_relationships_to_idx ON network_relationships (to_firm_id, status);

-- Routing rules of a firm: which receiving firms a case should go to. One model serves both
-- published request forms: the rule's tests live in conditions (a JSON array of
-- {field, operator, value[, ids]} objects; case-type values keep what the client wrote and carry
-- the resolved case type ids in "ids"), and its recipients are rows of routing_rule_assignments.
CREATE TABLE routing_rules (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    firm_id     uuid NOT NULL REFERENCES firms (id),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    description text CHECK (length(description) <= 2000),
    priority    integer NOT NULL DEFAULT 0 CHECK (priority >= 0),
    is_active   boolean NOT NULL DEFAULT true,
    conditions  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(conditions) = 'array'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Evaluation order within a firm.
CREATE INDEX routing_rules_firm_order_idx ON routing_rules (firm_id, priority, created_at, id);

CREATE TABLE routing_rule_assignments (
    rule_id             uuid NOT NULL REFERENCES routing_rules (id) ON DELETE CASCADE,
    -- Order in which the client listed the recipients (ties of weight keep it).
    position            integer NOT NULL CHECK (position >= 0),
    recipient_type      text NOT NULL DEFAULT 'casexchange_firm' CHECK (recipient_type IN ('casexchange_firm')),
    firm_id             uuid NOT NULL REFERENCES firms (id),
    distribution_weight integer NOT NULL DEFAULT 1 CHECK (distribution_weight BETWEEN 1 AND 1000),
    PRIMARY KEY (rule_id, position),
    CONSTRAINT routing_rule_assignments_rule_firm_key UNIQUE (rule_id, firm_id)
);

CREATE INDEX routing_rule_assignments_firm_idx ON routing_rule_assignments (firm_id);
