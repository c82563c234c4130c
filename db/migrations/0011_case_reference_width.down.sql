ALTER TABLE base_cases ALTER COLUMN reference_number SET DEFAULT
    ('CX-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') || '-'
        || lpad(nextval('base_case_reference_seq')::text, 6, '0'));
DROP FUNCTION next_case_reference();
