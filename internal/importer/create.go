package importer

// STAND-IN for the referrals service.
//
// referrals.Service.CreateCase and UpdateCase take about ten round trips per case
// (reference-data lookups, actor lookup, the write, reloading the case and building its view),
// which puts a 10,000-row import at 25-50 s on a small machine. Until internal/referrals
// exports lean functions for this (see the report of issue 5), the importer writes the sending
// firm's rows itself with ImportCaseInsert and ImportCaseUpdate (db/queries/import.sql):
// exactly the base_cases changes CreateCase makes for a draft without referral and UpdateCase
// makes for the case fields an import may set, after the same checks (done in parse and apply
// with per-run caches of the reference data). A row without an external id takes one statement
// (its own implicit transaction); a row setting one takes a transaction holding the same
// advisory lock as the service's Salesforce id check. The receiving firm's notes still go
// through referrals.Service.UpdateReferral.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
)

var errExternalIDInUse = apperr.New(apperr.ErrConflict, "duplicate_sf_referral",
	"another active case of your firm already carries this external id")

// markTx records, for an import job, that row num wrote its case (in the write's transaction).
func (st *runState) markTx(ctx context.Context, q *db.Queries, num int, kind outcomeKind) error {
	if st.job == nil {
		return nil
	}
	o := "created"
	if kind == outcomeUpdated {
		o = "updated"
	}
	if err := q.ImportJobRowsMark(ctx, db.ImportJobRowsMarkParams{JobID: *st.job, RowNums: []int32{int32(num)}, Outcomes: []string{o}}); err != nil {
		return fmt.Errorf("mark job row: %w", postgres.InterpretError(err))
	}
	return nil
}

// createCase writes a draft case for a validated row and returns its id.
func (st *runState) createCase(ctx context.Context, num int, p parsed) (uuid.UUID, error) {
	params := db.ImportCaseInsertParams{
		OwnerFirmID: st.actor.FirmID, Title: *p.title, Description: p.description,
		CaseTypeID: p.caseType.id, JurisdictionCode: p.jurisdiction.code, County: p.county,
		ClientFirstName: *p.firstName, ClientLastName: *p.lastName, ClientEmail: p.email, ClientPhone: p.phone,
		ClientDateOfBirth: pgDate(p.dob), IncidentDate: pgDate(p.incident), Notes: p.notes, Source: p.source,
		SalesforceID: p.ext, SalesforceObjectType: p.sfObjectType,
		UserID: st.actor.UserID, KeyID: st.actor.KeyID,
	}
	if p.tier != nil {
		t := int32(*p.tier)
		params.Tier = &t
	}
	if p.retainer != nil {
		params.IsRetainerSigned = *p.retainer
	}
	if p.ext == nil && st.job == nil {
		id, err := db.New(st.s.pool).ImportCaseInsert(ctx, params)
		return id, postgres.InterpretError(err)
	}
	params.CheckExt = p.ext != nil
	return postgres.WithTxV(ctx, st.s.pool, func(q *db.Queries) (uuid.UUID, error) {
		if p.ext != nil {
			if err := q.ImportLockExternalID(ctx, st.actor.FirmID.String()+"/"+*p.ext); err != nil {
				return uuid.Nil, fmt.Errorf("lock external id: %w", err)
			}
		}
		id, err := q.ImportCaseInsert(ctx, params)
		if errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, errExternalIDInUse
		}
		if err != nil {
			return uuid.Nil, postgres.InterpretError(err)
		}
		return id, st.markTx(ctx, q, num, outcomeCreated)
	})
}

func pgDate(t *time.Time) pgtype.Date {
	if t == nil {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Valid: true}
}

// updateCase writes the set fields of patch (never a clearing: import cells only set values)
// to a case the firm owns, in one statement, or in a transaction with the external-id check
// when the patch sets one. It stands in for referrals.Service.UpdateCase as createCase does for
// CreateCase.
func (st *runState) updateCase(ctx context.Context, num int, caseID uuid.UUID, patch referrals.CasePatch) error {
	params := db.ImportCaseUpdateParams{
		ID: caseID, FirmID: st.actor.FirmID,
		Title: patch.Title.Value, Description: patch.Description.Value, County: patch.County.Value,
		ClientFirstName: patch.ClientFirstName.Value, ClientLastName: patch.ClientLastName.Value,
		ClientEmail: patch.ClientEmail.Value, ClientPhone: patch.ClientPhone.Value,
		ClientDateOfBirth: pgDate(patch.ClientDateOfBirth.Value), IncidentDate: pgDate(patch.IncidentDate.Value),
		Notes: patch.Notes.Value, Source: patch.Source.Value,
		SalesforceID: patch.SalesforceID.Value, SalesforceObjectType: patch.SalesforceObjectType.Value,
	}
	if patch.Tier.Value != nil {
		t := int32(*patch.Tier.Value)
		params.Tier = &t
	}
	write := func(q *db.Queries) error {
		n, err := q.ImportCaseUpdate(ctx, params)
		if err != nil {
			return postgres.InterpretError(err)
		}
		if n == 0 {
			return apperr.NotFound("case")
		}
		return st.markTx(ctx, q, num, outcomeUpdated)
	}
	if params.SalesforceID == nil && st.job == nil {
		return write(db.New(st.s.pool))
	}
	return postgres.WithTx(ctx, st.s.pool, func(q *db.Queries) error {
		if params.SalesforceID == nil {
			return write(q)
		}
		if err := q.ImportLockExternalID(ctx, st.actor.FirmID.String()+"/"+*params.SalesforceID); err != nil {
			return fmt.Errorf("lock external id: %w", err)
		}
		inUse, err := q.ImportExternalIDInUse(ctx, db.ImportExternalIDInUseParams{
			FirmID: st.actor.FirmID, SalesforceID: *params.SalesforceID, ExcludeID: caseID,
		})
		if err != nil {
			return postgres.InterpretError(err)
		}
		if inUse {
			return errExternalIDInUse
		}
		return write(q)
	})
}
