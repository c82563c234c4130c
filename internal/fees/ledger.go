package fees

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/webhooks"
)

// Ledger entry statuses.
const (
	EntryNeedsAgreement = "needs_agreement"
	EntryDue            = "due"
	EntryPartiallyPaid  = "partially_paid"
	EntryPaid           = "paid"
	EntryDisputed       = "disputed"
	EntryWrittenOff     = "written_off"
)

// Aging buckets of an outstanding entry, by days past its due date.
const (
	AgingCurrent = "current"
	Aging1To30   = "1_30"
	Aging31To60  = "31_60"
	Aging61To90  = "61_90"
	AgingOver90  = "over_90"
)

// Payment methods.
var paymentMethods = map[string]bool{"check": true, "wire": true, "ach": true, "other": true}

// Entry is the ledger entry of a referral closed won: what its receiving firm owes its referring
// firm.
type Entry struct {
	ID                uuid.UUID
	ReferralID        uuid.UUID
	BaseCaseID        uuid.UUID
	ReferenceNumber   string
	ReferringFirmID   uuid.UUID
	ReferringFirmName string
	ReceivingFirmID   uuid.UUID
	ReceivingFirmName string
	VersionID         *uuid.UUID
	Status            string
	AttorneyFeesCents int64
	AmountDueCents    *int64 // nil while no agreement is accepted
	PaidCents         int64
	ClosedOn          time.Time
	DueDate           *time.Time
	DisputeReason     *string
	WrittenOffReason  *string
	Payments          []Payment
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// AgingBucket is set for outstanding entries (due, partially paid, disputed) with a due date.
	AgingBucket *string
}

// OutstandingCents is what remains to pay (nil while the amount is unknown).
func (e Entry) OutstandingCents() *int64 {
	if e.AmountDueCents == nil {
		return nil
	}
	o := *e.AmountDueCents - e.PaidCents
	if e.Status == EntryWrittenOff {
		o = 0
	}
	return &o
}

// Payment is a payment recorded against an entry.
type Payment struct {
	ID               uuid.UUID
	AmountCents      int64
	PaidOn           time.Time
	Method           string
	Reference        *string
	RecordedByFirmID uuid.UUID
	CreatedAt        time.Time
}

// Shares divides attorney fees (cents) under terms: the referring firm's share, which is the
// amount due, and the receiving firm's. Percentage shares use Allocate (they add up to the fee
// exactly); fixed shares are the agreed amounts, the referring firm's capped at the fee.
func Shares(feeCents int64, t Terms) (referring, receiving int64) {
	if t.ShareKind == ShareFixed {
		referring = min(t.ReferringShare, feeCents)
		return referring, feeCents - referring
	}
	s := Allocate(feeCents, []int64{t.ReferringShare, t.ReceivingShare})
	return s[0], s[1]
}

// outstanding reports whether an entry in status st still waits for money.
func outstanding(st string) bool {
	return st == EntryDue || st == EntryPartiallyPaid || st == EntryDisputed
}

// Aging returns the aging bucket of an entry in status st due on due, as of today (nil when it
// is not outstanding or has no due date).
func Aging(st string, due *time.Time, today time.Time) *string {
	if !outstanding(st) || due == nil {
		return nil
	}
	late := int(day(today).Sub(day(*due)).Hours() / 24)
	b := AgingOver90
	switch {
	case late <= 0:
		b = AgingCurrent
	case late <= 30:
		b = Aging1To30
	case late <= 60:
		b = Aging31To60
	case late <= 90:
		b = Aging61To90
	}
	return &b
}

// agingRange is the due date range of bucket b as of today (nil bounds: open).
func agingRange(b string, today time.Time) (from, to *time.Time, err error) {
	d := day(today)
	at := func(n int) *time.Time { t := d.AddDate(0, 0, n); return &t }
	switch b {
	case AgingCurrent:
		return at(0), nil, nil
	case Aging1To30:
		return at(-30), at(-1), nil
	case Aging31To60:
		return at(-60), at(-31), nil
	case Aging61To90:
		return at(-90), at(-61), nil
	case AgingOver90:
		return nil, at(-91), nil
	}
	return nil, nil, apperr.Field("aging", "must be one of current, 1_30, 31_60, 61_90, over_90")
}

