package referrals

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/postgres"
)

// Cursor is a position in the feed: just after the entry created at At with id ID.
type Cursor struct {
	At time.Time
	ID uuid.UUID
}

// cursorPrefix versions the opaque encoding.
const cursorPrefix = "v1."

// maxUUID sorts after every id: a cursor at (t, maxUUID) is after every entry created at t.
var maxUUID = uuid.UUID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// Encode returns the opaque form of c.
func (c Cursor) Encode() string {
	raw := strconv.FormatInt(c.At.UnixMicro(), 10) + "." + c.ID.String()
	return cursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor reads an opaque cursor. A malformed one is an apperr.ErrValidation error naming
// query.cursor.
func DecodeCursor(s string) (Cursor, error) {
	bad := apperr.Field("query.cursor", "is not a cursor returned by this API")
	rest, ok := strings.CutPrefix(s, cursorPrefix)
	if !ok {
		return Cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return Cursor{}, bad
	}
	micros, id, ok := strings.Cut(string(raw), ".")
	if !ok {
		return Cursor{}, bad
	}
	n, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return Cursor{}, bad
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return Cursor{}, bad
	}
	return Cursor{At: time.UnixMicro(n).UTC(), ID: u}, nil
}

// FeedQuery filters the status-update feed. With Since or Cursor set the feed is in polling
// order (oldest first, Page must be 1); otherwise newest first, for browsing.
type FeedQuery struct {
	Status   *Status
	Source   *string
	DateFrom *time.Time // inclusive
	DateTo   *time.Time // inclusive
	Since    *time.Time // exclusive
	Before   *time.Time // exclusive
	Cursor   string
	Page     Page
}

// FeedPage is one page of the feed and the position to poll from next.
type FeedPage struct {
	Items      []StatusUpdate
	Total      int
	NextCursor string
}

// Feed lists the status-update entries of every referral the caller's firm is party to. Errors:
// apperr.ErrValidation for an undecodable cursor, or a page other than 1 while polling.
func (s *Service) Feed(ctx context.Context, a auth.Actor, fq FeedQuery) (FeedPage, error) {
	polling := fq.Since != nil || fq.Cursor != ""
	var after *Cursor
	if fq.Cursor != "" {
		c, err := DecodeCursor(fq.Cursor)
		if err != nil {
			return FeedPage{}, err
		}
		after = &c
	}
	if polling && fq.Page.Page > 1 {
		return FeedPage{}, apperr.Field("query.page", "must be 1 with cursor or updatedSince: move forward with the cursor")
	}
	limit, offset := fq.Page.norm()
	p := feedParams{
		firm: a.FirmID, status: statusPtrString(fq.Status), source: fq.Source,
		since: fq.Since, before: fq.Before, lo: feedMin, hi: feedMax, afterAt: feedMin,
		limit: limit, offset: offset,
	}
	for _, t := range []*time.Time{fq.DateFrom, fq.Since} {
		if t != nil && t.After(p.lo) {
			p.lo = *t
		}
	}
	for _, t := range []*time.Time{fq.DateTo, fq.Before} {
		if t != nil && t.Before(p.hi) {
			p.hi = *t
		}
	}
	if after != nil {
		p.afterAt, p.afterID = after.At, after.ID
		if after.At.After(p.lo) {
			p.lo = after.At
		}
	}
	// The row bound (created_at, id) > (afterAt, afterID) is where the index scan starts: the
	// btree takes it as the start key over the scalar created_at >= lo, so a row bound below lo
	// would make the scan walk the firm's whole history up to lo. Raise it to (lo, nil id),
	// which excludes no entry (ids are random, never the nil UUID).
	if p.afterAt.Before(p.lo) {
		p.afterAt, p.afterID = p.lo, uuid.Nil
	}
	q := db.New(s.pool)
	// The common poll (no status or source filter) reads its page and total in one statement;
	// every other request counts after its page.
	var (
		out     FeedPage
		err     error
		pollOne = polling && p.status == nil && p.source == nil
	)
	if pollOne {
		out.Items, out.Total, err = p.poll(ctx, q)
	} else {
		out.Items, err = p.page(ctx, q, polling)
	}
	if err != nil {
		return FeedPage{}, err
	}
	switch {
	case polling && len(out.Items) > 0:
		last := out.Items[len(out.Items)-1]
		out.NextCursor = Cursor{At: last.CreatedAt, ID: last.ID}.Encode()
	case polling:
		// Nothing new: stay where the request started.
		start := Cursor{At: *firstTime(fq.Since), ID: maxUUID}
		if after != nil && (fq.Since == nil || !after.At.Before(*fq.Since)) {
			start = *after
		}
		out.NextCursor = start.Encode()
	default:
		// Browsing: the newest matching entry, where a poller should start.
		newest := Cursor{At: time.Unix(0, 0).UTC()}
		if offset == 0 && len(out.Items) > 0 {
			newest = Cursor{At: out.Items[0].CreatedAt, ID: out.Items[0].ID}
		} else {
			first := p
			first.offset, first.limit = 0, 1
			top, err := first.page(ctx, q, false)
			if err != nil {
				return FeedPage{}, err
			}
			if len(top) > 0 {
				newest = Cursor{At: top[0].CreatedAt, ID: top[0].ID}
			}
		}
		out.NextCursor = newest.Encode()
	}
	if !pollOne {
		if out.Total, err = p.count(ctx, q); err != nil {
			return FeedPage{}, err
		}
	}
	return out, nil
}

