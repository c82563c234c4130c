-- Analytics: every figure is an aggregate computed here; Go only adds up the few group rows and
-- shapes them.
--
-- The aggregate queries share one scope block (the WITH scope / facts CTEs), repeated verbatim
-- because sqlc has no includes; internal/analytics tests check that the copies stay identical.
-- The block selects the referrals the firm sent (direction 'sent', drafts only with
-- include_drafts) and those sent to it ('received'), applies the filters, and adds per referral:
--   signed_at     first transition to signed
--   responded_at  the receiving firm's first move out of sent
--   won           closed with closing status won_settled (or the older status won)
--   won_at        when a won referral reached its end (its last update for rows without history)
-- Date filters are days in @tz: a day runs from its midnight in that zone to the next one.

-- AnalyticsGroups computes, in one pass over the firm's referrals, the groups every figure is
-- made of, told apart by dimension. All but status are also split by direction and by draft.
--   status          per direction, status and closing status
--   partner         per partner firm (drafts, which have none, are left out)
--   case_type       per case type (key: its name; label: its display name)
--   jurisdiction    per jurisdiction (key: its code; label: its name)
--   referral_month  per calendar month in @tz in which referrals were sent (drafts: created)
--   signed_month    per month in which referrals reached signed (read: signed)
--   won_month       per month in which referrals were won (read: won and the money columns)
-- In every other group, referrals counts the referrals, signed those that reached signed, won
-- those won. Money columns cover won referrals, except projected (open referrals: sent, not
-- ended).
-- name: AnalyticsGroups :many
WITH scope AS (
    -- Referrals the firm sent (drafts only when asked for): their case is the firm's own, which
    -- lets the case rows come from the owner index rather than from every case...
    SELECT r.id, r.base_case_id, 'sent'::text AS direction, r.referent_firm_id AS partner_firm_id,
           r.status, r.closing_status, r.sent_at, r.created_at, r.updated_at, r.settlement_amount,
           r.attorney_fees, r.projected_settlement_amount, r.sending_firm_percentage,
           c.case_type_id, c.jurisdiction_code
    FROM referrals r
    JOIN base_cases c ON c.id = r.base_case_id AND c.owner_firm_id = @firm_id
    WHERE @include_sent::bool AND r.referring_firm_id = @firm_id
      AND (@include_drafts::bool OR r.status <> 'draft')
    UNION ALL
    -- ...and those sent to it (a receiving firm never sees drafts).
    SELECT r.id, r.base_case_id, 'received'::text, r.referring_firm_id,
           r.status, r.closing_status, r.sent_at, r.created_at, r.updated_at, r.settlement_amount,
           r.attorney_fees, r.projected_settlement_amount, r.sending_firm_percentage,
           c.case_type_id, c.jurisdiction_code
    FROM referrals r
    JOIN base_cases c ON c.id = r.base_case_id
    WHERE @include_received::bool AND r.referent_firm_id = @firm_id AND r.status <> 'draft'
),
-- The transitions (messages excluded) of those referrals.
transitions AS (
    SELECT u.referral_id, u.from_status, u.status, u.actor_kind, u.created_at
    FROM status_updates u
    WHERE @include_sent::bool AND u.referring_firm_id = @firm_id AND NOT u.is_message
    UNION ALL
    SELECT u.referral_id, u.from_status, u.status, u.actor_kind, u.created_at
    FROM status_updates u
    WHERE @include_received::bool AND u.referent_firm_id = @firm_id AND NOT u.is_message
),
-- Per referral: first reaching signed, the receiving firm's first move out of sent (acknowledge
-- or reject; not the sender's withdrawal or a system expiry), reaching the end, and the length
-- in days of each completed stay. A referral enters each status at most once (the lifecycle
-- only moves forward), so a stay runs from the transition into the status to the one out of it.
milestones AS (
    SELECT t.referral_id,
           min(t.created_at) FILTER (WHERE t.status = 'signed') AS signed_at,
           min(t.created_at) FILTER (WHERE t.from_status = 'sent'
               AND t.status IN ('under_evaluation', 'received', 'rejected')
               AND t.actor_kind <> 'system') AS responded_at,
           min(t.created_at) FILTER (WHERE t.status IN ('closed', 'won')) AS ended_at,
           min(t.created_at) FILTER (WHERE t.status = 'sent') AS sent_entered_at,
           min(t.created_at) FILTER (WHERE t.from_status = 'sent') AS sent_left_at,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'received')
                   - min(t.created_at) FILTER (WHERE t.status = 'received')) / 86400 AS received_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'under_evaluation')
                   - min(t.created_at) FILTER (WHERE t.status = 'under_evaluation')) / 86400 AS under_evaluation_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'investigating')
                   - min(t.created_at) FILTER (WHERE t.status = 'investigating')) / 86400 AS investigating_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'signed')
                   - min(t.created_at) FILTER (WHERE t.status = 'signed')) / 86400 AS signed_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'in_litigation')
                   - min(t.created_at) FILTER (WHERE t.status = 'in_litigation')) / 86400 AS in_litigation_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'closing')
                   - min(t.created_at) FILTER (WHERE t.status = 'closing')) / 86400 AS closing_days
    FROM transitions t
    GROUP BY t.referral_id
),
facts AS (
    SELECT s.*, m.signed_at, m.responded_at,
           w.won, CASE WHEN w.won THEN COALESCE(m.ended_at, s.updated_at) END AS won_at,
           date_part('epoch', m.sent_left_at - COALESCE(m.sent_entered_at, s.sent_at)) / 86400 AS sent_days,
           m.received_days, m.under_evaluation_days, m.investigating_days, m.signed_days,
           m.in_litigation_days, m.closing_days
    FROM scope s
    CROSS JOIN LATERAL (
        SELECT (s.status = 'won' OR (s.status = 'closed' AND s.closing_status = 'won_settled')) AS won
    ) w
    LEFT JOIN milestones m ON m.referral_id = s.id
    WHERE (sqlc.narg(case_type_id)::uuid IS NULL OR s.case_type_id = sqlc.narg(case_type_id)::uuid)
      AND (sqlc.narg(jurisdiction)::text IS NULL OR s.jurisdiction_code = sqlc.narg(jurisdiction)::text)
      AND (sqlc.narg(referral_from)::date IS NULL
           OR s.sent_at >= sqlc.narg(referral_from)::date::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(referral_to)::date IS NULL
           OR s.sent_at < (sqlc.narg(referral_to)::date + 1)::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(signed_from)::date IS NULL
           OR m.signed_at >= sqlc.narg(signed_from)::date::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(signed_to)::date IS NULL
           OR m.signed_at < (sqlc.narg(signed_to)::date + 1)::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(first_from)::date IS NULL
           OR (SELECT min(r1.sent_at) FROM referrals r1 WHERE r1.base_case_id = s.base_case_id)
              >= sqlc.narg(first_from)::date::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(first_to)::date IS NULL
           OR (SELECT min(r1.sent_at) FROM referrals r1 WHERE r1.base_case_id = s.base_case_id)
              < (sqlc.narg(first_to)::date + 1)::timestamp AT TIME ZONE @tz::text)
),
-- What the groups read of each referral, computed once. The money columns are read as numeric,
-- so that sums and products are exact and cannot overflow (double precision would turn a sum of
-- huge amounts into an error or an infinity); the output casts them back to double precision,
-- capped at 1e300 so that the cast cannot fail and Go can still add up the group rows.
base AS MATERIALIZED (
    SELECT f.direction, f.status, f.closing_status, f.status = 'draft' AS draft, f.partner_firm_id,
           f.case_type_id, f.jurisdiction_code, f.sent_at, f.created_at, f.signed_at, f.responded_at, f.won,
           f.settlement_amount::numeric AS settlement_amount, f.attorney_fees::numeric AS attorney_fees,
           f.sending_firm_percentage::numeric AS sending_firm_percentage,
           f.projected_settlement_amount::numeric AS projected_settlement_amount,
           date_trunc('month', COALESCE(f.sent_at, f.created_at) AT TIME ZONE @tz::text)::date AS referral_month,
           date_trunc('month', f.signed_at AT TIME ZONE @tz::text)::date AS signed_month,
           date_trunc('month', f.won_at AT TIME ZONE @tz::text)::date AS won_month
    FROM facts f
),
groups AS (
    SELECT 'status'::text AS dimension, b.direction, b.status, b.closing_status, bool_or(b.draft) AS draft,
           NULL::uuid AS partner_firm_id, NULL::uuid AS case_type_id, NULL::text AS jurisdiction_code, NULL::date AS month,
           count(*) AS referrals,
           count(b.sent_at) AS dispatched,
           count(b.signed_at) AS signed,
           count(*) FILTER (WHERE b.won) AS won,
           count(b.responded_at) AS responded,
           sum(date_part('epoch', b.responded_at - b.sent_at)) AS response_seconds,
           sum(date_part('epoch', b.signed_at - b.sent_at)) AS sign_seconds,
           count(b.settlement_amount) FILTER (WHERE b.won) AS with_settlement,
           sum(b.settlement_amount) FILTER (WHERE b.won) AS settlement,
           count(b.attorney_fees) FILTER (WHERE b.won) AS with_fees,
           sum(b.attorney_fees) FILTER (WHERE b.won) AS fees,
           count(b.sending_firm_percentage) FILTER (WHERE b.won AND b.attorney_fees IS NOT NULL) AS with_split,
           sum(b.attorney_fees * b.sending_firm_percentage / 100) FILTER (WHERE b.won) AS sending_share,
           sum(b.attorney_fees * (100 - b.sending_firm_percentage) / 100) FILTER (WHERE b.won) AS receiving_share,
           sum(b.sending_firm_percentage / 100) FILTER (WHERE b.won AND b.attorney_fees IS NOT NULL) AS share_ratio_sum,
           count(b.attorney_fees) FILTER (WHERE b.won AND b.sending_firm_percentage IS NULL) AS without_split,
           count(b.projected_settlement_amount) FILTER (WHERE b.status = ANY(@open_statuses::text[])) AS with_projection,
           sum(b.projected_settlement_amount) FILTER (WHERE b.status = ANY(@open_statuses::text[])) AS projected,
           min(COALESCE(b.sent_at, b.created_at)) AS first_at
    FROM base b
    GROUP BY b.direction, b.status, b.closing_status
    UNION ALL
    SELECT CASE WHEN GROUPING(b.partner_firm_id) = 0 THEN 'partner'
                WHEN GROUPING(b.case_type_id) = 0 THEN 'case_type'
                ELSE 'jurisdiction' END,
           b.direction, NULL, NULL, b.draft, b.partner_firm_id, b.case_type_id, b.jurisdiction_code, NULL,
           count(*), count(b.sent_at), count(b.signed_at), count(*) FILTER (WHERE b.won),
           0, 0, 0, 0,
           sum(b.settlement_amount) FILTER (WHERE b.won), 0,
           sum(b.attorney_fees) FILTER (WHERE b.won), 0,
           sum(b.attorney_fees * b.sending_firm_percentage / 100) FILTER (WHERE b.won),
           sum(b.attorney_fees * (100 - b.sending_firm_percentage) / 100) FILTER (WHERE b.won),
           0, 0, 0, 0, NULL
    FROM base b
    GROUP BY GROUPING SETS ((b.direction, b.draft, b.partner_firm_id), (b.direction, b.draft, b.case_type_id),
                            (b.direction, b.draft, b.jurisdiction_code))
    UNION ALL
    SELECT 'referral_month', b.direction, NULL, NULL, b.draft, NULL, NULL, NULL, b.referral_month,
           count(*), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL
    FROM base b
    GROUP BY b.direction, b.draft, b.referral_month
    UNION ALL
    SELECT 'signed_month', b.direction, NULL, NULL, b.draft, NULL, NULL, NULL, b.signed_month,
           0, 0, count(*), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL
    FROM base b
    WHERE b.signed_at IS NOT NULL
    GROUP BY b.direction, b.draft, b.signed_month
    UNION ALL
    SELECT 'won_month', b.direction, NULL, NULL, b.draft, NULL, NULL, NULL, b.won_month,
           0, 0, 0, count(*), 0, 0, 0, 0, sum(b.settlement_amount), 0, sum(b.attorney_fees), 0, 0, 0, 0, 0, 0, 0, NULL
    FROM base b
    WHERE b.won
    GROUP BY b.direction, b.draft, b.won_month
)
SELECT g.dimension::text AS dimension,
       g.direction::text AS direction,
       COALESCE(g.status, '')::text AS status,
       g.closing_status,
       g.draft::bool AS draft,
       COALESCE(g.partner_firm_id::text, ct.name, g.jurisdiction_code, '')::text AS key,
       COALESCE(pf.name, ct.display_name, ct.name, j.name, g.jurisdiction_code, '')::text AS label,
       g.month,
       g.referrals::bigint AS referrals,
       g.dispatched::bigint AS dispatched,
       g.signed::bigint AS signed,
       g.won::bigint AS won,
       g.responded::bigint AS responded,
       COALESCE(g.response_seconds, 0)::float8 AS response_seconds,
       COALESCE(g.sign_seconds, 0)::float8 AS sign_seconds,
       g.with_settlement::bigint AS with_settlement,
       LEAST(COALESCE(g.settlement, 0), 1e300)::float8 AS settlement,
       g.with_fees::bigint AS with_fees,
       LEAST(COALESCE(g.fees, 0), 1e300)::float8 AS fees,
       g.with_split::bigint AS with_split,
       LEAST(COALESCE(g.sending_share, 0), 1e300)::float8 AS sending_share,
       LEAST(COALESCE(g.receiving_share, 0), 1e300)::float8 AS receiving_share,
       LEAST(COALESCE(g.share_ratio_sum, 0), 1e300)::float8 AS share_ratio_sum,
       g.without_split::bigint AS without_split,
       g.with_projection::bigint AS with_projection,
       LEAST(COALESCE(g.projected, 0), 1e300)::float8 AS projected,
       COALESCE(g.first_at, 'epoch')::timestamptz AS first_at
