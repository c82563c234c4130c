package fees

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/webhooks"
)

// Webhooks records webhook events inside the caller's transaction (*webhooks.Service).
type Webhooks interface {
	EnqueueTx(ctx context.Context, tx pgx.Tx, ev webhooks.Event) error
}

// Config is the fee ledger's configuration.
type Config struct {
	// NetDays is the payment term of a ledger entry: its due date is the closing date plus this.
	NetDays int
}

// Service runs fee agreements, consents and the ledger.
type Service struct {
	pool    *pgxpool.Pool
	hooks   Webhooks
	netDays int
	now     func() time.Time
}

// New returns a Service over pool; hooks may be nil (no webhook is sent).
func New(pool *pgxpool.Pool, hooks Webhooks, cfg Config) *Service {
	if cfg.NetDays <= 0 {
		cfg.NetDays = 30
	}
	return &Service{pool: pool, hooks: hooks, netDays: cfg.NetDays, now: time.Now}
}

// Profiles returns every jurisdiction rule profile, the US-ABA default first.
func (s *Service) Profiles(ctx context.Context) ([]Profile, error) {
	rows, err := db.New(s.pool).FeeProfileList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list fee profiles: %w", postgres.InterpretError(err))
	}
	out := make([]Profile, len(rows))
	for i, r := range rows {
		out[i] = profileFromRow(r)
	}
	return out, nil
}

// txRun runs fn in one read-committed transaction with its events.
func (s *Service) txRun(ctx context.Context, fn func(tx pgx.Tx, q *db.Queries) error) error {
	return postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error { return fn(tx, db.New(tx)) })
}

// referralTx resolves sel for the caller's firm and locks the referral. Errors: ErrNotFound.
func (s *Service) referralTx(ctx context.Context, q *db.Queries, a auth.Actor, sel referrals.Selector) (Referral, error) {
	sel.Receiving = false
	id, err := referrals.ResolveTx(ctx, q, a.FirmID, sel)
	if err != nil {
		return Referral{}, err
	}
	row, err := q.FeeReferralForParty(ctx, db.FeeReferralForPartyParams{ID: id, FirmID: a.FirmID})
	if errors.Is(err, pgx.ErrNoRows) {
		return Referral{}, apperr.NotFound("referral")
	}
	if err != nil {
		return Referral{}, fmt.Errorf("load referral: %w", err)
	}
	return referralFromRow(db.FeeReferralGetRow(row)), nil
}

// loadTx loads the agreement of r.
func (s *Service) loadTx(ctx context.Context, q *db.Queries, r Referral) (Agreement, error) {
	prow, err := q.FeeProfileFor(ctx, r.Jurisdiction)
	if err != nil {
		return Agreement{}, fmt.Errorf("load fee profile: %w", err)
	}
	vrows, err := q.FeeVersionList(ctx, r.ID)
	if err != nil {
		return Agreement{}, fmt.Errorf("load fee versions: %w", err)
	}
	crows, err := q.FeeConsentList(ctx, r.ID)
	if err != nil {
		return Agreement{}, fmt.Errorf("load fee consents: %w", err)
	}
	a := Agreement{Referral: r, Profile: profileFromRow(prow)}
	num := map[uuid.UUID]int{}
	for _, v := range vrows {
		a.Versions = append(a.Versions, versionFromRow(v))
		num[v.ID] = int(v.Version)
	}
	for _, c := range crows {
		cs := consentFromRow(c)
		cs.Version = num[c.VersionID]
		a.Consents = append(a.Consents, cs)
	}
	a.Compliance = Evaluate(a.Profile, a.Versions, a.Consents, r.SentAt)
	return a, nil
}

// Get returns the fee agreement of the referral sel names (with no versions when none was
// proposed). Errors: ErrNotFound when the caller's firm is not one of its two firms.
func (s *Service) Get(ctx context.Context, a auth.Actor, sel referrals.Selector) (Agreement, error) {
	var out Agreement
	err := s.txRun(ctx, func(_ pgx.Tx, q *db.Queries) error {
		r, err := s.referralTx(ctx, q, a, sel)
		if err != nil {
			return err
		}
		out, err = s.loadTx(ctx, q, r)
		return err
	})
	return out, err
}

