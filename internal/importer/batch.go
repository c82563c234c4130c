package importer

// Batched creation. Rows that create a case are validated in Go first (against the reference
// data cached for the run), then written BatchSize at a time: one transaction per batch that
// locks the batch's external ids, leaves out the rows whose id an active case already carries
// (those rows fail, as they would alone), COPYs the others into base_cases and, for a job,
// records them as written. Rows stay independent: a batch whose transaction fails for any
// other reason is written again one row per transaction, so a row the database refuses fails
// alone and the others are still written. Outcomes of a batch are reported after it commits.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/postgres"
)

// BatchSize is the number of new cases written per transaction.
const BatchSize = 250

// pendingCreate is a validated row waiting in a worker's batch.
type pendingCreate struct {
	num int
	p   parsed
}

// creator is the user a new case names as its creator: the caller, or the creator of its API
// key (as ImportCaseInsert does).
func (st *runState) creator(ctx context.Context) (*uuid.UUID, error) {
	st.creatorOnce.Do(func() {
		switch {
		case st.actor.UserID != nil:
			st.creatorID = st.actor.UserID
		case st.actor.KeyID != nil:
			id, err := db.New(st.s.pool).ImportKeyCreator(ctx, *st.actor.KeyID)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				st.creatorErr = postgres.InterpretError(err)
				return
			}
			st.creatorID = id
		}
	})
	return st.creatorID, st.creatorErr
}

// batchRow is the COPY row of a new case for one parsed import row.
func (st *runState) batchRow(id uuid.UUID, p parsed, creator *uuid.UUID) db.ImportCaseCopyParams {
	var tier *int32
	if p.tier != nil {
		t := int32(*p.tier)
		tier = &t
	}
	return db.ImportCaseCopyParams{
		ID: id, OwnerFirmID: st.actor.FirmID, Title: *p.title, Description: p.description,
		CaseTypeID: p.caseType.id, JurisdictionCode: p.jurisdiction.code, County: p.county,
		ClientFirstName: *p.firstName, ClientLastName: *p.lastName, ClientEmail: p.email, ClientPhone: p.phone,
		ClientDateOfBirth: pgDate(p.dob), IncidentDate: pgDate(p.incident),
		Notes: p.notes, Tier: tier, Source: p.source, SalesforceID: p.ext, SalesforceObjectType: p.sfObjectType,
		IsRetainerSigned: p.retainer != nil && *p.retainer,
		CreatedByUserID:  creator, CreatedByKeyID: st.actor.KeyID,
	}
}

// writeBatch creates the cases of a batch and returns one outcome per row.
func (st *runState) writeBatch(ctx context.Context, batch []pendingCreate) []outcome {
	out := make([]outcome, 0, len(batch))
	var inUse map[string]bool
	ids := make([]uuid.UUID, len(batch))
	err := postgres.RunTx(ctx, st.s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := db.New(tx)
		creator, err := st.creator(ctx)
		if err != nil {
			return err
		}
		var keys, exts []string
		for _, pc := range batch {
			if pc.p.ext != nil {
				exts = append(exts, *pc.p.ext)
				keys = append(keys, st.actor.FirmID.String()+"/"+*pc.p.ext)
			}
		}
		inUse = map[string]bool{}
		if len(exts) > 0 {
			slices.Sort(keys)
			keys = slices.Compact(keys)
			if err := q.ImportLockExternalIDs(ctx, keys); err != nil {
				return fmt.Errorf("lock external ids: %w", err)
			}
			used, err := q.ImportExternalIDsInUse(ctx, db.ImportExternalIDsInUseParams{FirmID: st.actor.FirmID, Exts: exts})
			if err != nil {
				return fmt.Errorf("external ids in use: %w", err)
			}
			for _, u := range used {
				inUse[u] = true
			}
		}
		rows := make([]db.ImportCaseCopyParams, 0, len(batch))
		var nums []int32
		var marks []string
		for i, pc := range batch {
			if pc.p.ext != nil && inUse[*pc.p.ext] {
				continue
			}
			ids[i] = uuid.New()
			rows = append(rows, st.batchRow(ids[i], pc.p, creator))
			nums, marks = append(nums, int32(pc.num)), append(marks, "created")
		}
		if len(rows) == 0 {
			return nil
		}
		if _, err := q.ImportCaseCopy(ctx, rows); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		if st.job != nil {
			if err := q.ImportJobRowsMark(ctx, db.ImportJobRowsMarkParams{JobID: *st.job, RowNums: nums, Outcomes: marks}); err != nil {
				return fmt.Errorf("mark job rows: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			st.s.log.Warn("import: a batch failed; writing its rows one by one", "rows", len(batch), "error", err.Error())
		}
		for _, pc := range batch {
			out = append(out, st.createOne(ctx, pc.num, pc.p))
		}
		return out
	}
	for i, pc := range batch {
		if pc.p.ext != nil && inUse[*pc.p.ext] {
			out = append(out, st.failed(pc.num, st.mapErr(pc.num, errExternalIDInUse, pc.p, "")))
			continue
		}
		if pc.p.ext != nil {
			st.rememberExt(*pc.p.ext, ids[i])
		}
		out = append(out, outcome{row: pc.num, kind: outcomeCreated})
	}
	return out
}

// createOne writes one new case in its own transaction.
func (st *runState) createOne(ctx context.Context, num int, p parsed) outcome {
	id, err := st.createCase(ctx, num, p)
	if err != nil {
		return st.failed(num, st.mapErr(num, err, p, ""))
	}
	if p.ext != nil {
		st.rememberExt(*p.ext, id)
	}
	return outcome{row: num, kind: outcomeCreated}
}

// batcher collects a worker's pending creations.
type batcher struct {
	st    *runState
	items []pendingCreate
	exts  map[string]bool // external ids of the pending rows
	emit  func(outcome)
}

func newBatcher(st *runState, emit func(outcome)) *batcher {
	return &batcher{st: st, exts: map[string]bool{}, emit: emit}
}

// names reports whether a pending row carries one of the row's external ids: the row must
// then wait until that case exists.
func (b *batcher) names(rw row) bool {
	for _, col := range []string{"cmsId", "salesforceId"} {
		if v := rw.get(col); v != "" && b.exts[v] {
			return true
		}
	}
	return false
}

func (b *batcher) add(ctx context.Context, pc pendingCreate) {
	b.items = append(b.items, pc)
	if pc.p.ext != nil {
		b.exts[*pc.p.ext] = true
	}
	if len(b.items) >= BatchSize {
		b.flush(ctx)
	}
}

func (b *batcher) flush(ctx context.Context) {
	if len(b.items) == 0 {
		return
	}
	if ctx.Err() != nil {
		for _, pc := range b.items {
			b.emit(outcome{row: pc.num, kind: outcomeFailed, errs: []RowError{{Row: pc.num, Message: "the import was canceled before this row"}}})
		}
	} else {
		for _, o := range b.st.writeBatch(ctx, b.items) {
			b.emit(o)
		}
	}
	b.items = b.items[:0]
	clear(b.exts)
}
