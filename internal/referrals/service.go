package referrals

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/refdata"
)

// Service runs every case, referral and status-update operation. The HTTP route families
// (/sent-cases, /received-referrals, /cases, /cases/{id}/referrals, /referrals, /status-updates,
// /messages) are thin adapters over it.
type Service struct {
	pool     *pgxpool.Pool
	now      func() time.Time
	notifier Notifier
	webhooks Webhooks  // see events.go
	fees     FeeLedger // see fees.go

	typesMu sync.Mutex
	types   map[uuid.UUID]caseTypeInfo
	refs    refMemo
}

// caseTypeInfo is the reference data a case needs for display; it never changes at run time.
type caseTypeInfo struct {
	label  string
	fields []refdata.CaseTypeField
}

// New returns a Service over pool.
func New(pool *pgxpool.Pool, opts ...Option) *Service {
	s := &Service{pool: pool, now: time.Now, types: map[uuid.UUID]caseTypeInfo{}, refs: refMemo{
		caseTypes: map[string]uuid.UUID{}, jurisdictions: map[string]string{}, counties: map[string]bool{},
	}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// actorInfo is the caller as recorded on rows: the person behind it and a display name.
type actorInfo struct {
	auth.Actor
	kind   string
	name   *string
	person *uuid.UUID // the user, or the user who created the API key
}

// actorTx looks up who the caller is for the rows it writes.
func (s *Service) actorTx(ctx context.Context, q *db.Queries, a auth.Actor) (actorInfo, error) {
	info := actorInfo{Actor: a, kind: ActorSystem}
	switch {
	case a.UserID != nil:
		info.kind, info.person = ActorUser, a.UserID
		name, err := q.ReferralActorUser(ctx, *a.UserID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return actorInfo{}, fmt.Errorf("look up user: %w", err)
		}
		if name != "" {
			info.name = &name
		}
	case a.KeyID != nil:
		info.kind = ActorAPIKey
		row, err := q.ReferralActorKey(ctx, *a.KeyID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return actorInfo{}, fmt.Errorf("look up api key: %w", err)
		}
		if err == nil {
			info.name, info.person = &row.Name, row.CreatedBy
		}
	}
	return info, nil
}

// lookupKey splits a flexible id into its possible readings: a UUID, a reference number
// (compared upper-case) and an external record id (compared as given).
type lookupKey struct {
	id  *uuid.UUID
	ref string
	ext string
}

func parseKey(key string) lookupKey {
	key = strings.TrimSpace(key)
	k := lookupKey{ref: strings.ToUpper(key), ext: key}
	if id, err := uuid.Parse(key); err == nil {
		k.id = &id
	}
	return k
}

// resolveCaseTx finds the case named by key among those firm may see. It returns an
// apperr.ErrNotFound error when there is none.
func resolveCaseTx(ctx context.Context, q *db.Queries, firm uuid.UUID, key string) (uuid.UUID, error) {
	k := parseKey(key)
	if k.ext == "" {
		return uuid.Nil, apperr.NotFound("case")
	}
	row, err := q.BaseCaseResolve(ctx, db.BaseCaseResolveParams{ID: k.id, Ref: k.ref, Ext: k.ext, FirmID: firm})
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, apperr.NotFound("case")
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("resolve case: %w", err)
	}
	return row.ID, nil
}

// Selector names a referral as the referral routes do.
type Selector struct {
	// Key is the referral's UUID or reference number, or the UUID, reference number or
	// external id of its case (then the newest referral of the case visible to the caller).
	Key string
	// CaseKey, when set, names the case the referral must belong to (nested routes).
	CaseKey string
	// CaseOnly makes Key name a case only (the /cases/{id} actions, which act on the case's
	// current referral).
	CaseOnly bool
	// Receiving marks the /received-referrals routes: the referring firm gets
	// apperr.ErrPermission there, reads included.
	Receiving bool
}

// resolveReferralTx finds the referral sel names among those firm may see. It returns an
// apperr.ErrNotFound error when there is none.
func resolveReferralTx(ctx context.Context, q *db.Queries, firm uuid.UUID, sel Selector) (uuid.UUID, error) {
	params := db.ReferralResolveParams{MatchCase: true, FirmID: firm}
	if sel.CaseKey != "" || sel.CaseOnly {
		caseKey := sel.CaseKey
		if sel.CaseOnly {
			caseKey = sel.Key
		}
		caseID, err := resolveCaseTx(ctx, q, firm, caseKey)
		if err != nil {
			return uuid.Nil, err
		}
		params.BaseCaseID = &caseID
	}
	k := parseKey(sel.Key)
	if k.ext == "" {
		return uuid.Nil, apperr.NotFound("referral")
	}
	params.ID, params.Ref, params.Ext = k.id, k.ref, k.ext
	if sel.CaseOnly {
		// The case is already pinned: pick its newest referral visible to the caller.
		params.ID, params.Ref, params.Ext = params.BaseCaseID, "", ""
	}
	id, err := q.ReferralResolve(ctx, params)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, apperr.NotFound("referral")
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("resolve referral: %w", err)
	}
	return id, nil
}

