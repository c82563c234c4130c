package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/casexchange/server/gen/db"
)

// Kind names what happened.
type Kind string

// Event kinds and the switch that governs each.
const (
	// ReferralReceived: another firm sent the recipient firm a referral (emailOnNewReferral).
	ReferralReceived Kind = "referral_received"
	// StatusChanged: a referral the recipient firm sent or received changed status
	// (emailOnStatusChange).
	StatusChanged Kind = "status_changed"
	// DocumentUploaded: the partner firm attached a document to a shared case
	// (emailOnDocumentUpload).
	DocumentUploaded Kind = "document_uploaded"
	// MessageReceived: the partner firm sent a message about a referral. No switch governs
	// it: a message is addressed to the firm, so it is always delivered.
	MessageReceived Kind = "message_received"
)

// Event is something a firm may hear about by e-mail. It deliberately has no field for
// client details: everything in it may appear in an e-mail.
type Event struct {
	Kind Kind
	// FirmID is the firm to notify (the receiving firm of a new referral, the other party of
	// a status change, ...).
	FirmID uuid.UUID
	// ReferralID identifies the referral, for the logs; it never appears in the message.
	ReferralID uuid.UUID
	// ReferenceNumber is the human reference of the case, e.g. CX-PI-00212.
	ReferenceNumber string
	// PartnerFirmName is the firm whose action caused the event.
	PartnerFirmName string
	// FromStatus and ToStatus are the statuses of a StatusChanged event, e.g.
	// under_evaluation and investigating.
	FromStatus string
	ToStatus   string
}

// enabled reports whether p lets events of kind k through.
func (k Kind) enabled(p Preferences) (bool, error) {
	switch k {
	case ReferralReceived:
		return p.NewReferral, nil
	case StatusChanged:
		return p.StatusChange, nil
	case DocumentUploaded:
		return p.DocumentUpload, nil
	case MessageReceived:
		return true, nil
	}
	return false, fmt.Errorf("notify: unknown event kind %q", k)
}

// EnqueueTx enqueues the e-mails for ev inside the caller's transaction tx: nothing when the
// recipient firm switched this kind of e-mail off, otherwise one job per recipient (the firm's
// list, or its active FIRM_ADMIN users while the list is empty). The mail is sent after tx
// commits; a rollback drops it.
//
// Errors: an error for an unknown kind, a missing firm or reference number, or a database
// failure; callers should fail their transaction with it.
func (s *Service) EnqueueTx(ctx context.Context, tx pgx.Tx, ev Event) error {
	if ev.FirmID == uuid.Nil {
		return errors.New("notify: event without a recipient firm")
	}
	if strings.TrimSpace(ev.ReferenceNumber) == "" {
		return errors.New("notify: event without a reference number")
	}
	q := db.New(tx)
	prefs, err := preferencesTx(ctx, q, ev.FirmID)
	if err != nil {
		return err
	}
	on, err := ev.Kind.enabled(prefs)
	if err != nil || !on {
		return err
	}
	to, err := recipientsTx(ctx, q, ev.FirmID)
	if err != nil {
		return err
	}
	subject, text := renderEvent(ev)
	return s.enqueue(ctx, tx, string(ev.Kind), to, subject, text)
}

// Invitation is the e-mail that asks a new user to choose a password.
type Invitation struct {
	To        string
	FirstName string
	FirmName  string
	Link      string // carries the one-time token
	ExpiresAt time.Time
}

// EnqueueInvitationTx enqueues the invitation e-mail inside the caller's transaction.
// Invitations are not subject to the firm's switches.
func (s *Service) EnqueueInvitationTx(ctx context.Context, tx pgx.Tx, inv Invitation) error {
	subject := fmt.Sprintf("You are invited to %s on CaseXchange", clean(inv.FirmName))
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", clean(inv.FirstName))
	fmt.Fprintf(&b, "%s has added you to its CaseXchange account. To sign in, choose a password here:\n\n", clean(inv.FirmName))
	fmt.Fprintf(&b, "%s\n\n", inv.Link)
	fmt.Fprintf(&b, "The link works once and expires on %s.\n", inv.ExpiresAt.UTC().Format("2 January 2006 at 15:04 UTC"))
	b.WriteString("If you did not expect this invitation, you can ignore this message.\n")
	b.WriteString(footer)
	return s.enqueue(ctx, tx, "user_invited", []string{inv.To}, subject, b.String())
}

