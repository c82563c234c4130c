-- 0019_fee_agreements: the economics of a referral. Jurisdiction rule profiles (data,
-- seeded here), versioned fee agreements between the two firms of a referral, the client's
-- consent, and a ledger entry per referral closed won with its payments. Money is integer cents
-- and percentages are integer hundredths of a percent (basis points): no floats anywhere.

-- A rule profile says what a fee division between firms needs in a jurisdiction. `code` is a
-- jurisdiction code (`CA`) or `US-ABA`, the default for every jurisdiction without its own.
CREATE TABLE fee_rule_profiles (
    code                   text PRIMARY KEY CHECK (code ~ '^([A-Z]{2}|US-ABA)$'),
    name                   text NOT NULL CHECK (name <> ''),
    -- What the client's consent must be: a writing (`written`) or a writing signed by the client.
    consent_method         text NOT NULL CHECK (consent_method IN ('written', 'signed')),
    -- Days after the referral was sent within which consent is due; NULL: no fixed deadline.
    consent_deadline_days  integer CHECK (consent_deadline_days BETWEEN 0 AND 3650),
    -- Whether the agreement must state its basis (proportional or joint responsibility).
    basis_required         boolean NOT NULL,
    -- Whether an amendment may raise the client's contingency percentage.
    total_fee_may_change   boolean NOT NULL,
    summary                text NOT NULL CHECK (summary <> '')
);

INSERT INTO fee_rule_profiles (code, name, consent_method, consent_deadline_days, basis_required, total_fee_may_change, summary) VALUES
('US-ABA', 'ABA Model Rule 1.5(e)', 'written', NULL, true, true,
 'Division in proportion to the work done or with joint responsibility; the client agrees to the arrangement and each share, confirmed in writing; the total fee is reasonable. Formal Opinion 474: consent before or within a reasonable time after the referral.'),
('CA', 'California Rule 1.5.1', 'written', 30, true, false,
 'A written agreement between the lawyers and the client''s written consent after a full written disclosure of the division, the firms and the terms; the division may not raise the total fee. CaseXchange reads "as soon as reasonably practicable" as 30 days after the referral.'),
('AZ', 'Arizona ER 1.5(e)', 'signed', NULL, true, true,
 'As the ABA rule, with the client''s agreement in a writing the client signs.');

-- Every version of the fee agreement of a referral. Version 1 is the first proposal; an amendment
-- (or a counter-proposal) is the next version. A version is proposed by one firm and accepted by
-- the other; accepted terms never change (see fee_agreement_versions_immutable).
CREATE TABLE fee_agreement_versions (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    referral_id                 uuid NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    version                     integer NOT NULL CHECK (version >= 1),
    basis                       text NOT NULL CHECK (basis IN ('proportional', 'joint_responsibility')),
    share_kind                  text NOT NULL CHECK (share_kind IN ('percentage', 'fixed')),
    -- percentage: hundredths of a percent, the two summing to 10000; fixed: cents.
    referring_share             bigint NOT NULL CHECK (referring_share >= 0),
    receiving_share             bigint NOT NULL CHECK (receiving_share >= 0),
    client_contingency_bp       integer NOT NULL CHECK (client_contingency_bp BETWEEN 0 AND 10000),
    notes                       text CHECK (length(notes) <= 2000),
    proposed_by_firm_id         uuid NOT NULL REFERENCES firms (id),
    proposed_by_user_id         uuid REFERENCES users (id) ON DELETE SET NULL,
    proposed_by_key_id          uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    proposed_at                 timestamptz NOT NULL DEFAULT now(),
    accepted_by_firm_id         uuid REFERENCES firms (id),
    accepted_by_user_id         uuid REFERENCES users (id) ON DELETE SET NULL,
    accepted_by_key_id          uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    accepted_at                 timestamptz,
    -- Set when a later version replaces this one (accepted or not).
    superseded_at               timestamptz,
    UNIQUE (referral_id, version),
    CHECK (share_kind <> 'percentage' OR referring_share + receiving_share = 10000),
    CHECK ((accepted_at IS NULL) = (accepted_by_firm_id IS NULL)),
    CHECK (accepted_by_firm_id IS NULL OR accepted_by_firm_id <> proposed_by_firm_id)
);

-- The accepted version in force of a referral is its newest accepted version.
CREATE INDEX fee_agreement_versions_accepted_idx ON fee_agreement_versions (referral_id, version DESC) WHERE accepted_at IS NOT NULL;

CREATE FUNCTION fee_agreement_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.accepted_at IS NOT NULL AND (
        NEW.basis, NEW.share_kind, NEW.referring_share, NEW.receiving_share, NEW.client_contingency_bp,
        NEW.notes, NEW.proposed_by_firm_id, NEW.accepted_by_firm_id, NEW.accepted_at, NEW.version, NEW.referral_id
    ) IS DISTINCT FROM (
        OLD.basis, OLD.share_kind, OLD.referring_share, OLD.receiving_share, OLD.client_contingency_bp,
        OLD.notes, OLD.proposed_by_firm_id, OLD.accepted_by_firm_id, OLD.accepted_at, OLD.version, OLD.referral_id
    ) THEN
        RAISE EXCEPTION 'accepted fee agreement terms are immutable' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER fee_agreement_versions_immutable BEFORE UPDATE ON fee_agreement_versions
    FOR EACH ROW EXECUTE FUNCTION fee_agreement_versions_immutable();

