package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

const testPassword = "correct horse battery"

type testBundle struct {
	pool *pgxpool.Pool
	svc  *auth.Service
	q    *db.Queries
	firm db.Firm
	user db.User // FIRM_ADMIN, active, password testPassword
}

// userOpts describes a user made by bundle.newUser.
type userOpts struct {
	Email    string
	Role     auth.Role
	Invited  bool // no password yet
	Inactive bool
	FirmID   uuid.UUID
}

func (b *testBundle) newUser(t *testing.T, o userOpts) db.User {
	t.Helper()
	if o.Email == "" {
		o.Email = fmt.Sprintf("user-%s@example.com", uuid.NewString()[:8])
	}
	if o.Role == "" {
		o.Role = auth.RoleMember
	}
	if o.FirmID == uuid.Nil {
		o.FirmID = b.firm.ID
	}
	p := db.UserCreateParams{
		FirmID: o.FirmID, Email: o.Email, FirstName: "Test", LastName: "User", Role: string(o.Role),
		IsActive: !o.Inactive, ActivationState: "active",
	}
	if o.Invited {
		p.ActivationState = "invited"
	} else {
		hash, err := b.svc.Hasher().Hash(t.Context(), testPassword)
		require.NoError(t, err)
		p.PasswordHash = &hash
	}
	u, err := b.q.UserCreate(t.Context(), p)
	require.NoError(t, err)
	return u
}

func (b *testBundle) newFirm(t *testing.T, name string) db.Firm {
	t.Helper()
	f, err := b.q.FirmCreate(t.Context(), db.FirmCreateParams{
		Name: name, Jurisdictions: []string{}, CaseTypeIds: []uuid.UUID{}, Specialties: []string{},
		IsActive: true, CanSendReferrals: true,
	})
	require.NoError(t, err)
	return f
}

func setup(t *testing.T, cfg auth.Config) *testBundle {
	t.Helper()
	pool, _ := pgtest.NewDB(t)
	cfg.JWTSecret = []byte("test secret that is at least thirty-two bytes long")
	cfg.Password = auth.TestPasswordParams
	svc, err := auth.New(pool, cfg, auth.WithErrorHandler(func(err error) { t.Errorf("background error: %v", err) }))
	require.NoError(t, err)
	b := &testBundle{pool: pool, svc: svc, q: db.New(pool)}
	b.firm = b.newFirm(t, "Test Firm LLP")
	b.user = b.newUser(t, userOpts{Email: "admin@example.com", Role: auth.RoleFirmAdmin})
	return b
}

