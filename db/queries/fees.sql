-- Fee agreements, client consent and the fee ledger. Only the two firms of a
-- referral (its referring and its receiving firm) reach its rows; every query that starts from a
-- client-supplied id takes the caller's firm and applies that predicate in the same statement.

-- name: FeeProfileList :many
SELECT * FROM fee_rule_profiles ORDER BY code = 'US-ABA' DESC, code;

-- FeeProfileFor is the profile of a jurisdiction, or the US-ABA default.
-- name: FeeProfileFor :one
SELECT * FROM fee_rule_profiles
WHERE code = @jurisdiction::text OR code = 'US-ABA'
ORDER BY code = 'US-ABA'
LIMIT 1;

-- FeeReferralForParty is what the fee rules need of a referral, when firm is one of its two firms
-- (a receiving firm never reaches a draft). FOR UPDATE serialises writes on one agreement.
-- name: FeeReferralForParty :one
SELECT r.id, r.base_case_id, r.reference_number, r.referring_firm_id, r.referent_firm_id, r.status,
       r.closing_status, r.attorney_fees, r.sent_at, r.created_at, c.jurisdiction_code, c.is_test_case,
       fr.name AS referring_firm_name, fe.name AS referent_firm_name
FROM referrals r
JOIN base_cases c ON c.id = r.base_case_id
JOIN firms fr ON fr.id = r.referring_firm_id
LEFT JOIN firms fe ON fe.id = r.referent_firm_id
WHERE r.id = @id
  AND (r.referring_firm_id = @firm_id OR (r.referent_firm_id = @firm_id AND r.status <> 'draft'))
FOR UPDATE OF r;

-- FeeReferralGet is FeeReferralForParty without the party check, for the closing path.
-- name: FeeReferralGet :one
SELECT r.id, r.base_case_id, r.reference_number, r.referring_firm_id, r.referent_firm_id, r.status,
       r.closing_status, r.attorney_fees, r.sent_at, r.created_at, c.jurisdiction_code, c.is_test_case,
       fr.name AS referring_firm_name, fe.name AS referent_firm_name
FROM referrals r
JOIN base_cases c ON c.id = r.base_case_id
JOIN firms fr ON fr.id = r.referring_firm_id
LEFT JOIN firms fe ON fe.id = r.referent_firm_id
WHERE r.id = @id;

-- name: FeeVersionList :many
SELECT * FROM fee_agreement_versions WHERE referral_id = @referral_id ORDER BY version;

-- name: FeeVersionInsert :one
INSERT INTO fee_agreement_versions (
    referral_id, version, basis, share_kind, referring_share, receiving_share, client_contingency_bp, notes,
    proposed_by_firm_id, proposed_by_user_id, proposed_by_key_id, proposed_at
) VALUES (
    @referral_id, @version, @basis, @share_kind, @referring_share, @receiving_share, @client_contingency_bp,
    sqlc.narg(notes), @proposed_by_firm_id, sqlc.narg(proposed_by_user_id), sqlc.narg(proposed_by_key_id), @now
)
RETURNING *;

-- name: FeeVersionSupersede :exec
UPDATE fee_agreement_versions SET superseded_at = @now::timestamptz
WHERE referral_id = @referral_id AND superseded_at IS NULL AND version < @version;

-- FeeVersionAccept accepts a pending version; zero rows when it was accepted or replaced meanwhile.
-- name: FeeVersionAccept :one
UPDATE fee_agreement_versions SET
    accepted_by_firm_id = @firm_id::uuid, accepted_by_user_id = sqlc.narg(user_id)::uuid, accepted_by_key_id = sqlc.narg(key_id)::uuid,
    accepted_at = @now::timestamptz
WHERE id = @id AND accepted_at IS NULL AND superseded_at IS NULL AND proposed_by_firm_id <> @firm_id::uuid
RETURNING *;

-- FeeReferralSyncTerms rewrites the referral's two fee fields; the trigger
-- referrals_fee_terms_from_agreement sets them from the accepted version in force.
-- name: FeeReferralSyncTerms :exec
UPDATE referrals SET
    client_fee_agreement_percentage = client_fee_agreement_percentage,
    sending_firm_percentage = sending_firm_percentage
WHERE id = @id;

-- name: FeeConsentList :many
SELECT * FROM fee_consents WHERE referral_id = @referral_id ORDER BY recorded_at, id;

-- name: FeeConsentInsert :one
INSERT INTO fee_consents (referral_id, version_id, consented_on, method, signer_name, document_id, recorded_by_firm_id, recorded_at)
VALUES (@referral_id, @version_id, @consented_on, @method, @signer_name, sqlc.narg(document_id), @recorded_by_firm_id, @now)
RETURNING *;

