package users

// The account life cycle after the invitation: accepting it, resending it, forgetting
// and resetting a password, and the user's own profile.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/postgres"
)

// Password reset settings.
const (
	// ResetTTL is how long a password reset link works.
	ResetTTL = time.Hour
	// ResetWindow, ResetPerEmail and ResetPerIP throttle reset requests: at most ResetPerEmail
	// requests for one address and ResetPerIP (Config.ResetPerIP) from one client address
	// within ResetWindow.
	ResetWindow   = time.Hour
	ResetPerEmail = 5
	ResetPerIP    = 20
)

// reasonPasswordReset is the revoke reason of the sessions a reset ends (a password change).
const reasonPasswordReset = "password_changed"

func invalidInvitation() error {
	return apperr.Field("token", "is invalid or no longer valid; ask your firm administrator to send a new invitation")
}

func inactiveAccount() error {
	return apperr.New(apperr.ErrPermission, auth.CodeAccountInactive, "This account is deactivated")
}

// AcceptInvitation completes an invitation without signing in (CompleteInvitation signs in
// too): it sets the user's first password and activates the account. The token works once.
//
// Errors, in the order checked: ErrValidation (field token) for an unknown, replaced, cancelled
// or expired token (the message says which of invalid or expired); ErrConflict when the token
// already activated the account and the account is active; ErrPermission
// (auth.CodeAccountInactive) when the firm is deactivated; ErrValidation (field password) for a
// password that breaks auth.CheckPasswordPolicy.
func (s *Service) AcceptInvitation(ctx context.Context, token, password string) (User, error) {
	var out User
	err := s.acceptInvitation(ctx, token, password, func(_ *db.Queries, row db.User) error {
		out = userFromRow(row)
		return nil
	})
	return out, err
}

// CompleteInvitation is AcceptInvitation followed, in the same transaction, by a sign-in (the
// result of a login: tokens and user). ip and userAgent describe the client, as for a login.
// Errors: those of AcceptInvitation.
func (s *Service) CompleteInvitation(ctx context.Context, token, password, ip, userAgent string) (auth.LoginResult, error) {
	if s.cfg.Sessions == nil {
		return auth.LoginResult{}, errors.New("users: no session opener configured")
	}
	var out auth.LoginResult
	err := s.acceptInvitation(ctx, token, password, func(q *db.Queries, row db.User) error {
		res, err := s.cfg.Sessions.OpenSessionTx(ctx, q, row.ID, ip, userAgent)
		out = res
		return err
	})
	return out, err
}

func (s *Service) acceptInvitation(ctx context.Context, token, password string, then func(*db.Queries, db.User) error) error {
	token = strings.TrimSpace(token)
	if token == "" {
		return apperr.Field("token", "is required")
	}
	hash := hashToken(token)
	q := db.New(s.pool)
	invitee, err := q.UserGetByInvitationToken(ctx, hash)
	if errors.Is(err, pgx.ErrNoRows) {
		used, err := q.UserGetByAcceptedInvitationToken(ctx, hash)
		switch {
		case err == nil && used.IsActive && used.ActivationState == "active":
			return apperr.Conflict("This invitation was already accepted and the account is active; sign in with its password")
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("load used invitation: %w", postgres.InterpretError(err))
		}
		return invalidInvitation()
	}
	if err != nil {
		return fmt.Errorf("load invitation: %w", postgres.InterpretError(err))
	}
	if invitee.ActivationState != "invited" || invitee.Undeliverable {
		return invalidInvitation()
	}
	if invitee.InvitationExpiresAt == nil || !invitee.InvitationExpiresAt.After(time.Now()) {
		return apperr.Field("token", "has expired; ask your firm administrator to send a new invitation")
	}
	f, err := q.FirmGetByID(ctx, invitee.FirmID)
	if err != nil {
		return fmt.Errorf("load firm: %w", postgres.InterpretError(err))
	}
	if !f.IsActive {
		return inactiveAccount()
	}
	// The policy also depends on the invitee's address.
	if err := auth.CheckPasswordPolicy("password", password, invitee.Email); err != nil {
		return err
	}
	pwHash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return postgres.WithTx(ctx, s.pool, func(q *db.Queries) error {
		row, err := q.UserAcceptInvitation(ctx, db.UserAcceptInvitationParams{PasswordHash: pwHash, InvitationTokenHash: hash})
		if errors.Is(err, pgx.ErrNoRows) {
			// Used, replaced or expired between the read and the write.
			return invalidInvitation()
		}
		if err != nil {
			return fmt.Errorf("accept invitation: %w", postgres.InterpretError(err))
		}
		return then(q, row)
	})
}

