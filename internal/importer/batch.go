package importer

// Batched creation. Rows that create a case are validated in Go first (against the reference
// data cached for the run), then written BatchSize at a time: one transaction per batch in
// which referrals.CreateCasesTx checks and writes the cases (rows whose external id an active
// case already carries fail, as they would alone) and records their case.created events, and,
// for a job, the rows are recorded as written. Rows stay independent: a batch whose transaction fails for any
// other reason is written again one row per transaction, so a row the database refuses fails
// alone and the others are still written. Outcomes of a batch are reported after it commits.

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
)

// BatchSize is the number of new cases written per transaction.
const BatchSize = 250

// pendingCreate is a validated row waiting in a worker's batch.
type pendingCreate struct {
	num int
	p   parsed
}

// writeBatch creates the cases of a batch and returns one outcome per row.
func (st *runState) writeBatch(ctx context.Context, batch []pendingCreate) []outcome {
	results, err := st.createTx(ctx, batch)
	if err != nil {
		if ctx.Err() == nil {
			st.s.log.Warn("import: a batch failed; writing its rows one by one", "rows", len(batch), "error", err.Error())
		}
		out := make([]outcome, 0, len(batch))
		for _, pc := range batch {
			out = append(out, st.createOne(ctx, pc))
		}
		return out
	}
	return st.outcomes(batch, results)
}

// createTx writes the cases of batch in one transaction and, for a job, records the rows
// written. Rows the service refuses get their error in their result; the error returned means
// nothing was written.
func (st *runState) createTx(ctx context.Context, batch []pendingCreate) ([]referrals.CreateResult, error) {
	ins := make([]referrals.CreateCaseInput, len(batch))
	for i, pc := range batch {
		ins[i] = pc.p.input()
	}
	var results []referrals.CreateResult
	err := postgres.RunTx(ctx, st.s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var err error
		results, err = st.s.cases.CreateCasesTx(ctx, tx, st.actor, ins)
		if err != nil {
			return err
		}
		var nums []int32
		for i, r := range results {
			if r.Err == nil {
				nums = append(nums, int32(batch[i].num))
			}
		}
		return st.markTx(ctx, tx, nums, outcomeCreated)
	})
	return results, err
}

// outcomes reports the rows of a committed batch.
func (st *runState) outcomes(batch []pendingCreate, results []referrals.CreateResult) []outcome {
	out := make([]outcome, 0, len(batch))
	for i, pc := range batch {
		if err := results[i].Err; err != nil {
			out = append(out, st.failed(pc.num, st.mapErr(pc.num, err, pc.p, "")))
			continue
		}
		if pc.p.ext != nil {
			st.rememberExt(*pc.p.ext, results[i].ID)
		}
		out = append(out, outcome{row: pc.num, kind: outcomeCreated})
	}
	return out
}

// createOne writes one new case in its own transaction (a row of a batch that failed as a
// whole, so that a row the database refuses fails alone).
func (st *runState) createOne(ctx context.Context, pc pendingCreate) outcome {
	one := []pendingCreate{pc}
	results, err := st.createTx(ctx, one)
	if err != nil {
		return st.failed(pc.num, st.mapErr(pc.num, err, pc.p, ""))
	}
	return st.outcomes(one, results)[0]
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
