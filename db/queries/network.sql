-- Private referral network: one row of network_relationships per direction (from = sending firm,
-- to = receiving firm).

-- NetworkRelationshipIsActive reports whether from_firm_id may currently refer cases to
-- to_firm_id.
-- name: NetworkRelationshipIsActive :one
SELECT EXISTS (
    SELECT 1 FROM network_relationships
    WHERE from_firm_id = @from_firm_id AND to_firm_id = @to_firm_id AND status = 'active'
);

-- NetworkFirmGet returns an active firm with the display names of the case types it accepts.
-- name: NetworkFirmGet :one
SELECT f.id, f.name, f.jurisdictions, f.general_referral_instructions,
       ARRAY(
           SELECT coalesce(ct.display_name, ct.name) FROM case_types ct
           WHERE ct.id = ANY (f.case_type_ids)
           ORDER BY ct.sort_order, ct.name
       )::text[] AS case_type_labels
FROM firms f
WHERE f.id = @id AND f.is_active;

-- name: NetworkRelationshipGet :one
SELECT * FROM network_relationships
WHERE from_firm_id = @from_firm_id AND to_firm_id = @to_firm_id;

-- NetworkRelationshipCreate inserts a pending relationship unless the pair already has one, in
-- which case it returns no row.
-- name: NetworkRelationshipCreate :execrows
INSERT INTO network_relationships (
    from_firm_id, to_firm_id, status, sending_percentage,
    days_for_under_evaluation, days_for_investigating, description
) VALUES (
    @from_firm_id, @to_firm_id, 'pending', sqlc.narg(sending_percentage)::float8,
    sqlc.narg(days_for_under_evaluation)::integer, sqlc.narg(days_for_investigating)::integer,
    sqlc.narg(description)::text
)
ON CONFLICT ON CONSTRAINT network_relationships_pair_key DO NOTHING;

-- NetworkRelationshipReplaceSender overwrites every setting the sending firm owns. An inactive
-- relationship goes back to pending: replacing it asks the receiving firm again.
-- name: NetworkRelationshipReplaceSender :execrows
UPDATE network_relationships SET
    sending_percentage = sqlc.narg(sending_percentage)::float8,
    days_for_under_evaluation = sqlc.narg(days_for_under_evaluation)::integer,
    days_for_investigating = sqlc.narg(days_for_investigating)::integer,
    description = sqlc.narg(description)::text,
    requested_at = CASE WHEN status = 'inactive' THEN now() ELSE requested_at END,
    status = CASE WHEN status = 'inactive' THEN 'pending' ELSE status END,
    updated_at = now()
WHERE from_firm_id = @from_firm_id AND to_firm_id = @to_firm_id;

-- NetworkRelationshipUpdateSender is a partial update of the sending firm's settings: a false
-- set_x flag keeps the stored value.
-- name: NetworkRelationshipUpdateSender :execrows
UPDATE network_relationships SET
    sending_percentage = CASE WHEN @set_sending_percentage::bool
        THEN sqlc.narg(sending_percentage)::float8 ELSE sending_percentage END,
    days_for_under_evaluation = CASE WHEN @set_days_for_under_evaluation::bool
        THEN sqlc.narg(days_for_under_evaluation)::integer ELSE days_for_under_evaluation END,
    days_for_investigating = CASE WHEN @set_days_for_investigating::bool
        THEN sqlc.narg(days_for_investigating)::integer ELSE days_for_investigating END,
    description = CASE WHEN @set_description::bool
        THEN sqlc.narg(description)::text ELSE description END,
    updated_at = now()
WHERE from_firm_id = @from_firm_id AND to_firm_id = @to_firm_id;

-- NetworkRelationshipUpdateReceiver is a partial update of the receiving firm's side.
-- name: NetworkRelationshipUpdateReceiver :execrows
UPDATE network_relationships SET
    status = CASE WHEN @set_status::bool THEN @status::text ELSE status END,
    referral_instructions = CASE WHEN @set_referral_instructions::bool
        THEN sqlc.narg(referral_instructions)::text ELSE referral_instructions END,
    receiver_description = CASE WHEN @set_receiver_description::bool
        THEN sqlc.narg(receiver_description)::text ELSE receiver_description END,
    updated_at = now()
