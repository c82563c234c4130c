// Package importer creates and updates cases from CSV files (POST /import/cases, POST
// /import/cases/update and `casexchange import cases`).
//
// A file is read twice. The first pass streams it to a temporary file while checking what
// concerns the whole file: size, UTF-8, CSV syntax, the header and the row count; any problem
// there rejects the file and nothing is written. The second pass handles the rows: each row
// is validated on its own; rows that update a case are written one per transaction, rows that
// create one are written in batches (batch.go) that fall back to one transaction per row when
// a batch fails. Either way a row is fully written or not at all, and a bad row does not stop
// the others. Files too large to wait for run as background jobs (jobs.go).
package importer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/refdata"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/storage"
)

// Mode selects what rows may do.
type Mode int

// Modes.
const (
	// Upsert creates a case per row, or updates the firm's case with the row's external id.
	Upsert Mode = iota
	// UpdateOnly updates existing cases and never creates one.
	UpdateOnly
)

// Options bound a run.
type Options struct {
	MaxBytes int64  // 0: no limit
	MaxRows  int    // 0: no limit
	Workers  int    // rows written concurrently; 0: DefaultWorkers
	TempDir  string // for the spooled copy; "": os.TempDir()
}

// Limits of the HTTP operations: files up to HTTPMaxBytes are accepted, and those of more
// than HTTPMaxRows data rows are imported by a background job (see Submit).
const (
	HTTPMaxBytes = 20 << 20
	HTTPMaxRows  = 10_000
)

// DefaultWorkers is the number of rows written at once when Options.Workers is 0: one per CPU,
// between 2 and 4 (more only adds lock contention on the firm's row).
var DefaultWorkers = max(2, min(4, runtime.GOMAXPROCS(0)))

// HTTPOptions are the limits of a synchronous import over HTTP (Submit checks the size
// itself and sends larger files to a job rather than refusing them).
var HTTPOptions = Options{MaxBytes: HTTPMaxBytes, MaxRows: HTTPMaxRows}

// RowError is one problem of one row. Column is nil when it concerns the whole row.
type RowError struct {
	Row     int
	Column  *string
	Message string
}

// Result is the outcome of a run: Created + Updated + Skipped + Failed = TotalRows.
type Result struct {
	TotalRows int
	Created   int
	Updated   int
	Skipped   int
	Failed    int
	Errors    []RowError // ordered by row
	// ErrorCount is the number of row errors found, more than len(Errors) when a job kept
	// only the first ones.
	ErrorCount int
}

// Cases is what the importer needs of the referrals service (*referrals.Service). Every write
// goes through it, so imported cases follow the rules of the API and record its events.
type Cases interface {
	GetCase(ctx context.Context, a auth.Actor, key string) (referrals.CaseView, error)
	CreateCasesTx(ctx context.Context, tx pgx.Tx, a auth.Actor, ins []referrals.CreateCaseInput) ([]referrals.CreateResult, error)
	UpdateCaseTx(ctx context.Context, tx pgx.Tx, a auth.Actor, key string, p referrals.CasePatch) (referrals.CaseView, error)
	UpdateReferralTx(ctx context.Context, tx pgx.Tx, a auth.Actor, sel referrals.Selector, p referrals.ReferralPatch) (referrals.ReferralView, error)
}

// Service runs imports.
type Service struct {
	pool  *pgxpool.Pool
	ref   *refdata.Service
	cases Cases
	log   *slog.Logger

	queue Queue         // import jobs (UseJobs); nil: synchronous imports only
	store storage.Store // where job uploads wait for their worker

	// onJobProgress, when set (tests only), runs after a job has recorded its progress at n rows.
	onJobProgress func(n int)
}

// New returns a Service writing cases through cases.
func New(pool *pgxpool.Pool, ref *refdata.Service, cases Cases, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{pool: pool, ref: ref, cases: cases, log: log}
}

// Run imports the CSV in r for actor's firm. progress, if not nil, is called after each row
// with the rows done so far and the total (from one goroutine). Errors concerning the whole
// file (apperr.ErrValidation on body.file, apperr.ErrTooLarge) come before anything is
// written; row problems are in the Result. A canceled ctx stops the run between rows.
func (s *Service) Run(ctx context.Context, actor auth.Actor, mode Mode, r io.Reader, opts Options, progress func(done, total int)) (Result, error) {
	sp, err := prepare(r, mode, opts)
	if err != nil {
		return Result{}, err
	}
	defer sp.close()
	var report func(*Result, int)
	if progress != nil {
		report = func(_ *Result, done int) { progress(done, sp.total) }
	}
	return s.runSpool(ctx, actor, mode, sp, runConfig{workers: opts.Workers, report: report})
}

