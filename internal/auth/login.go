package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
)

// RetryError is a rate-limit error that knows when trying again can succeed. It unwraps to
// its *apperr.Error (kind apperr.ErrRateLimited), so errors.Is and apperr.As see through it;
// the HTTP layer can errors.As it to send Retry-After.
type RetryError struct {
	Err   *apperr.Error
	After time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }

// Unwrap returns the *apperr.Error.
func (e *RetryError) Unwrap() error { return e.Err }

// LoginResult is a successful login or refresh.
type LoginResult struct {
	User   User
	Tokens Tokens
}

// Revoke reasons stored with a revoked session.
const (
	reasonLogout          = "logout"
	reasonReuse           = "token_reuse"
	reasonPasswordChanged = "password_changed"
	reasonRevokedByUser   = "revoked_by_user"
	reasonUserInactive    = "user_deactivated"
)

// normalizeEmail is the stored form of an e-mail address.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Login checks an e-mail and password and opens a session. ip and userAgent describe the
// client; ip keys the per-address throttle (an empty ip skips it) and both are shown in the
// session list.
//
// Throttling: every attempt is reserved before its password is hashed (see reserveAttempt), so
// however many requests arrive at once, at most EmailFailures guesses per e-mail and IPFailures
// per client address are evaluated within ThrottleWindow. So that a stranger who knows an
// address cannot lock its owner out, an e-mail's exhausted budget does not stop an attempt from
// an address that has no failed attempt (for any account) in the window: that address gets one
// attempt, and if it fails the address is no longer clean.
//
// Errors (all *apperr.Error, Code set):
//   - ErrValidation: empty e-mail or password.
//   - ErrRateLimited, CodeRateLimitedEmail or CodeRateLimitedIP, wrapped in a *RetryError:
//     too many recent failures for the e-mail or the address.
//   - ErrUnauthenticated, CodeInvalidCredentials: unknown e-mail, wrong password, or a user
//     who never set a password (an invited user).
//   - ErrPermission, CodeAccountNotFullyActivated: right password, but the account has not
//     completed its activation.
//   - ErrPermission, CodeAccountInactiveLoginAttempt: right password, but the user or the firm
//     is deactivated. Account states are only revealed to someone who knows the password.
func (s *Service) Login(ctx context.Context, email, password, ip, userAgent string) (LoginResult, error) {
	email = normalizeEmail(email)
	var details []apperr.FieldError
	if email == "" {
		details = append(details, apperr.FieldError{Field: "email", Message: "is required"})
	}
	if password == "" {
		details = append(details, apperr.FieldError{Field: "password", Message: "is required"})
	}
	if len(details) > 0 {
		return LoginResult{}, apperr.Validation("", details...)
	}
	attempt, err := s.reserveAttempt(ctx, email, ip)
	if err != nil {
		return LoginResult{}, err
	}

	row, err := s.q.UserGetByEmail(ctx, email)
	if err != nil {
		if err = postgres.InterpretError(err); !errors.Is(err, apperr.ErrNotFound) {
			return LoginResult{}, fmt.Errorf("load user: %w", err)
		}
		s.hasher.VerifyDummy(ctx, password)
		return LoginResult{}, invalidCredentials()
	}
	if row.PasswordHash == nil {
		// An invited user has no password: every attempt is a wrong one, and it takes as long.
		s.hasher.VerifyDummy(ctx, password)
		return LoginResult{}, invalidCredentials()
	}
	ok, err := s.hasher.Verify(ctx, password, *row.PasswordHash)
	if err != nil {
		return LoginResult{}, fmt.Errorf("verify password of user %s: %w", row.ID, err)
	}
	if !ok {
		return LoginResult{}, invalidCredentials()
	}
	if row.ActivationState != "active" {
		return LoginResult{}, &apperr.Error{Kind: apperr.ErrPermission, Code: CodeAccountNotFullyActivated,
			Message: "This account has not been activated yet; finish the invitation to set a password"}
	}
	if !row.IsActive || !row.FirmIsActive {
		return LoginResult{}, &apperr.Error{Kind: apperr.ErrPermission, Code: CodeAccountInactiveLoginAttempt,
			Message: "This account is deactivated"}
	}

	user := userFromRow(db.UserGetByIDRow(row))
	res, err := postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (LoginResult, error) {
		if err := q.LoginAttemptSucceeded(ctx, attempt); err != nil {
			return LoginResult{}, fmt.Errorf("record login: %w", err)
		}
		if err := q.UserTouchLogin(ctx, user.ID); err != nil {
			return LoginResult{}, fmt.Errorf("touch login: %w", err)
		}
		familyID := uuid.New()
		tokens, err := s.openSessionTx(ctx, q, user, familyID, nil, ip, userAgent)
		if err != nil {
			return LoginResult{}, err
		}
		return LoginResult{User: user, Tokens: tokens}, nil
	})
	if err != nil {
		return LoginResult{}, err
	}
	now := time.Now()
	res.User.LastLoginAt = &now
	return res, nil
}