// paidStatus is the status after payments: paid in full, partly, or not yet (a disputed entry
// stays disputed until paid in full).
func paidStatus(prev string, due, paid int64) string {
	switch {
	case paid >= due:
		return EntryPaid
	case prev == EntryDisputed:
		return EntryDisputed
	case paid > 0:
		return EntryPartiallyPaid
	}
	return EntryDue
}

// ReferralClosedTx creates the ledger entry of a referral that has just closed, in the closing
// transaction tx: when it closed won_settled with attorney fees, an entry for the referring
// firm's share under the accepted agreement in force, due after the net terms (status due), or
// with status needs_agreement when no agreement is accepted. Other closings create nothing.
func (s *Service) ReferralClosedTx(ctx context.Context, tx pgx.Tx, referralID, actorFirm uuid.UUID) error {
	q := db.New(tx)
	row, err := q.FeeReferralGet(ctx, referralID)
	if err != nil {
		return fmt.Errorf("fees: load closed referral: %w", err)
	}
	r := referralFromRow(row)
	if r.ClosingStatus == nil || *r.ClosingStatus != "won_settled" || r.AttorneyFees == nil || r.ReceivingFirmID == nil {
		return nil
	}
	fee, err := CentsOfFloat(*r.AttorneyFees)
	if err != nil {
		return fmt.Errorf("fees: attorney fees: %w", err)
	}
	vrows, err := q.FeeVersionList(ctx, r.ID)
	if err != nil {
		return fmt.Errorf("fees: load versions: %w", err)
	}
	vs := make([]Version, len(vrows))
	for i, v := range vrows {
		vs[i] = versionFromRow(v)
	}
	now := s.now()
	params := db.FeeEntryInsertParams{
		ReferralID: r.ID, BaseCaseID: r.BaseCaseID, ReferringFirmID: r.ReferringFirmID, ReceivingFirmID: *r.ReceivingFirmID,
		Status: EntryNeedsAgreement, AttorneyFeesCents: fee, ClosedOn: toDate(now), Now: now,
	}
	if v := inForce(vs); v != nil {
		due, _ := Shares(fee, v.Terms)
		params.Status, params.VersionID, params.AmountDueCents = EntryDue, &v.ID, &due
		params.DueDate = toDate(day(now).AddDate(0, 0, s.netDays))
	}
	e, err := q.FeeEntryInsert(ctx, params)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // already recorded
	}
	if err != nil {
		return fmt.Errorf("fees: create ledger entry: %w", err)
	}
	if e.Status != EntryDue {
		return nil
	}
	return s.entryEventTx(ctx, tx, webhooks.EventFeeDue, &actorFirm, r, entryFromRow(e), nil)
}

// entryAgreementTx applies a newly accepted version v to the referral's ledger entry, if any:
// an entry waiting for an agreement becomes due (from its closing date plus the net terms), and
// an entry nothing was paid on yet is recomputed. Paid, partly paid, disputed and written-off
// entries keep their amount.
func (s *Service) entryAgreementTx(ctx context.Context, tx pgx.Tx, q *db.Queries, r Referral, v Version) error {
	row, err := q.FeeEntryByReferral(ctx, r.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fees: load ledger entry: %w", err)
	}
	if row.Status != EntryNeedsAgreement && (row.Status != EntryDue || row.PaidCents != 0) {
		return nil
	}
	due, _ := Shares(row.AttorneyFeesCents, v.Terms)
	dueDate := fromDate(row.ClosedOn).AddDate(0, 0, s.netDays)
	upd, err := q.FeeEntryUpdate(ctx, db.FeeEntryUpdateParams{
		ID: row.ID, Status: EntryDue, VersionID: &v.ID, AmountDueCents: &due, PaidCents: 0, DueDate: toDate(dueDate), Now: s.now(),
	})
	if err != nil {
		return fmt.Errorf("fees: update ledger entry: %w", err)
	}
	if row.Status != EntryNeedsAgreement {
		return nil
	}
	return s.entryEventTx(ctx, tx, webhooks.EventFeeDue, nil, r, entryFromRow(upd), nil)
}

