-- Base cases and their referrals. Visibility: a firm sees a case it owns (with every referral of
-- it), and a case with a non-draft referral addressed to it (with those referrals only). Every
-- query that finds a row from a client-supplied id applies that predicate in the same statement.

-- name: BaseCaseInsert :one
-- The columns are BaseCaseCopy's, in the same order: both are written from one row builder
-- (referrals.newCaseRow), and the conversion between their parameter types stops compiling when
-- the two lists differ.
INSERT INTO base_cases (
    id, owner_firm_id, title, description, case_type_id, jurisdiction_code, county,
    client_first_name, client_last_name, client_email, client_phone, client_date_of_birth, incident_date,
    notes, tier, source, custom_fields, salesforce_id, salesforce_object_type, is_retainer_signed,
    created_by_user_id, created_by_key_id
) VALUES (
    @id, @owner_firm_id, @title, sqlc.narg(description), @case_type_id, @jurisdiction_code, sqlc.narg(county),
    @client_first_name, @client_last_name, sqlc.narg(client_email), sqlc.narg(client_phone),
    sqlc.narg(client_date_of_birth), sqlc.narg(incident_date),
    sqlc.narg(notes), sqlc.narg(tier), sqlc.narg(source), @custom_fields, sqlc.narg(salesforce_id),
    sqlc.narg(salesforce_object_type), @is_retainer_signed,
    sqlc.narg(created_by_user_id), sqlc.narg(created_by_key_id)
)
RETURNING *;

-- BaseCaseResolve finds a case the firm may see by UUID, reference number or external record id,
-- preferring (in this order) a UUID match, a reference number match, a case the firm owns, and
-- the newest case. External record ids are the owner's own: they resolve for the owner only.
-- name: BaseCaseResolve :one
SELECT c.id, c.owner_firm_id
FROM base_cases c
WHERE (c.id = sqlc.narg(id)::uuid OR c.reference_number = @ref::text
       OR ((c.salesforce_id = @ext::text OR c.cms_id = @ext::text) AND c.owner_firm_id = @firm_id))
  AND (c.owner_firm_id = @firm_id
       OR EXISTS (SELECT 1 FROM referrals r
                  WHERE r.base_case_id = c.id AND r.referent_firm_id = @firm_id AND r.status <> 'draft'))
ORDER BY COALESCE(c.id = sqlc.narg(id)::uuid, false) DESC,
         (c.reference_number = @ref::text) DESC,
         (c.owner_firm_id = @firm_id) DESC,
         c.created_at DESC, c.id
LIMIT 1;

-- name: BaseCaseGetByIDs :many
SELECT sqlc.embed(c), f.name AS owner_firm_name
FROM base_cases c
JOIN firms f ON f.id = c.owner_firm_id
WHERE c.id = ANY(@ids::uuid[]);

-- BaseCaseUpdate is a partial update: a false set_x flag keeps the stored value.
-- name: BaseCaseUpdate :exec
UPDATE base_cases SET
    title = CASE WHEN @set_title::bool THEN @title::text ELSE title END,
    description = CASE WHEN @set_description::bool THEN sqlc.narg(description)::text ELSE description END,
    case_type_id = CASE WHEN @set_case_type::bool THEN @case_type_id::uuid ELSE case_type_id END,
    jurisdiction_code = CASE WHEN @set_jurisdiction::bool THEN @jurisdiction_code::text ELSE jurisdiction_code END,
    county = CASE WHEN @set_county::bool THEN sqlc.narg(county)::text ELSE county END,
    client_first_name = CASE WHEN @set_client_first_name::bool THEN @client_first_name::text ELSE client_first_name END,
    client_last_name = CASE WHEN @set_client_last_name::bool THEN @client_last_name::text ELSE client_last_name END,
    client_email = CASE WHEN @set_client_email::bool THEN sqlc.narg(client_email)::text ELSE client_email END,
    client_phone = CASE WHEN @set_client_phone::bool THEN sqlc.narg(client_phone)::text ELSE client_phone END,
    client_date_of_birth = CASE WHEN @set_client_date_of_birth::bool
        THEN sqlc.narg(client_date_of_birth)::date ELSE client_date_of_birth END,
    incident_date = CASE WHEN @set_incident_date::bool THEN sqlc.narg(incident_date)::date ELSE incident_date END,
    notes = CASE WHEN @set_notes::bool THEN sqlc.narg(notes)::text ELSE notes END,
    tier = CASE WHEN @set_tier::bool THEN sqlc.narg(tier)::integer ELSE tier END,
    source = CASE WHEN @set_source::bool THEN sqlc.narg(source)::text ELSE source END,
    custom_fields = CASE WHEN @set_custom_fields::bool THEN @custom_fields::jsonb ELSE custom_fields END,
    salesforce_id = CASE WHEN @set_salesforce_id::bool THEN sqlc.narg(salesforce_id)::text ELSE salesforce_id END,
    salesforce_object_type = CASE WHEN @set_salesforce_object_type::bool
        THEN sqlc.narg(salesforce_object_type)::text ELSE salesforce_object_type END,
    updated_at = now()