// loaded is a case with all its referrals, unmasked: for use inside the service only.
type loaded struct {
	c    Case
	refs []Referral // by sequence number
}

func (l loaded) referral(id uuid.UUID) (Referral, bool) {
	for _, r := range l.refs {
		if r.ID == id {
			return r, true
		}
	}
	return Referral{}, false
}

func (l loaded) latest() *Referral {
	if len(l.refs) == 0 {
		return nil
	}
	r := l.refs[len(l.refs)-1]
	return &r
}

// loadCasesTx loads cases and all their referrals, keyed by case id.
func (s *Service) loadCasesTx(ctx context.Context, q *db.Queries, ids []uuid.UUID) (map[uuid.UUID]loaded, error) {
	out := make(map[uuid.UUID]loaded, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.BaseCaseGetByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load cases: %w", err)
	}
	for _, r := range rows {
		c := caseFromRow(r.BaseCase, r.OwnerFirmName)
		info, err := s.caseType(ctx, q, c.CaseTypeID)
		if err != nil {
			return nil, err
		}
		c.CaseType = info.label
		c.CustomFields = renderCustomFields(info.fields, decodeCustomFields(r.BaseCase.CustomFields))
		out[c.ID] = loaded{c: c}
	}
	refs, err := q.ReferralListByCases(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load referrals: %w", err)
	}
	for _, r := range refs {
		l := out[r.Referral.BaseCaseID]
		l.refs = append(l.refs, referralFromRow(r.Referral, r.ReferringFirmName, r.ReferentFirmName))
		out[r.Referral.BaseCaseID] = l
	}
	return out, nil
}

func (s *Service) loadCaseTx(ctx context.Context, q *db.Queries, id uuid.UUID) (loaded, error) {
	m, err := s.loadCasesTx(ctx, q, []uuid.UUID{id})
	if err != nil {
		return loaded{}, err
	}
	l, ok := m[id]
	if !ok {
		return loaded{}, apperr.NotFound("case")
	}
	return l, nil
}

// loadReferralTx loads a referral with its case.
func (s *Service) loadReferralTx(ctx context.Context, q *db.Queries, id uuid.UUID) (loaded, Referral, error) {
	rows, err := q.ReferralGetByIDs(ctx, []uuid.UUID{id})
	if err != nil {
		return loaded{}, Referral{}, fmt.Errorf("load referral: %w", err)
	}
	if len(rows) == 0 {
		return loaded{}, Referral{}, apperr.NotFound("referral")
	}
	l, err := s.loadCaseTx(ctx, q, rows[0].Referral.BaseCaseID)
	if err != nil {
		return loaded{}, Referral{}, err
	}
	r, ok := l.referral(id)
	if !ok {
		return loaded{}, Referral{}, apperr.NotFound("referral")
	}
	return l, r, nil
}

// caseView builds viewer's view of l; a viewer with no part in it gets apperr.ErrNotFound.
func (s *Service) caseView(viewer uuid.UUID, l loaded) (CaseView, error) {
	v, ok := BuildCaseView(viewer, l.c, l.refs, s.now())
	if !ok {
		return CaseView{}, apperr.NotFound("case")
	}
	return v, nil
}

