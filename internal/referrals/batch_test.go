package referrals_test

import (
	"context"
	"github.com/casexchange/server/internal/ptr"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/webhooks"
)

// recorder keeps the webhook events the service records (the recipients and deliveries are the
// webhooks package's business, tested there and over HTTP).
type recorder struct {
	mu  sync.Mutex
	evs []webhooks.Event
}

func (r *recorder) EnqueueTx(ctx context.Context, tx pgx.Tx, ev webhooks.Event) error {
	return r.EnqueueManyTx(ctx, tx, []webhooks.Event{ev})
}

func (r *recorder) EnqueueManyTx(_ context.Context, _ pgx.Tx, evs []webhooks.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, evs...)
	return nil
}

func TestCreateCasesTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type batchBundle struct {
		*testBundle
		hooks *recorder
	}
	setupBatch := func(t *testing.T) *batchBundle {
		t.Helper()
		b := &batchBundle{testBundle: setup(t), hooks: &recorder{}}
		b.svc = referrals.New(b.pool, referrals.WithWebhooks(b.hooks))
		return b
	}
	input := func(title string, sf *string) referrals.CreateCaseInput {
		return referrals.CreateCaseInput{
			Title: title, CaseType: "personal_injury", Jurisdiction: "IL", County: ptr.To("Cook"),
			ClientFirstName: "Ada", ClientLastName: "Okafor", SalesforceID: sf,
		}
	}
	create := func(t *testing.T, b *batchBundle, ins ...referrals.CreateCaseInput) []referrals.CreateResult {
		t.Helper()
		var out []referrals.CreateResult
		require.NoError(t, postgres.RunTx(ctx, b.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			var err error
			out, err = b.svc.CreateCasesTx(ctx, tx, b.sender, ins)
			return err
		}))
		require.Len(t, out, len(ins))
		return out
	}

	t.Run("valid inputs become drafts with one case.created each, invalid ones fail alone", func(t *testing.T) {
		t.Parallel()
		b := setupBatch(t)
		bad := input("", nil)
		bad.Jurisdiction = "ZZ"
		res := create(t, b, input("First", nil), bad, input("Third", nil))

		require.NoError(t, res[0].Err)
		require.NoError(t, res[2].Err)
		require.ErrorIs(t, res[1].Err, apperr.ErrValidation)
		e, _ := apperr.As(res[1].Err)
		var fields []string
		for _, d := range e.Details {
			fields = append(fields, d.Field)
		}
		require.ElementsMatch(t, []string{"body.title", "body.jurisdiction"}, fields)
		require.Equal(t, uuid.Nil, res[1].ID)

		require.Len(t, b.hooks.evs, 2)
		for i, want := range map[int]int{0: 0, 1: 2} {
			ev := b.hooks.evs[i]
			require.Equal(t, webhooks.EventCaseCreated, ev.Type)
			require.Equal(t, res[want].ID, ev.BaseCaseID)
			require.Equal(t, "draft", ev.Status)
			require.NotEmpty(t, ev.ReferenceNumber)
		}
		for _, i := range []int{0, 2} {
			v, err := b.svc.GetCase(ctx, b.sender, res[i].ID.String())
			require.NoError(t, err)
			require.Empty(t, v.Referrals, "a draft without referral, as an import creates")
		}
		page, err := b.svc.ListCases(ctx, b.sender, referrals.CaseQuery{View: referrals.ViewSent})
		require.NoError(t, err)
		require.Equal(t, 2, page.Total, "the list read model counts the batch")
	})

	t.Run("a Salesforce id already in use, or repeated in the batch, is a conflict", func(t *testing.T) {
		t.Parallel()
		b := setupBatch(t)
		create(t, b, input("Existing", ptr.To("SF-1")))
		res := create(t, b, input("Taken", ptr.To("SF-1")), input("New", ptr.To("SF-2")), input("Again", ptr.To("SF-2")))
		for _, i := range []int{0, 2} {
			e, ok := apperr.As(res[i].Err)
			require.True(t, ok, "input %d: %v", i, res[i].Err)
			require.Equal(t, "duplicate_sf_referral", e.Code, "input %d", i)
		}
		require.NoError(t, res[1].Err)
		require.Len(t, b.hooks.evs, 2, "the existing case and SF-2")
	})

	t.Run("a batch creates drafts only", func(t *testing.T) {
		t.Parallel()
		b := setupBatch(t)
		in := input("Sent at once", nil)
		in.ReferentFirmID = &b.recv.FirmID
		res := create(t, b, in)
		require.ErrorIs(t, res[0].Err, apperr.ErrValidation)
		require.Empty(t, b.hooks.evs)
	})
}
