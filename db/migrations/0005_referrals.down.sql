DROP TABLE IF EXISTS status_updates;
DROP TABLE IF EXISTS referrals;
DROP TABLE IF EXISTS base_cases;
DROP SEQUENCE IF EXISTS base_case_reference_seq;