-- FeeDocumentVisible reports whether a document belongs to the case and the firm may see it: its
-- own upload, or a public one of a party of the case.
-- name: FeeDocumentVisible :one
SELECT EXISTS (
    SELECT 1 FROM documents d
    WHERE d.id = @id AND d.base_case_id = @case_id
      AND (d.uploaded_by_firm_id = @firm_id OR d.is_public)
)::bool;

-- name: FeeEntryInsert :one
INSERT INTO fee_ledger_entries (
    referral_id, base_case_id, referring_firm_id, receiving_firm_id, version_id, status,
    attorney_fees_cents, amount_due_cents, closed_on, due_date, created_at, updated_at
) VALUES (
    @referral_id, @base_case_id, @referring_firm_id, @receiving_firm_id, sqlc.narg(version_id), @status,
    @attorney_fees_cents, sqlc.narg(amount_due_cents), @closed_on, sqlc.narg(due_date), @now, @now
)
ON CONFLICT (referral_id) DO NOTHING
RETURNING *;

-- name: FeeEntryByReferral :one
SELECT * FROM fee_ledger_entries WHERE referral_id = @referral_id;

-- FeeEntryForParty is an entry of which firm is one of the two firms, locked for a write.
-- name: FeeEntryForParty :one
SELECT * FROM fee_ledger_entries
WHERE id = @id AND (referring_firm_id = @firm_id OR receiving_firm_id = @firm_id)
FOR UPDATE;

-- name: FeeEntryGetForParty :one
SELECT e.*, fr.name AS referring_firm_name, fe.name AS receiving_firm_name, r.reference_number
FROM fee_ledger_entries e
JOIN firms fr ON fr.id = e.referring_firm_id
JOIN firms fe ON fe.id = e.receiving_firm_id
JOIN referrals r ON r.id = e.referral_id
WHERE e.id = @id AND (e.referring_firm_id = @firm_id OR e.receiving_firm_id = @firm_id);

-- FeeEntryUpdate writes the computed state of an entry (after an agreement, payment, dispute or
-- write-off).
-- name: FeeEntryUpdate :one
UPDATE fee_ledger_entries SET
    status = @status, version_id = sqlc.narg(version_id), amount_due_cents = sqlc.narg(amount_due_cents),
    paid_cents = @paid_cents, due_date = sqlc.narg(due_date), dispute_reason = sqlc.narg(dispute_reason),
    written_off_reason = sqlc.narg(written_off_reason), updated_at = @now
WHERE id = @id
RETURNING *;

-- name: FeePaymentInsert :one
INSERT INTO fee_payments (entry_id, amount_cents, paid_on, method, reference, recorded_by_firm_id, created_at)
VALUES (@entry_id, @amount_cents, @paid_on, @method, sqlc.narg(reference), @recorded_by_firm_id, @now)
RETURNING *;

-- name: FeePaymentList :many
SELECT * FROM fee_payments WHERE entry_id = ANY(@entry_ids::uuid[]) ORDER BY entry_id, created_at, id;

-- The ledger list, its total and its export are built in internal/fees/ledgerlist.go: one
-- statement per filter shape, each an index range of migration 0021's indexes.

-- FeeAnalyticsFlows sums the payments a firm received (as referring firm) and made (as receiving
-- firm) between two payment dates, per partner firm and calendar month: one range of
-- fee_payments_{referring,receiving}_paid_idx each (the index holds every column read).
-- name: FeeAnalyticsFlows :many
SELECT x.direction::text AS direction, x.partner_firm_id::uuid AS partner_firm_id, f.name AS partner_firm_name,
       x.month::date AS month, x.cents::bigint AS cents, x.payments::bigint AS payments
FROM (
    SELECT 'received' AS direction, p.receiving_firm_id AS partner_firm_id,
           date_trunc('month', p.paid_on::timestamp)::date AS month, sum(p.amount_cents) AS cents, count(*) AS payments
    FROM fee_payments p
    WHERE p.referring_firm_id = @firm_id::uuid AND p.paid_on BETWEEN @date_from::date AND @date_to::date
    GROUP BY 2, 3
    UNION ALL
    SELECT 'paid', p.referring_firm_id, date_trunc('month', p.paid_on::timestamp)::date, sum(p.amount_cents), count(*)
    FROM fee_payments p
    WHERE p.receiving_firm_id = @firm_id::uuid AND p.paid_on BETWEEN @date_from::date AND @date_to::date
    GROUP BY 2, 3
) x
JOIN firms f ON f.id = x.partner_firm_id
ORDER BY f.name, x.partner_firm_id, x.month, x.direction;