FROM groups g
LEFT JOIN firms pf ON pf.id = g.partner_firm_id
LEFT JOIN case_types ct ON ct.id = g.case_type_id
LEFT JOIN jurisdictions j ON j.code = g.jurisdiction_code
WHERE g.dimension <> 'partner' OR g.partner_firm_id IS NOT NULL
ORDER BY 1, 2, 3, 5, 7;

-- AnalyticsTimeInStatus measures the completed stays in each status: how many, their mean and
-- median length in days (0 without stays). Drafts are not measured; a stay in sent without a
-- transition into it starts at sent_at.
-- name: AnalyticsTimeInStatus :one
WITH scope AS (
    -- Referrals the firm sent (drafts only when asked for): their case is the firm's own, which
    -- lets the case rows come from the owner index rather than from every case...
    SELECT r.id, r.base_case_id, 'sent'::text AS direction, r.referent_firm_id AS partner_firm_id,
           r.status, r.closing_status, r.sent_at, r.created_at, r.updated_at, r.settlement_amount,
           r.attorney_fees, r.projected_settlement_amount, r.sending_firm_percentage,
           c.case_type_id, c.jurisdiction_code
    FROM referrals r
    JOIN base_cases c ON c.id = r.base_case_id AND c.owner_firm_id = @firm_id
    WHERE @include_sent::bool AND r.referring_firm_id = @firm_id
      AND (@include_drafts::bool OR r.status <> 'draft')
    UNION ALL
    -- ...and those sent to it (a receiving firm never sees drafts).
    SELECT r.id, r.base_case_id, 'received'::text, r.referring_firm_id,
           r.status, r.closing_status, r.sent_at, r.created_at, r.updated_at, r.settlement_amount,
           r.attorney_fees, r.projected_settlement_amount, r.sending_firm_percentage,
           c.case_type_id, c.jurisdiction_code
    FROM referrals r
    JOIN base_cases c ON c.id = r.base_case_id
    WHERE @include_received::bool AND r.referent_firm_id = @firm_id AND r.status <> 'draft'
),
-- The transitions (messages excluded) of those referrals.
transitions AS (
    SELECT u.referral_id, u.from_status, u.status, u.actor_kind, u.created_at
    FROM status_updates u
    WHERE @include_sent::bool AND u.referring_firm_id = @firm_id AND NOT u.is_message
    UNION ALL
    SELECT u.referral_id, u.from_status, u.status, u.actor_kind, u.created_at
    FROM status_updates u
    WHERE @include_received::bool AND u.referent_firm_id = @firm_id AND NOT u.is_message
),
-- Per referral: first reaching signed, the receiving firm's first move out of sent (acknowledge
-- or reject; not the sender's withdrawal or a system expiry), reaching the end, and the length
-- in days of each completed stay. A referral enters each status at most once (the lifecycle
-- only moves forward), so a stay runs from the transition into the status to the one out of it.
milestones AS (
    SELECT t.referral_id,
           min(t.created_at) FILTER (WHERE t.status = 'signed') AS signed_at,
           min(t.created_at) FILTER (WHERE t.from_status = 'sent'
               AND t.status IN ('under_evaluation', 'received', 'rejected')
               AND t.actor_kind <> 'system') AS responded_at,
           min(t.created_at) FILTER (WHERE t.status IN ('closed', 'won')) AS ended_at,
           min(t.created_at) FILTER (WHERE t.status = 'sent') AS sent_entered_at,
           min(t.created_at) FILTER (WHERE t.from_status = 'sent') AS sent_left_at,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'received')
                   - min(t.created_at) FILTER (WHERE t.status = 'received')) / 86400 AS received_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'under_evaluation')
                   - min(t.created_at) FILTER (WHERE t.status = 'under_evaluation')) / 86400 AS under_evaluation_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'investigating')
                   - min(t.created_at) FILTER (WHERE t.status = 'investigating')) / 86400 AS investigating_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'signed')
                   - min(t.created_at) FILTER (WHERE t.status = 'signed')) / 86400 AS signed_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'in_litigation')
                   - min(t.created_at) FILTER (WHERE t.status = 'in_litigation')) / 86400 AS in_litigation_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'closing')
                   - min(t.created_at) FILTER (WHERE t.status = 'closing')) / 86400 AS closing_days
    FROM transitions t
    GROUP BY t.referral_id
),
facts AS (
    SELECT s.*, m.signed_at, m.responded_at,
           w.won, CASE WHEN w.won THEN COALESCE(m.ended_at, s.updated_at) END AS won_at,
           date_part('epoch', m.sent_left_at - COALESCE(m.sent_entered_at, s.sent_at)) / 86400 AS sent_days,
           m.received_days, m.under_evaluation_days, m.investigating_days, m.signed_days,
           m.in_litigation_days, m.closing_days
    FROM scope s
    CROSS JOIN LATERAL (
        SELECT (s.status = 'won' OR (s.status = 'closed' AND s.closing_status = 'won_settled')) AS won
    ) w
    LEFT JOIN milestones m ON m.referral_id = s.id
    WHERE (sqlc.narg(case_type_id)::uuid IS NULL OR s.case_type_id = sqlc.narg(case_type_id)::uuid)
      AND (sqlc.narg(jurisdiction)::text IS NULL OR s.jurisdiction_code = sqlc.narg(jurisdiction)::text)
      AND (sqlc.narg(referral_from)::date IS NULL
           OR s.sent_at >= sqlc.narg(referral_from)::date::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(referral_to)::date IS NULL
           OR s.sent_at < (sqlc.narg(referral_to)::date + 1)::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(signed_from)::date IS NULL
           OR m.signed_at >= sqlc.narg(signed_from)::date::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(signed_to)::date IS NULL
           OR m.signed_at < (sqlc.narg(signed_to)::date + 1)::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(first_from)::date IS NULL
           OR (SELECT min(r1.sent_at) FROM referrals r1 WHERE r1.base_case_id = s.base_case_id)
              >= sqlc.narg(first_from)::date::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(first_to)::date IS NULL
           OR (SELECT min(r1.sent_at) FROM referrals r1 WHERE r1.base_case_id = s.base_case_id)
              < (sqlc.narg(first_to)::date + 1)::timestamp AT TIME ZONE @tz::text)
)
SELECT
       count(f.sent_days)::bigint AS sent_stays,
       COALESCE(avg(f.sent_days), 0)::float8 AS sent_average_days,
       COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.sent_days), 0)::float8 AS sent_median_days,
       count(f.received_days)::bigint AS received_stays,
       COALESCE(avg(f.received_days), 0)::float8 AS received_average_days,
       COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.received_days), 0)::float8 AS received_median_days,
       count(f.under_evaluation_days)::bigint AS under_evaluation_stays,
       COALESCE(avg(f.under_evaluation_days), 0)::float8 AS under_evaluation_average_days,
       COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.under_evaluation_days), 0)::float8 AS under_evaluation_median_days,
       count(f.investigating_days)::bigint AS investigating_stays,
       COALESCE(avg(f.investigating_days), 0)::float8 AS investigating_average_days,
       COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.investigating_days), 0)::float8 AS investigating_median_days,
       count(f.signed_days)::bigint AS signed_stays,
       COALESCE(avg(f.signed_days), 0)::float8 AS signed_average_days,
       COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.signed_days), 0)::float8 AS signed_median_days,
       count(f.in_litigation_days)::bigint AS in_litigation_stays,
       COALESCE(avg(f.in_litigation_days), 0)::float8 AS in_litigation_average_days,
       COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.in_litigation_days), 0)::float8 AS in_litigation_median_days,
       count(f.closing_days)::bigint AS closing_stays,
       COALESCE(avg(f.closing_days), 0)::float8 AS closing_average_days,
       COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.closing_days), 0)::float8 AS closing_median_days