// runConfig adjusts runSpool.
type runConfig struct {
	workers int
	// report, if not nil, is called with the running totals before the first row and after
	// each row (from one goroutine).
	report func(res *Result, done int)
	// maxErrors > 0 keeps only the errors of the lowest rows (Result.ErrorCount still counts
	// them all).
	maxErrors int
	// job, when set, records each row that writes a case in the transaction of the write, and
	// done lists the rows an earlier run of the job already wrote (they are not run again).
	job  *uuid.UUID
	done map[int]outcomeKind
}

// runSpool writes the rows of a prepared file.
func (s *Service) runSpool(ctx context.Context, actor auth.Actor, mode Mode, sp *spool, cfg runConfig) (Result, error) {
	res := Result{TotalRows: sp.total}
	if cfg.report != nil {
		cfg.report(&res, 0)
	}
	if sp.total == 0 {
		res.Errors = []RowError{}
		return res, nil
	}

	workers := cfg.workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	st := &runState{
		s: s, actor: actor, mode: mode, job: cfg.job, done: cfg.done,
		caseTypes: map[string]resolved{}, jurisdictions: map[string]resolved{}, counties: map[string]bool{},
	}
	if err := st.preload(ctx, sp); err != nil {
		return Result{}, err
	}
	queues := make([]chan row, workers)
	outcomes := make(chan outcome, workers*4)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan row, 16)
		wg.Add(1)
		go func(q <-chan row) {
			defer wg.Done()
			b := newBatcher(st, func(o outcome) { outcomes <- o })
			for rw := range q {
				if ctx.Err() != nil {
					outcomes <- outcome{row: rw.num, kind: outcomeFailed, errs: []RowError{{Row: rw.num, Message: "the import was canceled before this row"}}}
					continue
				}
				if b.names(rw) {
					b.flush(ctx)
				}
				o := st.process(ctx, rw)
				if o.pending != nil {
					b.add(ctx, *o.pending)
					continue
				}
				outcomes <- o
			}
			b.flush(ctx)
		}(queues[i])
	}

	readErr := make(chan error, 1)
	go func() {
		defer func() {
			for _, q := range queues {
				close(q)
			}
		}()
		readErr <- dispatch(ctx, sp, mode, queues)
	}()
	go func() {
		wg.Wait()
		close(outcomes)
	}()

	done := 0
	for o := range outcomes {
		done++
		switch o.kind {
		case outcomeCreated:
			res.Created++
		case outcomeUpdated:
			res.Updated++
		case outcomeSkipped:
			res.Skipped++
		default:
			res.Failed++
		}
		res.ErrorCount += len(o.errs)
		res.Errors = append(res.Errors, o.errs...)
		if cfg.maxErrors > 0 && len(res.Errors) >= 2*cfg.maxErrors {
			res.Errors = lowestRows(res.Errors, cfg.maxErrors)
		}
		if cfg.report != nil {
			cfg.report(&res, done)
		}
	}
	if err := <-readErr; err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Row < res.Errors[j].Row })
	if cfg.maxErrors > 0 && len(res.Errors) > cfg.maxErrors {
		res.Errors = res.Errors[:cfg.maxErrors]
	}
	if res.Errors == nil {
		res.Errors = []RowError{}
	}
	return res, nil
}

// lowestRows returns the first n errors by row.
func lowestRows(errs []RowError, n int) []RowError {
	out := slices.Clone(errs)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Row < out[j].Row })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// dispatch reads the spooled file and hands each row to a worker. Rows naming the same case