-- The referral's clientFeeAgreementPercentage and sendingFirmPercentage show the accepted version
-- in force: a write of either column (PATCH, close) is replaced by the agreement's values.
-- sendingFirmPercentage is kept as written when the shares are fixed amounts.
CREATE FUNCTION referrals_fee_terms_from_agreement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v fee_agreement_versions;
BEGIN
    SELECT * INTO v FROM fee_agreement_versions
    WHERE referral_id = NEW.id AND accepted_at IS NOT NULL
    ORDER BY version DESC LIMIT 1;
    IF FOUND THEN
        NEW.client_fee_agreement_percentage := v.client_contingency_bp / 10000.0;
        IF v.share_kind = 'percentage' THEN
            NEW.sending_firm_percentage := v.referring_share / 100.0;
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER referrals_fee_terms_from_agreement BEFORE UPDATE OF client_fee_agreement_percentage, sending_firm_percentage ON referrals
    FOR EACH ROW EXECUTE FUNCTION referrals_fee_terms_from_agreement();

-- The client's consent to the division, as recorded by either firm. It covers the version that was
-- newest when it was recorded.
CREATE TABLE fee_consents (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    referral_id          uuid NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    version_id           uuid NOT NULL REFERENCES fee_agreement_versions (id) ON DELETE CASCADE,
    consented_on         date NOT NULL,
    method               text NOT NULL CHECK (method IN ('written', 'signed')),
    signer_name          text NOT NULL CHECK (length(signer_name) BETWEEN 1 AND 200),
    document_id          uuid REFERENCES documents (id) ON DELETE SET NULL,
    recorded_by_firm_id  uuid NOT NULL REFERENCES firms (id),
    recorded_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX fee_consents_referral_idx ON fee_consents (referral_id, recorded_at DESC, id DESC);

-- One ledger entry per referral closed won with attorney fees: what the receiving firm owes the
-- referring firm. Both firms read it.
CREATE TABLE fee_ledger_entries (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    referral_id          uuid NOT NULL UNIQUE REFERENCES referrals (id) ON DELETE CASCADE,
    base_case_id         uuid NOT NULL REFERENCES base_cases (id) ON DELETE CASCADE,
    referring_firm_id    uuid NOT NULL REFERENCES firms (id),
    receiving_firm_id    uuid NOT NULL REFERENCES firms (id),
    version_id           uuid REFERENCES fee_agreement_versions (id) ON DELETE SET NULL,
    status               text NOT NULL CHECK (status IN ('needs_agreement', 'due', 'partially_paid', 'paid', 'disputed', 'written_off')),
    attorney_fees_cents  bigint NOT NULL CHECK (attorney_fees_cents >= 0),
    amount_due_cents     bigint CHECK (amount_due_cents >= 0),
    paid_cents           bigint NOT NULL DEFAULT 0 CHECK (paid_cents >= 0),
    closed_on            date NOT NULL,
    due_date             date,
    dispute_reason       text CHECK (length(dispute_reason) <= 2000),
    written_off_reason   text CHECK (length(written_off_reason) <= 2000),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (amount_due_cents IS NULL OR paid_cents <= amount_due_cents),
    CHECK ((status = 'needs_agreement') = (amount_due_cents IS NULL))
);

-- The two sides of the ledger list, by due date (entries without one, waiting for an agreement,
-- sort last), with and without a status filter.
CREATE INDEX fee_ledger_referring_due_idx ON fee_ledger_entries (referring_firm_id, due_date, id);
CREATE INDEX fee_ledger_receiving_due_idx ON fee_ledger_entries (receiving_firm_id, due_date, id);
CREATE INDEX fee_ledger_referring_status_due_idx ON fee_ledger_entries (referring_firm_id, status, due_date, id);
CREATE INDEX fee_ledger_receiving_status_due_idx ON fee_ledger_entries (receiving_firm_id, status, due_date, id);

CREATE TABLE fee_payments (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    entry_id             uuid NOT NULL REFERENCES fee_ledger_entries (id) ON DELETE CASCADE,
    amount_cents         bigint NOT NULL CHECK (amount_cents > 0),
    paid_on              date NOT NULL,
    method               text NOT NULL CHECK (method IN ('check', 'wire', 'ach', 'other')),
    reference            text CHECK (length(reference) <= 200),
    recorded_by_firm_id  uuid NOT NULL REFERENCES firms (id),
    created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX fee_payments_entry_idx ON fee_payments (entry_id, created_at, id);
-- Monthly analytics read payments by the firms of their entries through this.
CREATE INDEX fee_payments_paid_on_idx ON fee_payments (paid_on, entry_id);