func invalidCredentials() *apperr.Error {
	return apperr.Unauthenticated(CodeInvalidCredentials, "The e-mail or password is incorrect")
}

// reserveAttempt decides whether a password may be checked for email from ip and, if so,
// records the attempt as a failure before anything is hashed; the caller marks it succeeded
// when the password turns out right. The decision and the record happen in one transaction
// under advisory locks on the e-mail and on the address, so concurrent attempts (in any server
// process) are counted one after the other and an attempt in flight already counts.
//
// The rule: an e-mail's failures since its last success, and an address's failures, within
// ThrottleWindow. The e-mail budget is waived for an address without any failure in the
// window, which keeps the real owner able to sign in while someone else guesses.
func (s *Service) reserveAttempt(ctx context.Context, email, ip string) (int64, error) {
	return postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (int64, error) {
		if err := q.LoginAttemptLockEmail(ctx, email); err != nil {
			return 0, fmt.Errorf("lock login throttle: %w", err)
		}
		if ip != "" {
			if err := q.LoginAttemptLockIP(ctx, ip); err != nil {
				return 0, fmt.Errorf("lock login throttle: %w", err)
			}
		}
		now := time.Now()
		counts, err := q.LoginAttemptFailures(ctx, db.LoginAttemptFailuresParams{Email: email, Ip: ip, Since: now.Add(-s.cfg.ThrottleWindow)})
		if err != nil {
			return 0, fmt.Errorf("count login failures: %w", postgres.InterpretError(err))
		}
		retry := func(oldest time.Time) time.Duration {
			d := oldest.Add(s.cfg.ThrottleWindow).Sub(now)
			return max(d.Round(time.Second), time.Second)
		}
		cleanAddress := ip != "" && counts.IpFailures == 0
		if int(counts.EmailFailures) >= s.cfg.EmailFailures && !cleanAddress {
			return 0, &RetryError{After: retry(counts.EmailOldest), Err: &apperr.Error{Kind: apperr.ErrRateLimited,
				Code: CodeRateLimitedEmail, Message: "Too many failed login attempts for this account; try again later"}}
		}
		if ip != "" && int(counts.IpFailures) >= s.cfg.IPFailures {
			return 0, &RetryError{After: retry(counts.IpOldest), Err: &apperr.Error{Kind: apperr.ErrRateLimited,
				Code: CodeRateLimitedIP, Message: "Too many failed login attempts from this address; try again later"}}
		}
		id, err := q.LoginAttemptReserve(ctx, db.LoginAttemptReserveParams{Email: email, Ip: ip})
		if err != nil {
			return 0, fmt.Errorf("record login attempt: %w", err)
		}
		return id, nil
	})
}

// attemptSucceeded marks a reserved attempt as a success outside any transaction. A write
// error only makes throttling stricter, so it is reported, not returned.
func (s *Service) attemptSucceeded(ctx context.Context, id int64) {
	if err := s.q.LoginAttemptSucceeded(context.WithoutCancel(ctx), id); err != nil {
		s.report(fmt.Errorf("record login attempt: %w", err))
	}
}

