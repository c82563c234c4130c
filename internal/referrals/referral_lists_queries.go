package referrals

// The dispatch table of the referral lists' static queries (db/queries/referral_lists.sql): each
// entry runs one query with the fields it takes from listArgs.

import (
	"context"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
)

// listArgs carries every parameter any list query takes.
type listArgs struct {
	FirmID    uuid.UUID
	Status    string
	Closing   string
	Pattern   string
	FirmIds   []uuid.UUID
	After     bool
	KTs       time.Time
	KText     string
	KID       uuid.UUID
	RowLimit  int32
	RowOffset int32
}

// window is how many rows each side of a merged list reads: the offset and the page, saturated.
func (a listArgs) window() int32 {
	if a.RowOffset > math.MaxInt32-a.RowLimit {
		return math.MaxInt32
	}
	return a.RowOffset + a.RowLimit
}

type listQuery func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error)

var listQueries = map[string]listQuery{
	"PartyList": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.PartyList(ctx, db.PartyListParams{FirmID: a.FirmID, RowWindow: a.window(), RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"PartyListKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.PartyListKey(ctx, db.PartyListKeyParams{FirmID: a.FirmID, KTs: a.KTs, KID: a.KID, RowLimit: a.RowLimit})
	},
	"PartyListStatus": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.PartyListStatus(ctx, db.PartyListStatusParams{FirmID: a.FirmID, Status: a.Status, Closing: a.Closing, RowWindow: a.window(), RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"PartyListStatusKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.PartyListStatusKey(ctx, db.PartyListStatusKeyParams{FirmID: a.FirmID, Status: a.Status, Closing: a.Closing, KTs: a.KTs, KID: a.KID, RowLimit: a.RowLimit})
	},
	"ReceivedListReferenceAsc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListReferenceAsc(ctx, db.ReceivedListReferenceAscParams{FirmID: a.FirmID, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedListReferenceAscKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListReferenceAscKey(ctx, db.ReceivedListReferenceAscKeyParams{FirmID: a.FirmID, KText: a.KText, RowLimit: a.RowLimit})
	},
	"ReceivedListReferenceDesc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListReferenceDesc(ctx, db.ReceivedListReferenceDescParams{FirmID: a.FirmID, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedListReferenceDescKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListReferenceDescKey(ctx, db.ReceivedListReferenceDescKeyParams{FirmID: a.FirmID, KText: a.KText, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusAsc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusAsc(ctx, db.ReceivedListStatusAscParams{FirmID: a.FirmID, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusAscKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusAscKey(ctx, db.ReceivedListStatusAscKeyParams{FirmID: a.FirmID, KText: a.KText, KTs: a.KTs, KID: a.KID, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusDesc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusDesc(ctx, db.ReceivedListStatusDescParams{FirmID: a.FirmID, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusDescKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusDescKey(ctx, db.ReceivedListStatusDescKeyParams{FirmID: a.FirmID, KText: a.KText, KTs: a.KTs, KID: a.KID, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusReferenceAsc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusReferenceAsc(ctx, db.ReceivedListStatusReferenceAscParams{FirmID: a.FirmID, Status: a.Status, Closing: a.Closing, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusReferenceAscKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusReferenceAscKey(ctx, db.ReceivedListStatusReferenceAscKeyParams{FirmID: a.FirmID, Status: a.Status, Closing: a.Closing, KText: a.KText, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusReferenceDesc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusReferenceDesc(ctx, db.ReceivedListStatusReferenceDescParams{FirmID: a.FirmID, Status: a.Status, Closing: a.Closing, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusReferenceDescKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusReferenceDescKey(ctx, db.ReceivedListStatusReferenceDescKeyParams{FirmID: a.FirmID, Status: a.Status, Closing: a.Closing, KText: a.KText, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusUpdatedAsc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusUpdatedAsc(ctx, db.ReceivedListStatusUpdatedAscParams{FirmID: a.FirmID, Status: a.Status, Closing: a.Closing, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusUpdatedAscKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusUpdatedAscKey(ctx, db.ReceivedListStatusUpdatedAscKeyParams{FirmID: a.FirmID, Status: a.Status, Closing: a.Closing, KTs: a.KTs, KID: a.KID, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusUpdatedDesc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusUpdatedDesc(ctx, db.ReceivedListStatusUpdatedDescParams{FirmID: a.FirmID, Status: a.Status, Closing: a.Closing, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedListStatusUpdatedDescKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListStatusUpdatedDescKey(ctx, db.ReceivedListStatusUpdatedDescKeyParams{FirmID: a.FirmID, Status: a.Status, Closing: a.Closing, KTs: a.KTs, KID: a.KID, RowLimit: a.RowLimit})
	},
	"ReceivedListUpdatedAsc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListUpdatedAsc(ctx, db.ReceivedListUpdatedAscParams{FirmID: a.FirmID, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedListUpdatedAscKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListUpdatedAscKey(ctx, db.ReceivedListUpdatedAscKeyParams{FirmID: a.FirmID, KTs: a.KTs, KID: a.KID, RowLimit: a.RowLimit})
	},
	"ReceivedListUpdatedDesc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListUpdatedDesc(ctx, db.ReceivedListUpdatedDescParams{FirmID: a.FirmID, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedListUpdatedDescKey": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedListUpdatedDescKey(ctx, db.ReceivedListUpdatedDescKeyParams{FirmID: a.FirmID, KTs: a.KTs, KID: a.KID, RowLimit: a.RowLimit})
	},
	"ReceivedSearchReferenceAsc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedSearchReferenceAsc(ctx, db.ReceivedSearchReferenceAscParams{FirmID: a.FirmID, Pattern: a.Pattern, FirmIds: a.FirmIds, Status: a.Status, Closing: a.Closing, After: a.After, KText: a.KText, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedSearchReferenceDesc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedSearchReferenceDesc(ctx, db.ReceivedSearchReferenceDescParams{FirmID: a.FirmID, Pattern: a.Pattern, FirmIds: a.FirmIds, Status: a.Status, Closing: a.Closing, After: a.After, KText: a.KText, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedSearchStatusAsc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedSearchStatusAsc(ctx, db.ReceivedSearchStatusAscParams{FirmID: a.FirmID, Pattern: a.Pattern, FirmIds: a.FirmIds, Status: a.Status, Closing: a.Closing, After: a.After, KText: a.KText, KTs: a.KTs, KID: a.KID, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedSearchStatusDesc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedSearchStatusDesc(ctx, db.ReceivedSearchStatusDescParams{FirmID: a.FirmID, Pattern: a.Pattern, FirmIds: a.FirmIds, Status: a.Status, Closing: a.Closing, After: a.After, KText: a.KText, KTs: a.KTs, KID: a.KID, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedSearchUpdatedAsc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedSearchUpdatedAsc(ctx, db.ReceivedSearchUpdatedAscParams{FirmID: a.FirmID, Pattern: a.Pattern, FirmIds: a.FirmIds, Status: a.Status, Closing: a.Closing, After: a.After, KTs: a.KTs, KID: a.KID, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
	"ReceivedSearchUpdatedDesc": func(ctx context.Context, q *db.Queries, a listArgs) ([]uuid.UUID, error) {
		return q.ReceivedSearchUpdatedDesc(ctx, db.ReceivedSearchUpdatedDescParams{FirmID: a.FirmID, Pattern: a.Pattern, FirmIds: a.FirmIds, Status: a.Status, Closing: a.Closing, After: a.After, KTs: a.KTs, KID: a.KID, RowOffset: a.RowOffset, RowLimit: a.RowLimit})
	},
}
