-- 0008_analytics: indexes for the analytics queries (db/queries/analytics.sql). No tables: every
-- figure is aggregated from referrals and status_updates at request time.

-- A firm's transitions, by referral and time, with the columns the per-referral milestones
-- read: analytics aggregate them with one index-only range scan per side of the referral (the
-- firm sent it or received it) instead of one lookup per referral. The homepage reads its
-- signings and wins from them too.
CREATE INDEX status_updates_referring_transitions_idx
    ON status_updates (referring_firm_id, referral_id, created_at) INCLUDE (from_status, status, actor_kind)
    WHERE NOT is_message;
CREATE INDEX status_updates_referent_transitions_idx
    ON status_updates (referent_firm_id, referral_id, created_at) INCLUDE (from_status, status, actor_kind)
    WHERE NOT is_message;

-- Referrals a firm sent or received in a time window (the homepage periods), by send time.
CREATE INDEX referrals_referring_sent_idx ON referrals (referring_firm_id, sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX referrals_referent_sent_idx ON referrals (referent_firm_id, sent_at) WHERE status <> 'draft';
