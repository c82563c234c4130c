package importer

// Rows are written through the referrals service's transaction-scoped functions
// (CreateCasesTx, UpdateCaseTx, UpdateReferralTx): the rules and events of the API apply to
// every imported case, and an import job records a row as written in the transaction of the
// write, so a job that restarts never writes a row twice.

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
)

// markTx records, for an import job, the rows whose case was written (in the write's
// transaction).
func (st *runState) markTx(ctx context.Context, tx pgx.Tx, nums []int32, kind outcomeKind) error {
	if st.job == nil || len(nums) == 0 {
		return nil
	}
	o := "created"
	if kind == outcomeUpdated {
		o = "updated"
	}
	outcomes := make([]string, len(nums))
	for i := range outcomes {
		outcomes[i] = o
	}
	if err := db.New(tx).ImportJobRowsMark(ctx, db.ImportJobRowsMarkParams{JobID: *st.job, RowNums: nums, Outcomes: outcomes}); err != nil {
		return fmt.Errorf("mark job rows: %w", postgres.InterpretError(err))
	}
	return nil
}

// input is the new case of a validated row.
func (p parsed) input() referrals.CreateCaseInput {
	return referrals.CreateCaseInput{
		Title: *p.title, Description: p.description,
		CaseType: p.caseType.id.String(), Jurisdiction: p.jurisdiction.code, County: p.county,
		ClientFirstName: *p.firstName, ClientLastName: *p.lastName, ClientEmail: p.email, ClientPhone: p.phone,
		ClientDateOfBirth: p.dob, IncidentDate: p.incident, Notes: p.notes, Tier: p.tier, Source: p.source,
		SalesforceID: p.ext, SalesforceObjectType: p.sfObjectType,
		IsRetainerSigned: p.retainer != nil && *p.retainer,
	}
}

// updateCase writes patch (set fields only: import cells never clear a value) to a case the
// firm owns, in a transaction that also records the row for a job.
func (st *runState) updateCase(ctx context.Context, num int, caseID uuid.UUID, patch referrals.CasePatch) error {
	return postgres.RunTx(ctx, st.s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := st.s.cases.UpdateCaseTx(ctx, tx, st.actor, caseID.String(), patch); err != nil {
			return err
		}
		return st.markTx(ctx, tx, []int32{int32(num)}, outcomeUpdated)
	})
}

// updateNotes writes the receiving firm's notes on the current referral of a case.
func (st *runState) updateNotes(ctx context.Context, num int, caseID uuid.UUID, notes *string) error {
	return postgres.RunTx(ctx, st.s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		sel := referrals.Selector{Key: caseID.String()}
		if _, err := st.s.cases.UpdateReferralTx(ctx, tx, st.actor, sel, referrals.ReferralPatch{Notes: referrals.SetOpt(notes)}); err != nil {
			return err
		}
		return st.markTx(ctx, tx, []int32{int32(num)}, outcomeUpdated)
	})
}