FROM facts f;

-- AnalyticsCaseCounts counts the firm's cases with at least one sent referral in scope, and
-- those with more than one.
-- name: AnalyticsCaseCounts :one
WITH scope AS (
    -- Referrals the firm sent (drafts only when asked for): their case is the firm's own, which
    -- lets the case rows come from the owner index rather than from every case...
    SELECT r.id, r.base_case_id, 'sent'::text AS direction, r.referent_firm_id AS partner_firm_id,
           r.status, r.closing_status, r.sent_at, r.created_at, r.updated_at, r.settlement_amount,
           r.attorney_fees, r.projected_settlement_amount, r.sending_firm_percentage,
           c.case_type_id, c.jurisdiction_code
    FROM referrals r
    JOIN base_cases c ON c.id = r.base_case_id AND c.owner_firm_id = @firm_id
    WHERE @include_sent::bool AND r.referring_firm_id = @firm_id
      AND (@include_drafts::bool OR r.status <> 'draft')
    UNION ALL
    -- ...and those sent to it (a receiving firm never sees drafts).
    SELECT r.id, r.base_case_id, 'received'::text, r.referring_firm_id,
           r.status, r.closing_status, r.sent_at, r.created_at, r.updated_at, r.settlement_amount,
           r.attorney_fees, r.projected_settlement_amount, r.sending_firm_percentage,
           c.case_type_id, c.jurisdiction_code
    FROM referrals r
    JOIN base_cases c ON c.id = r.base_case_id
    WHERE @include_received::bool AND r.referent_firm_id = @firm_id AND r.status <> 'draft'
),
-- The transitions (messages excluded) of those referrals.
transitions AS (
    SELECT u.referral_id, u.from_status, u.status, u.actor_kind, u.created_at
    FROM status_updates u
    WHERE @include_sent::bool AND u.referring_firm_id = @firm_id AND NOT u.is_message
    UNION ALL
    SELECT u.referral_id, u.from_status, u.status, u.actor_kind, u.created_at
    FROM status_updates u
    WHERE @include_received::bool AND u.referent_firm_id = @firm_id AND NOT u.is_message
),
-- Per referral: first reaching signed, the receiving firm's first move out of sent (acknowledge
-- or reject; not the sender's withdrawal or a system expiry), reaching the end, and the length
-- in days of each completed stay. A referral enters each status at most once (the lifecycle
-- only moves forward), so a stay runs from the transition into the status to the one out of it.
milestones AS (
    SELECT t.referral_id,
           min(t.created_at) FILTER (WHERE t.status = 'signed') AS signed_at,
           min(t.created_at) FILTER (WHERE t.from_status = 'sent'
               AND t.status IN ('under_evaluation', 'received', 'rejected')
               AND t.actor_kind <> 'system') AS responded_at,
           min(t.created_at) FILTER (WHERE t.status IN ('closed', 'won')) AS ended_at,
           min(t.created_at) FILTER (WHERE t.status = 'sent') AS sent_entered_at,
           min(t.created_at) FILTER (WHERE t.from_status = 'sent') AS sent_left_at,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'received')
                   - min(t.created_at) FILTER (WHERE t.status = 'received')) / 86400 AS received_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'under_evaluation')
                   - min(t.created_at) FILTER (WHERE t.status = 'under_evaluation')) / 86400 AS under_evaluation_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'investigating')
                   - min(t.created_at) FILTER (WHERE t.status = 'investigating')) / 86400 AS investigating_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'signed')
                   - min(t.created_at) FILTER (WHERE t.status = 'signed')) / 86400 AS signed_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'in_litigation')
                   - min(t.created_at) FILTER (WHERE t.status = 'in_litigation')) / 86400 AS in_litigation_days,
           date_part('epoch', min(t.created_at) FILTER (WHERE t.from_status = 'closing')
                   - min(t.created_at) FILTER (WHERE t.status = 'closing')) / 86400 AS closing_days
    FROM transitions t
    GROUP BY t.referral_id
),
facts AS (
    SELECT s.*, m.signed_at, m.responded_at,
           w.won, CASE WHEN w.won THEN COALESCE(m.ended_at, s.updated_at) END AS won_at,
           date_part('epoch', m.sent_left_at - COALESCE(m.sent_entered_at, s.sent_at)) / 86400 AS sent_days,
           m.received_days, m.under_evaluation_days, m.investigating_days, m.signed_days,
           m.in_litigation_days, m.closing_days
    FROM scope s
    CROSS JOIN LATERAL (
        SELECT (s.status = 'won' OR (s.status = 'closed' AND s.closing_status = 'won_settled')) AS won
    ) w
    LEFT JOIN milestones m ON m.referral_id = s.id
    WHERE (sqlc.narg(case_type_id)::uuid IS NULL OR s.case_type_id = sqlc.narg(case_type_id)::uuid)
      AND (sqlc.narg(jurisdiction)::text IS NULL OR s.jurisdiction_code = sqlc.narg(jurisdiction)::text)
      AND (sqlc.narg(referral_from)::date IS NULL
           OR s.sent_at >= sqlc.narg(referral_from)::date::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(referral_to)::date IS NULL
           OR s.sent_at < (sqlc.narg(referral_to)::date + 1)::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(signed_from)::date IS NULL
           OR m.signed_at >= sqlc.narg(signed_from)::date::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(signed_to)::date IS NULL
           OR m.signed_at < (sqlc.narg(signed_to)::date + 1)::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(first_from)::date IS NULL
           OR (SELECT min(r1.sent_at) FROM referrals r1 WHERE r1.base_case_id = s.base_case_id)
              >= sqlc.narg(first_from)::date::timestamp AT TIME ZONE @tz::text)
      AND (sqlc.narg(first_to)::date IS NULL
           OR (SELECT min(r1.sent_at) FROM referrals r1 WHERE r1.base_case_id = s.base_case_id)
              < (sqlc.narg(first_to)::date + 1)::timestamp AT TIME ZONE @tz::text)
)
SELECT count(*)::bigint AS cases_referred,
       count(*) FILTER (WHERE x.n > 1)::bigint AS re_referred
