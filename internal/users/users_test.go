package users_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/users"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var seq atomic.Int64

type testBundle struct {
	pool *pgxpool.Pool
	svc  *users.Service
	firm uuid.UUID
	now  *atomic.Pointer[time.Time]
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool, _ := pgtest.NewDB(t)
	require.NoError(t, jobs.Migrate(t.Context(), pool))
	mailer, err := notify.NewMailer(notify.Config{From: notify.DefaultFrom, MailDir: t.TempDir()})
	require.NoError(t, err)
	jc, err := jobs.New(pool, nil, jobs.Config{TestOnly: true}, notify.Workers(mailer))
	require.NoError(t, err)
	now := &atomic.Pointer[time.Time]{}
	svc := users.New(pool, notify.New(pool, jc, mailer), auth.NewHasher(auth.TestPasswordParams), users.Config{
		BaseURL: "https://cx.example/",
		Now: func() time.Time {
			if p := now.Load(); p != nil {
				return *p
			}
			return time.Now()
		},
	})
	b := &testBundle{pool: pool, svc: svc, now: now}
	b.firm = b.newFirm(t)
	return b
}

func (b *testBundle) newFirm(t *testing.T) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.NoError(t, b.pool.QueryRow(t.Context(), "INSERT INTO firms (name) VALUES ($1) RETURNING id",
		fmt.Sprintf("Firm %d", seq.Add(1))).Scan(&id))
	return id
}

// activeUser inserts an active user of firm with role.
func (b *testBundle) activeUser(t *testing.T, firm uuid.UUID, role auth.Role) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.NoError(t, b.pool.QueryRow(t.Context(), `INSERT INTO users (firm_id, email, role, password_hash, is_active, activation_state)
		VALUES ($1, $2, $3, 'x', true, 'active') RETURNING id`, firm, fmt.Sprintf("u%d@example.test", seq.Add(1)), role).Scan(&id))
	return id
}

// invitationToken returns the token in the newest invitation job sent to addr.
func (b *testBundle) invitationToken(t *testing.T, addr string) string {
	t.Helper()
	var raw []byte
	require.NoError(t, b.pool.QueryRow(t.Context(),
		`SELECT args FROM river_job WHERE kind = 'notify_email' AND args->>'to' = $1 ORDER BY id DESC LIMIT 1`, addr).Scan(&raw))
	var args notify.EmailArgs
	require.NoError(t, json.Unmarshal(raw, &args))
	require.Equal(t, "user_invited", args.Event)
	i := strings.Index(args.Text, "https://cx.example/accept-invitation?token=")
	require.GreaterOrEqual(t, i, 0, args.Text)
	link := strings.Fields(args.Text[i:])[0]
	u, err := url.Parse(link)
	require.NoError(t, err)
	return u.Query().Get("token")
}