// openSessionTx stores a new refresh token of family familyID (parent is the token it
// replaces, if any) and signs an access token for it.
func (s *Service) openSessionTx(ctx context.Context, q *db.Queries, user User, familyID uuid.UUID,
	parent *uuid.UUID, ip, userAgent string,
) (Tokens, error) {
	refresh, err := newRefreshToken()
	if err != nil {
		return Tokens{}, err
	}
	id := familyID
	if parent != nil {
		id = uuid.New()
	}
	refreshExp := time.Now().Add(s.cfg.RefreshTTL)
	_, err = q.SessionCreate(ctx, db.SessionCreateParams{
		ID:               id,
		UserID:           user.ID,
		FamilyID:         familyID,
		ParentID:         parent,
		RefreshTokenHash: hashToken(refresh),
		ExpiresAt:        refreshExp,
		UserAgent:        nonEmpty(truncate(userAgent, 512)),
		Ip:               nonEmpty(truncate(ip, 64)),
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("create session: %w", err)
	}
	access, accessExp, err := s.signer.Issue(UserPrincipal{UserID: user.ID, FirmID: user.FirmID, Role: user.Role, SessionID: familyID})
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{
		AccessToken:      access,
		AccessExpiresAt:  accessExp,
		RefreshToken:     refresh,
		RefreshExpiresAt: refreshExp,
		SessionID:        familyID,
	}, nil
}

// errReuse signals, from inside a refresh transaction, that the presented token had already
// been rotated. The family is revoked after the transaction rolls back.
var errReuse = errors.New("refresh token reuse")

// Refresh exchanges a refresh token for a new access token and a new refresh token; the old
// one stops working. Presenting a token that was already exchanged is treated as theft: every
// session of its family is revoked, so whoever holds the newer token is logged out as well.
//
// Errors:
//   - ErrUnauthenticated, CodeTokenInvalid: unknown, malformed, revoked or reused token.
//   - ErrUnauthenticated, CodeTokenExpired: the token is past its lifetime.
//   - ErrPermission, CodeAccountInactive: the user or the firm was deactivated (the session
//     is revoked).
func (s *Service) Refresh(ctx context.Context, refreshToken, ip, userAgent string) (LoginResult, error) {
	if !refreshTokenShapeOK(refreshToken) {
		return LoginResult{}, invalidRefresh()
	}
	sess, err := s.q.SessionGetByTokenHash(ctx, hashToken(refreshToken))
	if err != nil {
		if err = postgres.InterpretError(err); errors.Is(err, apperr.ErrNotFound) {
			return LoginResult{}, invalidRefresh()
		}
		return LoginResult{}, fmt.Errorf("load session: %w", err)
	}
	switch {
	case sess.RevokedAt != nil:
		return LoginResult{}, invalidRefresh()
	case sess.RotatedAt != nil:
		return LoginResult{}, s.reuseDetected(ctx, sess.FamilyID)
	case !sess.ExpiresAt.After(time.Now()):
		return LoginResult{}, apperr.Unauthenticated(CodeTokenExpired, "Refresh token has expired")
	}

	var inactive bool
	res, err := postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (LoginResult, error) {
		inactive = false
		if _, err := q.SessionRotate(ctx, sess.ID); err != nil {
			if err = postgres.InterpretError(err); !errors.Is(err, apperr.ErrNotFound) {
				return LoginResult{}, fmt.Errorf("rotate session: %w", err)
			}
			// Lost the compare-and-set: another request rotated (or revoked, or the clock
			// expired) this token between our read and our write.
			cur, err := q.SessionGetByTokenHash(ctx, sess.RefreshTokenHash)
			if err != nil {
				return LoginResult{}, fmt.Errorf("reload session: %w", postgres.InterpretError(err))
			}
			if cur.RotatedAt != nil && cur.RevokedAt == nil {
				return LoginResult{}, errReuse
			}
			return LoginResult{}, invalidRefresh()
		}
		row, err := q.UserGetByID(ctx, sess.UserID)
		if err != nil {
			return LoginResult{}, fmt.Errorf("load user: %w", postgres.InterpretError(err))
		}
		if !row.IsActive || !row.FirmIsActive || row.ActivationState != "active" {
			inactive = true
			return LoginResult{}, apperr.New(apperr.ErrPermission, CodeAccountInactive, "This account is deactivated")
		}
		user := userFromRow(row)
		tokens, err := s.openSessionTx(ctx, q, user, sess.FamilyID, &sess.ID, ip, userAgent)
		if err != nil {
			return LoginResult{}, err
		}
		return LoginResult{User: user, Tokens: tokens}, nil
	})
	switch {
	case errors.Is(err, errReuse):
		return LoginResult{}, s.reuseDetected(ctx, sess.FamilyID)
	case inactive:
		s.revokeFamily(ctx, sess.FamilyID, reasonUserInactive)
		return LoginResult{}, err
	case err != nil:
		return LoginResult{}, err
	}
	return res, nil
}

func invalidRefresh() *apperr.Error {
	return apperr.Unauthenticated(CodeTokenInvalid, "Refresh token is invalid")
}

func (s *Service) reuseDetected(ctx context.Context, familyID uuid.UUID) error {
	s.revokeFamily(ctx, familyID, reasonReuse)
	return invalidRefresh()
}