FROM (
    SELECT f.base_case_id, count(*) AS n
    FROM facts f
    WHERE f.direction = 'sent' AND f.sent_at IS NOT NULL
    GROUP BY f.base_case_id
) x;

-- AnalyticsHomepage counts, for the firm, referrals sent and received, signings and wins (either
-- direction) in the current day, ISO week and month in @tz up to @now, and in the matching part
-- of the period before: a previous window has the wall-clock length elapsed in the current
-- period, cut at the end of its own period (a shorter previous month).
-- name: AnalyticsHomepage :one
WITH clock AS (
    SELECT @now::timestamptz AS now_at, timezone(@tz::text, @now::timestamptz) AS local_now
),
starts AS (
    SELECT c.now_at, c.local_now,
           date_trunc('day', c.local_now) AS day_start,
           date_trunc('week', c.local_now) AS week_start,
           date_trunc('month', c.local_now) AS month_start
    FROM clock c
),
windows AS (
    SELECT s.now_at,
           timezone(@tz::text, s.day_start) AS day_from,
           timezone(@tz::text, s.day_start - interval '1 day') AS prev_day_from,
           timezone(@tz::text, LEAST(s.local_now - interval '1 day', s.day_start)) AS prev_day_to,
           timezone(@tz::text, s.week_start) AS week_from,
           timezone(@tz::text, s.week_start - interval '7 days') AS prev_week_from,
           timezone(@tz::text, LEAST(s.local_now - interval '7 days', s.week_start)) AS prev_week_to,
           timezone(@tz::text, s.month_start) AS month_from,
           timezone(@tz::text, s.month_start - interval '1 month') AS prev_month_from,
           timezone(@tz::text, LEAST(s.month_start - interval '1 month' + (s.local_now - s.month_start),
                                     s.month_start)) AS prev_month_to
    FROM starts s
),
bounds AS (
    SELECT LEAST(w.prev_day_from, w.prev_week_from, w.prev_month_from) AS lo, w.now_at AS hi FROM windows w
),
events AS (
    SELECT 'sent'::text AS kind, r.sent_at AS at
    FROM referrals r, bounds b
    WHERE r.referring_firm_id = @firm_id AND r.sent_at >= b.lo AND r.sent_at < b.hi
    UNION ALL
    SELECT 'received', r.sent_at
    FROM referrals r, bounds b
    WHERE r.referent_firm_id = @firm_id AND r.status <> 'draft' AND r.sent_at >= b.lo AND r.sent_at < b.hi
    UNION ALL
    -- Signings and wins, from either side of the referral (one branch per side, each on its
    -- firm's index).
    SELECT 'signed', u.created_at
    FROM status_updates u, bounds b
    WHERE u.referring_firm_id = @firm_id AND u.created_at >= b.lo AND u.created_at < b.hi
      AND u.status = 'signed' AND NOT u.is_message
    UNION ALL
    SELECT 'signed', u.created_at
    FROM status_updates u, bounds b
    WHERE u.referent_firm_id = @firm_id AND u.created_at >= b.lo AND u.created_at < b.hi
      AND u.status = 'signed' AND NOT u.is_message
    UNION ALL
    SELECT 'won', u.created_at
    FROM status_updates u
    JOIN referrals r ON r.id = u.referral_id, bounds b
    WHERE u.referring_firm_id = @firm_id AND u.created_at >= b.lo AND u.created_at < b.hi
      AND u.status IN ('closed', 'won') AND NOT u.is_message
      AND (r.status = 'won' OR (r.status = 'closed' AND r.closing_status = 'won_settled'))
    UNION ALL
    SELECT 'won', u.created_at
    FROM status_updates u
    JOIN referrals r ON r.id = u.referral_id, bounds b
    WHERE u.referent_firm_id = @firm_id AND u.created_at >= b.lo AND u.created_at < b.hi
      AND u.status IN ('closed', 'won') AND NOT u.is_message
      AND (r.status = 'won' OR (r.status = 'closed' AND r.closing_status = 'won_settled'))
),
counts AS (
    SELECT
        count(*) FILTER (WHERE e.kind = 'sent' AND e.at >= w.day_from) AS sent_day,
        count(*) FILTER (WHERE e.kind = 'sent' AND e.at >= w.prev_day_from AND e.at < w.prev_day_to) AS sent_prev_day,
        count(*) FILTER (WHERE e.kind = 'sent' AND e.at >= w.week_from) AS sent_week,
        count(*) FILTER (WHERE e.kind = 'sent' AND e.at >= w.prev_week_from AND e.at < w.prev_week_to) AS sent_prev_week,
        count(*) FILTER (WHERE e.kind = 'sent' AND e.at >= w.month_from) AS sent_month,
        count(*) FILTER (WHERE e.kind = 'sent' AND e.at >= w.prev_month_from AND e.at < w.prev_month_to) AS sent_prev_month,
        count(*) FILTER (WHERE e.kind = 'received' AND e.at >= w.day_from) AS received_day,
        count(*) FILTER (WHERE e.kind = 'received' AND e.at >= w.prev_day_from AND e.at < w.prev_day_to) AS received_prev_day,
        count(*) FILTER (WHERE e.kind = 'received' AND e.at >= w.week_from) AS received_week,
        count(*) FILTER (WHERE e.kind = 'received' AND e.at >= w.prev_week_from AND e.at < w.prev_week_to) AS received_prev_week,
        count(*) FILTER (WHERE e.kind = 'received' AND e.at >= w.month_from) AS received_month,
        count(*) FILTER (WHERE e.kind = 'received' AND e.at >= w.prev_month_from AND e.at < w.prev_month_to) AS received_prev_month,
        count(*) FILTER (WHERE e.kind = 'signed' AND e.at >= w.day_from) AS signed_day,
        count(*) FILTER (WHERE e.kind = 'signed' AND e.at >= w.prev_day_from AND e.at < w.prev_day_to) AS signed_prev_day,
        count(*) FILTER (WHERE e.kind = 'signed' AND e.at >= w.week_from) AS signed_week,
        count(*) FILTER (WHERE e.kind = 'signed' AND e.at >= w.prev_week_from AND e.at < w.prev_week_to) AS signed_prev_week,
        count(*) FILTER (WHERE e.kind = 'signed' AND e.at >= w.month_from) AS signed_month,
        count(*) FILTER (WHERE e.kind = 'signed' AND e.at >= w.prev_month_from AND e.at < w.prev_month_to) AS signed_prev_month,
        count(*) FILTER (WHERE e.kind = 'won' AND e.at >= w.day_from) AS won_day,
        count(*) FILTER (WHERE e.kind = 'won' AND e.at >= w.prev_day_from AND e.at < w.prev_day_to) AS won_prev_day,
        count(*) FILTER (WHERE e.kind = 'won' AND e.at >= w.week_from) AS won_week,
        count(*) FILTER (WHERE e.kind = 'won' AND e.at >= w.prev_week_from AND e.at < w.prev_week_to) AS won_prev_week,
        count(*) FILTER (WHERE e.kind = 'won' AND e.at >= w.month_from) AS won_month,
        count(*) FILTER (WHERE e.kind = 'won' AND e.at >= w.prev_month_from AND e.at < w.prev_month_to) AS won_prev_month
    FROM events e, windows w
)
SELECT w.now_at::timestamptz AS now_at,
       w.day_from::timestamptz AS day_from, w.prev_day_from::timestamptz AS prev_day_from,
       w.prev_day_to::timestamptz AS prev_day_to,
       w.week_from::timestamptz AS week_from, w.prev_week_from::timestamptz AS prev_week_from,
       w.prev_week_to::timestamptz AS prev_week_to,
       w.month_from::timestamptz AS month_from, w.prev_month_from::timestamptz AS prev_month_from,
       w.prev_month_to::timestamptz AS prev_month_to,
       c.sent_day::bigint AS sent_day, c.sent_prev_day::bigint AS sent_prev_day,
       c.sent_week::bigint AS sent_week, c.sent_prev_week::bigint AS sent_prev_week,
       c.sent_month::bigint AS sent_month, c.sent_prev_month::bigint AS sent_prev_month,
       c.received_day::bigint AS received_day, c.received_prev_day::bigint AS received_prev_day,
       c.received_week::bigint AS received_week, c.received_prev_week::bigint AS received_prev_week,
       c.received_month::bigint AS received_month, c.received_prev_month::bigint AS received_prev_month,
       c.signed_day::bigint AS signed_day, c.signed_prev_day::bigint AS signed_prev_day,
       c.signed_week::bigint AS signed_week, c.signed_prev_week::bigint AS signed_prev_week,
       c.signed_month::bigint AS signed_month, c.signed_prev_month::bigint AS signed_prev_month,
       c.won_day::bigint AS won_day, c.won_prev_day::bigint AS won_prev_day,
       c.won_week::bigint AS won_week, c.won_prev_week::bigint AS won_prev_week,
       c.won_month::bigint AS won_month, c.won_prev_month::bigint AS won_prev_month
FROM windows w, counts c;

-- AnalyticsCasesByStatus lists the firm's sent (or received) referrals currently in one status,
-- most recently referred first, with what the drill-down shows and what masking needs.
-- name: AnalyticsCasesByStatus :many
WITH picked AS (
    SELECT r.id, r.base_case_id, r.reference_number, r.referent_firm_id, r.status, r.acknowledged_at,
           COALESCE(r.sent_at, r.created_at) AS referred_on,
           CASE WHEN @sent::bool THEN r.referent_firm_id ELSE r.referring_firm_id END AS partner_firm_id
    FROM referrals r
    WHERE r.status = @status::text
      AND ((@sent::bool AND r.referring_firm_id = @firm_id)
           OR (NOT @sent::bool AND r.referent_firm_id = @firm_id AND r.status <> 'draft'))
    ORDER BY COALESCE(r.sent_at, r.created_at) DESC, r.id DESC
    LIMIT @row_limit
)
SELECT p.id AS referral_id, p.base_case_id, p.reference_number, c.title, c.owner_firm_id,
       p.referent_firm_id, p.status, p.acknowledged_at, p.referred_on::timestamptz AS referred_on,
       pf.id AS partner_firm_id, pf.name AS partner_firm_name, ct.name AS case_type_name, c.jurisdiction_code
FROM picked p
JOIN base_cases c ON c.id = p.base_case_id
JOIN case_types ct ON ct.id = c.case_type_id
LEFT JOIN firms pf ON pf.id = p.partner_firm_id
ORDER BY p.referred_on DESC, p.id DESC;
