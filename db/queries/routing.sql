-- Routing rules of a firm and their recipients.

-- RoutingRuleListByFirm returns the firm's rules in evaluation order: lowest priority first,
-- then oldest first.
-- name: RoutingRuleListByFirm :many
SELECT * FROM routing_rules
WHERE firm_id = @firm_id AND (NOT @active_only::bool OR is_active)
ORDER BY priority, created_at, id;

-- name: RoutingRuleGet :one
SELECT * FROM routing_rules
WHERE id = @id AND firm_id = @firm_id;

-- name: RoutingRuleGetForUpdate :one
SELECT * FROM routing_rules
WHERE id = @id AND firm_id = @firm_id
FOR UPDATE;

-- RoutingRuleNextPriority is the priority of a rule created without one: after the firm's
-- existing rules.
-- name: RoutingRuleNextPriority :one
SELECT (coalesce(max(priority), 0) + 1)::integer FROM routing_rules
WHERE firm_id = @firm_id;

-- name: RoutingRuleCreate :one
INSERT INTO routing_rules (firm_id, name, description, priority, is_active, conditions)
VALUES (@firm_id, @name, sqlc.narg(description), @priority, @is_active, @conditions)
RETURNING *;

-- name: RoutingRuleUpdate :one
UPDATE routing_rules SET
    name = @name,
    description = sqlc.narg(description),
    priority = @priority,
    is_active = @is_active,
    conditions = @conditions,
    updated_at = now()
WHERE id = @id AND firm_id = @firm_id
RETURNING *;

-- name: RoutingRuleDelete :execrows
DELETE FROM routing_rules
WHERE id = @id AND firm_id = @firm_id;

-- name: RoutingAssignmentDeleteByRule :exec
DELETE FROM routing_rule_assignments
WHERE rule_id = @rule_id;

-- name: RoutingAssignmentInsert :exec
INSERT INTO routing_rule_assignments (rule_id, position, recipient_type, firm_id, distribution_weight)
VALUES (@rule_id, @position, @recipient_type, @firm_id, @distribution_weight);

-- RoutingAssignmentListByRules returns the recipients of the rules with what evaluation needs:
-- whether the firm is still active, whether the rule's firm still has an active outbound
-- relationship with it, and the instructions to show (the relationship's, else the firm's).
-- name: RoutingAssignmentListByRules :many
SELECT a.rule_id, a.position, a.recipient_type, a.firm_id, a.distribution_weight,
       f.name AS firm_name,
       f.is_active AS firm_active,
       (nr.status IS NOT DISTINCT FROM 'active')::bool AS in_network,
       coalesce(nr.referral_instructions, f.general_referral_instructions) AS referral_instructions
FROM routing_rule_assignments a
JOIN routing_rules r ON r.id = a.rule_id
JOIN firms f ON f.id = a.firm_id
LEFT JOIN network_relationships nr ON nr.from_firm_id = r.firm_id AND nr.to_firm_id = a.firm_id
WHERE a.rule_id = ANY (@rule_ids::uuid[])
ORDER BY a.rule_id, a.position;

-- RoutingRecipientList describes candidate recipients of a rule of firm_id: unknown ids are
-- simply absent.
-- name: RoutingRecipientList :many
SELECT f.id, f.is_active, (nr.status IS NOT DISTINCT FROM 'active')::bool AS in_network
FROM firms f
LEFT JOIN network_relationships nr ON nr.from_firm_id = @firm_id AND nr.to_firm_id = f.id
WHERE f.id = ANY (@ids::uuid[]);

-- name: RoutingTypeCategoryList :many
SELECT DISTINCT type_category FROM case_types
ORDER BY type_category;

-- RoutingReReferralCaseGet finds a case owned by firm_id by its id or the id of one of its
-- referrals (id, when the key is a UUID), or by the key as the case's or a referral's
-- reference number, CMS id or Salesforce id. It returns what routing needs: the case's
-- description, how many referrals it has had (drafts, never sent, do not count) and the firms
-- that received them.
-- name: RoutingReReferralCaseGet :one
SELECT bc.id, bc.case_type_id, bc.jurisdiction_code, bc.county, bc.tier, ct.type_category,
       (SELECT count(*) FROM referrals r
        WHERE r.base_case_id = bc.id AND r.status <> 'draft')::integer AS referral_count,
       ARRAY(
           SELECT DISTINCT r.referent_firm_id FROM referrals r
           WHERE r.base_case_id = bc.id AND r.status <> 'draft' AND r.referent_firm_id IS NOT NULL
       )::uuid[] AS referred_firm_ids
FROM base_cases bc
JOIN case_types ct ON ct.id = bc.case_type_id
WHERE bc.owner_firm_id = @firm_id
  AND (bc.id = sqlc.narg(id)::uuid
       OR bc.id = (SELECT r.base_case_id FROM referrals r WHERE r.id = sqlc.narg(id)::uuid)
       OR bc.reference_number = @key::text
       OR bc.id = (SELECT r.base_case_id FROM referrals r WHERE r.reference_number = @key::text)
       OR bc.cms_id = @key::text
       OR bc.salesforce_id = @key::text)
ORDER BY (bc.id = sqlc.narg(id)::uuid) IS TRUE DESC, bc.created_at DESC, bc.id
LIMIT 1;
