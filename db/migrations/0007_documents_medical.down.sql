DROP TABLE IF EXISTS medical_referrals;
DROP TABLE IF EXISTS documents;
