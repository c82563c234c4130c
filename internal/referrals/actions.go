package referrals

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/network"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/ptr"
)

// Limits of action inputs.
const (
	maxMessage      = 5000
	maxReason       = 5000
	maxReferralNote = 10000
)

// ActionInput is the body of a lifecycle action. Each action reads only its own fields.
type ActionInput struct {
	// Message is an optional note recorded on the status-update entry.
	Message *string
	// Reason is required by reject and withdraw (at most 5000 characters; errors name it
	// body.reason); it becomes the closureReason and the entry's message.
	Reason *string
	// ClosingStatus is required by close.
	ClosingStatus string
	ClosureReason *string
	// ClosingNotes are recorded as the message of the close entry.
	ClosingNotes                 *string
	SettlementAmount             *float64
	AttorneyFees                 *float64
	ClientFeeAgreementPercentage *float64
	SendingFirmPercentage        *float64
	// ReferentFirmID is required by send.
	ReferentFirmID *uuid.UUID
}

// validate checks the input of action (the first of the contract's checks: 400
// validation_error naming the field).
func (in ActionInput) validate(a auth.Actor, action Action) error {
	var details []apperr.FieldError
	add := func(field, msg string) { details = append(details, apperr.FieldError{Field: field, Message: msg}) }
	if in.Message != nil && utf8.RuneCountInString(*in.Message) > maxMessage {
		add("body.message", fmt.Sprintf("must be at most %d characters", maxMessage))
	}
	switch action {
	case ActionReject, ActionWithdraw:
		switch {
		case in.Reason == nil || strings.TrimSpace(*in.Reason) == "":
			add("body.reason", "is required")
		case utf8.RuneCountInString(*in.Reason) > maxReason:
			add("body.reason", fmt.Sprintf("must be at most %d characters", maxReason))
		}
	case ActionClose:
		if !ClosingStatus(in.ClosingStatus).Valid() {
			add("body.closingStatus", "must be one of won_settled, lost, no_longer_pursuing")
		}
		if in.ClosureReason != nil && utf8.RuneCountInString(*in.ClosureReason) > maxReason {
			add("body.closureReason", fmt.Sprintf("must be at most %d characters", maxReason))
		}
		if in.ClosingNotes != nil && utf8.RuneCountInString(*in.ClosingNotes) > maxMessage {
			add("body.closingNotes", fmt.Sprintf("must be at most %d characters", maxMessage))
		}
		details = append(details, checkAmounts(map[string]*float64{
			"body.settlementAmount": in.SettlementAmount, "body.attorneyFees": in.AttorneyFees,
		})...)
		details = append(details, checkRange("body.clientFeeAgreementPercentage", in.ClientFeeAgreementPercentage, 0, 1)...)
		details = append(details, checkRange("body.sendingFirmPercentage", in.SendingFirmPercentage, 0, 100)...)
	case ActionSend:
		switch {
		case in.ReferentFirmID == nil:
			add("body.referentFirmId", "is required")
		case *in.ReferentFirmID == a.FirmID:
			add("body.referentFirmId", "must be another firm than yours (no self-referral)")
		}
	}
	if len(details) > 0 {
		return apperr.Validation("", details...)
	}
	return nil
}

// MaxAmount is the largest money amount (USD) a referral stores: a trillion dollars, far above
// any settlement or fee, and small enough that the analytics sums of every referral a firm could
// hold stay finite numbers.
const MaxAmount = 1e12