// revokeFamily revokes a family outside any transaction and whatever the caller's fate: it
// is a security measure that must stick even when the request fails.
func (s *Service) revokeFamily(ctx context.Context, familyID uuid.UUID, reason string) {
	_, err := s.q.SessionRevokeFamily(context.WithoutCancel(ctx), db.SessionRevokeFamilyParams{FamilyID: familyID, Reason: reason})
	if err != nil {
		s.report(fmt.Errorf("revoke session family %s: %w", familyID, err))
	}
}

// Logout ends the session a refresh token belongs to. Unknown, malformed or already revoked
// tokens are not an error: logging out twice is harmless.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	if !refreshTokenShapeOK(refreshToken) {
		return nil
	}
	sess, err := s.q.SessionGetByTokenHash(ctx, hashToken(refreshToken))
	if err != nil {
		if err = postgres.InterpretError(err); errors.Is(err, apperr.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("load session: %w", err)
	}
	if _, err := s.q.SessionRevokeFamily(ctx, db.SessionRevokeFamilyParams{FamilyID: sess.FamilyID, Reason: reasonLogout}); err != nil {
		return fmt.Errorf("revoke session: %w", postgres.InterpretError(err))
	}
	return nil
}

// LogoutSession ends the session an access token was issued for. Like Logout it is idempotent.
func (s *Service) LogoutSession(ctx context.Context, p UserPrincipal) error {
	_, err := s.q.SessionRevoke(ctx, db.SessionRevokeParams{FamilyID: p.SessionID, UserID: p.UserID, Reason: reasonLogout})
	if err != nil {
		return fmt.Errorf("revoke session: %w", postgres.InterpretError(err))
	}
	return nil
}

// AuthenticateBearer verifies an access token (see TokenSigner.Verify) and then checks that
// its session is still open and its user and firm still active, so logouts, password changes
// and deactivations take effect at once rather than when the token expires.
//
// Errors: ErrUnauthenticated with CodeNoToken (empty token), CodeTokenExpired or
// CodeTokenInvalid (including a closed session).
func (s *Service) AuthenticateBearer(ctx context.Context, token string) (UserPrincipal, error) {
	if token == "" {
		return UserPrincipal{}, apperr.Unauthenticated(CodeNoToken, "No access token was provided")
	}
	p, err := s.signer.Verify(token)
	if err != nil {
		return UserPrincipal{}, err
	}
	cur, err := s.q.SessionFamilyUser(ctx, db.SessionFamilyUserParams{FamilyID: p.SessionID, UserID: p.UserID})
	if err != nil {
		if err = postgres.InterpretError(err); errors.Is(err, apperr.ErrNotFound) {
			return UserPrincipal{}, apperr.Unauthenticated(CodeTokenInvalid, "The session of this access token has ended")
		}
		return UserPrincipal{}, fmt.Errorf("check session: %w", err)
	}
	// The role (and firm) in the token are what they were at issue; the stored ones decide, so
	// a demoted administrator loses the administrator's powers with their next request.
	p.Role, p.FirmID = Role(cur.Role), cur.FirmID
	return p, nil
}

// Me returns the caller's user. Errors: ErrNotFound if the user is gone.
func (s *Service) Me(ctx context.Context, p UserPrincipal) (User, error) {
	row, err := s.q.UserGetByID(ctx, p.UserID)
	if err != nil {
		return User{}, postgres.InterpretError(err)
	}
	return userFromRow(row), nil
}

