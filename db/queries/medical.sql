-- Medical provider referrals. Each belongs to the firm that created it; no other firm sees it.

-- MedicalCaseAccess tells whether the firm may attach medical referrals to the case: it owns it,
-- or holds an acknowledged referral of it in a working status (the rule of documents).
-- name: MedicalCaseAccess :one
SELECT EXISTS (
    SELECT 1 FROM base_cases c
    WHERE c.id = @case_id
      AND (c.owner_firm_id = @firm_id
           OR EXISTS (SELECT 1 FROM referrals r
                      WHERE r.base_case_id = c.id AND r.referent_firm_id = @firm_id
                        AND r.acknowledged_at IS NOT NULL
                        AND r.status = ANY(@working_statuses::text[])))
)::bool AS allowed;

-- MedicalProviderName is the name of an active firm named as provider (no row: unknown firm).
-- name: MedicalProviderName :one
SELECT name FROM firms WHERE id = @id AND is_active;

-- name: MedicalReferralInsert :one
INSERT INTO medical_referrals (
    firm_id, base_case_id, provider_firm_id, provider_name, referral_type, status, appointment_date,
    client_first_name, client_last_name, client_email, client_phone, date_of_injury,
    injury_description, notes, created_by_user_id, created_by_key_id
) VALUES (
    @firm_id, @base_case_id, sqlc.narg(provider_firm_id), @provider_name, @referral_type, @status,
    sqlc.narg(appointment_date), sqlc.narg(client_first_name), sqlc.narg(client_last_name),
    sqlc.narg(client_email), sqlc.narg(client_phone), sqlc.narg(date_of_injury),
    sqlc.narg(injury_description), sqlc.narg(notes), sqlc.narg(created_by_user_id), sqlc.narg(created_by_key_id)
)
RETURNING *;

-- name: MedicalReferralGet :one
SELECT * FROM medical_referrals WHERE id = @id AND firm_id = @firm_id;

-- name: MedicalReferralList :many
SELECT * FROM medical_referrals
WHERE firm_id = @firm_id
  AND (sqlc.narg(case_id)::uuid IS NULL OR base_case_id = sqlc.narg(case_id)::uuid)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
ORDER BY created_at DESC, id DESC
LIMIT @lim OFFSET @off;

-- name: MedicalReferralCount :one
SELECT count(*) FROM medical_referrals
WHERE firm_id = @firm_id
  AND (sqlc.narg(case_id)::uuid IS NULL OR base_case_id = sqlc.narg(case_id)::uuid)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text);

-- MedicalReferralUpdate is a partial update: a false set_x flag keeps the stored value, a true
-- one writes x (NULL included, which is how nullable fields are cleared).
-- name: MedicalReferralUpdate :one
UPDATE medical_referrals SET
    provider_firm_id = CASE WHEN @set_provider_firm_id::bool THEN sqlc.narg(provider_firm_id)::uuid ELSE provider_firm_id END,
    provider_name = CASE WHEN @set_provider_name::bool THEN @provider_name::text ELSE provider_name END,
    referral_type = CASE WHEN @set_referral_type::bool THEN @referral_type::text ELSE referral_type END,
    status = CASE WHEN @set_status::bool THEN @status::text ELSE status END,
    appointment_date = CASE WHEN @set_appointment_date::bool THEN sqlc.narg(appointment_date)::date ELSE appointment_date END,
    client_first_name = CASE WHEN @set_client_first_name::bool THEN sqlc.narg(client_first_name)::text ELSE client_first_name END,
    client_last_name = CASE WHEN @set_client_last_name::bool THEN sqlc.narg(client_last_name)::text ELSE client_last_name END,
    client_email = CASE WHEN @set_client_email::bool THEN sqlc.narg(client_email)::text ELSE client_email END,
    client_phone = CASE WHEN @set_client_phone::bool THEN sqlc.narg(client_phone)::text ELSE client_phone END,
    date_of_injury = CASE WHEN @set_date_of_injury::bool THEN sqlc.narg(date_of_injury)::date ELSE date_of_injury END,
    injury_description = CASE WHEN @set_injury_description::bool
        THEN sqlc.narg(injury_description)::text ELSE injury_description END,
    notes = CASE WHEN @set_notes::bool THEN sqlc.narg(notes)::text ELSE notes END,
    updated_at = now()
WHERE id = @id AND firm_id = @firm_id
RETURNING *;
