-- 0017_referral_list_indexes: the received list under a status filter sorted by reference number,
-- and the received side of the party list (GET /referrals) under a status filter, newest first.
CREATE INDEX referrals_referent_status_reference_idx ON referrals (referent_firm_id, status, reference_number) WHERE status <> 'draft';
CREATE INDEX referrals_referent_status_created_idx ON referrals (referent_firm_id, status, created_at, id) WHERE status <> 'draft';