// entryTx locks the entry id of which the caller's firm is a party, with its referral.
func (s *Service) entryTx(ctx context.Context, q *db.Queries, a auth.Actor, id uuid.UUID) (db.FeeLedgerEntry, Referral, error) {
	row, err := q.FeeEntryForParty(ctx, db.FeeEntryForPartyParams{ID: id, FirmID: a.FirmID})
	if errors.Is(err, pgx.ErrNoRows) {
		return db.FeeLedgerEntry{}, Referral{}, apperr.NotFound("ledger entry")
	}
	if err != nil {
		return db.FeeLedgerEntry{}, Referral{}, fmt.Errorf("load ledger entry: %w", err)
	}
	rr, err := q.FeeReferralGet(ctx, row.ReferralID)
	if err != nil {
		return db.FeeLedgerEntry{}, Referral{}, fmt.Errorf("load referral: %w", err)
	}
	return row, referralFromRow(rr), nil
}

// PaymentInput is a payment to record.
type PaymentInput struct {
	Amount    string
	PaidOn    time.Time
	Method    string
	Reference *string
}

// RecordPayment records a payment on an entry; either firm may (the payer or the payee). The
// entry becomes partially_paid, or paid when nothing is left. Errors: ErrValidation (bad input,
// or more than the outstanding amount), ErrNotFound, ErrInvalidTransition (the entry waits for an
// agreement, or is paid or written off).
func (s *Service) RecordPayment(ctx context.Context, a auth.Actor, id uuid.UUID, in PaymentInput) (Entry, error) {
	var errs []apperr.FieldError
	amount, err := ParseAmount(in.Amount)
	if err != nil {
		errs = append(errs, apperr.FieldError{Field: "amount", Message: err.Error()})
	} else if amount == 0 {
		errs = append(errs, apperr.FieldError{Field: "amount", Message: "must be more than 0.00"})
	}
	if !paymentMethods[in.Method] {
		errs = append(errs, apperr.FieldError{Field: "method", Message: "must be one of check, wire, ach, other"})
	}
	if in.Reference != nil && len([]rune(*in.Reference)) > 200 {
		errs = append(errs, apperr.FieldError{Field: "reference", Message: "must be at most 200 characters"})
	}
	if day(in.PaidOn).After(day(s.now()).AddDate(0, 0, 1)) {
		errs = append(errs, apperr.FieldError{Field: "paidOn", Message: "must not be in the future"})
	}
	if len(errs) > 0 {
		return Entry{}, apperr.Validation("", errs...)
	}
	return s.entryWrite(ctx, a, id, func(tx pgx.Tx, q *db.Queries, e db.FeeLedgerEntry, r Referral) (db.FeeLedgerEntry, []webhooks.EventType, error) {
		if e.Status == EntryNeedsAgreement || e.Status == EntryPaid || e.Status == EntryWrittenOff {
			return e, nil, apperr.Transition(fmt.Sprintf("payments are recorded on entries that are due, partially_paid or disputed; this one is %s", e.Status))
		}
		left := *e.AmountDueCents - e.PaidCents
		if amount > left {
			return e, nil, apperr.Field("amount", fmt.Sprintf("exceeds the outstanding %s", FormatCents(left)))
		}
		if _, err := q.FeePaymentInsert(ctx, db.FeePaymentInsertParams{
			EntryID: e.ID, AmountCents: amount, PaidOn: toDate(in.PaidOn), Method: in.Method, Reference: blankToNil(in.Reference),
			RecordedByFirmID: a.FirmID, Now: s.now(),
		}); err != nil {
			return e, nil, fmt.Errorf("record payment: %w", postgres.InterpretError(err))
		}
		paid := e.PaidCents + amount
		st := paidStatus(e.Status, *e.AmountDueCents, paid)
		upd, err := q.FeeEntryUpdate(ctx, db.FeeEntryUpdateParams{
			ID: e.ID, Status: st, VersionID: e.VersionID, AmountDueCents: e.AmountDueCents, PaidCents: paid, DueDate: e.DueDate,
			DisputeReason: e.DisputeReason, WrittenOffReason: e.WrittenOffReason, Now: s.now(),
		})
		evs := []webhooks.EventType{webhooks.EventFeePaymentRecorded}
		if st == EntryPaid {
			evs = append(evs, webhooks.EventFeePaid)
		}
		return upd, evs, err
	})
}

