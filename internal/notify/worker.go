package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/casexchange/server/internal/jobs"
)

// EmailArgs is the job that sends one e-mail to one recipient. The message is complete:
// working it needs no database read.
type EmailArgs struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	// Event says what caused the message (an event Kind or "user_invited"), for the logs.
	Event string `json:"event"`
}

// EmailJobKind is the job kind of an e-mail.
const EmailJobKind = "notify_email"

// Kind is the River job kind.
func (EmailArgs) Kind() string { return EmailJobKind }

// emailMaxAttempts bounds retries: with River's attempt^4-second backoff, ten attempts span
// about four hours, long enough to ride out a mail server outage.
const emailMaxAttempts = 10

// InsertOpts sets the attempts of e-mail jobs.
func (EmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: emailMaxAttempts}
}

// emailWorker sends EmailArgs jobs with a Mailer.
type emailWorker struct {
	river.WorkerDefaults[EmailArgs]
	mailer *Mailer
}

// Work sends the message. A permanent refusal (an SMTP 5xx reply, e.g. an unknown mailbox)
// cancels the job instead of retrying it; any other failure is retried with backoff.
func (w *emailWorker) Work(ctx context.Context, job *river.Job[EmailArgs]) error {
	err := w.mailer.Send(ctx, Message{
		To:        job.Args.To,
		Subject:   job.Args.Subject,
		Text:      job.Args.Text,
		MessageID: fmt.Sprintf("cx-%d-%d", job.ID, job.CreatedAt.Unix()),
	})
	if err != nil && permanent(err) {
		return river.JobCancel(err)
	}
	return err
}

// Timeout bounds one attempt.
func (w *emailWorker) Timeout(*river.Job[EmailArgs]) time.Duration { return 45 * time.Second }

// Workers registers the e-mail worker, sending with mailer, for jobs.New.
func Workers(mailer *Mailer) jobs.Register {
	return func(ws *river.Workers) { river.AddWorker(ws, &emailWorker{mailer: mailer}) }
}
