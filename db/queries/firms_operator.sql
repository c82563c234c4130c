-- FirmListAll lists every firm, active or not, for the operator command `casexchange firms
-- list`: operators read there the slugs that `keys create` and `import cases` take. Firms
-- without a slug come last.
-- name: FirmListAll :many
SELECT id, name, slug, is_active FROM firms ORDER BY slug NULLS LAST, name, id;
