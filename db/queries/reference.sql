-- Reference data: case types, jurisdictions, counties, case-type custom fields. The rows come from
-- migration 0002 and are read-only at run time.

-- name: CaseTypeList :many
SELECT * FROM case_types
WHERE is_active
ORDER BY sort_order, name;

-- name: CaseTypeGetByID :one
SELECT * FROM case_types
WHERE id = @id;

-- name: CaseTypeListByIDs :many
SELECT * FROM case_types
WHERE id = ANY (@ids::uuid[])
ORDER BY sort_order, name;

-- CaseTypeGetByNameOrID matches the id (when the caller's key parses as a UUID), the machine name
-- or the display name, case-insensitively, preferring that order.
-- name: CaseTypeGetByNameOrID :one
SELECT * FROM case_types
WHERE id = sqlc.narg(id)::uuid
   OR name = lower(@key::text)
   OR lower(display_name) = lower(@key::text)
ORDER BY (id = sqlc.narg(id)::uuid) IS TRUE DESC, (name = lower(@key::text)) DESC
LIMIT 1;

-- name: CaseTypeFieldList :many
SELECT * FROM case_type_fields
WHERE case_type_id = @case_type_id AND is_active
ORDER BY display_order, name;

-- name: JurisdictionList :many
SELECT * FROM jurisdictions
ORDER BY name;

-- name: JurisdictionGetByCode :one
SELECT * FROM jurisdictions
WHERE code = @code;

-- name: JurisdictionListByCodes :many
SELECT * FROM jurisdictions
WHERE code = ANY (@codes::text[])
ORDER BY name;

-- CountyList filters by jurisdiction codes (NULL: all) and by a lower-case LIKE prefix pattern
-- on the county's name (NULL: no search). Rows follow the order of the requested codes, then code
-- and name. A NULL row_limit means no limit.
-- name: CountyList :many
SELECT * FROM counties
WHERE (sqlc.narg(codes)::text[] IS NULL OR jurisdiction_code = ANY (sqlc.narg(codes)::text[]))
  AND (sqlc.narg(name_prefix)::text IS NULL OR lower(name) LIKE sqlc.narg(name_prefix)::text)
ORDER BY array_position(sqlc.narg(codes)::text[], jurisdiction_code), jurisdiction_code, name
LIMIT sqlc.narg(row_limit)::integer
OFFSET @row_offset::integer;

-- name: CountyCount :one
SELECT count(*) FROM counties
WHERE (sqlc.narg(codes)::text[] IS NULL OR jurisdiction_code = ANY (sqlc.narg(codes)::text[]))
  AND (sqlc.narg(name_prefix)::text IS NULL OR lower(name) LIKE sqlc.narg(name_prefix)::text);

-- name: CountyGetByID :one
SELECT * FROM counties
WHERE id = @id;

-- CountyGetByJurisdictionAndName matches the full name ("Kings County") or the short name
-- ("Kings"), case-insensitively, preferring the full name.
-- name: CountyGetByJurisdictionAndName :one
SELECT * FROM counties
WHERE jurisdiction_code = @jurisdiction_code
  AND (lower(name) = lower(@name::text) OR lower(short_name) = lower(@name::text))
ORDER BY (lower(name) = lower(@name::text)) DESC
LIMIT 1;