// (same external id or reference number) go to the same worker, so they are applied in file
// order: the first creates, the next ones update.
func dispatch(ctx context.Context, sp *spool, mode Mode, queues []chan row) error {
	cr := csv.NewReader(sp.f)
	cr.FieldsPerRecord = -1
	if _, err := cr.Read(); err != nil {
		return fmt.Errorf("import: reread header: %w", err)
	}
	next := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("import: reread: %w", err)
		}
		line, _ := cr.FieldPos(0)
		rw := row{num: line - sp.header.line + 1, cells: map[string]string{}}
		for name, i := range sp.header.index {
			if i < len(rec) {
				rw.cells[name] = strings.TrimSpace(rec[i])
			}
		}
		rw.blank = true
		for _, v := range rec {
			if strings.TrimSpace(v) != "" {
				rw.blank = false
				break
			}
		}
		w := next % len(queues)
		next++
		if k := rw.identity(mode); k != "" {
			h := fnv.New32a()
			_, _ = h.Write([]byte(k))
			w = int(h.Sum32() % uint32(len(queues)))
		}
		select {
		case queues[w] <- rw:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// row is one data row: trimmed cells by column name.
type row struct {
	num   int
	cells map[string]string
	blank bool
}

func (r row) get(col string) string { return r.cells[col] }

// identity is what names the row's case: its reference number or external id.
// An upsert ignores reference numbers, so there the external id alone names the case.
func (r row) identity(mode Mode) string {
	if v := r.get("referenceNumber"); v != "" && mode == UpdateOnly {
		return "ref:" + v
	}
	if v := r.get("cmsId"); v != "" {
		return "ext:" + v
	}
	if v := r.get("salesforceId"); v != "" {
		return "ext:" + v
	}
	return ""
}

type outcomeKind int

const (
	outcomeFailed outcomeKind = iota
	outcomeCreated
	outcomeUpdated
	outcomeSkipped
)

type outcome struct {
	row  int
	kind outcomeKind
	errs []RowError
	// pending is a validated new case not written yet: the worker adds it to its batch, whose
	// write gives the row's real outcome.
	pending *pendingCreate
}

// resolved caches a reference-data lookup of this run.
type resolved struct {
	id   uuid.UUID
	code string
	ok   bool
}

// runState is shared by the workers of one run.
type runState struct {
	s     *Service
	actor auth.Actor
	mode  Mode
	job   *uuid.UUID          // import job whose rows are recorded as they are written
	done  map[int]outcomeKind // rows an earlier run of the job wrote

	mu            sync.Mutex
	caseTypes     map[string]resolved
	jurisdictions map[string]resolved
	counties      map[string]bool
	// Cases named by the file, looked up once before the rows are handled and kept up to date
	// as rows create cases: external id -> the firm's active case, reference number -> case.
	byExt map[string]uuid.UUID
	byRef map[string]uuid.UUID
}

// preload finds, in one query each, the cases the file's external ids and reference numbers
// name.
func (st *runState) preload(ctx context.Context, sp *spool) error {
	st.byExt, st.byRef = map[string]uuid.UUID{}, map[string]uuid.UUID{}
	q := db.New(st.s.pool)
	if len(sp.exts) > 0 {
		rows, err := q.ImportCasesByExternalIDs(ctx, db.ImportCasesByExternalIDsParams{FirmID: st.actor.FirmID, Exts: sp.exts})
		if err != nil {
			return postgres.InterpretError(err)
		}
		for _, r := range rows { // newest first: the first match wins
			for _, ext := range []*string{r.CmsID, r.SalesforceID} {
				if ext != nil {
					if _, seen := st.byExt[*ext]; !seen {
						st.byExt[*ext] = r.ID
					}
				}
			}
		}
	}
	if len(sp.refs) > 0 && st.mode == UpdateOnly {
		rows, err := q.ImportCasesByReferences(ctx, db.ImportCasesByReferencesParams{FirmID: st.actor.FirmID, Refs: sp.refs})
		if err != nil {
			return postgres.InterpretError(err)
		}
		for _, r := range rows {
			st.byRef[r.Ref] = r.ID
		}
	}
	return nil
}

func (st *runState) caseByExt(ext string) (uuid.UUID, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	id, ok := st.byExt[ext]
	return id, ok
}

func (st *runState) caseByRef(ref string) (uuid.UUID, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	id, ok := st.byRef[ref]
	return id, ok
}

func (st *runState) rememberExt(ext string, id uuid.UUID) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.byExt[ext] = id
}

func (st *runState) caseType(ctx context.Context, v string) (resolved, error) {
	key := strings.ToLower(v)
	st.mu.Lock()
	r, hit := st.caseTypes[key]
	st.mu.Unlock()
	if hit {
		return r, nil
	}
	ct, err := st.s.ref.ResolveCaseType(ctx, v)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		r = resolved{}
	case err != nil:
		return r, err
	default:
		r = resolved{id: ct.ID, ok: true}
	}
	st.mu.Lock()
	st.caseTypes[key] = r
	st.mu.Unlock()
	return r, nil
}

func (st *runState) jurisdiction(ctx context.Context, v string) (resolved, error) {
	key := strings.ToUpper(v)
	st.mu.Lock()
	r, hit := st.jurisdictions[key]
	st.mu.Unlock()
	if hit {
		return r, nil
	}
	j, err := st.s.ref.ResolveJurisdiction(ctx, v)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		r = resolved{}
	case err != nil:
		return r, err
	default:
		r = resolved{code: j.Code, ok: true}
	}
	st.mu.Lock()
	st.jurisdictions[key] = r
	st.mu.Unlock()
	return r, nil
}

// county reports whether name is a county of the jurisdiction.
func (st *runState) county(ctx context.Context, code, name string) (bool, error) {
	key := code + "/" + strings.ToLower(name)
	st.mu.Lock()
	ok, hit := st.counties[key]
	st.mu.Unlock()
	if hit {
		return ok, nil
	}
	_, err := st.s.ref.ResolveCounty(ctx, code, name)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		ok = false
	case err != nil:
		return false, err
	default:
		ok = true
	}
	st.mu.Lock()
	st.counties[key] = ok
	st.mu.Unlock()
	return ok, nil
}