WHERE id = @id;

-- BaseCaseTouch records activity on the case (any change to it or to one of its referrals).
-- name: BaseCaseTouch :exec
UPDATE base_cases SET updated_at = now() WHERE id = @id;

-- BaseCaseLockSalesforceID serializes the transactions that check and set one Salesforce id of
-- one firm (lock_key is "<firm id>/<salesforce id>"), so two of them cannot both find it free.
-- name: BaseCaseLockSalesforceID :exec
SELECT pg_advisory_xact_lock(hashtextextended(@lock_key::text, 7301));

-- BaseCaseSalesforceIDInUse reports whether another active case of the firm carries the id. A
-- case is active unless its latest referral is rejected, withdrawn or closed.
-- name: BaseCaseSalesforceIDInUse :one
SELECT EXISTS (
    SELECT 1 FROM base_cases c
    WHERE c.owner_firm_id = @firm_id AND c.salesforce_id = @salesforce_id::text
      AND c.id <> @exclude_id::uuid
      AND COALESCE((SELECT r.status FROM referrals r WHERE r.base_case_id = c.id
                    ORDER BY r.sequence_number DESC LIMIT 1), 'draft')
          NOT IN ('rejected', 'withdrawn', 'closed')
);

-- BaseCaseLockSalesforceIDs takes BaseCaseLockSalesforceID's lock for each key, in the order given
-- (callers sort the keys, so two batches never wait on each other in a cycle).
-- name: BaseCaseLockSalesforceIDs :exec
SELECT pg_advisory_xact_lock(hashtextextended(k, 7301)) FROM unnest(@lock_keys::text[]) AS k;

-- BaseCaseSalesforceIDsInUse returns which of the ids an active case of the firm carries (the
-- batch form of BaseCaseSalesforceIDInUse).
-- name: BaseCaseSalesforceIDsInUse :many
SELECT DISTINCT c.salesforce_id::text AS salesforce_id
FROM base_cases c
WHERE c.owner_firm_id = @firm_id AND c.salesforce_id = ANY(@salesforce_ids::text[])
  AND COALESCE((SELECT r.status FROM referrals r WHERE r.base_case_id = c.id
                ORDER BY r.sequence_number DESC LIMIT 1), 'draft')
      NOT IN ('rejected', 'withdrawn', 'closed');

-- BaseCaseCopy writes a batch of new cases with COPY (CreateCasesTx); the ids are chosen by the
-- caller, the reference numbers and timestamps by the column defaults.
-- name: BaseCaseCopy :copyfrom
INSERT INTO base_cases (
    id, owner_firm_id, title, description, case_type_id, jurisdiction_code, county,
    client_first_name, client_last_name, client_email, client_phone, client_date_of_birth, incident_date,
    notes, tier, source, custom_fields, salesforce_id, salesforce_object_type, is_retainer_signed,
    created_by_user_id, created_by_key_id
) VALUES (
    @id, @owner_firm_id, @title, @description, @case_type_id, @jurisdiction_code, @county,
    @client_first_name, @client_last_name, @client_email, @client_phone, @client_date_of_birth, @incident_date,
    @notes, @tier, @source, @custom_fields, @salesforce_id, @salesforce_object_type, @is_retainer_signed,
    @created_by_user_id, @created_by_key_id
);

-- ReferralResolve finds a referral the firm may see by its UUID or reference number or, when
-- match_case is set, by the UUID, reference number or external id of its case (then the newest
-- visible referral of that case). External ids resolve for the case owner only. base_case_id, when given, restricts the search to one case.
-- The candidates come from one index lookup per kind of key (a single OR across the two tables
-- of the join could use no index and would scan every referral); the visibility predicate and
-- the preference order then apply to those few rows.
-- name: ReferralResolve :one
WITH candidates AS (
    SELECT r.id FROM referrals r WHERE r.id = sqlc.narg(id)::uuid
    UNION
    SELECT r.id FROM referrals r WHERE r.reference_number = @ref::text
    UNION
    SELECT r.id FROM referrals r
    WHERE @match_case::bool AND r.base_case_id IN (
        SELECT c.id FROM base_cases c WHERE c.id = sqlc.narg(id)::uuid
        UNION ALL
        SELECT c.id FROM base_cases c WHERE c.reference_number = @ref::text
        UNION ALL
        SELECT c.id FROM base_cases c WHERE c.salesforce_id = @ext::text AND c.owner_firm_id = @firm_id
        UNION ALL
        SELECT c.id FROM base_cases c WHERE c.cms_id = @ext::text AND c.owner_firm_id = @firm_id)
)
SELECT r.id
FROM candidates k
JOIN referrals r ON r.id = k.id
JOIN base_cases c ON c.id = r.base_case_id
WHERE (sqlc.narg(base_case_id)::uuid IS NULL OR r.base_case_id = sqlc.narg(base_case_id)::uuid)
  AND (c.owner_firm_id = @firm_id OR (r.referent_firm_id = @firm_id AND r.status <> 'draft'))