// checkAmounts checks money amounts: from 0 to MaxAmount.
func checkAmounts(m map[string]*float64) []apperr.FieldError {
	var out []apperr.FieldError
	for _, field := range sortedKeys(m) {
		v := m[field]
		switch {
		case v == nil:
		case *v < 0:
			out = append(out, apperr.FieldError{Field: field, Message: "must not be negative"})
		case !(*v <= MaxAmount): // also NaN
			out = append(out, apperr.FieldError{Field: field, Message: "must be at most 1,000,000,000,000"})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func checkRange(field string, v *float64, lo, hi float64) []apperr.FieldError {
	if v != nil && !(*v >= lo && *v <= hi) { // NaN is out of range too
		return []apperr.FieldError{{Field: field, Message: fmt.Sprintf("must be between %v and %v", lo, hi)}}
	}
	return nil
}

// checkTargetFirmTx checks that a referral may be sent to firm: an active firm. A missing or
// inactive firm is a 400 naming field.
func checkTargetFirmTx(ctx context.Context, q *db.Queries, field string, firm uuid.UUID) error {
	ok, err := q.ReferralFirmIsActive(ctx, firm)
	if err != nil {
		return fmt.Errorf("check firm: %w", err)
	}
	if !ok {
		return apperr.Field(field, "is not an active firm")
	}
	return nil
}

// checkCanReferTx checks the 409 rules of sending a case to a firm: an active outbound network
// relationship, and no active referral of the case to that firm yet.
func checkCanReferTx(ctx context.Context, q *db.Queries, owner, caseID, target uuid.UUID) error {
	ok, err := network.IsActiveTx(ctx, q, owner, target)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Conflict("your firm has no active outbound network relationship with this firm")
	}
	if caseID != uuid.Nil {
		dup, err := q.ReferralActiveToFirmExists(ctx, db.ReferralActiveToFirmExistsParams{BaseCaseID: caseID, ReferentFirmID: &target})
		if err != nil {
			return fmt.Errorf("check active referral: %w", err)
		}
		if dup {
			return apperr.Conflict("the case already has an active referral to this firm")
		}
	}
	return nil
}

// lostRaceTx explains a compare-and-set that updated nothing: the referral is gone
// (apperr.ErrNotFound) or another request moved it first (apperr.ErrConflict).
func lostRaceTx(ctx context.Context, q *db.Queries, id uuid.UUID) error {
	rows, err := q.ReferralGetByIDs(ctx, []uuid.UUID{id})
	if err != nil {
		return fmt.Errorf("reload referral: %w", err)
	}
	if len(rows) == 0 {
		return apperr.NotFound("referral")
	}
	return apperr.Conflict(fmt.Sprintf("the referral changed while this request ran (it is now %q); fetch it again and decide",
		rows[0].Referral.Status))
}

// Act applies a lifecycle action to the referral sel names and returns the referral as the
// caller now sees it. Errors, in the contract's order: apperr.ErrValidation (bad input),
// apperr.ErrNotFound (no such referral visible to the caller), apperr.ErrPermission (wrong
// side), apperr.ErrInvalidTransition (not allowed from the current status), apperr.ErrConflict
// (a concurrent change won, or for send: no network relationship or an active referral to that
// firm already).
func (s *Service) Act(ctx context.Context, a auth.Actor, sel Selector, action Action, in ActionInput) (ReferralView, error) {
	if err := in.validate(a, action); err != nil {
		return ReferralView{}, err
	}
	return writeTx(ctx, s, func(q *db.Queries, o *outbox) (ReferralView, error) {
		l, r, err := s.actTx(ctx, q, o, a, sel, action, in)
		if err != nil {
			return ReferralView{}, err
		}
		return referralView(a.FirmID, l, r)
	})
}

// ActOnCase applies action to the current referral of the case named by key (as the caller sees
// it) and returns the case as the caller now sees it. Errors are those of Act.
func (s *Service) ActOnCase(ctx context.Context, a auth.Actor, key string, action Action, in ActionInput) (CaseView, error) {
	if err := in.validate(a, action); err != nil {
		return CaseView{}, err
	}
	return writeTx(ctx, s, func(q *db.Queries, o *outbox) (CaseView, error) {
		l, _, err := s.actTx(ctx, q, o, a, Selector{Key: key, CaseOnly: true}, action, in)
		if err != nil {
			return CaseView{}, err
		}
		return s.caseView(a.FirmID, l)
	})
}

// actTx runs one action in the caller's transaction and returns the case and referral as they
// are after it. It writes the status-update entry last.
func (s *Service) actTx(ctx context.Context, q *db.Queries, o *outbox, a auth.Actor, sel Selector, action Action, in ActionInput) (loaded, Referral, error) {
	actor, err := s.actorTx(ctx, q, a)
	if err != nil {
		return loaded{}, Referral{}, err
	}
	if action == ActionSend {
		if err := checkTargetFirmTx(ctx, q, "body.referentFirmId", *in.ReferentFirmID); err != nil {
			return loaded{}, Referral{}, err
		}
	}
	id, err := resolveReferralTx(ctx, q, a.FirmID, sel)
	if err != nil {
		if sel.CaseOnly && errors.Is(err, apperr.ErrNotFound) {
			return loaded{}, Referral{}, s.caseWithoutReferralTx(ctx, q, a, sel.Key, action)
		}
		return loaded{}, Referral{}, err
	}
	l, r, err := s.loadReferralTx(ctx, q, id)
	if err != nil {
		return loaded{}, Referral{}, err
	}
	side := SideOf(a.FirmID, l.c.OwnerFirmID, &r)
	if sel.Receiving && side == SideReferring {
		return loaded{}, Referral{}, errSenderOnReceivedRoute
	}
	rule, err := Check(action, side, r.Status)
	if err != nil {
		return loaded{}, Referral{}, err
	}
	from := r.Status
	var message *string
	switch action {
	case ActionSend:
		if err := checkCanReferTx(ctx, q, l.c.OwnerFirmID, l.c.ID, *in.ReferentFirmID); err != nil {
			return loaded{}, Referral{}, err
		}
		_, err = q.ReferralSend(ctx, db.ReferralSendParams{
			ID: r.ID, ReferentFirmID: in.ReferentFirmID, ActorUserID: actor.person, ActorKeyID: a.KeyID,
		})
	default:
		params := db.ReferralTransitionParams{
			ID: r.ID, FromStatus: string(from), ToStatus: string(rule.To),
			ActorUserID: actor.person, ActorKeyID: a.KeyID,
		}
		message = in.Message
		switch action {
		case ActionAcknowledge:
			params.Acknowledge = true
		case ActionSign:
			params.Sign = true
		case ActionReject, ActionWithdraw:
			reason := strings.TrimSpace(*in.Reason)
			params.SetClosureReason, params.ClosureReason, message = true, &reason, &reason
		case ActionClose:
			cs := in.ClosingStatus
			params.ClosingStatus = &cs
			params.SetClosureReason, params.ClosureReason = in.ClosureReason != nil, in.ClosureReason
			params.SettlementAmount, params.AttorneyFees = in.SettlementAmount, in.AttorneyFees
			params.ClientFeeAgreementPercentage = in.ClientFeeAgreementPercentage
			params.SendingFirmPercentage = in.SendingFirmPercentage
			message = in.ClosingNotes
			if message == nil {
				message = in.Message
			}
		}
		_, err = q.ReferralTransition(ctx, params)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return loaded{}, Referral{}, lostRaceTx(ctx, q, r.ID)
	}
	if err != nil {
		return loaded{}, Referral{}, fmt.Errorf("%s referral: %w", action, err)
	}
	if err := q.BaseCaseTouch(ctx, l.c.ID); err != nil {
		return loaded{}, Referral{}, fmt.Errorf("touch case: %w", err)
	}
	if action == ActionClose {
		if err := o.referralClosedTx(ctx, r.ID, a.FirmID); err != nil {
			return loaded{}, Referral{}, err
		}
	}
	l, r, err = s.loadReferralTx(ctx, q, r.ID)
	if err != nil {
		return loaded{}, Referral{}, err
	}
	kind := notify.StatusChanged
	if action == ActionSend {
		kind = notify.ReferralReceived
	}
	if err := o.partnerEventTx(ctx, kind, a.FirmID, r, &from); err != nil {
		return loaded{}, Referral{}, err
	}
	su, err := writeStatusUpdateTx(ctx, q, actor, statusUpdate{referral: r, from: &from, to: r.Status, message: ptr.Trim(message)})
	if err != nil {
		return loaded{}, Referral{}, err
	}
	if err := o.statusChangedTx(ctx, actor, action, l, r, from, su); err != nil {
		return loaded{}, Referral{}, err
	}
	return l, r, nil
}

var errSenderOnReceivedRoute = apperr.Permission("your firm sent this referral; use the sent-case routes for it")

// caseWithoutReferralTx explains an action on a case that has no referral the caller can act on:
// not found when the caller cannot see the case, otherwise the state machine's answer for a
// draft.
func (s *Service) caseWithoutReferralTx(ctx context.Context, q *db.Queries, a auth.Actor, key string, action Action) error {
	caseID, err := resolveCaseTx(ctx, q, a.FirmID, key)
	if err != nil {
		return err
	}
	l, err := s.loadCaseTx(ctx, q, caseID)
	if err != nil {
		return err
	}
	if _, err := Check(action, SideOf(a.FirmID, l.c.OwnerFirmID, nil), StatusDraft); err != nil {
		return err
	}
	return TransitionError(action, StatusDraft)
}

// ReferInput is the body of a refer.
type ReferInput struct {
	ReferentFirmID      uuid.UUID
	Notes               *string
	SentExpirationHours *int
}

func (in ReferInput) validate(a auth.Actor) error {
	var details []apperr.FieldError
	if in.ReferentFirmID == a.FirmID {
		details = append(details, apperr.FieldError{Field: "body.referentFirmId", Message: "must be another firm than yours (no self-referral)"})
	}
	if in.ReferentFirmID == uuid.Nil {
		details = append(details, apperr.FieldError{Field: "body.referentFirmId", Message: "is required"})
	}
	if in.Notes != nil && utf8.RuneCountInString(*in.Notes) > maxReferralNote {
		details = append(details, apperr.FieldError{Field: "body.notes", Message: fmt.Sprintf("must be at most %d characters", maxReferralNote)})
	}
	if in.SentExpirationHours != nil && *in.SentExpirationHours < 1 {
		details = append(details, apperr.FieldError{Field: "body.sentExpirationHours", Message: "must be at least 1"})
	}
	if len(details) > 0 {
		return apperr.Validation("", details...)
	}
	return nil
}

func (in ReferInput) expiresAt(now time.Time) *time.Time {
	if in.SentExpirationHours == nil {
		return nil
	}
	t := now.Add(time.Duration(*in.SentExpirationHours) * time.Hour)
	return &t
}

// Refer sends the case named by key to a firm: the case's latest referral when it is still a
// draft, otherwise a new referral with the next sequence number. It returns the case as the
// referring firm sees it. Errors: apperr.ErrValidation (self-referral, unknown or inactive
// firm), apperr.ErrNotFound, apperr.ErrPermission (the caller only receives this case),
// apperr.ErrConflict (no active network relationship, an active referral to that firm already,
// or a concurrent refer won).
func (s *Service) Refer(ctx context.Context, a auth.Actor, key string, in ReferInput) (CaseView, error) {
	if err := in.validate(a); err != nil {
		return CaseView{}, err
	}
	return writeTx(ctx, s, func(q *db.Queries, o *outbox) (CaseView, error) {
		actor, err := s.actorTx(ctx, q, a)
		if err != nil {
			return CaseView{}, err
		}
		if err := checkTargetFirmTx(ctx, q, "body.referentFirmId", in.ReferentFirmID); err != nil {
			return CaseView{}, err
		}
		caseID, err := resolveCaseTx(ctx, q, a.FirmID, key)
		if err != nil {
			return CaseView{}, err
		}
		l, err := s.loadCaseTx(ctx, q, caseID)
		if err != nil {
			return CaseView{}, err
		}
		if l.c.OwnerFirmID != a.FirmID {
			return CaseView{}, errReceiverOnSentRoute
		}
		if err := checkCanReferTx(ctx, q, a.FirmID, caseID, in.ReferentFirmID); err != nil {
			return CaseView{}, err
		}
		newID, err := s.referTx(ctx, q, actor, l, in)
		if err != nil {
			return CaseView{}, err
		}
		if err := q.BaseCaseTouch(ctx, caseID); err != nil {
			return CaseView{}, fmt.Errorf("touch case: %w", err)
		}
		l, r, err := s.loadReferralTx(ctx, q, newID)
		if err != nil {
			return CaseView{}, err
		}
		from := StatusDraft
		if err := o.partnerEventTx(ctx, notify.ReferralReceived, a.FirmID, r, &from); err != nil {
			return CaseView{}, err
		}
		su, err := writeStatusUpdateTx(ctx, q, actor, statusUpdate{referral: r, from: &from, to: StatusSent})
		if err != nil {
			return CaseView{}, err
		}
		if err := o.statusChangedTx(ctx, actor, ActionRefer, l, r, from, su); err != nil {
			return CaseView{}, err
		}
		return s.caseView(a.FirmID, l)
	})
}

var errReceiverOnSentRoute = apperr.Permission("your firm only receives this case; use the received-referral routes for it")

// referTx sends the latest referral of l if it is a draft, or adds a new one, and returns its id.
func (s *Service) referTx(ctx context.Context, q *db.Queries, actor actorInfo, l loaded, in ReferInput) (uuid.UUID, error) {
	target := in.ReferentFirmID
	if latest := l.latest(); latest != nil && latest.Status == StatusDraft {
		id, err := q.ReferralSend(ctx, db.ReferralSendParams{
			ID: latest.ID, ReferentFirmID: &target, ExpiresAt: in.expiresAt(s.now()), Notes: in.Notes,
			ActorUserID: actor.person, ActorKeyID: actor.KeyID,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, lostRaceTx(ctx, q, latest.ID)
		}
		if err != nil {
			return uuid.Nil, fmt.Errorf("send draft: %w", err)
		}
		return id, nil
	}
	seq, err := q.ReferralNextSequence(ctx, l.c.ID)
	if err != nil {
		return uuid.Nil, fmt.Errorf("next sequence: %w", err)
	}
	// Two concurrent re-referrals of one case compute the same sequence number: the unique
	// constraint on (case, sequence) makes the later one fail with a conflict.
	return insertReferralTx(ctx, q, actor, l.c, int(seq), &target, in.Notes, in.expiresAt(s.now()))
}

func insertReferralTx(ctx context.Context, q *db.Queries, actor actorInfo, c Case, seq int, target *uuid.UUID, notes *string, expires *time.Time) (uuid.UUID, error) {
	status := StatusDraft
	if target != nil {
		status = StatusSent
	}
	id, err := q.ReferralInsert(ctx, db.ReferralInsertParams{
		BaseCaseID:       c.ID,
		SequenceNumber:   int32(seq),
		ReferenceNumber:  fmt.Sprintf("%s-R%d", c.ReferenceNumber, seq),
		ReferringFirmID:  c.OwnerFirmID,
		ReferentFirmID:   target,
		Status:           string(status),
		Notes:            notes,
		IsRetainerSigned: c.IsRetainerSigned,
		ExpiresAt:        expires,
		ActorUserID:      actor.person,
		ActorKeyID:       actor.KeyID,
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("insert referral: %w", err)
	}
	return id, nil
}

// Delete removes a draft referral. Errors: apperr.ErrNotFound, apperr.ErrPermission (not the
// referring firm), apperr.ErrInvalidTransition (not a draft), apperr.ErrConflict (it was sent
// meanwhile).
func (s *Service) Delete(ctx context.Context, a auth.Actor, sel Selector) error {
	return postgres.WithTx(ctx, s.pool, func(q *db.Queries) error {
		id, err := resolveReferralTx(ctx, q, a.FirmID, sel)
		if err != nil {
			return err
		}
		l, r, err := s.loadReferralTx(ctx, q, id)
		if err != nil {
			return err
		}
		if _, err := Check(ActionDelete, SideOf(a.FirmID, l.c.OwnerFirmID, &r), r.Status); err != nil {
			return err
		}
		n, err := q.ReferralDeleteDraft(ctx, r.ID)
		if err != nil {
			return fmt.Errorf("delete referral: %w", err)
		}
		if n == 0 {
			return lostRaceTx(ctx, q, r.ID)
		}
		// A draft has no status updates, and nobody but the owner ever saw it.
		if err := q.BaseCaseTouch(ctx, l.c.ID); err != nil {
			return fmt.Errorf("touch case: %w", err)
		}
		return nil
	})
}

// Availability is what a firm may do next with a case or referral.
type Availability struct {
	Current    Status
	ReferralID *uuid.UUID // nil for a case without referrals
	Rules      []Rule
}

// SentCaseAvailability lists what the referring firm may do with the case named by key, from
// its latest referral's status. Errors: apperr.ErrNotFound, apperr.ErrPermission (the caller
// only receives the case).
func (s *Service) SentCaseAvailability(ctx context.Context, a auth.Actor, key string) (Availability, error) {
	v, err := s.GetSentCase(ctx, a, key)
	if err != nil {
		return Availability{}, err
	}
	out := Availability{Current: v.Status(), Rules: Available(SideReferring, v.Status())}
	if v.Current != nil {
		out.ReferralID = &v.Current.ID
	}
	return out, nil
}

// ReceivedAvailability lists what the receiving firm may do with the referral sel names.
// Errors: those of GetReferral.
func (s *Service) ReceivedAvailability(ctx context.Context, a auth.Actor, sel Selector) (Availability, error) {
	sel.Receiving = true
	v, err := s.GetReferral(ctx, a, sel)
	if err != nil {
		return Availability{}, err
	}
	id := v.Referral.ID
	return Availability{Current: v.Referral.Status, ReferralID: &id, Rules: Available(SideReceiving, v.Referral.Status)}, nil
}

// ExpireOverdue withdraws, as the system, up to limit referrals still `sent` past their
// acknowledgement deadline, and returns how many it withdrew. Run it periodically.
func (s *Service) ExpireOverdue(ctx context.Context, limit int) (int, error) {
	ids, err := db.New(s.pool).ReferralExpireDue(ctx, int32(limit))
	if err != nil {
		return 0, fmt.Errorf("list overdue referrals: %w", err)
	}
	n := 0
	for _, id := range ids {
		done, err := writeTx(ctx, s, func(q *db.Queries, o *outbox) (bool, error) {
			return s.expireTx(ctx, q, o, id)
		})
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

// expireReason is the closure reason and message of an automatic withdrawal.
const expireReason = "Not acknowledged before the deadline"

// expireTx withdraws one overdue referral; false when it is no longer due.
func (s *Service) expireTx(ctx context.Context, q *db.Queries, o *outbox, id uuid.UUID) (bool, error) {
	l, r, err := s.loadReferralTx(ctx, q, id)
	if err != nil {
		return false, err
	}
	if r.Status != StatusSent || r.ExpiresAt == nil || r.ExpiresAt.After(s.now()) {
		return false, nil
	}
	reason := expireReason
	_, err = q.ReferralTransition(ctx, db.ReferralTransitionParams{
		ID: id, FromStatus: string(StatusSent), ToStatus: string(StatusWithdrawn),
		SetClosureReason: true, ClosureReason: &reason,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // acknowledged meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("expire referral: %w", err)
	}
	if err := q.BaseCaseTouch(ctx, l.c.ID); err != nil {
		return false, fmt.Errorf("touch case: %w", err)
	}
	from := StatusSent
	r.Status = StatusWithdrawn
	if err := o.partnerEventTx(ctx, notify.StatusChanged, uuid.Nil, r, &from); err != nil {
		return false, err
	}
	system := actorInfo{Actor: auth.Actor{Source: SourceSystem}, kind: ActorSystem}
	su, err := writeStatusUpdateTx(ctx, q, system, statusUpdate{referral: r, from: &from, to: StatusWithdrawn, message: &reason})
	if err != nil {
		return false, err
	}
	if l, r, err = s.loadReferralTx(ctx, q, id); err != nil {
		return false, err
	}
	if err := o.statusChangedTx(ctx, system, ActionWithdraw, l, r, from, su); err != nil {
		return false, err
	}
	return true, nil
}