func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, event string, to []string, subject, text string) error {
	params := make([]river.InsertManyParams, 0, len(to))
	for _, addr := range to {
		params = append(params, river.InsertManyParams{Args: EmailArgs{To: addr, Subject: subject, Text: text, Event: event}})
	}
	return s.queue.InsertManyTx(ctx, tx, params)
}

func recipientsTx(ctx context.Context, q *db.Queries, firm uuid.UUID) ([]string, error) {
	rows, err := q.NotificationEmailListByFirm(ctx, firm)
	if err != nil {
		return nil, fmt.Errorf("list recipients: %w", err)
	}
	if len(rows) > 0 {
		out := make([]string, 0, len(rows))
		for _, r := range rows {
			out = append(out, r.Email)
		}
		return out, nil
	}
	admins, err := q.UserFirmAdminEmails(ctx, firm)
	if err != nil {
		return nil, fmt.Errorf("list firm admins: %w", err)
	}
	return admins, nil
}

const footer = "\n--\nThis message was sent by CaseXchange. Client details are never included in e-mail; sign in to see them.\n"

// renderEvent writes the subject and text of an event e-mail.
func renderEvent(ev Event) (subject, text string) {
	ref := clean(ev.ReferenceNumber)
	partner := clean(ev.PartnerFirmName)
	if partner == "" {
		partner = "A partner firm"
	}
	var b strings.Builder
	switch ev.Kind {
	case ReferralReceived:
		subject = fmt.Sprintf("New referral %s from %s", ref, partner)
		fmt.Fprintf(&b, "%s sent your firm a new referral, %s.\n\n", partner, ref)
		b.WriteString("Sign in to CaseXchange to review it and acknowledge it.\n")
	case StatusChanged:
		to := statusWords(ev.ToStatus)
		subject = fmt.Sprintf("Referral %s is now %s", ref, to)
		if ev.FromStatus != "" {
			fmt.Fprintf(&b, "%s moved referral %s from %s to %s.\n", partner, ref, statusWords(ev.FromStatus), to)
		} else {
			fmt.Fprintf(&b, "%s moved referral %s to %s.\n", partner, ref, to)
		}
	case DocumentUploaded:
		subject = fmt.Sprintf("New document on referral %s", ref)
		fmt.Fprintf(&b, "%s attached a document to referral %s.\n\n", partner, ref)
		b.WriteString("Sign in to CaseXchange to open it.\n")
	case MessageReceived:
		subject = fmt.Sprintf("New message about referral %s", ref)
		fmt.Fprintf(&b, "%s sent your firm a message about referral %s.\n\n", partner, ref)
		b.WriteString("Sign in to CaseXchange to read and answer it.\n")
	}
	b.WriteString(footer)
	return subject, b.String()
}

// statusWords turns a status code into words: under_evaluation -> "under evaluation".
func statusWords(s string) string {
	s = clean(strings.ReplaceAll(strings.ToLower(s), "_", " "))
	if s == "" {
		return "a new status"
	}
	return s
}

// clean makes a value safe for one line of a message: no control characters, at most 200
// characters.
func clean(s string) string {
	s = strings.TrimSpace(oneLine(s))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return s
}

// PasswordReset is the e-mail with a link to choose a new password.
type PasswordReset struct {
	To        string
	FirstName string
	Link      string // carries the one-time token
	ExpiresAt time.Time
}

// EnqueuePasswordResetTx enqueues the password reset e-mail inside the caller's transaction.
func (s *Service) EnqueuePasswordResetTx(ctx context.Context, tx pgx.Tx, r PasswordReset) error {
	subject := "Reset your CaseXchange password"
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", clean(r.FirstName))
	b.WriteString("Someone asked to reset the password of your CaseXchange account. To choose a new password, open this link:\n\n")
	fmt.Fprintf(&b, "%s\n\n", r.Link)
	fmt.Fprintf(&b, "The link works once and expires on %s. Resetting the password signs you out everywhere.\n", r.ExpiresAt.UTC().Format("2 January 2006 at 15:04 UTC"))
	b.WriteString("If you did not ask for this, ignore this message: your password stays as it is.\n")
	b.WriteString(footer)
	return s.enqueue(ctx, tx, "password_reset", []string{r.To}, subject, b.String())
}
