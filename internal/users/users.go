// Package users administers the people of a firm: listing them, inviting new ones by e-mail,
// changing their details and role, and switching them off. These are the accounts that sign
// in through the Internal API (internal/auth); every operation is scoped to one firm, so a
// user of another firm is simply not found.
//
// Invitations: inviting creates an inactive user with a random one-time token, of which only
// the SHA-256 is stored, and enqueues the invitation e-mail in the same transaction. The
// user becomes active by presenting the token with a first password (AcceptInvitation).
//
// A firm always keeps at least one active FIRM_ADMIN: demoting or deactivating the last one is
// refused with ErrConflict.
package users

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/postgres"
)

// InvitationTTL is how long an invitation link works by default (Config.InvitationTTL).
const InvitationTTL = 7 * 24 * time.Hour

// Status is a user's place in the account life cycle.
type Status string

// Statuses.
const (
	StatusInvited     Status = "invited"     // invitation sent, not yet accepted
	StatusActive      Status = "active"      // may sign in
	StatusDeactivated Status = "deactivated" // switched off, or invitation cancelled
)

// User is a person of a firm.
type User struct {
	ID          uuid.UUID
	FirmID      uuid.UUID
	Email       string
	FirstName   string
	LastName    string
	Role        auth.Role
	Active      bool // may sign in
	Status      Status
	LastLoginAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Config configures a Service.
type Config struct {
	// BaseURL is the absolute URL the invitation link starts with (the server's public
	// base URL); the link is BaseURL + "/accept-invitation?token=...".
	BaseURL string
	// BaseURLFunc, when set, is asked for the base URL whenever a link is made (it wins over
	// BaseURL), for servers that learn their address after start (tests).
	BaseURLFunc func() string
	// AppURL, when set, is the firm-facing application that serves the invitation and reset
	// pages instead of this server: links become AppURL + "/accept-invitation?token=..." and
	// AppURL + "/reset-password?token=...".
	AppURL string
	// InvitationTTL is how long an invitation link works; zero means InvitationTTL.
	InvitationTTL time.Duration
	// ResetPerIP is the budget of password reset requests per client address within
	// ResetWindow; zero means ResetPerIP.
	ResetPerIP int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Keys announces revoked keys to the API key caches of every process; nil announces
	// nothing (a process without caches, such as a command).
	Keys KeyNotifier
	// Sessions signs in a user who completed an invitation; nil disables CompleteInvitation.
	Sessions SessionOpener
	// Queue receives the password reset jobs (RequestPasswordReset); nil disables it.
	Queue notify.Queue
}

// SessionOpener is the part of auth.Service that signs a user in.
type SessionOpener interface {
	OpenSessionTx(ctx context.Context, q *db.Queries, userID uuid.UUID, ip, userAgent string) (auth.LoginResult, error)
}

// KeyNotifier is the part of auth.Service that invalidates cached API keys.
type KeyNotifier interface {
	NotifyKeysChangedTx(ctx context.Context, q *db.Queries, changes ...auth.KeyChange) (*auth.KeyNotice, error)
}

// keyNotices collects the key invalidations of one transaction, awaited after its commit.
type keyNotices []*auth.KeyNotice

func (n keyNotices) await(ctx context.Context) {
	for _, k := range n {
		k.Await(ctx)
	}
}

// revokeKeysTx revokes the keys userID created in firm and queues their invalidation.
func (s *Service) revokeKeysTx(ctx context.Context, q *db.Queries, firm, userID uuid.UUID, notices *keyNotices) error {
	if err := auth.RevokeUserKeysTx(ctx, q, firm, userID); err != nil {
		return err
	}
	if s.cfg.Keys == nil {
		return nil
	}
	n, err := s.cfg.Keys.NotifyKeysChangedTx(ctx, q, auth.FirmKeysChanged(firm))
	if err != nil {
		return err
	}
	*notices = append(*notices, n)
	return nil
}

// Service administers users.
type Service struct {
	pool   *pgxpool.Pool
	notify *notify.Service
	hasher *auth.Hasher
	cfg    Config
}

// New returns a Service. notifier sends invitations; hasher hashes the password chosen when
// an invitation is accepted.
func New(pool *pgxpool.Pool, notifier *notify.Service, hasher *auth.Hasher, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InvitationTTL <= 0 {
		cfg.InvitationTTL = InvitationTTL
	}
	if cfg.ResetPerIP <= 0 {
		cfg.ResetPerIP = ResetPerIP
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	cfg.AppURL = strings.TrimRight(cfg.AppURL, "/")
	return &Service{pool: pool, notify: notifier, hasher: hasher, cfg: cfg}
}

// ListQuery filters and pages a firm's users.
type ListQuery struct {
	Search string // matches first name, last name or e-mail, ignoring case
	Role   string // exact role, ignoring case; empty means any
	Active *bool  // nil means any
	Page   int    // 1-based
	Limit  int
}

// Page is one page of users and the total number matching.
type Page struct {
	Users []User
	Total int64
}

// List returns firm's users ordered by last name, then first name.
func (s *Service) List(ctx context.Context, firm uuid.UUID, lq ListQuery) (Page, error) {
	if lq.Page < 1 {
		lq.Page = 1
	}
	if lq.Limit < 1 {
		lq.Limit = 20
	}
	search := escapeLike(strings.TrimSpace(lq.Search))
	var role *string
	if r := strings.TrimSpace(lq.Role); r != "" {
		role = &r
	}
	q := db.New(s.pool)
	rows, err := q.UserListByFirm(ctx, db.UserListByFirmParams{
		FirmID: firm, Search: search, Role: role, IsActive: lq.Active,
		SkipRows: int32((lq.Page - 1) * lq.Limit), MaxRows: int32(lq.Limit),
	})
	if err != nil {
		return Page{}, fmt.Errorf("list users: %w", postgres.InterpretError(err))
	}
	total, err := q.UserCountByFirm(ctx, db.UserCountByFirmParams{FirmID: firm, Search: search, Role: role, IsActive: lq.Active})
	if err != nil {
		return Page{}, fmt.Errorf("count users: %w", postgres.InterpretError(err))
	}
	out := make([]User, 0, len(rows))
	for _, r := range rows {
		out = append(out, userFromRow(r))
	}
	return Page{Users: out, Total: total}, nil
}

// Get returns one user of firm. Errors: ErrNotFound, also for another firm's user.
func (s *Service) Get(ctx context.Context, firm, id uuid.UUID) (User, error) {
	row, err := db.New(s.pool).UserGetInFirm(ctx, db.UserGetInFirmParams{ID: id, FirmID: firm})
	if err != nil {
		return User{}, notFound(err)
	}
	return userFromRow(row), nil
}

// InviteInput describes a new user.
type InviteInput struct {
	Email     string
	FirstName string
	LastName  string
	Role      string // FIRM_ADMIN or MEMBER in any case; empty means MEMBER
}

// Invite creates an inactive user of firm and enqueues the invitation e-mail with a link
// valid for InvitationTTL.
//
// An address that belongs to a user of another firm is answered like a new one (the caller must
// not learn who is registered elsewhere): the invited user is stored and listed as usual, but
// marked undeliverable, so no e-mail is sent and nobody can accept or sign in with it.
//
// Errors: ErrValidation naming the field (email, firstName, lastName, role); ErrConflict when
// the address is already used in firm; ErrNotFound when the firm does not exist.
func (s *Service) Invite(ctx context.Context, firm uuid.UUID, in InviteInput) (User, error) {
	email, err := notify.ParseAddress("email", in.Email)
	if err != nil {
		return User{}, err
	}
	first, err := name("firstName", in.FirstName)
	if err != nil {
		return User{}, err
	}
	last, err := name("lastName", in.LastName)
	if err != nil {
		return User{}, err
	}
	role := auth.RoleMember
	if strings.TrimSpace(in.Role) != "" {
		if role, err = assignableRole(in.Role); err != nil {
			return User{}, err
		}
	}
	var out User
	err = postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := db.New(tx)
		f, err := q.FirmGetByID(ctx, firm)
		if err != nil {
			return notFoundAs(err, "firm")
		}
		token, hash, err := newToken()
		if err != nil {
			return err
		}
		expires := s.cfg.Now().Add(s.cfg.InvitationTTL)
		holder, err := q.UserEmailHolder(ctx, email)
		switch {
		case err == nil && holder == firm:
			return emailTaken()
		case err == nil:
			// The address is someone's at another firm. Saying so would tell the caller who is
			// registered elsewhere, so the answer is the one of a new invitation; the row is
			// kept (and listed) like one, but its e-mail is never sent.
			row, err := q.UserCreateUndeliverable(ctx, db.UserCreateUndeliverableParams{
				FirmID: firm, Email: email, FirstName: first, LastName: last, Role: string(role),
				InvitationTokenHash: hash, InvitationExpiresAt: expires,
			})
			if err != nil {
				return emailConflict(err)
			}
			out = userFromRow(row)
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("look up address: %w", postgres.InterpretError(err))
		}
		row, err := q.UserCreate(ctx, db.UserCreateParams{
			FirmID: firm, Email: email, FirstName: first, LastName: last, Role: string(role),
			IsActive: false, ActivationState: "invited", InvitationTokenHash: &hash, InvitationExpiresAt: &expires,
		})
		if err != nil {
			return emailConflict(err)
		}
		out = userFromRow(row)
		return s.notify.EnqueueInvitationTx(ctx, tx, notify.Invitation{
			To: email, FirstName: first, FirmName: f.Name, Link: s.invitationLink(token), ExpiresAt: expires,
		})
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// UpdateInput changes the fields that are not nil.
type UpdateInput struct {
	FirstName *string
	LastName  *string
	Email     *string
	Role      *string // FIRM_ADMIN or MEMBER in any case
	Active    *bool   // false deactivates (as Deactivate); true reactivates
}

// Update changes a user of firm. Changing the address of a user who has not accepted the
// invitation yet sends a new invitation to the new address (the old link stops working).
// Taking the FIRM_ADMIN role away revokes the Public API keys the user created, as
// deactivation does; the user's sessions stay open but carry the new role from the next
// request on (the role is never taken from the access token).
//
// Errors: ErrNotFound (also for another firm's user); ErrValidation naming the field,
// including reactivating a user who never accepted the invitation (field isActive);
// ErrConflict when the address belongs to another user of firm, or to a user of another firm
// while this user has accepted the invitation (an invited user's invitation becomes
// undeliverable instead, as in Invite), or when the change would leave the firm without an
// active FIRM_ADMIN.
func (s *Service) Update(ctx context.Context, firm, id uuid.UUID, in UpdateInput) (User, error) {
	var p db.UserUpdateProfileParams
	var err error
	if in.FirstName != nil {
		v, err := name("firstName", *in.FirstName)
		if err != nil {
			return User{}, err
		}
		p.FirstName = &v
	}
	if in.LastName != nil {
		v, err := name("lastName", *in.LastName)
		if err != nil {
			return User{}, err
		}
		p.LastName = &v
	}
	if in.Email != nil {
		v, err := notify.ParseAddress("email", *in.Email)
		if err != nil {
			return User{}, err
		}
		p.Email = &v
	}
	if in.Role != nil {
		r, err := assignableRole(*in.Role)
		if err != nil {
			return User{}, err
		}
		v := string(r)
		p.Role = &v
	}
	var out User
	var notices keyNotices
	defer func() {
		if err == nil {
			notices.await(ctx)
		}
	}()
	err = postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		notices = nil
		q := db.New(tx)
		admins, err := q.UserLockActiveFirmAdmins(ctx, firm)
		if err != nil {
			return fmt.Errorf("lock administrators: %w", err)
		}
		cur, err := q.UserLockInFirm(ctx, db.UserLockInFirmParams{ID: id, FirmID: firm})
		if err != nil {
			return notFound(err)
		}
		if in.Active != nil && *in.Active && cur.ActivationState != "active" {
			// An invited user becomes active by accepting the invitation; asking to activate
			// one early changes nothing and is not an error (the published collection does it).
			in.Active = nil
		}
		losesAdmin := (p.Role != nil && *p.Role != string(auth.RoleFirmAdmin)) || (in.Active != nil && !*in.Active)
		if losesAdmin && cur.IsActive && cur.Role == string(auth.RoleFirmAdmin) {
			if err := keepsAnAdmin(admins, cur.ID); err != nil {
				return err
			}
		}
		// A new address may belong to a user of another firm. An invited user then keeps an
		// undeliverable invitation (see Invite) rather than revealing it with a conflict.
		var deliverable *bool
		if p.Email != nil && *p.Email != cur.Email {
			holder, err := q.UserEmailHolder(ctx, *p.Email)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				if cur.Undeliverable {
					deliverable = new(true)
				}
			case err != nil:
				return fmt.Errorf("look up address: %w", postgres.InterpretError(err))
			case holder == firm || cur.ActivationState == "active":
				return emailTaken()
			case !cur.Undeliverable:
				deliverable = new(false)
				if cur, err = q.UserSetDeliverable(ctx, db.UserSetDeliverableParams{ID: cur.ID, Deliverable: false}); err != nil {
					return fmt.Errorf("mark invitation undeliverable: %w", err)
				}
			}
		}
		row := cur
		if p.FirstName != nil || p.LastName != nil || p.Email != nil || p.Role != nil {
			p.ID, p.FirmID = id, firm
			if row, err = q.UserUpdateProfile(ctx, p); err != nil {
				return emailConflict(err)
			}
		}
		if deliverable != nil && *deliverable {
			if row, err = q.UserSetDeliverable(ctx, db.UserSetDeliverableParams{ID: row.ID, Deliverable: true}); err != nil {
				return emailConflict(err)
			}
		}
		if p.Role != nil && *p.Role != cur.Role && !auth.Role(*p.Role).CanManageFirm() {
			// The role is read from the database on every request, so the user's sessions lose
			// the administrator's powers at once; the keys the user created go with them.
			if err := s.revokeKeysTx(ctx, q, firm, cur.ID, &notices); err != nil {
				return err
			}
		}
		if in.Active != nil {
			if row, err = s.setActiveTx(ctx, q, row, *in.Active, &notices); err != nil {
				return err
			}
		}
		// A pending invitation follows the address: re-invite at the new one.
		if p.Email != nil && *p.Email != cur.Email && row.ActivationState == "invited" && row.InvitationTokenHash != nil {
			if row, err = s.reinviteTx(ctx, tx, q, row); err != nil {
				return err
			}
		}
		out = userFromRow(row)
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// Deactivate switches a user of firm off: it cancels a pending invitation, ends all the
// user's sessions and revokes the Public API keys the user created, in the same transaction,
// so their refresh tokens, access tokens and keys stop working at once (reactivation does not
// bring the keys back). Deactivating an inactive user changes nothing.
//
// Errors: ErrNotFound (also for another firm's user); ErrConflict for the firm's last active
// FIRM_ADMIN.
func (s *Service) Deactivate(ctx context.Context, firm, id uuid.UUID) error {
	var notices keyNotices
	err := postgres.WithTx(ctx, s.pool, func(q *db.Queries) error {
		notices = nil
		admins, err := q.UserLockActiveFirmAdmins(ctx, firm)
		if err != nil {
			return fmt.Errorf("lock administrators: %w", err)
		}
		cur, err := q.UserLockInFirm(ctx, db.UserLockInFirmParams{ID: id, FirmID: firm})
		if err != nil {
			return notFound(err)
		}
		if cur.IsActive && cur.Role == string(auth.RoleFirmAdmin) {
			if err := keepsAnAdmin(admins, cur.ID); err != nil {
				return err
			}
		}
		_, err = s.setActiveTx(ctx, q, cur, false, &notices)
		return err
	})
	if err == nil {
		notices.await(ctx)
	}
	return err
}

// setActiveTx applies isActive to a locked row.
func (s *Service) setActiveTx(ctx context.Context, q *db.Queries, cur db.User, active bool, notices *keyNotices) (db.User, error) {
	if active {
		if cur.IsActive {
			return cur, nil
		}
		row, err := q.UserReactivate(ctx, db.UserReactivateParams{ID: cur.ID, FirmID: cur.FirmID})
		if err != nil {
			return db.User{}, fmt.Errorf("reactivate user: %w", err)
		}
		return row, nil
	}
	if !cur.IsActive && cur.InvitationTokenHash == nil {
		return cur, nil // already off
	}
	row, err := q.UserDeactivate(ctx, db.UserDeactivateParams{ID: cur.ID, FirmID: cur.FirmID})
	if err != nil {
		return db.User{}, fmt.Errorf("deactivate user: %w", err)
	}
	if err := auth.RevokeUserSessionsTx(ctx, q, cur.ID); err != nil {
		return db.User{}, err
	}
	if err := s.revokeKeysTx(ctx, q, cur.FirmID, cur.ID, notices); err != nil {
		return db.User{}, err
	}
	return row, nil
}

// reinviteTx gives an invited user a new token and sends it to their current address; the
// token of an undeliverable invitation is renewed (so the old link dies) but not sent.
func (s *Service) reinviteTx(ctx context.Context, tx pgx.Tx, q *db.Queries, u db.User) (db.User, error) {
	f, err := q.FirmGetByID(ctx, u.FirmID)
	if err != nil {
		return db.User{}, notFoundAs(err, "firm")
	}
	token, hash, err := newToken()
	if err != nil {
		return db.User{}, err
	}
	expires := s.cfg.Now().Add(s.cfg.InvitationTTL)
	row, err := q.UserSetInvitation(ctx, db.UserSetInvitationParams{ID: u.ID, InvitationTokenHash: hash, InvitationExpiresAt: expires})
	if err != nil {
		return db.User{}, fmt.Errorf("renew invitation: %w", err)
	}
	if row.Undeliverable {
		return row, nil
	}
	err = s.notify.EnqueueInvitationTx(ctx, tx, notify.Invitation{
		To: row.Email, FirstName: row.FirstName, FirmName: f.Name, Link: s.invitationLink(token), ExpiresAt: expires,
	})
	return row, err
}

func (s *Service) invitationLink(token string) string {
	return s.linkBase() + "/accept-invitation?token=" + url.QueryEscape(token)
}

func (s *Service) resetLink(token string) string {
	return s.linkBase() + "/reset-password?token=" + url.QueryEscape(token)
}

// linkBase is where the pages of e-mailed links live: the firm-facing application when one is
// configured, else this server.
func (s *Service) linkBase() string {
	switch {
	case s.cfg.AppURL != "":
		return s.cfg.AppURL
	case s.cfg.BaseURLFunc != nil:
		return strings.TrimRight(s.cfg.BaseURLFunc(), "/")
	}
	return s.cfg.BaseURL
}

// keepsAnAdmin refuses a change to user when no other active FIRM_ADMIN is in admins.
func keepsAnAdmin(admins []uuid.UUID, user uuid.UUID) error {
	for _, a := range admins {
		if a != user {
			return nil
		}
	}
	return apperr.Conflict("The firm must keep at least one active FIRM_ADMIN")
}

// assignableRole parses a role this API may assign: FIRM_ADMIN or MEMBER, in any case.
func assignableRole(s string) (auth.Role, error) {
	switch r := auth.Role(strings.ToUpper(strings.TrimSpace(s))); r {
	case auth.RoleFirmAdmin, auth.RoleMember:
		return r, nil
	}
	return "", apperr.Field("role", "must be FIRM_ADMIN or MEMBER")
}

func name(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", apperr.Field(field, "is required")
	case n > 100:
		return "", apperr.Field(field, "must be at most 100 characters")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", apperr.Field(field, "must not contain control characters")
	}
	return s, nil
}

// newToken returns a random URL-safe token (256 bits) and the hash that is stored.
func newToken() (token, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("invitation token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// emailTaken is the conflict of an address already used in the caller's firm.
func emailTaken() error {
	return &apperr.Error{Kind: apperr.ErrConflict, Message: "A user with this e-mail address already exists in this firm"}
}

// emailConflict turns the unique violations on users.email into a clear conflict.
func emailConflict(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" &&
		(pgErr.ConstraintName == "users_email_key" || pgErr.ConstraintName == "users_firm_email_key") {
		return &apperr.Error{Kind: apperr.ErrConflict, Message: "A user with this e-mail address already exists in this firm", Cause: err}
	}
	return postgres.InterpretError(err)
}

func notFound(err error) error { return notFoundAs(err, "user") }

func notFoundAs(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.NotFound(what)
	}
	return postgres.InterpretError(err)
}

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