ORDER BY COALESCE(r.id = sqlc.narg(id)::uuid, false) DESC,
         (r.reference_number = @ref::text) DESC,
         COALESCE(c.id = sqlc.narg(id)::uuid, false) DESC,
         (c.reference_number = @ref::text) DESC,
         (c.owner_firm_id = @firm_id) DESC,
         c.created_at DESC,
         r.sequence_number DESC
LIMIT 1;

-- name: ReferralGetByIDs :many
SELECT sqlc.embed(r), fr.name AS referring_firm_name, ft.name AS referent_firm_name
FROM referrals r
JOIN firms fr ON fr.id = r.referring_firm_id
LEFT JOIN firms ft ON ft.id = r.referent_firm_id
WHERE r.id = ANY(@ids::uuid[]);

-- name: ReferralListByCases :many
SELECT sqlc.embed(r), fr.name AS referring_firm_name, ft.name AS referent_firm_name
FROM referrals r
JOIN firms fr ON fr.id = r.referring_firm_id
LEFT JOIN firms ft ON ft.id = r.referent_firm_id
WHERE r.base_case_id = ANY(@case_ids::uuid[])
ORDER BY r.base_case_id, r.sequence_number;

-- name: ReferralNextSequence :one
SELECT (COALESCE(max(sequence_number), 0) + 1)::integer AS next
FROM referrals WHERE base_case_id = @base_case_id;

-- name: ReferralActiveToFirmExists :one
SELECT EXISTS (
    SELECT 1 FROM referrals
    WHERE base_case_id = @base_case_id AND referent_firm_id = @referent_firm_id
      AND status NOT IN ('draft', 'rejected', 'withdrawn', 'closed')
);

-- name: ReferralFirmIsActive :one
SELECT EXISTS (SELECT 1 FROM firms WHERE id = @id AND is_active);

-- name: ReferralInsert :one
INSERT INTO referrals (
    base_case_id, sequence_number, reference_number, referring_firm_id, referent_firm_id, status,
    notes, is_retainer_signed, sent_at, expires_at,
    created_by_user_id, created_by_key_id, updated_by_user_id, updated_by_key_id
) VALUES (
    @base_case_id, @sequence_number, @reference_number, @referring_firm_id, sqlc.narg(referent_firm_id), @status,
    sqlc.narg(notes), @is_retainer_signed,
    CASE WHEN @status::text = 'draft' THEN NULL ELSE now() END, sqlc.narg(expires_at),
    sqlc.narg(actor_user_id), sqlc.narg(actor_key_id), sqlc.narg(actor_user_id), sqlc.narg(actor_key_id)
)
RETURNING id;

-- ReferralSend sends a draft: compare-and-set on status 'draft', so of two concurrent sends only
-- one updates a row.
-- name: ReferralSend :one
UPDATE referrals SET
    status = 'sent',
    referent_firm_id = @referent_firm_id,
    sent_at = now(),
    expires_at = sqlc.narg(expires_at),
    notes = COALESCE(sqlc.narg(notes)::text, notes),
    last_activity_at = now(),
    updated_by_user_id = sqlc.narg(actor_user_id),
    updated_by_key_id = sqlc.narg(actor_key_id),
    updated_at = now()
WHERE id = @id AND status = 'draft'
RETURNING id;