// The open bounds of the feed's created-at range.
var (
	feedMin = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	feedMax = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// feedParams are one feed request in the terms of the StatusUpdateFeed* queries: lo and hi
// bound created_at inclusively (so the range is an index condition of both sides), since,
// before and the cursor position are exclusive.
type feedParams struct {
	firm            uuid.UUID
	status, source  *string
	since, before   *time.Time
	lo, hi, afterAt time.Time
	afterID         uuid.UUID
	limit, offset   int32
}

func (p feedParams) window() int32 {
	if p.offset > math.MaxInt32-p.limit {
		return math.MaxInt32
	}
	return p.offset + p.limit
}

// page reads one page, oldest first when asc (polling), newest first otherwise.
func (p feedParams) page(ctx context.Context, q *db.Queries, asc bool) ([]StatusUpdate, error) {
	var out []StatusUpdate
	if asc {
		rows, err := q.StatusUpdateFeedAsc(ctx, db.StatusUpdateFeedAscParams{
			FirmID: p.firm, Lo: p.lo, Hi: p.hi, Status: p.status, Source: p.source, Since: p.since, Before: p.before,
			AfterAt: p.afterAt, AfterID: p.afterID, RowWindow: p.window(), RowOffset: p.offset, RowLimit: p.limit,
		})
		if err != nil {
			return nil, fmt.Errorf("list status updates: %w", postgres.InterpretError(err))
		}
		out = make([]StatusUpdate, 0, len(rows))
		for _, r := range rows {
			out = append(out, statusUpdateFromRow(r.StatusUpdate, r.ReferralReferenceNumber))
		}
		return out, nil
	}
	rows, err := q.StatusUpdateFeedDesc(ctx, db.StatusUpdateFeedDescParams{
		FirmID: p.firm, Lo: p.lo, Hi: p.hi, Status: p.status, Source: p.source, Since: p.since, Before: p.before,
		RowWindow: p.window(), RowOffset: p.offset, RowLimit: p.limit,
	})
	if err != nil {
		return nil, fmt.Errorf("list status updates: %w", postgres.InterpretError(err))
	}
	out = make([]StatusUpdate, 0, len(rows))
	for _, r := range rows {
		out = append(out, statusUpdateFromRow(r.StatusUpdate, r.ReferralReferenceNumber))
	}
	return out, nil
}

// poll reads a poll's page (oldest first, from offset 0, no status or source filter) and the
// total of the entries after its position, in one statement (StatusUpdatePoll).
func (p feedParams) poll(ctx context.Context, q *db.Queries) ([]StatusUpdate, int, error) {
	at, id, until := p.pollBounds()
	rows, err := q.StatusUpdatePoll(ctx, db.StatusUpdatePollParams{
		FirmID: p.firm, AfterAt: at, AfterID: id, Until: until, RowLimit: p.limit,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list status updates: %w", postgres.InterpretError(err))
	}
	out := make([]StatusUpdate, 0, len(rows))
	total := 0 // no row: nothing after the position
	for _, r := range rows {
		out = append(out, statusUpdateFromRow(r.StatusUpdate, r.ReferralReferenceNumber))
		total = int(r.Total)
	}
	return out, total, nil
}

// pollBounds folds p's bounds into the two of StatusUpdatePoll: the position (at, id) after
// which entries count, and the exclusive end until. The position is already at or after
// (lo, nil id) (see Feed); since is exclusive, so a position at since moves past every entry
// stamped at that instant (no id is above maxUUID). hi is inclusive and created_at has
// microseconds, so created_at <= hi is created_at < hi + 1 µs.
func (p feedParams) pollBounds() (at time.Time, id uuid.UUID, until time.Time) {
	at, id = p.afterAt, p.afterID
	if p.since != nil && !at.After(*p.since) {
		at, id = *p.since, maxUUID
	}
	until = p.hi.Add(time.Microsecond)
	if p.before != nil && p.before.Before(until) {
		until = *p.before
	}
	return at, id, until
}

// count counts the matches across all pages.
func (p feedParams) count(ctx context.Context, q *db.Queries) (int, error) {
	if p.status == nil && p.source == nil {
		n, err := q.StatusUpdateFeedCountRange(ctx, db.StatusUpdateFeedCountRangeParams{
			FirmID: p.firm, Lo: p.lo, Hi: p.hi, Since: p.since, Before: p.before, AfterAt: p.afterAt, AfterID: p.afterID,
		})
		if err != nil {
			return 0, fmt.Errorf("count status updates: %w", postgres.InterpretError(err))
		}
		return int(n), nil
	}
	n, err := q.StatusUpdateFeedCount(ctx, db.StatusUpdateFeedCountParams{
		FirmID: p.firm, Lo: p.lo, Hi: p.hi, Status: p.status, Source: p.source, Since: p.since, Before: p.before,
		AfterAt: p.afterAt, AfterID: p.afterID,
	})
	if err != nil {
		return 0, fmt.Errorf("count status updates: %w", postgres.InterpretError(err))
	}
	return int(n), nil
}

func firstTime(ts ...*time.Time) *time.Time {
	for _, t := range ts {
		if t != nil {
			return t
		}
	}
	zero := time.Unix(0, 0).UTC()
	return &zero
}

// Lookup returns every entry, oldest first, of the referral or case key names: a referral UUID
// or reference number gives that referral's entries, a case UUID, reference number or external
// id those of all the case's referrals the caller may see. Errors: apperr.ErrNotFound.
func (s *Service) Lookup(ctx context.Context, a auth.Actor, key string) ([]StatusUpdate, error) {
	var out []StatusUpdate
	err := s.readTx(ctx, func(q *db.Queries) error {
		k := parseKey(key)
		if k.ext == "" {
			return apperr.NotFound("case or referral")
		}
		id, err := q.ReferralResolve(ctx, db.ReferralResolveParams{ID: k.id, Ref: k.ref, Ext: k.ext, FirmID: a.FirmID})
		switch {
		case err == nil:
			out, err = entriesTx(ctx, q, []uuid.UUID{id})
			return err
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("resolve referral: %w", err)
		}
		out, err = s.caseEntriesTx(ctx, q, a, key)
		if errors.Is(err, apperr.ErrNotFound) {
			return apperr.NotFound("case or referral")
		}
		return err
	})
	return out, err
}

// CaseHistory returns every entry, oldest first, of the referrals of the case named by key that
// the caller may see. Errors: apperr.ErrNotFound.
func (s *Service) CaseHistory(ctx context.Context, a auth.Actor, key string) ([]StatusUpdate, error) {
	var out []StatusUpdate
	err := s.readTx(ctx, func(q *db.Queries) (err error) {
		out, err = s.caseEntriesTx(ctx, q, a, key)
		return err
	})
	return out, err
}

func (s *Service) caseEntriesTx(ctx context.Context, q *db.Queries, a auth.Actor, key string) ([]StatusUpdate, error) {
	caseID, err := resolveCaseTx(ctx, q, a.FirmID, key)
	if err != nil {
		return nil, err
	}
	l, err := s.loadCaseTx(ctx, q, caseID)
	if err != nil {
		return nil, err
	}
	v, err := s.caseView(a.FirmID, l)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, 0, len(v.Referrals))
	for _, r := range v.Referrals {
		ids = append(ids, r.ID)
	}
	return entriesTx(ctx, q, ids)
}

// ReferralHistory returns every entry of the referral sel names, oldest first. Errors:
// apperr.ErrNotFound.
func (s *Service) ReferralHistory(ctx context.Context, a auth.Actor, sel Selector) ([]StatusUpdate, error) {
	var out []StatusUpdate
	err := s.readTx(ctx, func(q *db.Queries) error {
		id, err := resolveReferralTx(ctx, q, a.FirmID, sel)
		if err != nil {
			return err
		}
		out, err = entriesTx(ctx, q, []uuid.UUID{id})
		return err
	})
	return out, err
}

func entriesTx(ctx context.Context, q *db.Queries, referralIDs []uuid.UUID) ([]StatusUpdate, error) {
	out := []StatusUpdate{}
	if len(referralIDs) == 0 {
		return out, nil
	}
	rows, err := q.StatusUpdateListByReferrals(ctx, referralIDs)
	if err != nil {
		return nil, fmt.Errorf("list status updates: %w", err)
	}
	for _, r := range rows {
		out = append(out, statusUpdateFromRow(r.StatusUpdate, r.ReferralReferenceNumber))
	}
	return out, nil
}

// MessageInput is a message to the partner firm of a referral.
type MessageInput struct {
	// Key names the referral, or a case (then its newest referral visible to the caller).
	Key             string
	Message         string
	RequestedStatus *Status
}

// SendMessage writes a message entry on a referral; it never changes the referral's status.
// Errors: apperr.ErrValidation, apperr.ErrNotFound (nothing visible matches Key),
// apperr.ErrConflict (the case has no sent referral, so no partner firm).
func (s *Service) SendMessage(ctx context.Context, a auth.Actor, in MessageInput) (StatusUpdate, error) {
	var f fieldChecker
	f.required("body.message", in.Message, maxMessage)
	if in.RequestedStatus != nil && !in.RequestedStatus.Valid() {
		f.add("body.requestedStatus", "is not a status")
	}
	if err := f.err(); err != nil {
		return StatusUpdate{}, err
	}
	if utf8.RuneCountInString(strings.TrimSpace(in.Key)) == 0 {
		return StatusUpdate{}, apperr.NotFound("case or referral")
	}
	return writeTx(ctx, s, func(q *db.Queries, o *outbox) (StatusUpdate, error) {
		actor, err := s.actorTx(ctx, q, a)
		if err != nil {
			return StatusUpdate{}, err
		}
		id, err := resolveReferralTx(ctx, q, a.FirmID, Selector{Key: in.Key})
		if errors.Is(err, apperr.ErrNotFound) {
			if _, cerr := resolveCaseTx(ctx, q, a.FirmID, in.Key); cerr == nil {
				return StatusUpdate{}, errNoPartner
			}
			return StatusUpdate{}, apperr.NotFound("case or referral")
		}
		if err != nil {
			return StatusUpdate{}, err
		}
		// The row lock waits for a concurrent transition, so the status recorded is current.
		row, err := q.ReferralTouchActivity(ctx, id)
		if err != nil {
			return StatusUpdate{}, fmt.Errorf("touch referral: %w", err)
		}
		if row.Status == string(StatusDraft) || row.ReferentFirmID == nil {
			return StatusUpdate{}, errNoPartner
		}
		l, r, err := s.loadReferralTx(ctx, q, id)
		if err != nil {
			return StatusUpdate{}, err
		}
		if err := o.partnerEventTx(ctx, notify.MessageReceived, a.FirmID, r, nil); err != nil {
			return StatusUpdate{}, err
		}
		msg := strings.TrimSpace(in.Message)
		su, err := writeStatusUpdateTx(ctx, q, actor, statusUpdate{
			referral: r, to: r.Status, isMessage: true, message: &msg, requestedStatus: in.RequestedStatus,
		})
		if err != nil {
			return StatusUpdate{}, err
		}
		return su, o.noteCreatedTx(ctx, actor, l, r, su)
	})
}

var errNoPartner = apperr.Conflict("the case has not been referred yet, so there is no partner firm to write to")