// ProposeInput is a proposal or an amendment. Percentage shares are given as percentages (0 to
// 100, two decimals), fixed shares as decimal amounts.
type ProposeInput struct {
	Basis                       string
	ReferringFirmPercentage     *float64
	ReceivingFirmPercentage     *float64
	ReferringFirmAmount         *string
	ReceivingFirmAmount         *string
	ClientContingencyPercentage float64
	Notes                       *string
}

// terms validates in and converts it to Terms. Field names are the body's.
func (in ProposeInput) terms() (Terms, error) {
	var errs []apperr.FieldError
	bad := func(f, m string) { errs = append(errs, apperr.FieldError{Field: f, Message: m}) }
	t := Terms{Basis: in.Basis, Notes: in.Notes}
	if in.Basis != BasisProportional && in.Basis != BasisJoint {
		bad("basis", "must be proportional or joint_responsibility")
	}
	pct := in.ReferringFirmPercentage != nil || in.ReceivingFirmPercentage != nil
	fixed := in.ReferringFirmAmount != nil || in.ReceivingFirmAmount != nil
	switch {
	case pct && fixed:
		bad("referringFirmAmount", "give the shares either as percentages or as amounts, not both")
	case pct:
		t.ShareKind = SharePercentage
		if in.ReferringFirmPercentage == nil || in.ReceivingFirmPercentage == nil {
			bad("referringFirmPercentage", "both referringFirmPercentage and receivingFirmPercentage are required")
			break
		}
		a, errA := BasisPoints(*in.ReferringFirmPercentage)
		b, errB := BasisPoints(*in.ReceivingFirmPercentage)
		if errA != nil {
			bad("referringFirmPercentage", errA.Error())
		}
		if errB != nil {
			bad("receivingFirmPercentage", errB.Error())
		}
		if errA == nil && errB == nil && a+b != 10000 {
			bad("receivingFirmPercentage", "the two percentages must add up to 100")
		}
		t.ReferringShare, t.ReceivingShare = a, b
	case fixed:
		t.ShareKind = ShareFixed
		if in.ReferringFirmAmount == nil || in.ReceivingFirmAmount == nil {
			bad("referringFirmAmount", "both referringFirmAmount and receivingFirmAmount are required")
			break
		}
		a, errA := ParseAmount(*in.ReferringFirmAmount)
		b, errB := ParseAmount(*in.ReceivingFirmAmount)
		if errA != nil {
			bad("referringFirmAmount", errA.Error())
		}
		if errB != nil {
			bad("receivingFirmAmount", errB.Error())
		}
		t.ReferringShare, t.ReceivingShare = a, b
	default:
		bad("referringFirmPercentage", "give the shares as referringFirmPercentage and receivingFirmPercentage, or as referringFirmAmount and receivingFirmAmount")
	}
	c, err := BasisPoints(in.ClientContingencyPercentage)
	if err != nil {
		bad("clientContingencyPercentage", err.Error())
	}
	t.ClientContingencyBP = c
	if in.Notes != nil {
		n := strings.TrimSpace(*in.Notes)
		if len([]rune(n)) > 2000 {
			bad("notes", "must be at most 2000 characters")
		}
		if n == "" {
			t.Notes = nil
		} else {
			t.Notes = &n
		}
	}
	if len(errs) > 0 {
		return Terms{}, apperr.Validation("", errs...)
	}
	return t, nil
}

