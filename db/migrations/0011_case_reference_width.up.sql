-- 0011_case_reference_width: case reference numbers keep at least six digits but grow past
-- 999,999 instead of being cut to six (lpad truncates longer input, which would repeat numbers).

CREATE FUNCTION next_case_reference() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n text := nextval('base_case_reference_seq')::text;
BEGIN
    RETURN 'CX-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-' || lpad(n, greatest(6, length(n)), '0');
END
$$;

ALTER TABLE base_cases ALTER COLUMN reference_number SET DEFAULT next_case_reference();