// Dispute marks an entry disputed, with a reason. Only the receiving firm (the payer) may.
// Errors: ErrValidation, ErrNotFound, ErrPermission (the referring firm), ErrInvalidTransition
// (paid or written off).
func (s *Service) Dispute(ctx context.Context, a auth.Actor, id uuid.UUID, reason string) (Entry, error) {
	reason = strings.TrimSpace(reason)
	if n := len([]rune(reason)); n < 1 || n > 2000 {
		return Entry{}, apperr.Field("reason", "must be 1 to 2000 characters")
	}
	return s.entryWrite(ctx, a, id, func(_ pgx.Tx, q *db.Queries, e db.FeeLedgerEntry, _ Referral) (db.FeeLedgerEntry, []webhooks.EventType, error) {
		if e.ReceivingFirmID != a.FirmID {
			return e, nil, apperr.Permission("only the receiving firm, which owes the fee, may dispute it")
		}
		if e.Status == EntryNeedsAgreement {
			return e, nil, apperr.Transition("an entry waiting for an agreement has no amount to dispute; propose or amend the agreement instead")
		}
		if e.Status != EntryDue && e.Status != EntryPartiallyPaid {
			return e, nil, apperr.Transition(fmt.Sprintf("an entry that is %s cannot be disputed", e.Status))
		}
		upd, err := q.FeeEntryUpdate(ctx, db.FeeEntryUpdateParams{
			ID: e.ID, Status: EntryDisputed, VersionID: e.VersionID, AmountDueCents: e.AmountDueCents, PaidCents: e.PaidCents, DueDate: e.DueDate,
			DisputeReason: &reason, Now: s.now(),
		})
		return upd, nil, err
	})
}

// WriteOff marks an entry written off: nothing more is expected on it. Only the receiving firm
// may (the route needs the full tier). Errors: ErrValidation, ErrNotFound, ErrPermission,
// ErrInvalidTransition (paid, written off, or waiting for an agreement: no amount yet).
func (s *Service) WriteOff(ctx context.Context, a auth.Actor, id uuid.UUID, reason *string) (Entry, error) {
	reason = blankToNil(reason)
	if reason != nil && len([]rune(*reason)) > 2000 {
		return Entry{}, apperr.Field("reason", "must be at most 2000 characters")
	}
	return s.entryWrite(ctx, a, id, func(_ pgx.Tx, q *db.Queries, e db.FeeLedgerEntry, _ Referral) (db.FeeLedgerEntry, []webhooks.EventType, error) {
		if e.ReceivingFirmID != a.FirmID {
			return e, nil, apperr.Permission("only the receiving firm may write an entry off")
		}
		if e.Status == EntryPaid || e.Status == EntryWrittenOff || e.Status == EntryNeedsAgreement {
			return e, nil, apperr.Transition(fmt.Sprintf("an entry that is %s cannot be written off", e.Status))
		}
		upd, err := q.FeeEntryUpdate(ctx, db.FeeEntryUpdateParams{
			ID: e.ID, Status: EntryWrittenOff, VersionID: e.VersionID, AmountDueCents: e.AmountDueCents, PaidCents: e.PaidCents,
			DueDate: e.DueDate, DisputeReason: e.DisputeReason, WrittenOffReason: reason, Now: s.now(),
		})
		return upd, nil, err
	})
}