func TestInvitation(t *testing.T) {
	t.Parallel()

	invite := func(t *testing.T, b *testBundle, email string) users.User {
		t.Helper()
		u, err := b.svc.Invite(t.Context(), b.firm, users.InviteInput{Email: email, FirstName: "Rita", LastName: "Okafor"})
		require.NoError(t, err)
		return u
	}

	t.Run("only the hash of the token is stored and the token activates the user once", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := invite(t, b, "Rita@Harbor.Example")
		require.Equal(t, "rita@harbor.example", u.Email)
		require.Equal(t, users.StatusInvited, u.Status)
		require.False(t, u.Active)
		require.Equal(t, auth.RoleMember, u.Role)

		token := b.invitationToken(t, "rita@harbor.example")
		require.Len(t, token, 43)
		var stored string
		require.NoError(t, b.pool.QueryRow(t.Context(), "SELECT invitation_token_hash FROM users WHERE id = $1", u.ID).Scan(&stored))
		require.NotEqual(t, token, stored)
		require.NotContains(t, stored, token)

		got, err := b.svc.AcceptInvitation(t.Context(), token, "a long enough password")
		require.NoError(t, err)
		require.Equal(t, users.StatusActive, got.Status)
		require.True(t, got.Active)

		// A token works once: opening the link again finds the account active (409).
		_, err = b.svc.AcceptInvitation(t.Context(), token, "another long password")
		require.ErrorIs(t, err, apperr.ErrConflict, "a token works once")
	})

	t.Run("an expired invitation is refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		past := time.Now().Add(-users.InvitationTTL - time.Minute)
		b.now.Store(&past)
		invite(t, b, "late@harbor.example")
		_, err := b.svc.AcceptInvitation(t.Context(), b.invitationToken(t, "late@harbor.example"), "a long enough password")
		require.ErrorIs(t, err, apperr.ErrValidation)
	})

	t.Run("a weak password is refused and leaves the invitation usable", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		invite(t, b, "weak@harbor.example")
		token := b.invitationToken(t, "weak@harbor.example")
		for _, pw := range []string{"short", "aaaaaaaaaaaa", "Password2024!", "my weak@harbor password"} {
			_, err := b.svc.AcceptInvitation(t.Context(), token, pw)
			require.ErrorIs(t, err, apperr.ErrValidation, pw)
		}
		// The invitee's own address is part of the policy.
		_, err := b.svc.AcceptInvitation(t.Context(), token, "so WEAK it hurts")
		require.ErrorIs(t, err, apperr.ErrValidation)
		_, err = b.svc.AcceptInvitation(t.Context(), token, "a long enough password")
		require.NoError(t, err)
	})

	t.Run("deactivating an invited user cancels the invitation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := invite(t, b, "cancel@harbor.example")
		token := b.invitationToken(t, "cancel@harbor.example")
		require.NoError(t, b.svc.Deactivate(t.Context(), b.firm, u.ID))
		got, err := b.svc.Get(t.Context(), b.firm, u.ID)
		require.NoError(t, err)
		require.Equal(t, users.StatusDeactivated, got.Status)
		_, err = b.svc.AcceptInvitation(t.Context(), token, "a long enough password")
		require.ErrorIs(t, err, apperr.ErrValidation)

		active := true
		got, err = b.svc.Update(t.Context(), b.firm, u.ID, users.UpdateInput{Active: &active})
		require.NoError(t, err)
		require.Equal(t, users.StatusDeactivated, got.Status, "a user who never accepted cannot be switched on")
	})

	t.Run("a new address of an invited user gets a new invitation and the old link dies", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := invite(t, b, "old@harbor.example")
		oldToken := b.invitationToken(t, "old@harbor.example")
		addr := "new@harbor.example"
		got, err := b.svc.Update(t.Context(), b.firm, u.ID, users.UpdateInput{Email: &addr})
		require.NoError(t, err)
		require.Equal(t, users.StatusInvited, got.Status)
		newToken := b.invitationToken(t, addr)
		require.NotEqual(t, oldToken, newToken)
		_, err = b.svc.AcceptInvitation(t.Context(), oldToken, "a long enough password")
		require.ErrorIs(t, err, apperr.ErrValidation)
		_, err = b.svc.AcceptInvitation(t.Context(), newToken, "a long enough password")
		require.NoError(t, err)
	})
}

func TestLastAdministrator(t *testing.T) {
	t.Parallel()

	t.Run("two concurrent deactivations of the last two administrators cannot both succeed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a1, a2 := b.activeUser(t, b.firm, auth.RoleFirmAdmin), b.activeUser(t, b.firm, auth.RoleFirmAdmin)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []uuid.UUID{a1, a2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = b.svc.Deactivate(context.WithoutCancel(t.Context()), b.firm, id)
			}()
		}
		wg.Wait()
		var ok, conflicts int
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case apperrIs(err, apperr.ErrConflict):
				conflicts++
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		require.Equal(t, 1, ok)
		require.Equal(t, 1, conflicts)
	})

	t.Run("demoting the last administrator is refused, demoting one of two is not", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a1 := b.activeUser(t, b.firm, auth.RoleFirmAdmin)
		member := "member"
		_, err := b.svc.Update(t.Context(), b.firm, a1, users.UpdateInput{Role: &member})
		require.ErrorIs(t, err, apperr.ErrConflict)
		b.activeUser(t, b.firm, auth.RoleFirmAdmin)
		got, err := b.svc.Update(t.Context(), b.firm, a1, users.UpdateInput{Role: &member})
		require.NoError(t, err)
		require.Equal(t, auth.RoleMember, got.Role)
	})

	t.Run("another firm's administrators do not count", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a1 := b.activeUser(t, b.firm, auth.RoleFirmAdmin)
		b.activeUser(t, b.newFirm(t), auth.RoleFirmAdmin)
		require.ErrorIs(t, b.svc.Deactivate(t.Context(), b.firm, a1), apperr.ErrConflict)
	})
}

func TestList(t *testing.T) {
	t.Parallel()

	t.Run("search treats LIKE wildcards literally", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.Invite(t.Context(), b.firm, users.InviteInput{Email: "percent@harbor.example", FirstName: "100%", LastName: "Sure"})
		require.NoError(t, err)
		_, err = b.svc.Invite(t.Context(), b.firm, users.InviteInput{Email: "plain@harbor.example", FirstName: "Plain", LastName: "Name"})
		require.NoError(t, err)
		p, err := b.svc.List(t.Context(), b.firm, users.ListQuery{Search: "%"})
		require.NoError(t, err)
		require.Len(t, p.Users, 1)
		require.Equal(t, "100%", p.Users[0].FirstName)
		p, err = b.svc.List(t.Context(), b.firm, users.ListQuery{Search: "_"})
		require.NoError(t, err)
		require.Empty(t, p.Users)
	})
}

func apperrIs(err, kind error) bool {
	ae, ok := apperr.As(err)
	return ok && ae.Kind == kind
}
