-- name: FirmGetByID :one
SELECT * FROM firms WHERE id = @id;

-- name: FirmGetBySlug :one
SELECT * FROM firms WHERE slug = @slug::text;

-- name: FirmCreate :one
INSERT INTO firms (
    name, slug, description, website, phone, email,
    address, city, state, zip, country, logo_url,
    jurisdictions, case_type_ids, specialties, general_referral_instructions,
    is_public, is_internal, is_active, can_send_referrals, reference_prefix
) VALUES (
    @name, sqlc.narg(slug), sqlc.narg(description), sqlc.narg(website), sqlc.narg(phone), sqlc.narg(email),
    sqlc.narg(address), sqlc.narg(city), sqlc.narg(state), sqlc.narg(zip), sqlc.narg(country), sqlc.narg(logo_url),
    @jurisdictions::text[], @case_type_ids::uuid[], @specialties::text[], sqlc.narg(general_referral_instructions),
    @is_public, @is_internal, @is_active, @can_send_referrals, sqlc.narg(reference_prefix)
)
RETURNING *;

-- FirmUpdate is a partial update: a false set_x flag keeps the stored value, a true one writes
-- x (NULL included, which is how nullable fields are cleared).
-- name: FirmUpdate :one
UPDATE firms SET
    name = CASE WHEN @set_name::bool THEN @name::text ELSE name END,
    description = CASE WHEN @set_description::bool THEN sqlc.narg(description)::text ELSE description END,
    website = CASE WHEN @set_website::bool THEN sqlc.narg(website)::text ELSE website END,
    phone = CASE WHEN @set_phone::bool THEN sqlc.narg(phone)::text ELSE phone END,
    email = CASE WHEN @set_email::bool THEN sqlc.narg(email)::text ELSE email END,
    address = CASE WHEN @set_address::bool THEN sqlc.narg(address)::text ELSE address END,
    city = CASE WHEN @set_city::bool THEN sqlc.narg(city)::text ELSE city END,
    state = CASE WHEN @set_state::bool THEN sqlc.narg(state)::text ELSE state END,
    zip = CASE WHEN @set_zip::bool THEN sqlc.narg(zip)::text ELSE zip END,
    country = CASE WHEN @set_country::bool THEN sqlc.narg(country)::text ELSE country END,
    logo_url = CASE WHEN @set_logo_url::bool THEN sqlc.narg(logo_url)::text ELSE logo_url END,
    jurisdictions = CASE WHEN @set_jurisdictions::bool THEN @jurisdictions::text[] ELSE jurisdictions END,
    case_type_ids = CASE WHEN @set_case_type_ids::bool THEN @case_type_ids::uuid[] ELSE case_type_ids END,
    specialties = CASE WHEN @set_specialties::bool THEN @specialties::text[] ELSE specialties END,
    general_referral_instructions = CASE WHEN @set_general_referral_instructions::bool
        THEN sqlc.narg(general_referral_instructions)::text ELSE general_referral_instructions END,
    is_public = CASE WHEN @set_is_public::bool THEN @is_public::bool ELSE is_public END,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- The directory lists active firms that chose to be listed. search is a LIKE pattern built by
-- the caller (metacharacters escaped); the empty string matches every firm. jurisdiction (an
-- upper-case code, '' for any) must be among the firm's. Each of case_types (an id, machine name
-- or display name, resolved as CaseTypeGetByNameOrID does) must name an active case type the firm
-- accepts; one that names none matches no firm. FirmDirectoryPage builds a whole page, filters,
-- order, limit and the total of matches, in one statement, so page and total agree.
-- name: FirmDirectoryPage :many
WITH wanted AS (
    SELECT r.id, r.is_active
    FROM unnest(@case_types::text[]) AS k(key)
    LEFT JOIN LATERAL (
        SELECT ct.id, ct.is_active FROM case_types ct
        WHERE ct.id::text = lower(k.key) OR ct.name = lower(k.key) OR lower(ct.display_name) = lower(k.key)
        ORDER BY (ct.id::text = lower(k.key)) DESC, (ct.name = lower(k.key)) DESC
        LIMIT 1
    ) r ON true
)
SELECT sqlc.embed(f), count(*) OVER () AS total
FROM firms f
WHERE f.is_active AND f.is_public
  AND (@search::text = '' OR f.name ILIKE @search::text)
  AND (@jurisdiction::text = '' OR @jurisdiction::text = ANY (f.jurisdictions))
  AND NOT EXISTS (SELECT 1 FROM wanted w
                  WHERE w.id IS NULL OR NOT w.is_active OR NOT (w.id = ANY (f.case_type_ids)))
ORDER BY lower(f.name), f.id
LIMIT @row_limit OFFSET @row_offset;

-- FirmDirectoryCount counts what FirmDirectoryPage matches, for a page past the end (which has
-- no row to carry the total).
-- name: FirmDirectoryCount :one
WITH wanted AS (
    SELECT r.id, r.is_active
    FROM unnest(@case_types::text[]) AS k(key)
    LEFT JOIN LATERAL (
        SELECT ct.id, ct.is_active FROM case_types ct
        WHERE ct.id::text = lower(k.key) OR ct.name = lower(k.key) OR lower(ct.display_name) = lower(k.key)
        ORDER BY (ct.id::text = lower(k.key)) DESC, (ct.name = lower(k.key)) DESC
        LIMIT 1
    ) r ON true
)
SELECT count(*) FROM firms f
WHERE f.is_active AND f.is_public
  AND (@search::text = '' OR f.name ILIKE @search::text)
  AND (@jurisdiction::text = '' OR @jurisdiction::text = ANY (f.jurisdictions))
  AND NOT EXISTS (SELECT 1 FROM wanted w
                  WHERE w.id IS NULL OR NOT w.is_active OR NOT (w.id = ANY (f.case_type_ids)));
