package notify_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/notify/notifytest"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var seq atomic.Int64

// firmOpts describe a fixture firm: its administrators' and members' addresses.
type firmOpts struct {
	Name     string
	Admins   []string
	Members  []string
	Inactive []string // deactivated FIRM_ADMINs
}

func newFirm(t *testing.T, pool *pgxpool.Pool, o firmOpts) uuid.UUID {
	t.Helper()
	if o.Name == "" {
		o.Name = fmt.Sprintf("Firm %d", seq.Add(1))
	}
	var id uuid.UUID
	require.NoError(t, pool.QueryRow(t.Context(), "INSERT INTO firms (name) VALUES ($1) RETURNING id", o.Name).Scan(&id))
	add := func(email, role string, active bool) {
		_, err := pool.Exec(t.Context(), `INSERT INTO users (firm_id, email, role, password_hash, is_active, activation_state)
			VALUES ($1, $2, $3, 'x', $4, 'active')`, id, email, role, active)
		require.NoError(t, err)
	}
	for _, e := range o.Admins {
		add(e, "FIRM_ADMIN", true)
	}
	for _, e := range o.Members {
		add(e, "MEMBER", true)
	}
	for _, e := range o.Inactive {
		add(e, "FIRM_ADMIN", false)
	}
	return id
}

func uniqueAddr(prefix string) string {
	return fmt.Sprintf("%s%d@example.test", prefix, seq.Add(1))
}

func TestPreferences(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) (*notify.Service, uuid.UUID) {
		t.Helper()
		pool, _ := pgtest.NewDB(t)
		return notify.New(pool, nil, nil), newFirm(t, pool, firmOpts{})
	}

	t.Run("a firm that never changed them has every switch on", func(t *testing.T) {
		t.Parallel()
		svc, firm := setup(t)
		p, err := svc.Preferences(t.Context(), firm)
		require.NoError(t, err)
		require.Equal(t, notify.DefaultPreferences, p)
		require.Nil(t, p.UpdatedAt)
	})

	t.Run("an update changes only the switches given", func(t *testing.T) {
		t.Parallel()
		svc, firm := setup(t)
		off := false
		p, err := svc.UpdatePreferences(t.Context(), firm, notify.PreferencesUpdate{DocumentUpload: &off})
		require.NoError(t, err)
		require.True(t, p.NewReferral)
		require.True(t, p.StatusChange)
		require.False(t, p.DocumentUpload)
		require.NotNil(t, p.UpdatedAt)

		p, err = svc.UpdatePreferences(t.Context(), firm, notify.PreferencesUpdate{StatusChange: &off})
		require.NoError(t, err)
		require.False(t, p.StatusChange)
		require.False(t, p.DocumentUpload, "kept from the first update")

		got, err := svc.Preferences(t.Context(), firm)
		require.NoError(t, err)
		require.Equal(t, p.NewReferral, got.NewReferral)
		require.Equal(t, p.StatusChange, got.StatusChange)
		require.Equal(t, p.DocumentUpload, got.DocumentUpload)
	})

	t.Run("an empty update changes nothing", func(t *testing.T) {
		t.Parallel()
		svc, firm := setup(t)
		p, err := svc.UpdatePreferences(t.Context(), firm, notify.PreferencesUpdate{})
		require.NoError(t, err)
		require.Equal(t, notify.DefaultPreferences, p)
	})

	t.Run("firms do not share preferences", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewDB(t)
		svc := notify.New(pool, nil, nil)
		a, b := newFirm(t, pool, firmOpts{}), newFirm(t, pool, firmOpts{})
		off := false
		_, err := svc.UpdatePreferences(t.Context(), a, notify.PreferencesUpdate{NewReferral: &off})
		require.NoError(t, err)
		p, err := svc.Preferences(t.Context(), b)
		require.NoError(t, err)
		require.True(t, p.NewReferral)
	})
}