// entryWrite runs fn on the locked entry and returns the entry after it, with the events fn
// names recorded for both firms.
func (s *Service) entryWrite(ctx context.Context, a auth.Actor, id uuid.UUID,
	fn func(tx pgx.Tx, q *db.Queries, e db.FeeLedgerEntry, r Referral) (db.FeeLedgerEntry, []webhooks.EventType, error)) (Entry, error) {
	var out Entry
	err := s.txRun(ctx, func(tx pgx.Tx, q *db.Queries) error {
		e, r, err := s.entryTx(ctx, q, a, id)
		if err != nil {
			return err
		}
		upd, evs, err := fn(tx, q, e, r)
		if err != nil {
			return err
		}
		if out, err = s.entryGetTx(ctx, q, a.FirmID, upd.ID); err != nil {
			return err
		}
		firm := a.FirmID
		for _, typ := range evs {
			if err := s.entryEventTx(ctx, tx, typ, &firm, r, out, nil); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// GetEntry returns a ledger entry of which the caller's firm is a party. Errors: ErrNotFound.
func (s *Service) GetEntry(ctx context.Context, a auth.Actor, id uuid.UUID) (Entry, error) {
	return s.entryGetTx(ctx, db.New(s.pool), a.FirmID, id)
}

func (s *Service) entryGetTx(ctx context.Context, q *db.Queries, firm, id uuid.UUID) (Entry, error) {
	row, err := q.FeeEntryGetForParty(ctx, db.FeeEntryGetForPartyParams{ID: id, FirmID: firm})
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, apperr.NotFound("ledger entry")
	}
	if err != nil {
		return Entry{}, fmt.Errorf("load ledger entry: %w", err)
	}
	out := []Entry{partyRowEntry(row, s.now())}
	if err := s.attachPayments(ctx, q, out); err != nil {
		return Entry{}, err
	}
	return out[0], nil
}

func (s *Service) attachPayments(ctx context.Context, q *db.Queries, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(es))
	at := map[uuid.UUID]int{}
	for i, e := range es {
		ids[i], at[e.ID] = e.ID, i
		es[i].Payments = []Payment{}
	}
	rows, err := q.FeePaymentList(ctx, ids)
	if err != nil {
		return fmt.Errorf("load payments: %w", err)
	}
	for _, p := range rows {
		i := at[p.EntryID]
		es[i].Payments = append(es[i].Payments, Payment{ID: p.ID, AmountCents: p.AmountCents, PaidOn: fromDate(p.PaidOn), Method: p.Method,
			Reference: p.Reference, RecordedByFirmID: p.RecordedByFirmID, CreatedAt: p.CreatedAt})
	}
	return nil
}

func entryFromRow(e db.FeeLedgerEntry) Entry {
	return Entry{ID: e.ID, ReferralID: e.ReferralID, BaseCaseID: e.BaseCaseID, ReferringFirmID: e.ReferringFirmID,
		ReceivingFirmID: e.ReceivingFirmID, VersionID: e.VersionID, Status: e.Status, AttorneyFeesCents: e.AttorneyFeesCents,
		AmountDueCents: e.AmountDueCents, PaidCents: e.PaidCents, ClosedOn: fromDate(e.ClosedOn), DueDate: datePtr(e.DueDate),
		DisputeReason: e.DisputeReason, WrittenOffReason: e.WrittenOffReason, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

func partyRowEntry(r db.FeeEntryGetForPartyRow, now time.Time) Entry {
	e := Entry{ID: r.ID, ReferralID: r.ReferralID, BaseCaseID: r.BaseCaseID, ReferenceNumber: r.ReferenceNumber,
		ReferringFirmID: r.ReferringFirmID, ReferringFirmName: r.ReferringFirmName, ReceivingFirmID: r.ReceivingFirmID,
		ReceivingFirmName: r.ReceivingFirmName, VersionID: r.VersionID, Status: r.Status, AttorneyFeesCents: r.AttorneyFeesCents,
		AmountDueCents: r.AmountDueCents, PaidCents: r.PaidCents, ClosedOn: fromDate(r.ClosedOn), DueDate: datePtr(r.DueDate),
		DisputeReason: r.DisputeReason, WrittenOffReason: r.WrittenOffReason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	e.AgingBucket = Aging(e.Status, e.DueDate, now)
	return e
}

// Directions of the ledger list.
const (
	OwedToMe = "owed_to_me"
	IOwe     = "i_owe"
)

// ListInput selects a page of the caller's ledger.
type ListInput struct {
	Direction string // owed_to_me (the caller referred) or i_owe (the caller received)
	Status    *string
	Partner   *uuid.UUID
	DueFrom   *time.Time
	DueTo     *time.Time
	Aging     *string
	Page      int
	Limit     int
	// Cursor is the nextCursor of the previous page; with one, Page is ignored.
	Cursor string
}

var entryStatuses = map[string]bool{EntryNeedsAgreement: true, EntryDue: true, EntryPartiallyPaid: true, EntryPaid: true, EntryDisputed: true, EntryWrittenOff: true}

func blankToNil(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	if t == "" {
		return nil
	}
	return &t
}