func requireCode(t *testing.T, err error, kind error, code string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind)
	e, ok := apperr.As(err)
	require.True(t, ok, "not an *apperr.Error: %v", err)
	require.Equal(t, code, e.Code, "error: %v", err)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SucceedsAndOpensASession", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		res, err := b.svc.Login(ctx, "  Admin@Example.COM ", testPassword, "203.0.113.7", "test-agent/1.0")
		require.NoError(t, err)
		require.Equal(t, b.user.ID, res.User.ID)
		require.Equal(t, "Test Firm LLP", res.User.FirmName)
		require.Equal(t, auth.RoleFirmAdmin, res.User.Role)
		require.NotNil(t, res.User.LastLoginAt)
		require.NotEmpty(t, res.Tokens.AccessToken)
		require.Len(t, res.Tokens.RefreshToken, 43)
		require.WithinDuration(t, time.Now().Add(auth.DefaultRefreshTTL), res.Tokens.RefreshExpiresAt, time.Minute)

		p, err := b.svc.AuthenticateBearer(ctx, res.Tokens.AccessToken)
		require.NoError(t, err)
		require.Equal(t, b.user.ID, p.UserID)
		require.Equal(t, b.firm.ID, p.FirmID)
		require.Equal(t, res.Tokens.SessionID, p.SessionID)

		sessions, err := b.svc.Sessions(ctx, p)
		require.NoError(t, err)
		require.Len(t, sessions, 1)
		require.True(t, sessions[0].Current)
		require.Equal(t, "203.0.113.7", sessions[0].IP)
		require.Equal(t, "test-agent/1.0", sessions[0].UserAgent)

		me, err := b.svc.Me(ctx, p)
		require.NoError(t, err)
		require.NotNil(t, me.LastLoginAt)
	})

	t.Run("WrongPasswordAndUnknownEmailLookAlike", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		_, err := b.svc.Login(ctx, "admin@example.com", "wrong password!", "198.51.100.1", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidCredentials)
		_, err = b.svc.Login(ctx, "nobody@example.com", testPassword, "198.51.100.1", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidCredentials)
	})

	t.Run("EmptyFieldsAreValidationErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		_, err := b.svc.Login(ctx, " ", "", "", "")
		require.ErrorIs(t, err, apperr.ErrValidation)
		e, _ := apperr.As(err)
		require.Len(t, e.Details, 2)
	})

	t.Run("InvitedUserWithoutPasswordIsInvalidCredentials", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		u := b.newUser(t, userOpts{Invited: true, Inactive: true})
		_, err := b.svc.Login(ctx, u.Email, "anything at all", "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidCredentials)
	})

	t.Run("NotFullyActivatedIsToldOnlyWithTheRightPassword", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		u := b.newUser(t, userOpts{})
		_, err := b.pool.Exec(ctx, "UPDATE users SET activation_state = 'invited' WHERE id = $1", u.ID)
		require.NoError(t, err)
		_, err = b.svc.Login(ctx, u.Email, "not the password", "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidCredentials)
		_, err = b.svc.Login(ctx, u.Email, testPassword, "", "")
		requireCode(t, err, apperr.ErrPermission, auth.CodeAccountNotFullyActivated)
	})

	t.Run("DeactivatedUserIsToldOnlyWithTheRightPassword", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		u := b.newUser(t, userOpts{Inactive: true})
		_, err := b.svc.Login(ctx, u.Email, testPassword, "", "")
		requireCode(t, err, apperr.ErrPermission, auth.CodeAccountInactiveLoginAttempt)
		_, err = b.svc.Login(ctx, u.Email, "not the password", "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidCredentials)
	})

	t.Run("UserOfDeactivatedFirmCannotLogIn", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		_, err := b.pool.Exec(ctx, "UPDATE firms SET is_active = false WHERE id = $1", b.firm.ID)
		require.NoError(t, err)
		_, err = b.svc.Login(ctx, b.user.Email, testPassword, "", "")
		requireCode(t, err, apperr.ErrPermission, auth.CodeAccountInactiveLoginAttempt)
	})
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("FiveFailuresLockTheEmail", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		for i := range auth.DefaultEmailFailures {
			_, err := b.svc.Login(ctx, b.user.Email, "wrong password!", fmt.Sprintf("192.0.2.%d", i), "")
			requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidCredentials)
		}
		// Even the right password is refused now from an address that failed, and from no address.
		_, err := b.svc.Login(ctx, b.user.Email, testPassword, "", "")
		requireCode(t, err, apperr.ErrRateLimited, auth.CodeRateLimitedEmail)
		_, err = b.svc.Login(ctx, b.user.Email, testPassword, "192.0.2.1", "")
		requireCode(t, err, apperr.ErrRateLimited, auth.CodeRateLimitedEmail)
		var retry *auth.RetryError
		require.True(t, errors.As(err, &retry))
		require.Greater(t, retry.After, 14*time.Minute)
		require.LessOrEqual(t, retry.After, auth.DefaultThrottleWindow)

		// The owner is not locked out by someone else's guesses: an address without failures
		// gets its attempt. A wrong one there uses it up.
		_, err = b.svc.Login(ctx, b.user.Email, "still not it!", "192.0.2.200", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidCredentials)
		_, err = b.svc.Login(ctx, b.user.Email, testPassword, "192.0.2.200", "")
		requireCode(t, err, apperr.ErrRateLimited, auth.CodeRateLimitedEmail)
		_, err = b.svc.Login(ctx, b.user.Email, testPassword, "192.0.2.201", "")
		require.NoError(t, err)

		// Another account is unaffected.
		other := b.newUser(t, userOpts{})
		_, err = b.svc.Login(ctx, other.Email, testPassword, "192.0.2.1", "")
		require.NoError(t, err)
	})

	t.Run("ConcurrentGuessesAreCountedBeforeTheyAreChecked", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		const n = 30
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = b.svc.Login(ctx, b.user.Email, "wrong password!", "192.0.2.7", "") })
		}
		wg.Wait()
		evaluated := 0
		for _, err := range errs {
			if errors.Is(err, apperr.ErrUnauthenticated) {
				evaluated++
				continue
			}
			requireCode(t, err, apperr.ErrRateLimited, auth.CodeRateLimitedEmail)
		}
		require.Equal(t, auth.DefaultEmailFailures, evaluated)
	})

	t.Run("SuccessResetsTheEmailWindow", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		fail := func() {
			_, err := b.svc.Login(ctx, b.user.Email, "wrong password!", "192.0.2.1", "")
			requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidCredentials)
		}
		for range auth.DefaultEmailFailures - 1 {
			fail()
		}
		_, err := b.svc.Login(ctx, b.user.Email, testPassword, "192.0.2.1", "")
		require.NoError(t, err)
		for range auth.DefaultEmailFailures - 1 {
			fail()
		}
		_, err = b.svc.Login(ctx, b.user.Email, testPassword, "192.0.2.1", "")
		require.NoError(t, err)
	})

	t.Run("TwentyFailuresLockTheAddress", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		for i := range auth.DefaultIPFailures {
			_, err := b.svc.Login(ctx, fmt.Sprintf("guess%d@example.com", i), "wrong password!", "198.51.100.9", "")
			requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidCredentials)
		}
		_, err := b.svc.Login(ctx, b.user.Email, testPassword, "198.51.100.9", "")
		requireCode(t, err, apperr.ErrRateLimited, auth.CodeRateLimitedIP)
		// The account itself is fine from elsewhere, and a blank address is not one bucket.
		_, err = b.svc.Login(ctx, b.user.Email, testPassword, "198.51.100.10", "")
		require.NoError(t, err)
	})

	t.Run("OldFailuresLeaveTheWindow", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		for range auth.DefaultEmailFailures {
			_, err := b.svc.Login(ctx, b.user.Email, "wrong password!", "192.0.2.1", "")
			require.Error(t, err)
		}
		_, err := b.pool.Exec(ctx, "UPDATE login_attempts SET attempted_at = attempted_at - interval '16 minutes'")
		require.NoError(t, err)
		_, err = b.svc.Login(ctx, b.user.Email, testPassword, "192.0.2.1", "")
		require.NoError(t, err)
	})
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	login := func(t *testing.T, b *testBundle) auth.LoginResult {
		t.Helper()
		res, err := b.svc.Login(ctx, b.user.Email, testPassword, "192.0.2.1", "agent")
		require.NoError(t, err)
		return res
	}

	t.Run("RotatesTheToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		first := login(t, b)
		second, err := b.svc.Refresh(ctx, first.Tokens.RefreshToken, "192.0.2.2", "agent 2")
		require.NoError(t, err)
		require.NotEqual(t, first.Tokens.RefreshToken, second.Tokens.RefreshToken)
		require.Equal(t, first.Tokens.SessionID, second.Tokens.SessionID)
		require.Equal(t, b.user.ID, second.User.ID)

		third, err := b.svc.Refresh(ctx, second.Tokens.RefreshToken, "", "")
		require.NoError(t, err)
		p, err := b.svc.AuthenticateBearer(ctx, third.Tokens.AccessToken)
		require.NoError(t, err)
		sessions, err := b.svc.Sessions(ctx, p)
		require.NoError(t, err)
		require.Len(t, sessions, 1, "a rotated family is still one session")
		require.Equal(t, first.Tokens.SessionID, sessions[0].ID)
	})

	t.Run("ReuseRevokesTheWholeFamily", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		first := login(t, b)
		second, err := b.svc.Refresh(ctx, first.Tokens.RefreshToken, "", "")
		require.NoError(t, err)

		// The old token comes back: someone copied it.
		_, err = b.svc.Refresh(ctx, first.Tokens.RefreshToken, "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)

		// The legitimate newer token is dead too, and so is the session's access token.
		_, err = b.svc.Refresh(ctx, second.Tokens.RefreshToken, "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)
		_, err = b.svc.AuthenticateBearer(ctx, second.Tokens.AccessToken)
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)

		var reason string
		require.NoError(t, b.pool.QueryRow(ctx,
			"SELECT DISTINCT revoke_reason FROM auth_sessions WHERE family_id = $1", first.Tokens.SessionID).Scan(&reason))
		require.Equal(t, "token_reuse", reason)

		// Other sessions of the user are untouched.
		other := login(t, b)
		_, err = b.svc.Refresh(ctx, other.Tokens.RefreshToken, "", "")
		require.NoError(t, err)
	})

	t.Run("ConcurrentRefreshesHaveOneWinner", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		first := login(t, b)
		const n = 4
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, errs[i] = b.svc.Refresh(ctx, first.Tokens.RefreshToken, "", "") })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)
		}
		require.LessOrEqual(t, ok, 1)
		var live int
		require.NoError(t, b.pool.QueryRow(ctx,
			"SELECT count(*) FROM auth_sessions WHERE family_id = $1 AND rotated_at IS NULL AND revoked_at IS NULL",
			first.Tokens.SessionID).Scan(&live))
		require.LessOrEqual(t, live, 1)
	})

	t.Run("UnknownAndMalformedTokensAreInvalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		for _, tok := range []string{"", "short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
			_, err := b.svc.Refresh(ctx, tok, "", "")
			requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)
		}
	})

	t.Run("ExpiredTokenIsExpired", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		first := login(t, b)
		_, err := b.pool.Exec(ctx, "UPDATE auth_sessions SET expires_at = now() - interval '1 second'")
		require.NoError(t, err)
		_, err = b.svc.Refresh(ctx, first.Tokens.RefreshToken, "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenExpired)
	})

	t.Run("DeactivatedUserLosesTheSession", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		first := login(t, b)
		_, err := b.pool.Exec(ctx, "UPDATE users SET is_active = false WHERE id = $1", b.user.ID)
		require.NoError(t, err)
		_, err = b.svc.AuthenticateBearer(ctx, first.Tokens.AccessToken)
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)
		_, err = b.svc.Refresh(ctx, first.Tokens.RefreshToken, "", "")
		requireCode(t, err, apperr.ErrPermission, auth.CodeAccountInactive)
		_, err = b.pool.Exec(ctx, "UPDATE users SET is_active = true WHERE id = $1", b.user.ID)
		require.NoError(t, err)
		_, err = b.svc.Refresh(ctx, first.Tokens.RefreshToken, "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ByRefreshTokenIsIdempotent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		res, err := b.svc.Login(ctx, b.user.Email, testPassword, "", "")
		require.NoError(t, err)
		require.NoError(t, b.svc.Logout(ctx, res.Tokens.RefreshToken))
		require.NoError(t, b.svc.Logout(ctx, res.Tokens.RefreshToken))
		require.NoError(t, b.svc.Logout(ctx, "garbage"))
		_, err = b.svc.Refresh(ctx, res.Tokens.RefreshToken, "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)
		_, err = b.svc.AuthenticateBearer(ctx, res.Tokens.AccessToken)
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)
	})

	t.Run("ByAccessToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		res, err := b.svc.Login(ctx, b.user.Email, testPassword, "", "")
		require.NoError(t, err)
		p, err := b.svc.AuthenticateBearer(ctx, res.Tokens.AccessToken)
		require.NoError(t, err)
		require.NoError(t, b.svc.LogoutSession(ctx, p))
		_, err = b.svc.Refresh(ctx, res.Tokens.RefreshToken, "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)
	})

	t.Run("NoTokenIsNoToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		_, err := b.svc.AuthenticateBearer(ctx, "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeNoToken)
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("RevokeOwnSessionOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		a, err := b.svc.Login(ctx, b.user.Email, testPassword, "", "laptop")
		require.NoError(t, err)
		phone, err := b.svc.Login(ctx, b.user.Email, testPassword, "", "phone")
		require.NoError(t, err)
		p, err := b.svc.AuthenticateBearer(ctx, a.Tokens.AccessToken)
		require.NoError(t, err)
		list, err := b.svc.Sessions(ctx, p)
		require.NoError(t, err)
		require.Len(t, list, 2)

		other := b.newUser(t, userOpts{})
		otherRes, err := b.svc.Login(ctx, other.Email, testPassword, "", "")
		require.NoError(t, err)
		err = b.svc.RevokeSession(ctx, p, otherRes.Tokens.SessionID)
		require.ErrorIs(t, err, apperr.ErrNotFound)
		_, err = b.svc.Refresh(ctx, otherRes.Tokens.RefreshToken, "", "")
		require.NoError(t, err, "another user's session survives")

		require.NoError(t, b.svc.RevokeSession(ctx, p, phone.Tokens.SessionID))
		require.ErrorIs(t, b.svc.RevokeSession(ctx, p, phone.Tokens.SessionID), apperr.ErrNotFound)
		list, err = b.svc.Sessions(ctx, p)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, "laptop", list[0].UserAgent)
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const newPassword = "a brand new passphrase"

	t.Run("KeepsTheCurrentSessionAndEndsTheOthers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		mine, err := b.svc.Login(ctx, b.user.Email, testPassword, "", "")
		require.NoError(t, err)
		elsewhere, err := b.svc.Login(ctx, b.user.Email, testPassword, "", "")
		require.NoError(t, err)
		p, err := b.svc.AuthenticateBearer(ctx, mine.Tokens.AccessToken)
		require.NoError(t, err)

		require.NoError(t, b.svc.ChangePassword(ctx, p, testPassword, newPassword, "192.0.2.1"))

		_, err = b.svc.AuthenticateBearer(ctx, mine.Tokens.AccessToken)
		require.NoError(t, err)
		_, err = b.svc.Refresh(ctx, elsewhere.Tokens.RefreshToken, "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeTokenInvalid)

		_, err = b.svc.Login(ctx, b.user.Email, testPassword, "", "")
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidCredentials)
		_, err = b.svc.Login(ctx, b.user.Email, newPassword, "", "")
		require.NoError(t, err)
	})

	t.Run("RejectsAWrongCurrentPasswordAndAWeakNewOne", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		res, err := b.svc.Login(ctx, b.user.Email, testPassword, "", "")
		require.NoError(t, err)
		p, err := b.svc.AuthenticateBearer(ctx, res.Tokens.AccessToken)
		require.NoError(t, err)

		err = b.svc.ChangePassword(ctx, p, "not my password", newPassword, "")
		requireCode(t, err, apperr.ErrValidation, auth.CodeInvalidCurrentPassword)
		err = b.svc.ChangePassword(ctx, p, testPassword, "short", "")
		require.ErrorIs(t, err, apperr.ErrValidation)
		err = b.svc.ChangePassword(ctx, p, testPassword, testPassword, "")
		require.ErrorIs(t, err, apperr.ErrValidation)

		_, err = b.svc.Login(ctx, b.user.Email, testPassword, "", "")
		require.NoError(t, err, "password unchanged")
	})
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	adminOf := func(t *testing.T, b *testBundle) auth.UserPrincipal {
		t.Helper()
		return auth.UserPrincipal{UserID: b.user.ID, FirmID: b.firm.ID, Role: auth.RoleFirmAdmin}
	}

	t.Run("CreateAuthenticateRevoke", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		admin := adminOf(t, b)
		created, err := b.svc.CreateKey(ctx, admin, auth.KeyInput{Name: "  Integration  ", Tier: auth.TierStandard})
		require.NoError(t, err)
		require.Equal(t, "Integration", created.Name)
		require.Equal(t, auth.TierStandard, created.Tier)
		require.Equal(t, created.Key[:12], created.Prefix)
		require.Equal(t, &b.user.ID, created.CreatedBy)

		var stored string
		require.NoError(t, b.pool.QueryRow(ctx, "SELECT key_hash FROM api_keys WHERE id = $1", created.ID).Scan(&stored))
		require.Equal(t, auth.HashKey(created.Key), stored)
		require.NotContains(t, stored, created.Key[12:])

		p, err := b.svc.AuthenticateKey(ctx, created.Key)
		require.NoError(t, err)
		require.Equal(t, auth.KeyPrincipal{KeyID: created.ID, FirmID: b.firm.ID, Tier: auth.TierStandard,
			Prefix: created.Prefix, Name: "Integration"}, p)

		keys, err := b.svc.ListKeys(ctx, admin, false)
		require.NoError(t, err)
		require.Len(t, keys, 1)

		revoked, err := b.svc.RevokeKey(ctx, admin, created.ID)
		require.NoError(t, err)
		require.NotNil(t, revoked.RevokedAt)
		again, err := b.svc.RevokeKey(ctx, admin, created.ID)
		require.NoError(t, err, "revoking twice is harmless")
		require.Equal(t, revoked.RevokedAt, again.RevokedAt)

		_, err = b.svc.AuthenticateKey(ctx, created.Key)
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidAPIKey)
		keys, err = b.svc.ListKeys(ctx, admin, false)
		require.NoError(t, err)
		require.Empty(t, keys)
		keys, err = b.svc.ListKeys(ctx, admin, true)
		require.NoError(t, err)
		require.Len(t, keys, 1)
	})

	t.Run("BadKeysAreInvalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		created, err := b.svc.CreateKey(ctx, adminOf(t, b), auth.KeyInput{Name: "k", Tier: auth.TierReadOnly})
		require.NoError(t, err)
		unknown, err := auth.GenerateKey(auth.TierReadOnly)
		require.NoError(t, err)
		// Same secret, other tier prefix: a different key.
		relabeled := "cxp_full_" + created.Key[len("cxp_ro_"):]
		for _, k := range []string{"", "garbage", unknown, relabeled, created.Key + " "} {
			_, err := b.svc.AuthenticateKey(ctx, k)
			requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidAPIKey)
		}
	})

	t.Run("KeysOfADeactivatedFirmOrPastExpiryStopWorking", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		k, err := b.svc.CreateKeyForFirm(ctx, b.firm.ID, auth.KeyInput{Name: "cli", Tier: auth.TierFull})
		require.NoError(t, err)
		require.Nil(t, k.CreatedBy)
		_, err = b.svc.AuthenticateKey(ctx, k.Key)
		require.NoError(t, err)
		_, err = b.pool.Exec(ctx, "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", k.ID)
		require.NoError(t, err)
		_, err = b.svc.AuthenticateKey(ctx, k.Key)
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidAPIKey)

		k2, err := b.svc.CreateKeyForFirm(ctx, b.firm.ID, auth.KeyInput{Name: "cli 2", Tier: auth.TierFull})
		require.NoError(t, err)
		_, err = b.pool.Exec(ctx, "UPDATE firms SET is_active = false WHERE id = $1", b.firm.ID)
		require.NoError(t, err)
		_, err = b.svc.AuthenticateKey(ctx, k2.Key)
		requireCode(t, err, apperr.ErrUnauthenticated, auth.CodeInvalidAPIKey)
	})

	t.Run("OnlyFirmAdminsManageKeysAndOnlyTheirFirms", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		member := b.newUser(t, userOpts{Role: auth.RoleMember})
		mp := auth.UserPrincipal{UserID: member.ID, FirmID: b.firm.ID, Role: auth.RoleMember}
		_, err := b.svc.CreateKey(ctx, mp, auth.KeyInput{Name: "k", Tier: auth.TierFull})
		require.ErrorIs(t, err, apperr.ErrPermission)
		_, err = b.svc.ListKeys(ctx, mp, true)
		require.ErrorIs(t, err, apperr.ErrPermission)

		mine, err := b.svc.CreateKey(ctx, adminOf(t, b), auth.KeyInput{Name: "mine", Tier: auth.TierFull})
		require.NoError(t, err)
		_, err = b.svc.RevokeKey(ctx, mp, mine.ID)
		require.ErrorIs(t, err, apperr.ErrPermission)

		otherFirm := b.newFirm(t, "Other Firm")
		otherAdmin := b.newUser(t, userOpts{Role: auth.RoleFirmAdmin, FirmID: otherFirm.ID})
		op := auth.UserPrincipal{UserID: otherAdmin.ID, FirmID: otherFirm.ID, Role: auth.RoleFirmAdmin}
		_, err = b.svc.RevokeKey(ctx, op, mine.ID)
		require.ErrorIs(t, err, apperr.ErrNotFound)
		_, err = b.svc.KeyUsage(ctx, op, mine.ID, 0)
		require.ErrorIs(t, err, apperr.ErrNotFound)
		keys, err := b.svc.ListKeys(ctx, op, true)
		require.NoError(t, err)
		require.Empty(t, keys)
		_, err = b.svc.AuthenticateKey(ctx, mine.Key)
		require.NoError(t, err, "the key still works")
	})

	t.Run("InputIsValidated", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		past := time.Now().Add(-time.Hour)
		_, err := b.svc.CreateKey(ctx, adminOf(t, b), auth.KeyInput{Name: " ", Tier: "ADMIN", ExpiresAt: &past})
		require.ErrorIs(t, err, apperr.ErrValidation)
		e, _ := apperr.As(err)
		fields := []string{}
		for _, d := range e.Details {
			fields = append(fields, d.Field)
		}
		require.ElementsMatch(t, []string{"name", "tier", "expiresAt"}, fields)
		_, err = b.svc.CreateKeyForFirm(ctx, uuid.New(), auth.KeyInput{Name: "x", Tier: auth.TierFull})
		require.ErrorIs(t, err, apperr.ErrValidation, "unknown firm")
	})

	t.Run("UsageIsCountedAndFlushed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, auth.Config{})
		admin := adminOf(t, b)
		k, err := b.svc.CreateKey(ctx, admin, auth.KeyInput{Name: "k", Tier: auth.TierReadOnly})
		require.NoError(t, err)
		for range 3 {
			_, err := b.svc.AuthenticateKey(ctx, k.Key)
			require.NoError(t, err)
		}
		require.NoError(t, b.svc.FlushUsage(ctx))
		_, err = b.svc.AuthenticateKey(ctx, k.Key)
		require.NoError(t, err)
		require.NoError(t, b.svc.FlushUsage(ctx))
		require.NoError(t, b.svc.FlushUsage(ctx), "an empty flush is fine")

		u, err := b.svc.KeyUsage(ctx, admin, k.ID, 7)
		require.NoError(t, err)
		require.Len(t, u.Days, 7)
		require.Equal(t, time.Now().UTC().Format(time.DateOnly), u.Days[6].Date)
		require.EqualValues(t, 4, u.Days[6].Count)
		require.EqualValues(t, 0, u.Days[0].Count)
		require.EqualValues(t, 4, u.Total)
		require.NotNil(t, u.Key.LastUsedAt)

		_, err = b.svc.KeyUsage(ctx, admin, k.ID, 91)
		require.ErrorIs(t, err, apperr.ErrValidation)
	})
}
