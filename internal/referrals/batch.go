package referrals

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/webhooks"
)

// Writes that join the caller's transaction, for callers that write many cases at once (the CSV
// importer) or record something of their own in the same transaction (an import job's progress).
// They apply the rules of the single-case methods and record the same events, so a case imported
// in bulk is indistinguishable from one created over the API.

// CreateResult is the outcome of one input of CreateCasesTx.
type CreateResult struct {
	// ID is the new case; uuid.Nil when Err is set.
	ID uuid.UUID
	// Err is why the input was not written: apperr.ErrValidation, or apperr.ErrConflict with
	// code duplicate_sf_referral.
	Err error
}

var errBatchReferral = apperr.Validation("", apperr.FieldError{
	Field: "body.referentFirmId", Message: "cases created in bulk are drafts: refer them once created",
})

// CreateCasesTx creates draft cases without a referral for the caller's firm inside tx, under
// the rules of CreateCase: each input is checked on its own, and one that fails gets its error in
// its result and is not written, while the others are. The batch takes the Salesforce-id locks of
// all its inputs at once (an id carried by another active case of the firm, or by an earlier input
// of the batch, is a duplicate_sf_referral conflict), writes the cases with one COPY and records
// one case.created event per case. Inputs naming a ReferentFirmID or asking for a DraftReferral
// fail with apperr.ErrValidation. The returned error is a failure of tx itself (roll it back).
func (s *Service) CreateCasesTx(ctx context.Context, tx pgx.Tx, a auth.Actor, ins []CreateCaseInput) ([]CreateResult, error) {
	q := db.New(tx)
	o := &outbox{tx: tx, n: s.notifier, w: s.webhooks}
	out := make([]CreateResult, len(ins))
	actor, err := s.actorTx(ctx, q, a)
	if err != nil {
		return nil, err
	}
	rows := make([]db.BaseCaseCopyParams, len(ins))
	var keys, sfIDs []string
	for i, in := range ins {
		if in.ReferentFirmID != nil || in.DraftReferral {
			out[i].Err = errBatchReferral
			continue
		}
		refs, custom, err := s.checkNewCase(ctx, q, a, in)
		if _, ok := apperr.As(err); ok {
			out[i].Err = err
			continue
		}
		if err != nil {
			return nil, err
		}
		rows[i] = newCaseRow(actor, in, refs, custom)
		if id := rows[i].SalesforceID; id != nil {
			sfIDs = append(sfIDs, *id)
			keys = append(keys, a.FirmID.String()+"/"+*id)
		}
	}
	inUse := map[string]bool{}
	if len(keys) > 0 {
		slices.Sort(keys)
		if err := q.BaseCaseLockSalesforceIDs(ctx, slices.Compact(keys)); err != nil {
			return nil, fmt.Errorf("lock salesforce ids: %w", err)
		}
		used, err := q.BaseCaseSalesforceIDsInUse(ctx, db.BaseCaseSalesforceIDsInUseParams{FirmID: a.FirmID, SalesforceIds: sfIDs})
		if err != nil {
			return nil, fmt.Errorf("check salesforce ids: %w", err)
		}
		for _, id := range used {
			inUse[id] = true
		}
	}
	write := make([]db.BaseCaseCopyParams, 0, len(ins))
	ids := make([]uuid.UUID, 0, len(ins))
	for i := range ins {
		if out[i].Err != nil {
			continue
		}
		if id := rows[i].SalesforceID; id != nil {
			if inUse[*id] {
				out[i].Err = errDuplicateSalesforceID
				continue
			}
			inUse[*id] = true // a later input of the batch with the same id is a duplicate
		}
		out[i].ID = rows[i].ID
		write = append(write, rows[i])
		ids = append(ids, rows[i].ID)
	}
	if len(write) == 0 {
		return out, nil
	}
	if _, err := q.BaseCaseCopy(ctx, write); err != nil {
		return nil, fmt.Errorf("copy cases: %w", err)
	}
	m, err := s.loadCasesTx(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	evs := make([]webhooks.Event, 0, len(ids))
	for _, id := range ids {
		evs = append(evs, caseCreatedEvent(actor, m[id]))
	}
	if err := o.webhooksTx(ctx, evs); err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateCaseTx is UpdateCase inside the caller's transaction tx, with the same rules, errors and
// events. An error leaves tx to be rolled back.
func (s *Service) UpdateCaseTx(ctx context.Context, tx pgx.Tx, a auth.Actor, key string, p CasePatch) (CaseView, error) {
	if err := p.validate(); err != nil {
		return CaseView{}, err
	}
	return s.updateCaseTx(ctx, db.New(tx), &outbox{tx: tx, n: s.notifier, w: s.webhooks}, a, key, p, false)
}

// UpdateReferralTx is UpdateReferral inside the caller's transaction tx, with the same rules,
// errors and events. An error leaves tx to be rolled back.
func (s *Service) UpdateReferralTx(ctx context.Context, tx pgx.Tx, a auth.Actor, sel Selector, p ReferralPatch) (ReferralView, error) {
	if err := p.validate(); err != nil {
		return ReferralView{}, err
	}
	return s.updateReferralTx(ctx, db.New(tx), &outbox{tx: tx, n: s.notifier, w: s.webhooks}, a, sel, p)
}
