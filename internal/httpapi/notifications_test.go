package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/postgres"
)

const (
	prefsPath  = "/api/public/v1/notifications/preferences"
	emailsPath = "/api/public/v1/notifications/emails"
)

func TestNotificationsAPI(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h        *apitest.Harness
		firm     *apitest.Firm
		full, ro string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		firm := h.NewFirm(apitest.FirmOpts{})
		return &testBundle{h: h, firm: firm, full: h.Key(firm, apitest.Full), ro: h.Key(firm, apitest.ReadOnly)}
	}
	getPrefs := func(t *testing.T, b *testBundle, key string) api.NotificationPreferences {
		t.Helper()
		r := b.h.Do("GET", prefsPath, apitest.APIKey(key))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.NotificationPreferencesResponse
		r.Decode(&out)
		return out.Data
	}
	putPrefs := func(t *testing.T, b *testBundle, key string, body map[string]any) api.NotificationPreferences {
		t.Helper()
		r := b.h.Do("PUT", prefsPath, apitest.APIKey(key), apitest.JSON(body))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.NotificationPreferencesResponse
		r.Decode(&out)
		return out.Data
	}
	addEmail := func(t *testing.T, b *testBundle, key, email string) (int, api.NotificationEmail) {
		t.Helper()
		r := b.h.Do("POST", emailsPath, apitest.APIKey(key), apitest.JSON(map[string]string{"email": email}))
		var out api.NotificationEmailResponse
		if r.StatusCode < 300 {
			r.Decode(&out)
		}
		return r.StatusCode, out.Data
	}
	listEmails := func(t *testing.T, b *testBundle, key string) []api.NotificationEmail {
		t.Helper()
		r := b.h.Do("GET", emailsPath, apitest.APIKey(key))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.NotificationEmailListResponse
		r.Decode(&out)
		return out.Data
	}

	t.Run("a firm that never changed its preferences gets every switch on", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p := getPrefs(t, b, b.ro)
		require.True(t, p.EmailOnNewReferral)
		require.True(t, p.EmailOnStatusChange)
		require.True(t, p.EmailOnDocumentUpload)
		require.Nil(t, p.UpdatedAt)
	})

	t.Run("an update sets only the switches present and an empty one changes nothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p := putPrefs(t, b, b.full, map[string]any{"emailOnDocumentUpload": false})
		require.True(t, p.EmailOnNewReferral)
		require.True(t, p.EmailOnStatusChange)
		require.False(t, p.EmailOnDocumentUpload)
		require.NotNil(t, p.UpdatedAt)

		same := putPrefs(t, b, b.full, map[string]any{})
		require.Equal(t, p.EmailOnDocumentUpload, same.EmailOnDocumentUpload)
		require.WithinDuration(t, *p.UpdatedAt, *same.UpdatedAt, 0)
		require.Equal(t, same, getPrefs(t, b, b.ro))
	})

	t.Run("preferences need a full key to change and stay within the firm", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("PUT", prefsPath, apitest.APIKey(b.ro), apitest.JSON(map[string]any{"emailOnNewReferral": false}))
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		r = b.h.Do("PUT", prefsPath, apitest.APIKey(b.full), apitest.JSON(map[string]any{"emailOnNewReferral": "no"}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)

		putPrefs(t, b, b.full, map[string]any{"emailOnNewReferral": false})
		other := b.h.NewFirm(apitest.FirmOpts{})
		require.True(t, getPrefs(t, b, b.h.Key(other, apitest.ReadOnly)).EmailOnNewReferral)
	})

	t.Run("addresses are validated, lower-cased and added once", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Empty(t, listEmails(t, b, b.ro))

		code, first := addEmail(t, b, b.full, "Intake@HarborView.Example")
		require.Equal(t, http.StatusCreated, code)
		require.Equal(t, "intake@harborview.example", string(first.Email))
		code, again := addEmail(t, b, b.full, "INTAKE@harborview.example")
		require.Equal(t, http.StatusOK, code, "already listed: the existing entry")
		require.Equal(t, first.Id, again.Id)
		code, second := addEmail(t, b, b.full, "partners@harborview.example")
		require.Equal(t, http.StatusCreated, code)

		list := listEmails(t, b, b.ro)
		require.Len(t, list, 2)
		require.Equal(t, first.Id, list[0].Id, "oldest first")
		require.Equal(t, second.Id, list[1].Id)

		code, _ = addEmail(t, b, b.full, "not an address")
		require.Equal(t, http.StatusBadRequest, code)
		code, _ = addEmail(t, b, b.ro, "ro@harborview.example")
		require.Equal(t, http.StatusForbidden, code)
	})

	t.Run("a firm may keep at most 50 addresses", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range notify.MaxRecipients {
			code, _ := addEmail(t, b, b.full, fmt.Sprintf("r%02d@harborview.example", i))
			require.Equal(t, http.StatusCreated, code)
		}
		r := b.h.Do("POST", emailsPath, apitest.APIKey(b.full), apitest.JSON(map[string]string{"email": "r50@harborview.example"}))
		require.Equal(t, http.StatusConflict, r.StatusCode, string(r.Body))
		require.Equal(t, "conflict", r.ErrorCode())
		code, _ := addEmail(t, b, b.full, "R07@harborview.example")
		require.Equal(t, http.StatusOK, code)
		require.Len(t, listEmails(t, b, b.ro), notify.MaxRecipients)
	})

	t.Run("another firm's addresses are invisible", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		addEmail(t, b, b.full, "intake@harborview.example")
		other := b.h.NewFirm(apitest.FirmOpts{})
		require.Empty(t, listEmails(t, b, b.h.Key(other, apitest.ReadOnly)))
		code, _ := addEmail(t, b, b.h.Key(other, apitest.Full), "intake@harborview.example")
		require.Equal(t, http.StatusCreated, code, "each firm has its own list")
	})

	t.Run("e-mail reaches the configured addresses over SMTP and honours the switches", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		mail := withMail(t, b.h)
		code, _ := addEmail(t, b, b.full, "Intake@HarborView.Example")
		require.Equal(t, http.StatusCreated, code)
		putPrefs(t, b, b.full, map[string]any{"emailOnNewReferral": false})

		enqueue := func(ev notify.Event) {
			t.Helper()
			ev.FirmID = b.firm.ID
			require.NoError(t, postgres.RunTx(t.Context(), b.h.Pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
				return b.h.App.Server.Notify.EnqueueTx(t.Context(), tx, ev)
			}))
		}
		enqueue(notify.Event{Kind: notify.ReferralReceived, ReferenceNumber: "CX-PI-00001", PartnerFirmName: "Acme"})
		enqueue(notify.Event{Kind: notify.StatusChanged, ReferenceNumber: "CX-PI-00002", PartnerFirmName: "Acme",
			FromStatus: "sent", ToStatus: "under_evaluation"})

		m := mail.Wait(t, 1, 20*time.Second)[0]
		require.Equal(t, []string{"intake@harborview.example"}, m.To, "the list replaces the administrators")
		require.Equal(t, "Referral CX-PI-00002 is now under evaluation", m.Subject)
		var jobs int
		require.NoError(t, b.h.Pool.QueryRow(t.Context(), "SELECT count(*) FROM river_job").Scan(&jobs))
		require.Equal(t, 1, jobs, "the switched-off new-referral e-mail was never even queued")
		require.Len(t, mail.Mails(), 1)
		require.Empty(t, mail.To(b.firm.Admin.Email))
	})
}