-- ReferralTransition moves a referral from from_status to to_status (compare-and-set: no row when
-- the status changed meanwhile) and applies the action's side effects.
-- name: ReferralTransition :one
UPDATE referrals SET
    status = @to_status::text,
    acknowledged_at = CASE WHEN @acknowledge::bool THEN now() ELSE acknowledged_at END,
    is_retainer_signed = is_retainer_signed OR @sign::bool,
    closing_status = COALESCE(sqlc.narg(closing_status)::text, closing_status),
    closure_reason = CASE WHEN @set_closure_reason::bool THEN sqlc.narg(closure_reason)::text ELSE closure_reason END,
    settlement_amount = COALESCE(sqlc.narg(settlement_amount)::double precision, settlement_amount),
    attorney_fees = COALESCE(sqlc.narg(attorney_fees)::double precision, attorney_fees),
    client_fee_agreement_percentage = COALESCE(sqlc.narg(client_fee_agreement_percentage)::double precision,
                                               client_fee_agreement_percentage),
    sending_firm_percentage = COALESCE(sqlc.narg(sending_firm_percentage)::double precision, sending_firm_percentage),
    expires_at = CASE WHEN @to_status::text = 'sent' THEN expires_at ELSE NULL END,
    last_activity_at = now(),
    updated_by_user_id = sqlc.narg(actor_user_id),
    updated_by_key_id = sqlc.narg(actor_key_id),
    updated_at = now()
WHERE id = @id AND status = @from_status::text
RETURNING id;

-- ReferralUpdateFields is a partial update of the working fields, compare-and-set on the status
-- the caller checked.
-- name: ReferralUpdateFields :one
UPDATE referrals SET
    notes = CASE WHEN @set_notes::bool THEN sqlc.narg(notes)::text ELSE notes END,
    phase = CASE WHEN @set_phase::bool THEN sqlc.narg(phase)::text ELSE phase END,
    lead_attorney_name = CASE WHEN @set_lead_attorney_name::bool
        THEN sqlc.narg(lead_attorney_name)::text ELSE lead_attorney_name END,
    rated_tier = CASE WHEN @set_rated_tier::bool THEN sqlc.narg(rated_tier)::integer ELSE rated_tier END,
    rating_notes = CASE WHEN @set_rating_notes::bool THEN sqlc.narg(rating_notes)::text ELSE rating_notes END,
    settlement_amount = CASE WHEN @set_settlement_amount::bool
        THEN sqlc.narg(settlement_amount)::double precision ELSE settlement_amount END,
    attorney_fees = CASE WHEN @set_attorney_fees::bool
        THEN sqlc.narg(attorney_fees)::double precision ELSE attorney_fees END,
    projected_settlement_amount = CASE WHEN @set_projected_settlement_amount::bool
        THEN sqlc.narg(projected_settlement_amount)::double precision ELSE projected_settlement_amount END,
    client_fee_agreement_percentage = CASE WHEN @set_client_fee_agreement_percentage::bool
        THEN sqlc.narg(client_fee_agreement_percentage)::double precision ELSE client_fee_agreement_percentage END,
    sending_firm_percentage = CASE WHEN @set_sending_firm_percentage::bool
        THEN sqlc.narg(sending_firm_percentage)::double precision ELSE sending_firm_percentage END,
    statute_of_limitations_expiration = CASE WHEN @set_statute_of_limitations_expiration::bool
        THEN sqlc.narg(statute_of_limitations_expiration)::date ELSE statute_of_limitations_expiration END,
    estimated_date_of_resolution = CASE WHEN @set_estimated_date_of_resolution::bool
        THEN sqlc.narg(estimated_date_of_resolution)::date ELSE estimated_date_of_resolution END,
    estimated_distribution_date = CASE WHEN @set_estimated_distribution_date::bool
        THEN sqlc.narg(estimated_distribution_date)::date ELSE estimated_distribution_date END,
    is_retainer_signed = CASE WHEN @set_is_retainer_signed::bool
        THEN @is_retainer_signed::bool ELSE is_retainer_signed END,
    updated_by_user_id = sqlc.narg(actor_user_id),
    updated_by_key_id = sqlc.narg(actor_key_id),
    updated_at = now()
WHERE id = @id AND status = @expected_status::text
RETURNING id;

-- name: ReferralDeleteDraft :execrows
DELETE FROM referrals WHERE id = @id AND status = 'draft';

-- ReferralTouchActivity records a message on the referral. The row lock it takes waits for a
-- concurrent transition, so the status it returns is the one the message is written under.
-- name: ReferralTouchActivity :one
UPDATE referrals SET last_activity_at = now()
WHERE id = @id
RETURNING status, base_case_id, referring_firm_id, referent_firm_id;

-- name: ReferralActorKey :one
SELECT name, created_by FROM api_keys WHERE id = @id;

-- name: ReferralActorUser :one
SELECT btrim(first_name || ' ' || last_name)::text AS name FROM users WHERE id = @id;

-- name: ReferralExpireDue :many
SELECT id FROM referrals
WHERE status = 'sent' AND expires_at IS NOT NULL AND expires_at <= now()
ORDER BY expires_at
LIMIT @row_limit;
