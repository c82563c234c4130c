package referrals_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/ptr"
	"github.com/casexchange/server/internal/referrals"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type testBundle struct {
	pool   *pgxpool.Pool
	svc    *referrals.Service
	sender auth.Actor
	recv   auth.Actor
	other  auth.Actor
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool, _ := pgtest.NewDB(t)
	b := &testBundle{pool: pool, svc: referrals.New(pool)}
	b.sender = newFirm(t, pool, "Sender")
	b.recv = newFirm(t, pool, "Receiver")
	b.other = newFirm(t, pool, "Other")
	relate(t, pool, b.sender.FirmID, b.recv.FirmID)
	relate(t, pool, b.sender.FirmID, b.other.FirmID)
	return b
}

// newFirm creates a firm and an API key of it and returns the key's actor.
func newFirm(t *testing.T, pool *pgxpool.Pool, name string) auth.Actor {
	t.Helper()
	ctx := context.Background()
	var firm, key uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO firms (name) VALUES ($1) RETURNING id`, name).Scan(&firm))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO api_keys (firm_id, name, tier, key_hash, key_prefix)
		VALUES ($1, $2, 'FULL', $3, 'cxp_test') RETURNING id`, firm, name+" key", uuid.NewString()).Scan(&key))
	return auth.Actor{FirmID: firm, KeyID: &key}
}

func relate(t *testing.T, pool *pgxpool.Pool, from, to uuid.UUID) {
	t.Helper()
	_, err := pool.Exec(context.Background(),
		`INSERT INTO network_relationships (from_firm_id, to_firm_id, status) VALUES ($1, $2, 'active')`, from, to)
	require.NoError(t, err)
}

func (b *testBundle) createCase(t *testing.T, to *uuid.UUID) referrals.CaseView {
	t.Helper()
	v, err := b.svc.CreateCase(context.Background(), b.sender, referrals.CreateCaseInput{
		Title: "Fall at the store", CaseType: "personal_injury", Jurisdiction: "IL", County: ptr.To("Cook"),
		ClientFirstName: "Ada", ClientLastName: "Okafor", ReferentFirmID: to,
	})
	require.NoError(t, err)
	return v
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("WalksFromSentToClosedWithOneEntryPerStep", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		v := b.createCase(t, &b.recv.FirmID)
		require.Equal(t, referrals.StatusSent, v.Status())
		sel := referrals.Selector{Key: v.Current.ID.String()}

		rv, err := b.svc.GetReferral(ctx, b.recv, sel)
		require.NoError(t, err)
		require.True(t, rv.Masked)
		require.Nil(t, rv.Case.ClientFirstName)

		steps := []struct {
			action referrals.Action
			in     referrals.ActionInput
			want   referrals.Status
		}{
			{referrals.ActionAcknowledge, referrals.ActionInput{}, referrals.StatusUnderEvaluation},
			{referrals.ActionBeginInvestigating, referrals.ActionInput{Message: ptr.To("records requested")}, referrals.StatusInvestigating},
			{referrals.ActionSign, referrals.ActionInput{}, referrals.StatusSigned},
			{referrals.ActionStartLitigation, referrals.ActionInput{}, referrals.StatusInLitigation},
			{referrals.ActionMarkClosing, referrals.ActionInput{}, referrals.StatusClosing},
			{referrals.ActionClose, referrals.ActionInput{ClosingStatus: "won_settled", SettlementAmount: ptr.To(1000.0)}, referrals.StatusClosed},
		}
		for _, st := range steps {
			rv, err = b.svc.Act(ctx, b.recv, sel, st.action, st.in)
			require.NoError(t, err, st.action)
			require.Equal(t, st.want, rv.Referral.Status)
		}
		require.False(t, rv.Masked)
		require.Equal(t, "Ada", *rv.Case.ClientFirstName)
		require.True(t, rv.Referral.IsRetainerSigned)
		require.Equal(t, referrals.ClosingWonSettled, *rv.Referral.ClosingStatus)

		hist, err := b.svc.ReferralHistory(ctx, b.sender, sel)
		require.NoError(t, err)
		require.Len(t, hist, 7) // sent + six steps
		for i := 1; i < len(hist); i++ {
			require.True(t, hist[i].CreatedAt.After(hist[i-1].CreatedAt))
		}
		require.Equal(t, "records requested", *hist[2].Message)
		require.Equal(t, "Receiver key", *hist[1].ActorName)
	})

	t.Run("FailedActionChangesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		v := b.createCase(t, &b.recv.FirmID)
		sel := referrals.Selector{Key: v.Current.ID.String()}
		_, err := b.svc.Act(ctx, b.recv, sel, referrals.ActionSign, referrals.ActionInput{})
		require.ErrorIs(t, err, apperr.ErrInvalidTransition)
		_, err = b.svc.Act(ctx, b.sender, sel, referrals.ActionAcknowledge, referrals.ActionInput{})
		require.ErrorIs(t, err, apperr.ErrPermission)
		_, err = b.svc.Act(ctx, b.other, sel, referrals.ActionAcknowledge, referrals.ActionInput{})
		require.ErrorIs(t, err, apperr.ErrNotFound)
		hist, err := b.svc.ReferralHistory(ctx, b.sender, sel)
		require.NoError(t, err)
		require.Len(t, hist, 1)
	})

	t.Run("ReReferralTakesTheNextSequenceNumber", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		v := b.createCase(t, &b.recv.FirmID)
		_, err := b.svc.Refer(ctx, b.sender, v.Case.ReferenceNumber, referrals.ReferInput{ReferentFirmID: b.recv.FirmID})
		require.ErrorIs(t, err, apperr.ErrConflict, "a second active referral to the same firm")
		v, err = b.svc.Refer(ctx, b.sender, v.Case.ReferenceNumber, referrals.ReferInput{ReferentFirmID: b.other.FirmID})
		require.NoError(t, err)
		require.Len(t, v.Referrals, 2)
		require.Equal(t, 2, v.Current.SequenceNumber)
		require.Equal(t, v.Case.ReferenceNumber+"-R2", v.Current.ReferenceNumber)
	})
}

func TestConcurrentTransitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	v := b.createCase(t, &b.recv.FirmID)
	sel := referrals.Selector{Key: v.Current.ID.String()}

	const n = 16
	var wins, conflicts, transitions atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.svc.Act(ctx, b.recv, sel, referrals.ActionAcknowledge, referrals.ActionInput{})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, apperr.ErrConflict):
				conflicts.Add(1)
			case errors.Is(err, apperr.ErrInvalidTransition):
				transitions.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, wins.Load())
	require.EqualValues(t, n-1, conflicts.Load()+transitions.Load())
	hist, err := b.svc.ReferralHistory(ctx, b.sender, sel)
	require.NoError(t, err)
	require.Len(t, hist, 2, "exactly one acknowledge entry")
}

// TestFeedPolling writes entries from many goroutines while pollers follow the feed by cursor
// and by updatedSince: each poller must see every entry exactly once.
func TestFeedPolling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	// Writers on three firm pairs at once: the receiver's feed holds the entries of the first
	// two; the third pair's writes are in no feed the pollers read, and commit beside them.
	const writers, perWriter = 6, 12
	relate(t, b.pool, b.other.FirmID, b.recv.FirmID)
	pairs := [][2]auth.Actor{{b.sender, b.recv}, {b.other, b.recv}, {b.sender, b.other}}
	cases := make([]referrals.CaseView, writers)
	for i := range cases {
		from, to := pairs[i%3][0], pairs[i%3][1]
		v, err := b.svc.CreateCase(ctx, from, referrals.CreateCaseInput{
			Title: "Fall at the store", CaseType: "personal_injury", Jurisdiction: "IL", County: ptr.To("Cook"),
			ClientFirstName: "Ada", ClientLastName: "Okafor", ReferentFirmID: &to.FirmID,
		})
		require.NoError(t, err)
		cases[i] = v
	}

	type poller struct {
		name string
		seen map[uuid.UUID]int
		next func() ([]referrals.StatusUpdate, error)
	}
	newCursorPoller := func() *poller {
		p := &poller{name: "cursor", seen: map[uuid.UUID]int{}}
		first, err := b.svc.Feed(ctx, b.recv, referrals.FeedQuery{Page: referrals.Page{Page: 1, Limit: 100}})
		require.NoError(t, err)
		cursor := first.NextCursor
		for _, u := range first.Items { // a first browse: everything so far is processed
			p.seen[u.ID]++
		}
		p.next = func() ([]referrals.StatusUpdate, error) {
			res, err := b.svc.Feed(ctx, b.recv, referrals.FeedQuery{Cursor: cursor, Page: referrals.Page{Page: 1, Limit: 5}})
			if err != nil {
				return nil, err
			}
			cursor = res.NextCursor
			return res.Items, nil
		}
		return p
	}
	newSincePoller := func() *poller {
		p := &poller{name: "since", seen: map[uuid.UUID]int{}}
		since := time.Unix(0, 0)
		p.next = func() ([]referrals.StatusUpdate, error) {
			res, err := b.svc.Feed(ctx, b.recv, referrals.FeedQuery{Since: &since, Page: referrals.Page{Page: 1, Limit: 7}})
			if err != nil {
				return nil, err
			}
			if n := len(res.Items); n > 0 {
				since = res.Items[n-1].CreatedAt
			}
			return res.Items, nil
		}
		return p
	}
	pollers := []*poller{newCursorPoller(), newSincePoller()}

	stop := make(chan struct{})
	var pollWG sync.WaitGroup
	for _, p := range pollers {
		pollWG.Add(1)
		go func() {
			defer pollWG.Done()
			drain := func() {
				for {
					items, err := p.next()
					if err != nil {
						t.Errorf("%s poll: %v", p.name, err)
						return
					}
					for _, u := range items {
						p.seen[u.ID]++
					}
					if len(items) == 0 {
						return
					}
				}
			}
			for {
				select {
				case <-stop:
					drain()
					return
				default:
					drain()
				}
			}
		}()
	}

	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := cases[i].Current.ID.String()
			for j := range perWriter {
				actor := pairs[i%3][j%2]
				_, err := b.svc.SendMessage(ctx, actor, referrals.MessageInput{Key: key, Message: fmt.Sprintf("message %d/%d", i, j)})
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	pollWG.Wait()

	var all []uuid.UUID
	for i, c := range cases {
		if pairs[i%3][1] != b.recv {
			continue // not in the receiver's feed
		}
		hist, err := b.svc.ReferralHistory(ctx, b.recv, referrals.Selector{Key: c.Current.ID.String()})
		require.NoError(t, err)
		for _, u := range hist {
			all = append(all, u.ID)
		}
	}
	require.Len(t, all, writers*2/3*(perWriter+1))
	for _, p := range pollers {
		require.Len(t, p.seen, len(all), "%s poller saw every entry", p.name)
		for _, id := range all {
			require.Equal(t, 1, p.seen[id], "%s poller saw %s exactly once", p.name, id)
		}
	}
}