func TestRecipients(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) (*notify.Service, uuid.UUID) {
		t.Helper()
		pool, _ := pgtest.NewDB(t)
		return notify.New(pool, nil, nil), newFirm(t, pool, firmOpts{})
	}

	t.Run("an address is trimmed, lower-cased and listed oldest first", func(t *testing.T) {
		t.Parallel()
		svc, firm := setup(t)
		r1, created, err := svc.AddRecipient(t.Context(), firm, "  Intake@Harbor.Example ")
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, "intake@harbor.example", r1.Email)
		r2, _, err := svc.AddRecipient(t.Context(), firm, "partners@harbor.example")
		require.NoError(t, err)
		list, err := svc.Recipients(t.Context(), firm)
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{r1.ID, r2.ID}, []uuid.UUID{list[0].ID, list[1].ID})
	})

	t.Run("adding a known address in another case returns the existing entry", func(t *testing.T) {
		t.Parallel()
		svc, firm := setup(t)
		first, _, err := svc.AddRecipient(t.Context(), firm, "intake@harbor.example")
		require.NoError(t, err)
		again, created, err := svc.AddRecipient(t.Context(), firm, "INTAKE@harbor.EXAMPLE")
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, first, again)
		list, err := svc.Recipients(t.Context(), firm)
		require.NoError(t, err)
		require.Len(t, list, 1)
	})

	t.Run("malformed addresses are refused", func(t *testing.T) {
		t.Parallel()
		svc, firm := setup(t)
		for _, bad := range []string{"", "plain", "a@b", "Name <a@b.example>", "a b@c.example", "a@b..example",
			"\"quoted\"@x.example\r\nBcc: x@y.example", "ünï@code.example", strings.Repeat("a", 250) + "@b.example"} {
			_, _, err := svc.AddRecipient(t.Context(), firm, bad)
			require.ErrorIs(t, err, apperr.ErrValidation, "%q", bad)
		}
	})

	t.Run("a firm keeps at most 50 addresses", func(t *testing.T) {
		t.Parallel()
		svc, firm := setup(t)
		for i := range notify.MaxRecipients {
			_, created, err := svc.AddRecipient(t.Context(), firm, fmt.Sprintf("r%d@harbor.example", i))
			require.NoError(t, err)
			require.True(t, created)
		}
		_, _, err := svc.AddRecipient(t.Context(), firm, "one-more@harbor.example")
		require.ErrorIs(t, err, apperr.ErrConflict)
		_, created, err := svc.AddRecipient(t.Context(), firm, "r7@harbor.example")
		require.NoError(t, err, "a known address is still answered at the limit")
		require.False(t, created)
	})
}

