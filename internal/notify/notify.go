// Package notify decides who hears about what by e-mail and delivers it.
//
// A firm has three switches (new referral, status change, document upload; all on until the
// firm changes them) and a list of up to 50 recipient addresses; while the list is empty its
// active FIRM_ADMIN users receive the mail. Domains call EnqueueTx inside the transaction of
// the change: it checks the switch, resolves the recipients and enqueues one e-mail job per
// recipient on the job queue (internal/jobs), so mail goes out if and only if the change
// committed. The job's worker renders nothing itself: the message was fixed at enqueue time
// from an Event, which by construction carries only what any party may see (reference number,
// statuses, firm names), never client details.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
)

// MaxRecipients is how many addresses a firm's recipient list may hold.
const MaxRecipients = 50

// Queue enqueues jobs inside a transaction; *jobs.Client implements it.
type Queue interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error
}

// Service manages preferences and recipients and enqueues notification e-mail.
type Service struct {
	pool   *pgxpool.Pool
	queue  Queue
	mailer *Mailer
}

// New returns a Service. queue receives the e-mail jobs; mailer is the one the job workers
// send with (see Workers), kept here so tests can point it elsewhere.
func New(pool *pgxpool.Pool, queue Queue, mailer *Mailer) *Service {
	return &Service{pool: pool, queue: queue, mailer: mailer}
}

// Mailer returns the mailer the e-mail workers use.
func (s *Service) Mailer() *Mailer { return s.mailer }

// Preferences are a firm's e-mail switches.
type Preferences struct {
	NewReferral    bool
	StatusChange   bool
	DocumentUpload bool
	UpdatedAt      *time.Time // nil while the firm never changed them
}

// DefaultPreferences apply to a firm that never changed its switches: everything on.
var DefaultPreferences = Preferences{NewReferral: true, StatusChange: true, DocumentUpload: true}

// PreferencesUpdate sets the switches that are not nil.
type PreferencesUpdate struct {
	NewReferral    *bool
	StatusChange   *bool
	DocumentUpload *bool
}

func (u PreferencesUpdate) empty() bool {
	return u.NewReferral == nil && u.StatusChange == nil && u.DocumentUpload == nil
}

// Preferences returns firm's switches.
func (s *Service) Preferences(ctx context.Context, firm uuid.UUID) (Preferences, error) {
	return preferencesTx(ctx, db.New(s.pool), firm)
}

func preferencesTx(ctx context.Context, q *db.Queries, firm uuid.UUID) (Preferences, error) {
	row, err := q.NotificationPreferencesGet(ctx, firm)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultPreferences, nil
	}
	if err != nil {
		return Preferences{}, fmt.Errorf("read preferences: %w", postgres.InterpretError(err))
	}
	return preferencesFromRow(row), nil
}

// UpdatePreferences sets the switches given and returns the result. An empty update changes
// nothing (not even the timestamp).
func (s *Service) UpdatePreferences(ctx context.Context, firm uuid.UUID, u PreferencesUpdate) (Preferences, error) {
	if u.empty() {
		return s.Preferences(ctx, firm)
	}
	row, err := db.New(s.pool).NotificationPreferencesUpsert(ctx, db.NotificationPreferencesUpsertParams{
		FirmID: firm, NewReferral: u.NewReferral, StatusChange: u.StatusChange, DocumentUpload: u.DocumentUpload,
	})
	if err != nil {
		return Preferences{}, fmt.Errorf("update preferences: %w", postgres.InterpretError(err))
	}
	return preferencesFromRow(row), nil
}

// Recipient is an address on a firm's recipient list.
type Recipient struct {
	ID        uuid.UUID
	Email     string
	CreatedAt time.Time
}

// Recipients lists firm's recipient addresses, oldest first.
func (s *Service) Recipients(ctx context.Context, firm uuid.UUID) ([]Recipient, error) {
	rows, err := db.New(s.pool).NotificationEmailListByFirm(ctx, firm)
	if err != nil {
		return nil, fmt.Errorf("list recipients: %w", postgres.InterpretError(err))
	}
	out := make([]Recipient, 0, len(rows))
	for _, r := range rows {
		out = append(out, recipientFromRow(r))
	}
	return out, nil
}

// AddRecipient puts email on firm's list. It reports created=false, with the existing entry,
// when the address is already there in any letter case.
//
// Errors: ErrValidation (field "email") for a malformed address; ErrConflict when the list
// already holds MaxRecipients addresses.
func (s *Service) AddRecipient(ctx context.Context, firm uuid.UUID, email string) (rec Recipient, created bool, err error) {
	addr, err := ParseAddress("email", email)
	if err != nil {
		return Recipient{}, false, err
	}
	err = postgres.WithTx(ctx, s.pool, func(q *db.Queries) error {
		if err := q.NotificationEmailLockFirm(ctx, firm); err != nil {
			return fmt.Errorf("lock recipients: %w", err)
		}
		existing, err := q.NotificationEmailGetByAddress(ctx, db.NotificationEmailGetByAddressParams{FirmID: firm, Email: addr})
		if err == nil {
			rec, created = recipientFromRow(existing), false
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("find recipient: %w", err)
		}
		n, err := q.NotificationEmailCountByFirm(ctx, firm)
		if err != nil {
			return fmt.Errorf("count recipients: %w", err)
		}
		if n >= MaxRecipients {
			return apperr.Conflict(fmt.Sprintf("The firm already has %d notification addresses, the most allowed", MaxRecipients))
		}
		row, err := q.NotificationEmailCreate(ctx, db.NotificationEmailCreateParams{FirmID: firm, Email: addr})
		if err != nil {
			return fmt.Errorf("add recipient: %w", err)
		}
		rec, created = recipientFromRow(row), true
		return nil
	})
	if err != nil {
		return Recipient{}, false, err
	}
	return rec, created, nil
}

// ParseAddress checks a bare e-mail address (no display name) and returns it trimmed and
// lower-cased. field names the input in the validation error.
//
// Only ASCII addresses are accepted: not every SMTP server takes internationalized ones.
func ParseAddress(field, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	bad := func(msg string) (string, error) { return "", apperr.Field(field, msg) }
	switch {
	case s == "":
		return bad("is required")
	case len(s) > 254:
		return bad("must be at most 254 characters")
	}
	for _, r := range s {
		if r > unicode.MaxASCII || unicode.IsSpace(r) || unicode.IsControl(r) {
			return bad("must be a plain ASCII e-mail address")
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return bad("must be an e-mail address such as name@example.com")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") || strings.HasPrefix(domain, "[") {
		return bad("must be an e-mail address such as name@example.com")
	}
	return s, nil
}
