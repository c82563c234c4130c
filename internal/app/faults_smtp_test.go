package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/notify/notifytest"
	"github.com/casexchange/server/internal/testsummary"
)

// emailJob is the row River keeps for one e-mail job.
type emailJob struct {
	ID       int64
	To       string
	State    string
	Attempt  int
	ErrorsAt []time.Time // when each failed attempt ended
}

// emailJobs reads the e-mail jobs addressed to any of to.
func emailJobs(t *testing.T, h *apitest.Harness, to []string) []emailJob {
	t.Helper()
	rows, err := h.Pool.Query(context.Background(),
		`SELECT id, args->>'to', state::text, attempt, coalesce(to_json(errors), '[]'::json)
		   FROM river_job WHERE kind = 'notify_email' AND args->>'to' = ANY($1) ORDER BY id`, to)
	require.NoError(t, err)
	defer rows.Close()
	var out []emailJob
	for rows.Next() {
		var j emailJob
		var raw []byte
		require.NoError(t, rows.Scan(&j.ID, &j.To, &j.State, &j.Attempt, &raw))
		var errs []struct {
			At time.Time `json:"at"`
		}
		require.NoError(t, json.Unmarshal(raw, &errs))
		for _, e := range errs {
			j.ErrorsAt = append(j.ErrorsAt, e.At)
		}
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestFaultSMTP stops the mail server while the API takes actions that send e-mail (user
// invitations). The API answers 201 promptly regardless: the e-mail is a job committed with the
// user. The jobs fail and are retried after the configured delay, and once the mail server is
// back every message arrives exactly once.
func TestFaultSMTP(t *testing.T) {
	t.Parallel()
	const (
		invites    = 5
		retryDelay = 300 * time.Millisecond
		wantFailed = 2 // failed attempts per job before the mail server comes back
	)
	smtpSrv := notifytest.Start(t)
	// A short fixed retry delay instead of River's attempt^4 s backoff, and a fast poll, so
	// that retries happen within the test; production leaves both at zero (the defaults).
	h := apitest.New(t, apitest.Options{Config: func(c *config.Config) {
		c.JobRetryDelay = retryDelay
		c.JobPollInterval = 50 * time.Millisecond
	}})
	h.App.Server.Notify.Mailer().Use(smtpSrv.Sender())
	bg, stopBG := context.WithCancel(context.Background())
	t.Cleanup(stopBG)
	h.App.Start(bg)

	firm := h.NewFirm(apitest.FirmOpts{})
	key := h.Key(firm, apitest.Full)
	tag := uuid.NewString()[:8]
	invite := func(i int) (*apitest.Response, string, time.Duration) {
		email := fmt.Sprintf("invitee-%s-%d@example.test", tag, i)
		start := time.Now()
		r := h.Do("POST", "/api/public/v1/users", apitest.APIKey(key), apitest.JSON(map[string]any{
			"email": email, "firstName": "Invited", "lastName": fmt.Sprintf("User%d", i),
		}))
		return r, email, time.Since(start)
	}

	// With the mail server up an invitation arrives (the path works before the fault).
	r, first, _ := invite(0)
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	require.Eventually(t, func() bool { return len(smtpSrv.To(first)) == 1 }, 10*time.Second, 20*time.Millisecond, "baseline invitation not delivered")

	smtpSrv.Stop()
	downAt := time.Now()

	var recipients []string
	var took []time.Duration
	for i := 1; i <= invites; i++ {
		r, email, d := invite(i)
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		require.Less(t, d, 2*time.Second, "invitation %d took %s while the mail server was down", i, d)
		recipients = append(recipients, email)
		took = append(took, d)
	}
	slices.Sort(took)
	p99 := took[(len(took)*99+99)/100-1] // nearest rank

	// Each job fails (connection refused), is kept for a retry, and fails again after the delay.
	var jobs []emailJob
	require.Eventually(t, func() bool {
		jobs = emailJobs(t, h, recipients)
		if len(jobs) != invites {
			return false
		}
		for _, j := range jobs {
			if len(j.ErrorsAt) < wantFailed {
				return false
			}
		}
		return true
	}, 15*time.Second, 50*time.Millisecond, "e-mail jobs did not fail %d times while the mail server was down: %+v", wantFailed, jobs)
	for _, j := range jobs {
		require.Contains(t, []string{"available", "retryable", "running"}, j.State, "job %d for %s", j.ID, j.To)
		for k := 1; k < len(j.ErrorsAt); k++ {
			gap := j.ErrorsAt[k].Sub(j.ErrorsAt[k-1])
			require.GreaterOrEqual(t, gap, retryDelay-10*time.Millisecond, "job %d retried %s after its failure", j.ID, gap)
		}
	}
	require.Equal(t, 1, smtpSrv.Attempts(), "messages reached the stopped server")

	smtpSrv.Restart(t)
	upAt := time.Now()
	smtpSrv.Wait(t, 1+invites, 15*time.Second)
	delivered := time.Since(upAt)
	// A duplicate could only come from a job still queued or retrying: wait until every e-mail
	// job has completed, then count what the server received.
	require.Eventually(t, func() bool {
		for _, j := range emailJobs(t, h, recipients) {
			if j.State != "completed" {
				return false
			}
		}
		return true
	}, 15*time.Second, 20*time.Millisecond, "e-mail jobs still pending after delivery")

	mails := smtpSrv.Mails()
	require.Len(t, mails, 1+invites, "extra messages after recovery")
	ids := map[string]bool{}
	for _, m := range mails {
		ids[m.Header.Get("Message-Id")] = true
	}
	require.Len(t, ids, 1+invites, "a message was delivered twice")
	maxFailed, minFailed := 0, 1<<30
	for _, j := range emailJobs(t, h, recipients) {
		got := smtpSrv.To(j.To)
		require.Len(t, got, 1, "messages to %s", j.To)
		require.Contains(t, strings.ToLower(got[0].Text), "invit", "not an invitation")
		require.Equal(t, "completed", j.State, "job %d for %s", j.ID, j.To)
		require.Equal(t, len(j.ErrorsAt)+1, j.Attempt, "job %d: attempts vs recorded failures", j.ID)
		maxFailed, minFailed = max(maxFailed, len(j.ErrorsAt)), min(minFailed, len(j.ErrorsAt))
	}

	testsummary.Printf("faults-smtp: %d e-mails queued while SMTP down (%s), API 201 p99 %s; each failed %d-%d times, retried %s apart; delivered %d exactly once %s after SMTP came back\n",
		invites, upAt.Sub(downAt).Round(100*time.Millisecond), p99.Round(time.Millisecond), minFailed, maxFailed, retryDelay,
		invites, delivered.Round(time.Millisecond))
}