func TestDelivery(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		pool   *pgxpool.Pool
		svc    *notify.Service
		jobs   *jobs.Client
		smtp   *notifytest.Server
		events <-chan *riverEvent
	}
	setup := func(t *testing.T, smtpOpts ...notifytest.Options) *testBundle {
		t.Helper()
		pool, _ := pgtest.NewDB(t)
		require.NoError(t, jobs.Migrate(t.Context(), pool))
		srv := notifytest.Start(t, smtpOpts...)
		mailer, err := notify.NewMailer(notify.Config{From: notify.DefaultFrom, MailDir: t.TempDir()})
		require.NoError(t, err)
		mailer.Use(srv.Sender())
		jc, err := jobs.New(pool, nil, jobs.Config{PollInterval: 50 * time.Millisecond, TestOnly: true}, notify.Workers(mailer))
		require.NoError(t, err)
		events := subscribe(t, jc)
		require.NoError(t, jc.Start(context.WithoutCancel(t.Context())))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = jc.Stop(ctx)
		})
		return &testBundle{pool: pool, svc: notify.New(pool, jc, mailer), jobs: jc, smtp: srv, events: events}
	}
	enqueue := func(t *testing.T, b *testBundle, ev notify.Event) {
		t.Helper()
		require.NoError(t, postgres.RunTx(t.Context(), b.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			return b.svc.EnqueueTx(t.Context(), tx, ev)
		}))
	}
	jobCount := func(t *testing.T, b *testBundle) int {
		t.Helper()
		var n int
		require.NoError(t, b.pool.QueryRow(t.Context(), "SELECT count(*) FROM river_job").Scan(&n))
		return n
	}
	off := false

	t.Run("a new referral reaches every address on the firm's list", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		admin := uniqueAddr("admin")
		firm := newFirm(t, b.pool, firmOpts{Admins: []string{admin}})
		for _, a := range []string{"intake@harbor.example", "partners@harbor.example"} {
			_, _, err := b.svc.AddRecipient(t.Context(), firm, a)
			require.NoError(t, err)
		}
		enqueue(t, b, notify.Event{Kind: notify.ReferralReceived, FirmID: firm, ReferralID: uuid.New(),
			ReferenceNumber: "CX-PI-00212", PartnerFirmName: "Acme Injury Law"})

		mails := b.smtp.Wait(t, 2, 15*time.Second)
		var rcpts []string
		for _, m := range mails {
			require.Len(t, m.To, 1, "one message per recipient")
			rcpts = append(rcpts, m.To[0])
			require.Equal(t, "New referral CX-PI-00212 from Acme Injury Law", m.Subject)
			require.Contains(t, m.Text, "Acme Injury Law sent your firm a new referral, CX-PI-00212.")
			require.Equal(t, "no-reply@casexchange.local", m.From)
			require.Equal(t, "auto-generated", m.Header.Get("Auto-Submitted"))
			require.NotEmpty(t, m.Header.Get("Message-Id"))
		}
		require.ElementsMatch(t, []string{"intake@harbor.example", "partners@harbor.example"}, rcpts)
		require.Empty(t, b.smtp.To(admin), "the list replaces the administrators")
	})

	t.Run("a firm without a list notifies its active administrators only", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a1, a2, member, gone := uniqueAddr("admin"), uniqueAddr("admin"), uniqueAddr("member"), uniqueAddr("gone")
		firm := newFirm(t, b.pool, firmOpts{Admins: []string{a1, a2}, Members: []string{member}, Inactive: []string{gone}})
		enqueue(t, b, notify.Event{Kind: notify.StatusChanged, FirmID: firm, ReferenceNumber: "CX-PI-00007",
			PartnerFirmName: "Harbor Law", FromStatus: "under_evaluation", ToStatus: "investigating"})

		mails := b.smtp.Wait(t, 2, 15*time.Second)
		require.ElementsMatch(t, []string{a1, a2}, []string{mails[0].To[0], mails[1].To[0]})
		require.Equal(t, "Referral CX-PI-00007 is now investigating", mails[0].Subject)
		require.Contains(t, mails[0].Text, "Harbor Law moved referral CX-PI-00007 from under evaluation to investigating.")
		require.Equal(t, 2, jobCount(t, b))
	})

	t.Run("a switched-off kind sends nothing while the others still send", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		admin := uniqueAddr("admin")
		firm := newFirm(t, b.pool, firmOpts{Admins: []string{admin}})
		_, err := b.svc.UpdatePreferences(t.Context(), firm, notify.PreferencesUpdate{NewReferral: &off, DocumentUpload: &off})
		require.NoError(t, err)

		enqueue(t, b, notify.Event{Kind: notify.ReferralReceived, FirmID: firm, ReferenceNumber: "CX-1", PartnerFirmName: "A"})
		enqueue(t, b, notify.Event{Kind: notify.DocumentUploaded, FirmID: firm, ReferenceNumber: "CX-1", PartnerFirmName: "A"})
		require.Equal(t, 0, jobCount(t, b), "no job for switched-off kinds")

		// Messages have no switch; status changes are still on.
		enqueue(t, b, notify.Event{Kind: notify.MessageReceived, FirmID: firm, ReferenceNumber: "CX-1", PartnerFirmName: "A"})
		enqueue(t, b, notify.Event{Kind: notify.StatusChanged, FirmID: firm, ReferenceNumber: "CX-1", PartnerFirmName: "A", ToStatus: "signed"})
		mails := b.smtp.Wait(t, 2, 15*time.Second)
		var subjects []string
		for _, m := range mails {
			subjects = append(subjects, m.Subject)
		}
		require.ElementsMatch(t, []string{"New message about referral CX-1", "Referral CX-1 is now signed"}, subjects)
		require.Equal(t, 2, b.smtp.Attempts())
	})

	t.Run("a rolled back change sends nothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		firm := newFirm(t, b.pool, firmOpts{Admins: []string{uniqueAddr("admin")}})
		errAbort := errors.New("abort")
		err := postgres.RunTx(t.Context(), b.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			if err := b.svc.EnqueueTx(t.Context(), tx, notify.Event{Kind: notify.ReferralReceived, FirmID: firm, ReferenceNumber: "CX-9"}); err != nil {
				return err
			}
			return errAbort
		})
		require.ErrorIs(t, err, errAbort)
		require.Equal(t, 0, jobCount(t, b))
	})

	t.Run("a temporary SMTP failure is retried until the message is accepted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		admin := uniqueAddr("admin")
		firm := newFirm(t, b.pool, firmOpts{Admins: []string{admin}})
		b.smtp.RejectNext(451)
		enqueue(t, b, notify.Event{Kind: notify.DocumentUploaded, FirmID: firm, ReferenceNumber: "CX-5", PartnerFirmName: "Acme"})

		mails := b.smtp.Wait(t, 1, 20*time.Second)
		require.Equal(t, []string{admin}, mails[0].To)
		require.Equal(t, "New document on referral CX-5", mails[0].Subject)
		require.Equal(t, 2, b.smtp.Attempts(), "rejected once, accepted on the retry")
		ev := waitEvent(t, b.events, 10*time.Second)
		require.Equal(t, rivertype.JobStateCompleted, ev.state)
		require.Equal(t, 2, ev.attempt)
	})

	t.Run("a permanent SMTP refusal cancels the job without retrying", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		firm := newFirm(t, b.pool, firmOpts{Admins: []string{uniqueAddr("admin")}})
		b.smtp.RejectNext(550)
		enqueue(t, b, notify.Event{Kind: notify.MessageReceived, FirmID: firm, ReferenceNumber: "CX-6"})
		ev := waitEvent(t, b.events, 15*time.Second)
		require.Equal(t, rivertype.JobStateCancelled, ev.state)
		require.Equal(t, 1, b.smtp.Attempts())
		require.Empty(t, b.smtp.Mails())
	})

	t.Run("the sender authenticates when the server requires it", func(t *testing.T) {
		t.Parallel()
		b := setup(t, notifytest.Options{Username: "mailer", Password: "s3cret-pass"})
		admin := uniqueAddr("admin")
		firm := newFirm(t, b.pool, firmOpts{Admins: []string{admin}})
		enqueue(t, b, notify.Event{Kind: notify.ReferralReceived, FirmID: firm, ReferenceNumber: "CX-8", PartnerFirmName: "Acme"})
		require.Equal(t, []string{admin}, b.smtp.Wait(t, 1, 15*time.Second)[0].To)
	})

	t.Run("an invitation is sent whatever the firm's switches", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		firm := newFirm(t, b.pool, firmOpts{})
		_, err := b.svc.UpdatePreferences(t.Context(), firm, notify.PreferencesUpdate{NewReferral: &off, StatusChange: &off, DocumentUpload: &off})
		require.NoError(t, err)
		require.NoError(t, postgres.RunTx(t.Context(), b.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			return b.svc.EnqueueInvitationTx(t.Context(), tx, notify.Invitation{To: "rita@harbor.example", FirstName: "Rita",
				FirmName: "Harbor Law", Link: "https://cx.example/accept-invitation?token=abc", ExpiresAt: time.Now().Add(7 * 24 * time.Hour)})
		}))
		m := b.smtp.Wait(t, 1, 15*time.Second)[0]
		require.Equal(t, []string{"rita@harbor.example"}, m.To)
		require.Equal(t, "You are invited to Harbor Law on CaseXchange", m.Subject)
		require.Contains(t, m.Text, "Hello Rita,")
		require.Contains(t, m.Text, "https://cx.example/accept-invitation?token=abc")
	})

	t.Run("events without a firm, a reference or a known kind are refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		firm := newFirm(t, b.pool, firmOpts{Admins: []string{uniqueAddr("admin")}})
		for _, ev := range []notify.Event{
			{Kind: notify.ReferralReceived, ReferenceNumber: "CX-1"},
			{Kind: notify.ReferralReceived, FirmID: firm},
			{Kind: "referral_teleported", FirmID: firm, ReferenceNumber: "CX-1"},
		} {
			err := postgres.RunTx(t.Context(), b.pool, pgx.TxOptions{}, func(tx pgx.Tx) error { return b.svc.EnqueueTx(t.Context(), tx, ev) })
			require.Error(t, err, "%+v", ev)
		}
		require.Equal(t, 0, jobCount(t, b))
	})
}