func referralView(viewer uuid.UUID, l loaded, r Referral) (ReferralView, error) {
	v, ok := BuildReferralView(viewer, l.c, r)
	if !ok {
		return ReferralView{}, apperr.NotFound("referral")
	}
	return v, nil
}

// readTx runs fn in a transaction for reads, so that what it loads is consistent.
func (s *Service) readTx(ctx context.Context, fn func(q *db.Queries) error) error {
	return postgres.RunTx(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(db.New(tx)) })
}

// readTxRaw is readTx for code that also runs statements of its own (the list families).
func (s *Service) readTxRaw(ctx context.Context, fn func(tx pgx.Tx, q *db.Queries) error) error {
	return postgres.RunTx(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(tx, db.New(tx)) })
}

// statusUpdateLockKey is the transaction-scoped advisory lock that serializes status-update
// inserts (see writeStatusUpdateTx).
const statusUpdateLockKey int64 = 0x4358_5355 // "CXSU"

// statusUpdate is an entry to write.
type statusUpdate struct {
	referral        Referral
	from            *Status
	to              Status
	isMessage       bool
	message         *string
	requestedStatus *Status
}

// writeStatusUpdateTx appends an entry to the feed. It must be the LAST statement of its
// transaction: it takes the advisory lock that serializes every status-update insert until the
// commit that follows, and the insert stamps created_at past the newest committed entry. So
// entries commit in created_at order and a poller that resumes after the newest entry it saw
// (by time or by cursor) never misses one that commits later, nor sees one twice. Taking the lock
// last also keeps lock order acyclic: all row locks of the transaction are already held. The
// deferred list refresh (migration 0020) is run just before it, so that the lock is held for
// the insert and the commit only, not for the transaction's read-model work.
func writeStatusUpdateTx(ctx context.Context, q *db.Queries, a actorInfo, u statusUpdate) (StatusUpdate, error) {
	if u.referral.ReferentFirmID == nil {
		return StatusUpdate{}, fmt.Errorf("status update on referral %s without a receiving firm", u.referral.ID)
	}
	// The list rows this transaction changed are refreshed before the lock, not at commit
	// under it: the lock is then held for the insert and the commit alone.
	if err := q.ListingsRefreshNow(ctx); err != nil {
		return StatusUpdate{}, fmt.Errorf("refresh list rows: %w", err)
	}
	if err := q.StatusUpdateLock(ctx, statusUpdateLockKey); err != nil {
		return StatusUpdate{}, fmt.Errorf("lock status updates: %w", err)
	}
	var actorFirm *uuid.UUID
	if a.kind != ActorSystem {
		actorFirm = &a.FirmID
	}
	row, err := q.StatusUpdateInsert(ctx, db.StatusUpdateInsertParams{
		ReferralID:      u.referral.ID,
		BaseCaseID:      u.referral.BaseCaseID,
		ReferringFirmID: u.referral.ReferringFirmID,
		ReferentFirmID:  *u.referral.ReferentFirmID,
		FromStatus:      statusPtrString(u.from),
		Status:          string(u.to),
		IsMessage:       u.isMessage,
		Message:         u.message,
		RequestedStatus: statusPtrString(u.requestedStatus),
		Source:          sourceOf(a.Actor),
		ActorFirmID:     actorFirm,
		ActorUserID:     a.UserID,
		ActorKeyID:      a.KeyID,
		ActorKind:       a.kind,
		ActorName:       a.name,
	})
	if err != nil {
		return StatusUpdate{}, fmt.Errorf("write status update: %w", err)
	}
	return statusUpdateFromRow(row, u.referral.ReferenceNumber), nil
}

// ResolveTx finds the referral sel names among those firm may see, inside the caller's
// transaction q, for domains layered on referrals (fees). It returns an apperr.ErrNotFound error
// when there is none.
func ResolveTx(ctx context.Context, q *db.Queries, firm uuid.UUID, sel Selector) (uuid.UUID, error) {
	return resolveReferralTx(ctx, q, firm, sel)
}