// Propose records the next version of the referral's fee agreement: the first proposal, or an
// amendment (a counter-proposal of a pending version, or a change of accepted terms, which stay
// in force until the amendment is accepted). Either firm may propose. Errors: ErrValidation,
// ErrNotFound, ErrInvalidTransition (the referral was never sent, or was rejected or
// withdrawn), ErrValidation on clientContingencyPercentage when the profile forbids a higher
// total fee than the one in force.
func (s *Service) Propose(ctx context.Context, a auth.Actor, sel referrals.Selector, in ProposeInput) (Agreement, error) {
	t, err := in.terms()
	if err != nil {
		return Agreement{}, err
	}
	var out Agreement
	err = s.txRun(ctx, func(tx pgx.Tx, q *db.Queries) error {
		r, err := s.referralTx(ctx, q, a, sel)
		if err != nil {
			return err
		}
		if r.ReceivingFirmID == nil || r.Status == "rejected" || r.Status == "withdrawn" {
			return apperr.Transition(fmt.Sprintf("a fee agreement needs a referral that was sent and is still open or closed; this one is %s", r.Status))
		}
		ag, err := s.loadTx(ctx, q, r)
		if err != nil {
			return err
		}
		if f := ag.InForce(); f != nil && !ag.Profile.TotalFeeMayChange && t.ClientContingencyBP > f.Terms.ClientContingencyBP {
			return apperr.Field("clientContingencyPercentage", fmt.Sprintf("%s: the division may not raise the client's total fee above the %s%% in force",
				ag.Profile.Name, FormatCents(f.Terms.ClientContingencyBP)))
		}
		next := len(ag.Versions) + 1
		now := s.now()
		row, err := q.FeeVersionInsert(ctx, db.FeeVersionInsertParams{
			ReferralID: r.ID, Version: int32(next), Basis: t.Basis, ShareKind: t.ShareKind,
			ReferringShare: t.ReferringShare, ReceivingShare: t.ReceivingShare, ClientContingencyBp: int32(t.ClientContingencyBP),
			Notes: t.Notes, ProposedByFirmID: a.FirmID, ProposedByUserID: a.UserID, ProposedByKeyID: a.KeyID, Now: now,
		})
		if err != nil {
			return fmt.Errorf("insert fee version: %w", postgres.InterpretError(err))
		}
		if err := q.FeeVersionSupersede(ctx, db.FeeVersionSupersedeParams{ReferralID: r.ID, Version: int32(next), Now: now}); err != nil {
			return fmt.Errorf("supersede fee versions: %w", err)
		}
		if out, err = s.loadTx(ctx, q, r); err != nil {
			return err
		}
		typ := webhooks.EventFeeAgreementProposed
		if next > 1 {
			typ = webhooks.EventFeeAgreementAmended
		}
		return s.agreementEventTx(ctx, tx, typ, a, out, versionFromRow(row), nil)
	})
	return out, err
}

// Accept accepts version number v of the referral's agreement. Only the firm that did not
// propose it may, and only while it is the newest version. Errors: ErrNotFound (no such
// referral or version), ErrPermission (the caller's firm proposed it), ErrInvalidTransition (it
// was accepted already or replaced by a later version), ErrConflict (a concurrent change won).
func (s *Service) Accept(ctx context.Context, a auth.Actor, sel referrals.Selector, v int) (Agreement, error) {
	var out Agreement
	err := s.txRun(ctx, func(tx pgx.Tx, q *db.Queries) error {
		r, err := s.referralTx(ctx, q, a, sel)
		if err != nil {
			return err
		}
		ag, err := s.loadTx(ctx, q, r)
		if err != nil {
			return err
		}
		if v < 1 || v > len(ag.Versions) {
			return apperr.NotFound("fee agreement version")
		}
		ver := ag.Versions[v-1]
		switch {
		case ver.ProposedByFirmID == a.FirmID:
			return apperr.Permission("your firm proposed this version; only the other firm may accept it")
		case ver.Accepted():
			return apperr.Transition(fmt.Sprintf("version %d is already accepted", v))
		case v != len(ag.Versions):
			return apperr.Transition(fmt.Sprintf("version %d was replaced by version %d; accept the newest version", v, len(ag.Versions)))
		}
		row, err := q.FeeVersionAccept(ctx, db.FeeVersionAcceptParams{ID: ver.ID, FirmID: a.FirmID, UserID: a.UserID, KeyID: a.KeyID, Now: s.now()})
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.Conflict("the fee agreement changed meanwhile; read it again")
		}
		if err != nil {
			return fmt.Errorf("accept fee version: %w", err)
		}
		if err := q.FeeReferralSyncTerms(ctx, r.ID); err != nil {
			return fmt.Errorf("sync referral fee terms: %w", err)
		}
		if err := s.entryAgreementTx(ctx, tx, q, r, versionFromRow(row)); err != nil {
			return err
		}
		if out, err = s.loadTx(ctx, q, r); err != nil {
			return err
		}
		return s.agreementEventTx(ctx, tx, webhooks.EventFeeAgreementAccepted, a, out, versionFromRow(row), nil)
	})
	return out, err
}