// ResendInvitation gives a user of firm who never chose a password a new invitation token and
// e-mails the new link; the previous link stops working. It also reopens an invitation that
// deactivation cancelled. An undeliverable invitation (see Invite) gets a new token, never
// sent.
//
// actor is the signed-in user asking; only a firm administrator may, and only for their firm.
//
// Errors: ErrPermission unless actor administers the firm; ErrNotFound (also for another
// firm's user); ErrInvalidTransition when the user has already accepted an invitation.
func (s *Service) ResendInvitation(ctx context.Context, actor auth.UserPrincipal, id uuid.UUID) error {
	if !actor.Role.CanManageFirm() {
		return apperr.Permission("Only firm administrators can resend invitations")
	}
	firm := actor.FirmID
	return postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := db.New(tx)
		cur, err := q.UserLockInFirm(ctx, db.UserLockInFirmParams{ID: id, FirmID: firm})
		if err != nil {
			return notFound(err)
		}
		if cur.ActivationState != "invited" {
			return apperr.Transition("This user has already accepted an invitation and chosen a password")
		}
		_, err = s.reinviteTx(ctx, tx, q, cur)
		return err
	})
}

// ResetRequestArgs is the job that decides, away from the request, whether a password reset
// e-mail goes out: the request itself does the same work for every address.
type ResetRequestArgs struct {
	Email string `json:"email"`
}

// Kind is the River job kind.
func (ResetRequestArgs) Kind() string { return "password_reset_request" }

// InsertOpts bounds the attempts.
func (ResetRequestArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// RequestPasswordReset records a reset request for email from client address ip and queues the
// job that sends the link if the address belongs to an active user who has chosen a password
// (ResetWorker). Whatever the address, the request does the same work: a throttle check, one
// row, one job, in one transaction; so neither the answer nor its timing says whether the
// address exists.
//
// Errors: ErrValidation (field email) for a malformed address; ErrRateLimited
// (auth.CodeRateLimitedEmail or auth.CodeRateLimitedIP, in an *auth.RetryError) over
// ResetPerEmail requests for the address or ResetPerIP from ip within ResetWindow.
func (s *Service) RequestPasswordReset(ctx context.Context, email, ip string) error {
	addr, err := notify.ParseAddress("email", email)
	if err != nil {
		return err
	}
	if s.cfg.Queue == nil {
		return errors.New("users: no job queue configured for password resets")
	}
	return postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.PasswordResetLockEmail(ctx, addr); err != nil {
			return fmt.Errorf("lock reset throttle: %w", err)
		}
		if ip != "" {
			if err := q.PasswordResetLockIP(ctx, ip); err != nil {
				return fmt.Errorf("lock reset throttle: %w", err)
			}
		}
		now := time.Now()
		c, err := q.PasswordResetCounts(ctx, db.PasswordResetCountsParams{Email: addr, Ip: ip, Since: now.Add(-ResetWindow)})
		if err != nil {
			return fmt.Errorf("count reset requests: %w", postgres.InterpretError(err))
		}
		retry := func(oldest time.Time) time.Duration {
			return max(oldest.Add(ResetWindow).Sub(now).Round(time.Second), time.Second)
		}
		if c.EmailRequests >= ResetPerEmail {
			return &auth.RetryError{After: retry(c.EmailOldest), Err: &apperr.Error{Kind: apperr.ErrRateLimited,
				Code: auth.CodeRateLimitedEmail, Message: "Too many password reset requests for this address; try again later"}}
		}
		if ip != "" && int(c.IpRequests) >= s.cfg.ResetPerIP {
			return &auth.RetryError{After: retry(c.IpOldest), Err: &apperr.Error{Kind: apperr.ErrRateLimited,
				Code: auth.CodeRateLimitedIP, Message: "Too many password reset requests from this address; try again later"}}
		}
		if err := q.PasswordResetRecord(ctx, db.PasswordResetRecordParams{Email: addr, Ip: ip}); err != nil {
			return fmt.Errorf("record reset request: %w", err)
		}
		return s.cfg.Queue.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: ResetRequestArgs{Email: addr}}})
	})
}

// sendReset issues a reset token for email and enqueues its e-mail, if the address belongs to
// an active user of an active firm who has chosen a password; otherwise it does nothing. The
// new token replaces any earlier one.
func (s *Service) sendReset(ctx context.Context, email string) error {
	row, err := db.New(s.pool).UserGetByEmail(ctx, email)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load user: %w", postgres.InterpretError(err))
	}
	if !row.IsActive || !row.FirmIsActive || row.ActivationState != "active" || row.PasswordHash == nil {
		return nil
	}
	token, hash, err := newToken()
	if err != nil {
		return err
	}
	expires := time.Now().Add(ResetTTL)
	return postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := db.New(tx).UserSetResetToken(ctx, db.UserSetResetTokenParams{ID: row.ID, TokenHash: hash, ExpiresAt: expires}); err != nil {
			return fmt.Errorf("store reset token: %w", err)
		}
		return s.notify.EnqueuePasswordResetTx(ctx, tx, notify.PasswordReset{
			To: row.Email, FirstName: row.FirstName, Link: s.resetLink(token), ExpiresAt: expires,
		})
	})
}