// ChangePassword replaces the caller's password after checking the current one, and ends
// every other session of the user (the caller's own stays open). ip keys the throttle, which
// also guards the current-password check against guessing with a stolen access token; the
// check is reserved like a login attempt (see Login).
//
// Errors:
//   - ErrValidation: the new password breaks the policy (field newPassword, see
//     CheckPasswordPolicy) or equals the current one; CodeInvalidCurrentPassword when the
//     current password is wrong (field currentPassword).
//   - ErrRateLimited (*RetryError): too many recent failures.
//   - ErrPermission, CodeAccountNotFullyActivated or CodeAccountInactive.
//   - ErrNotFound: the user is gone.
func (s *Service) ChangePassword(ctx context.Context, p UserPrincipal, current, next, ip string) error {
	row, err := s.q.UserGetByID(ctx, p.UserID)
	if err != nil {
		return postgres.InterpretError(err)
	}
	if err := CheckPasswordPolicy("newPassword", next, row.Email); err != nil {
		return err
	}
	if current == next {
		return apperr.Field("newPassword", "must differ from the current password")
	}
	if row.PasswordHash == nil || row.ActivationState != "active" {
		return apperr.New(apperr.ErrPermission, CodeAccountNotFullyActivated, "This account has not been activated yet")
	}
	if !row.IsActive || !row.FirmIsActive {
		return apperr.New(apperr.ErrPermission, CodeAccountInactive, "This account is deactivated")
	}
	attempt, err := s.reserveAttempt(ctx, row.Email, ip)
	if err != nil {
		return err
	}
	ok, err := s.hasher.Verify(ctx, current, *row.PasswordHash)
	if err != nil {
		return fmt.Errorf("verify password of user %s: %w", row.ID, err)
	}
	if !ok {
		return &apperr.Error{Kind: apperr.ErrValidation, Code: CodeInvalidCurrentPassword,
			Message: "The current password is incorrect",
			Details: []apperr.FieldError{{Field: "currentPassword", Message: "is incorrect"}}}
	}
	s.attemptSucceeded(ctx, attempt)
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return postgres.WithTx(ctx, s.pool, func(q *db.Queries) error {
		if _, err := q.UserSetPassword(ctx, db.UserSetPasswordParams{ID: p.UserID, PasswordHash: hash}); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		except := p.SessionID
		if _, err := q.SessionRevokeAllForUser(ctx, db.SessionRevokeAllForUserParams{
			UserID: p.UserID, ExceptFamilyID: &except, Reason: reasonPasswordChanged,
		}); err != nil {
			return fmt.Errorf("revoke other sessions: %w", err)
		}
		return nil
	})
}

// SetPassword sets a user's password without checking the old one, for the CLI, seeds and
// completed invitations or resets; it activates an invited user and ends all their sessions.
// Errors: ErrValidation (policy, field "password"), ErrNotFound.
func (s *Service) SetPassword(ctx context.Context, userID uuid.UUID, password string) error {
	row, err := s.q.UserGetByID(ctx, userID)
	if err != nil {
		return postgres.InterpretError(err)
	}
	if err := CheckPasswordPolicy("password", password, row.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return postgres.WithTx(ctx, s.pool, func(q *db.Queries) error {
		if _, err := q.UserSetPassword(ctx, db.UserSetPasswordParams{ID: userID, PasswordHash: hash}); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if _, err := q.SessionRevokeAllForUser(ctx, db.SessionRevokeAllForUserParams{UserID: userID, Reason: reasonPasswordChanged}); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		return nil
	})
}

// Sessions lists the caller's open sessions, most recently used first; the one of the
// caller's access token is marked Current.
func (s *Service) Sessions(ctx context.Context, p UserPrincipal) ([]Session, error) {
	rows, err := s.q.SessionListActiveByUser(ctx, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", postgres.InterpretError(err))
	}
	out := make([]Session, 0, len(rows))
	for _, r := range rows {
		out = append(out, sessionFromRow(r, p.SessionID))
	}
	return out, nil
}

// RevokeSession ends one of the caller's own sessions. Errors: ErrNotFound when the id names
// no open session of the caller (another user's session included).
func (s *Service) RevokeSession(ctx context.Context, p UserPrincipal, sessionID uuid.UUID) error {
	n, err := s.q.SessionRevoke(ctx, db.SessionRevokeParams{FamilyID: sessionID, UserID: p.UserID, Reason: reasonRevokedByUser})
	if err != nil {
		return fmt.Errorf("revoke session: %w", postgres.InterpretError(err))
	}
	if n == 0 {
		return apperr.NotFound("session")
	}
	return nil
}

// RevokeUserKeysTx revokes, inside the caller's transaction, every live Public API key that
// userID created in firmID. Keys are the responsibility of the administrator who created them:
// they stop working when that user is deactivated or loses the FIRM_ADMIN role. Keys created
// from the command line have no creator and are not affected.
func RevokeUserKeysTx(ctx context.Context, q *db.Queries, firmID, userID uuid.UUID) error {
	_, err := q.ApiKeyRevokeByCreator(ctx, db.ApiKeyRevokeByCreatorParams{FirmID: firmID, CreatedBy: &userID})
	if err != nil {
		return fmt.Errorf("revoke api keys of user %s: %w", userID, err)
	}
	return nil
}

// RevokeUserSessionsTx ends every session of a user, e.g. when an administrator deactivates
// them, inside the caller's transaction.
func RevokeUserSessionsTx(ctx context.Context, q *db.Queries, userID uuid.UUID) error {
	_, err := q.SessionRevokeAllForUser(ctx, db.SessionRevokeAllForUserParams{UserID: userID, Reason: reasonUserInactive})
	if err != nil {
		return fmt.Errorf("revoke sessions of user %s: %w", userID, err)
	}
	return nil
}