// ConsentInput is a client consent to record.
type ConsentInput struct {
	ConsentedOn time.Time
	Method      string
	SignerName  string
	DocumentID  *uuid.UUID
}

// RecordConsent records the client's consent to the newest version of the agreement. Either firm
// may. The document, when given, must be a document of the referral's case that the caller's
// firm may see. Errors: ErrValidation (bad input, an unknown or invisible document, a date in the
// future), ErrNotFound, ErrInvalidTransition (no version proposed yet).
func (s *Service) RecordConsent(ctx context.Context, a auth.Actor, sel referrals.Selector, in ConsentInput) (Agreement, error) {
	in.SignerName = strings.TrimSpace(in.SignerName)
	var errs []apperr.FieldError
	if in.Method != ConsentWritten && in.Method != ConsentSigned {
		errs = append(errs, apperr.FieldError{Field: "method", Message: "must be written or signed"})
	}
	if n := len([]rune(in.SignerName)); n < 1 || n > 200 {
		errs = append(errs, apperr.FieldError{Field: "signerName", Message: "must be 1 to 200 characters"})
	}
	if day(in.ConsentedOn).After(day(s.now()).AddDate(0, 0, 1)) {
		errs = append(errs, apperr.FieldError{Field: "consentedOn", Message: "must not be in the future"})
	}
	if len(errs) > 0 {
		return Agreement{}, apperr.Validation("", errs...)
	}
	var out Agreement
	err := s.txRun(ctx, func(tx pgx.Tx, q *db.Queries) error {
		r, err := s.referralTx(ctx, q, a, sel)
		if err != nil {
			return err
		}
		ag, err := s.loadTx(ctx, q, r)
		if err != nil {
			return err
		}
		cur := ag.Current()
		if cur == nil {
			return apperr.Transition("no fee agreement has been proposed yet; propose one before recording the client's consent")
		}
		if in.DocumentID != nil {
			ok, err := q.FeeDocumentVisible(ctx, db.FeeDocumentVisibleParams{ID: *in.DocumentID, CaseID: r.BaseCaseID, FirmID: a.FirmID})
			if err != nil {
				return fmt.Errorf("check consent document: %w", err)
			}
			if !ok {
				return apperr.Field("documentId", "no document of this case visible to your firm has this id")
			}
		}
		row, err := q.FeeConsentInsert(ctx, db.FeeConsentInsertParams{
			ReferralID: r.ID, VersionID: cur.ID, ConsentedOn: toDate(in.ConsentedOn), Method: in.Method,
			SignerName: in.SignerName, DocumentID: in.DocumentID, RecordedByFirmID: a.FirmID, Now: s.now(),
		})
		if err != nil {
			return fmt.Errorf("record consent: %w", postgres.InterpretError(err))
		}
		if out, err = s.loadTx(ctx, q, r); err != nil {
			return err
		}
		c := consentFromRow(row)
		c.Version = cur.Version
		return s.agreementEventTx(ctx, tx, webhooks.EventFeeConsentRecorded, a, out, *cur, &c)
	})
	return out, err
}