func TestExpireOverdue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	v, err := b.svc.CreateCase(ctx, b.sender, referrals.CreateCaseInput{
		Title: "Deadline", CaseType: "personal_injury", Jurisdiction: "IL", ClientFirstName: "A", ClientLastName: "B",
		ReferentFirmID: &b.recv.FirmID, SentExpirationHours: ptr.To(1),
	})
	require.NoError(t, err)
	require.NotNil(t, v.Current.ExpiresAt)
	keep := b.createCase(t, &b.other.FirmID) // no deadline

	n, err := b.svc.ExpireOverdue(ctx, 10)
	require.NoError(t, err)
	require.Zero(t, n, "not due yet")

	_, err = b.pool.Exec(ctx, `UPDATE referrals SET expires_at = now() - interval '1 minute' WHERE id = $1`, v.Current.ID)
	require.NoError(t, err)
	n, err = b.svc.ExpireOverdue(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	got, err := b.svc.GetSentCase(ctx, b.sender, v.Case.ID.String())
	require.NoError(t, err)
	require.Equal(t, referrals.StatusWithdrawn, got.Status())
	hist, err := b.svc.ReferralHistory(ctx, b.recv, referrals.Selector{Key: v.Current.ID.String()})
	require.NoError(t, err)
	last := hist[len(hist)-1]
	require.Equal(t, referrals.SourceSystem, last.Source)
	require.Equal(t, "System", last.AuthorName())
	require.Nil(t, last.ActorFirmID)

	other, err := b.svc.GetSentCase(ctx, b.sender, keep.Case.ID.String())
	require.NoError(t, err)
	require.Equal(t, referrals.StatusSent, other.Status())
}