func TestMessageContent(t *testing.T) {
	t.Parallel()

	t.Run("line breaks in names cannot add headers and non-ASCII subjects are encoded", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewDB(t)
		require.NoError(t, jobs.Migrate(t.Context(), pool))
		dir := t.TempDir()
		mailer, err := notify.NewMailer(notify.Config{From: notify.DefaultFrom, MailDir: dir})
		require.NoError(t, err)
		jc, err := jobs.New(pool, nil, jobs.Config{PollInterval: 50 * time.Millisecond, TestOnly: true}, notify.Workers(mailer))
		require.NoError(t, err)
		svc := notify.New(pool, jc, mailer)
		admin := uniqueAddr("admin")
		firm := newFirm(t, pool, firmOpts{Admins: []string{admin}})
		require.NoError(t, postgres.RunTx(t.Context(), pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			return svc.EnqueueTx(t.Context(), tx, notify.Event{Kind: notify.ReferralReceived, FirmID: firm,
				ReferenceNumber: "CX-1", PartnerFirmName: "Müller & Sons\r\nBcc: victim@evil.example"})
		}))
		require.NoError(t, jc.Start(context.WithoutCancel(t.Context())))
		t.Cleanup(func() { _ = jc.Stop(context.Background()) })

		var files []string
		require.Eventually(t, func() bool {
			files, _ = filepath.Glob(filepath.Join(dir, "*.eml"))
			return len(files) == 1
		}, 15*time.Second, 50*time.Millisecond)
		raw, err := os.ReadFile(files[0])
		require.NoError(t, err)
		head := string(raw[:strings.Index(string(raw), "\r\n\r\n")])
		require.NotContains(t, head, "\r\nBcc:")
		require.Contains(t, head, "Subject: =?utf-8?q?")
		require.Contains(t, head, "To: <"+admin+">")
	})
}

var riverEventKinds = []river.EventKind{river.EventKindJobCompleted, river.EventKindJobCancelled, river.EventKindJobFailed}

// riverEvent is the final state of a worked job.
type riverEvent struct {
	state   rivertype.JobState
	attempt int
}

func subscribe(t *testing.T, jc *jobs.Client) <-chan *riverEvent {
	t.Helper()
	ch, cancel := jc.River().Subscribe(riverEventKinds...)
	t.Cleanup(cancel)
	out := make(chan *riverEvent, 16)
	go func() {
		for ev := range ch {
			if ev.Job.State == rivertype.JobStateRetryable || ev.Job.State == rivertype.JobStateAvailable {
				continue // a failed attempt that will run again
			}
			out <- &riverEvent{state: ev.Job.State, attempt: ev.Job.Attempt}
		}
	}()
	return out
}

func waitEvent(t *testing.T, ch <-chan *riverEvent, timeout time.Duration) *riverEvent {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(timeout):
		t.Fatal("no job finished in time")
		return nil
	}
}
