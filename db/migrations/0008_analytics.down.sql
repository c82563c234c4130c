DROP INDEX IF EXISTS referrals_referent_sent_idx;
DROP INDEX IF EXISTS referrals_referring_sent_idx;
DROP INDEX IF EXISTS status_updates_referent_transitions_idx;
DROP INDEX IF EXISTS status_updates_referring_transitions_idx;