// ResetWorker works ResetRequestArgs jobs. It is registered with the queue (Register) before
// the Service exists, and bound to it with Use.
type ResetWorker struct {
	svc *Service
}

// Register adds the worker to a job queue (a jobs.Register).
func (w *ResetWorker) Register(ws *river.Workers) { river.AddWorker(ws, &resetJobWorker{w: w}) }

// Use sets the service whose resets the worker sends. Call it before the queue starts.
func (w *ResetWorker) Use(s *Service) { w.svc = s }

type resetJobWorker struct {
	river.WorkerDefaults[ResetRequestArgs]
	w *ResetWorker
}

func (jw *resetJobWorker) Work(ctx context.Context, job *river.Job[ResetRequestArgs]) error {
	if jw.w.svc == nil {
		return errors.New("users: reset worker not bound to a service")
	}
	return jw.w.svc.sendReset(ctx, job.Args.Email)
}

// ResetPassword sets a new password with a reset token and ends every session of the user.
// The token works once.
//
// Errors, in the order checked: ErrValidation (field token) for an unknown, used, replaced or
// expired token (the message says which of invalid or expired); ErrPermission
// (auth.CodeAccountInactive) when the user or firm is deactivated; ErrValidation (field
// password) for a password that breaks auth.CheckPasswordPolicy.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	token = strings.TrimSpace(token)
	if token == "" {
		return apperr.Field("token", "is required")
	}
	invalid := apperr.Field("token", "is invalid or has already been used; ask for a new link")
	hash := hashToken(token)
	row, err := db.New(s.pool).UserGetByResetToken(ctx, hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return invalid
	}
	if err != nil {
		return fmt.Errorf("load reset token: %w", postgres.InterpretError(err))
	}
	if row.PasswordResetExpiresAt == nil || !row.PasswordResetExpiresAt.After(time.Now()) {
		return apperr.Field("token", "has expired; ask for a new link")
	}
	if !row.IsActive || !row.FirmIsActive || row.ActivationState != "active" {
		return inactiveAccount()
	}
	if err := auth.CheckPasswordPolicy("password", password, row.Email); err != nil {
		return err
	}
	pwHash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return postgres.WithTx(ctx, s.pool, func(q *db.Queries) error {
		if _, err := q.UserResetPassword(ctx, db.UserResetPasswordParams{ID: row.ID, TokenHash: hash, PasswordHash: pwHash}); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return invalid
			}
			return fmt.Errorf("reset password: %w", postgres.InterpretError(err))
		}
		if _, err := q.SessionRevokeAllForUser(ctx, db.SessionRevokeAllForUserParams{UserID: row.ID, Reason: reasonPasswordReset}); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return nil
	})
}

// ProfileUpdate changes the user's own name and phone; nil fields are kept. A Phone of ""
// removes the phone (as SetPhone with a nil Phone does).
type ProfileUpdate struct {
	FirstName *string
	LastName  *string
	SetPhone  bool
	Phone     *string
}

// UpdateProfile changes a user's own name and phone. Role, firm and address are not
// changeable here.
// Errors: ErrValidation naming the field (firstName, lastName, phone); ErrNotFound.
func (s *Service) UpdateProfile(ctx context.Context, userID uuid.UUID, in ProfileUpdate) error {
	p := db.UserUpdateOwnProfileParams{ID: userID, SetPhone: in.SetPhone}
	if in.FirstName != nil {
		v, err := name("firstName", *in.FirstName)
		if err != nil {
			return err
		}
		p.FirstName = &v
	}
	if in.LastName != nil {
		v, err := name("lastName", *in.LastName)
		if err != nil {
			return err
		}
		p.LastName = &v
	}
	if in.SetPhone && in.Phone != nil {
		v, err := phone(*in.Phone)
		if err != nil {
			return err
		}
		p.Phone = v
	}
	if _, err := db.New(s.pool).UserUpdateOwnProfile(ctx, p); err != nil {
		return notFound(err)
	}
	return nil
}

// phone checks a phone number: up to 50 characters of digits, spaces and + - ( ) . x, with a
// digit. "" means none.
func phone(s string) (*string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(s) > 50 {
		return nil, apperr.Field("phone", "must be at most 50 characters")
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +-().xX", r):
		default:
			return nil, apperr.Field("phone", "may contain only digits, spaces and + - ( ) . x")
		}
	}
	if digits == 0 {
		return nil, apperr.Field("phone", "must contain a digit")
	}
	return &s, nil
}
