-- Drops the reference tables in dependency order. Later migrations that reference these tables are
-- rolled back first, so nothing else points at them by the time this runs.
DROP TABLE IF EXISTS case_type_fields;
DROP TABLE IF EXISTS case_types;
DROP TABLE IF EXISTS counties;
DROP TABLE IF EXISTS jurisdictions;