WHERE from_firm_id = @from_firm_id AND to_firm_id = @to_firm_id;

-- NetworkPendingList returns the pending relationships the firm takes part in, in either
-- direction, newest request first. Relationships with deactivated firms are left out.
-- name: NetworkPendingList :many
SELECT f.id AS firm_id, f.name AS firm_name, nr.requested_at,
       (CASE WHEN nr.to_firm_id = @firm_id THEN 'inbound' ELSE 'outbound' END)::text AS direction
FROM network_relationships nr
JOIN firms f ON f.id = CASE WHEN nr.to_firm_id = @firm_id THEN nr.from_firm_id ELSE nr.to_firm_id END
WHERE nr.status = 'pending'
  AND (nr.to_firm_id = @firm_id OR nr.from_firm_id = @firm_id)
  AND f.is_active
ORDER BY nr.requested_at DESC, f.id;

-- AvailableFirmList pages through the firms the caller may refer to: active firms other than
-- the caller's that it has an active outbound relationship with (found through the
-- relationships' (from_firm_id, to_firm_id) key), or that are listed in the directory (the
-- partial directory index). source is '' (both), 'network' or 'directory'; search is an ILIKE
-- pattern ('' for none); jurisdiction '' and a NULL case_type_id disable those filters. total
-- counts every match. Relationship instructions come from the caller's relationship in any
-- status, falling back to the firm's general instructions.
-- name: AvailableFirmList :many
WITH candidates AS (
    SELECT f.id FROM firms f
    WHERE f.is_active AND f.is_public AND @source::text <> 'network'
    UNION
    SELECT nr.to_firm_id FROM network_relationships nr
    WHERE nr.from_firm_id = @firm_id AND nr.status = 'active' AND @source::text <> 'directory'
)
SELECT f.id, f.name, f.description, f.jurisdictions,
       ARRAY(
           SELECT coalesce(ct.display_name, ct.name) FROM case_types ct
           WHERE ct.id = ANY (f.case_type_ids)
           ORDER BY ct.sort_order, ct.name
       )::text[] AS case_type_labels,
       coalesce(nr.referral_instructions, f.general_referral_instructions) AS referral_instructions,
       (nr.status IS NOT DISTINCT FROM 'active')::bool AS in_network,
       f.is_public AS in_directory,
       count(*) OVER () AS total
FROM candidates c
JOIN firms f ON f.id = c.id
LEFT JOIN network_relationships nr ON nr.from_firm_id = @firm_id AND nr.to_firm_id = f.id
WHERE f.is_active
  AND f.id <> @firm_id
  AND (@search::text = '' OR f.name ILIKE @search::text)
  AND (@jurisdiction::text = '' OR @jurisdiction::text = ANY (f.jurisdictions))
  AND (sqlc.narg(case_type_id)::uuid IS NULL OR sqlc.narg(case_type_id)::uuid = ANY (f.case_type_ids))
  AND (sqlc.narg(after_name)::text IS NULL OR (lower(f.name), f.id) > (sqlc.narg(after_name)::text, sqlc.narg(after_id)::uuid))
ORDER BY lower(f.name), f.id
LIMIT @row_limit OFFSET @row_offset;

-- AvailableFirmCount counts what AvailableFirmList matches; the list carries the total itself,
-- so this only serves pages past the end.
-- name: AvailableFirmCount :one
WITH candidates AS (
    SELECT f.id FROM firms f
    WHERE f.is_active AND f.is_public AND @source::text <> 'network'
    UNION
    SELECT nr.to_firm_id FROM network_relationships nr
    WHERE nr.from_firm_id = @firm_id AND nr.status = 'active' AND @source::text <> 'directory'
)
SELECT count(*)
FROM candidates c
JOIN firms f ON f.id = c.id
WHERE f.is_active
  AND f.id <> @firm_id
  AND (@search::text = '' OR f.name ILIKE @search::text)
  AND (@jurisdiction::text = '' OR @jurisdiction::text = ANY (f.jurisdictions))
  AND (sqlc.narg(case_type_id)::uuid IS NULL OR sqlc.narg(case_type_id)::uuid = ANY (f.case_type_ids));
