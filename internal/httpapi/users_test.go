package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/notify/notifytest"
)

const usersPath = "/api/public/v1/users"

// withMail points the harness's e-mail at an in-process SMTP server and starts the job
// workers that deliver it.
func withMail(t *testing.T, h *apitest.Harness) *notifytest.Server {
	t.Helper()
	srv := notifytest.Start(t)
	h.App.Server.Notify.Mailer().Use(srv.Sender())
	require.NoError(t, h.App.Jobs.Start(context.WithoutCancel(t.Context())))
	return srv
}

func TestUsersAPI(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		h        *apitest.Harness
		firm     *apitest.Firm
		full, ro string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		firm := h.NewFirm(apitest.FirmOpts{Name: "Harbor View Law"})
		return &testBundle{h: h, firm: firm, full: h.Key(firm, apitest.Full), ro: h.Key(firm, apitest.ReadOnly)}
	}
	invite := func(t *testing.T, b *testBundle, body map[string]any) api.User {
		t.Helper()
		r := b.h.Do("POST", usersPath, apitest.APIKey(b.full), apitest.JSON(body))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		var out api.UserResponse
		r.Decode(&out)
		return out.Data
	}
	list := func(t *testing.T, b *testBundle, key string, query ...string) api.UserListResponse {
		t.Helper()
		r := b.h.Do("GET", usersPath, apitest.APIKey(key), apitest.Query(query...))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.UserListResponse
		r.Decode(&out)
		return out
	}
	update := func(t *testing.T, b *testBundle, id uuid.UUID, body map[string]any) *apitest.Response {
		t.Helper()
		return b.h.Do("PUT", apitest.Path(usersPath, id.String()), apitest.APIKey(b.full), apitest.JSON(body))
	}
	deactivate := func(t *testing.T, b *testBundle, id uuid.UUID) *apitest.Response {
		t.Helper()
		return b.h.Do("DELETE", apitest.Path(usersPath, id.String()), apitest.APIKey(b.full))
	}
	emails := func(us []api.User) []string {
		out := make([]string, 0, len(us))
		for _, u := range us {
			out = append(out, string(u.Email))
		}
		return out
	}

	t.Run("an invitation creates an inactive user and e-mails a one-time link over SMTP", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		mail := withMail(t, b.h)
		u := invite(t, b, map[string]any{"email": "R.Okafor@HarborView.Example", "firstName": "Rita", "lastName": "Okafor", "role": "firm_admin"})
		require.Equal(t, "r.okafor@harborview.example", string(u.Email))
		require.Equal(t, "FIRM_ADMIN", u.Role)
		require.False(t, u.IsActive)
		require.Equal(t, api.UserStatus("invited"), u.Status)
		require.Equal(t, b.firm.ID, u.FirmId)
		require.Nil(t, u.LastLogin)

		m := mail.Wait(t, 1, 20*time.Second)[0]
		require.Equal(t, []string{"r.okafor@harborview.example"}, m.To)
		require.Equal(t, "You are invited to Harbor View Law on CaseXchange", m.Subject)
		require.Contains(t, m.Text, "Hello Rita,")
		i := strings.Index(m.Text, "/accept-invitation?token=")
		require.Greater(t, i, 0, m.Text)
		link, err := url.Parse(strings.Fields(m.Text[strings.LastIndex(m.Text[:i], "\n")+1:])[0])
		require.NoError(t, err)
		token := link.Query().Get("token")
		require.NotEmpty(t, token)

		// Only a hash is stored.
		var stored string
		require.NoError(t, b.h.Pool.QueryRow(t.Context(), "SELECT invitation_token_hash FROM users WHERE id = $1", u.Id).Scan(&stored))
		require.NotContains(t, stored, token)

		// The invited user cannot sign in before accepting, and can afterwards.
		login := func() int {
			return b.h.Do("POST", "/api/v1/auth/login", apitest.JSON(map[string]string{"email": string(u.Email), "password": "a long enough password"})).StatusCode
		}
		require.NotEqual(t, http.StatusOK, login())
		_, err = b.h.App.Server.Users.AcceptInvitation(t.Context(), token, "a long enough password")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, login())
		got := list(t, b, b.ro, "search", "okafor").Data
		require.Len(t, got, 1)
		require.True(t, got[0].IsActive)
		require.Equal(t, api.UserStatus("active"), got[0].Status)
	})

	t.Run("the role defaults to MEMBER", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := invite(t, b, map[string]any{"email": "m@harborview.example", "firstName": "M", "lastName": "Ember"})
		require.Equal(t, "MEMBER", u.Role)
	})

	t.Run("an address already used in the firm gets 409 in any letter case", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		invite(t, b, map[string]any{"email": "dup@harborview.example", "firstName": "A", "lastName": "B"})
		r := b.h.Do("POST", usersPath, apitest.APIKey(b.full), apitest.JSON(map[string]any{"email": "DUP@harborview.example", "firstName": "C", "lastName": "D"}))
		require.Equal(t, http.StatusConflict, r.StatusCode, string(r.Body))
		require.Equal(t, "conflict", r.ErrorCode())

		// Another firm's address is not revealed: it is answered like a new one (see
		// TestSecurityUserEnumeration).
		other := b.h.NewFirm(apitest.FirmOpts{})
		r = b.h.Do("POST", usersPath, apitest.APIKey(b.full), apitest.JSON(map[string]any{"email": strings.ToUpper(other.Admin.Email), "firstName": "C", "lastName": "D"}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	})

	t.Run("bad input gets 400 naming the field", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, body := range []map[string]any{
			{"email": "x@harborview.example", "firstName": "A", "lastName": "B", "role": "ADMIN"},
			{"email": "not-an-address", "firstName": "A", "lastName": "B"},
			{"email": "x@harborview.example", "firstName": "   ", "lastName": "B"},
			{"firstName": "A", "lastName": "B"},
		} {
			r := b.h.Do("POST", usersPath, apitest.APIKey(b.full), apitest.JSON(body))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, "%v: %s", body, r.Body)
			require.Equal(t, "validation_error", r.ErrorCode())
		}
	})

	t.Run("a read-only key may list users but not invite them", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("POST", usersPath, apitest.APIKey(b.ro), apitest.JSON(map[string]any{"email": "x@harborview.example", "firstName": "A", "lastName": "B"}))
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "insufficient_tier", r.ErrorCode())
		require.Len(t, list(t, b, b.ro).Data, 1)
	})

	t.Run("the list shows only the caller's firm, filtered, ordered and paginated", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := b.h.NewFirm(apitest.FirmOpts{})
		b.h.NewUser(other, auth.RoleMember)
		member := b.h.NewUser(b.firm, auth.RoleMember)
		invite(t, b, map[string]any{"email": "zed@harborview.example", "firstName": "Zed", "lastName": "Aaronson"})
		invite(t, b, map[string]any{"email": "yan@harborview.example", "firstName": "Yan", "lastName": "Zimmer", "role": "MEMBER"})

		all := list(t, b, b.ro)
		require.Equal(t, 4, all.Pagination.Total)
		require.NotContains(t, emails(all.Data), other.Admin.Email)
		require.Equal(t, "Aaronson", all.Data[0].LastName, "ordered by last name")
		require.Equal(t, "Zimmer", all.Data[3].LastName)

		require.ElementsMatch(t, []string{member.Email, "yan@harborview.example", "zed@harborview.example"},
			emails(list(t, b, b.ro, "role", "member").Data), "role matches ignoring case")
		require.ElementsMatch(t, []string{b.firm.Admin.Email, member.Email}, emails(list(t, b, b.ro, "isActive", "true").Data))
		require.ElementsMatch(t, []string{"yan@harborview.example", "zed@harborview.example"},
			emails(list(t, b, b.ro, "isActive", "false").Data), "invited users are inactive")
		require.Equal(t, []string{"yan@harborview.example"}, emails(list(t, b, b.ro, "search", "ZIMM").Data))

		page := list(t, b, b.ro, "limit", "3", "page", "2")
		require.Len(t, page.Data, 1)
		require.Equal(t, api.Pagination{Page: 2, Limit: 3, Total: 4, TotalPages: 2}, page.Pagination)
	})

	t.Run("an update changes only the fields given", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.h.NewUser(b.firm, auth.RoleMember)
		r := update(t, b, m.ID, map[string]any{"lastName": "Okafor-Reyes", "role": "firm_admin", "email": "New.Address@HarborView.Example"})
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.UserResponse
		r.Decode(&out)
		require.Equal(t, "Okafor-Reyes", out.Data.LastName)
		require.Equal(t, "Test", out.Data.FirstName)
		require.Equal(t, "FIRM_ADMIN", out.Data.Role)
		require.Equal(t, "new.address@harborview.example", string(out.Data.Email))
		require.True(t, out.Data.IsActive)

		r = update(t, b, m.ID, map[string]any{"email": strings.ToUpper(b.firm.Admin.Email)})
		require.Equal(t, http.StatusConflict, r.StatusCode, "address of another user")
		r = update(t, b, m.ID, map[string]any{"role": "VIEWER"})
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
	})

	t.Run("isActive false deactivates and true reactivates; an invited user stays invited", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.h.NewUser(b.firm, auth.RoleMember)
		access, _ := b.h.Login(m)
		r := update(t, b, m.ID, map[string]any{"isActive": false})
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.UserResponse
		r.Decode(&out)
		require.False(t, out.Data.IsActive)
		require.Equal(t, api.UserStatus("deactivated"), out.Data.Status)
		require.Equal(t, http.StatusUnauthorized, b.h.Do("GET", "/api/v1/auth/me", apitest.Bearer(access)).StatusCode)

		r = update(t, b, m.ID, map[string]any{"isActive": true})
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		r.Decode(&out)
		require.True(t, out.Data.IsActive)
		require.Equal(t, api.UserStatus("active"), out.Data.Status)
		b.h.Login(m) // may sign in again

		inv := invite(t, b, map[string]any{"email": "pending@harborview.example", "firstName": "P", "lastName": "Ending"})
		r = update(t, b, inv.Id, map[string]any{"isActive": true})
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		r.Decode(&out)
		require.False(t, out.Data.IsActive, "only accepting the invitation activates a user")
		require.Equal(t, api.UserStatus("invited"), out.Data.Status)
	})

	t.Run("deactivation ends every session of the user at once", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.h.NewUser(b.firm, auth.RoleMember)
		access, refresh := b.h.Login(m)
		access2, _ := b.h.Login(m)
		require.Equal(t, http.StatusOK, b.h.Do("GET", "/api/v1/auth/me", apitest.Bearer(access)).StatusCode)

		require.Equal(t, http.StatusNoContent, deactivate(t, b, m.ID).StatusCode)

		for _, tok := range []string{access, access2} {
			r := b.h.Do("GET", "/api/v1/auth/me", apitest.Bearer(tok))
			require.Equal(t, http.StatusUnauthorized, r.StatusCode, "the access token stops working")
		}
		r := b.h.Do("POST", "/api/v1/auth/refresh-session", apitest.JSON(map[string]string{"refreshToken": refresh}))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode, "the refresh token stops working")
		r = b.h.Do("POST", "/api/v1/auth/login", apitest.JSON(map[string]string{"email": m.Email, "password": m.Password}))
		require.NotEqual(t, http.StatusOK, r.StatusCode, "and the user cannot sign in")

		require.Equal(t, http.StatusNoContent, deactivate(t, b, m.ID).StatusCode, "again: a no-op")
		got := list(t, b, b.ro, "isActive", "false").Data
		require.Equal(t, []string{m.Email}, emails(got), "the record is kept")
		require.Equal(t, api.UserStatus("deactivated"), got[0].Status)
	})

	t.Run("the firm's last active FIRM_ADMIN cannot be deactivated or demoted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		admin := b.firm.Admin.ID
		r := deactivate(t, b, admin)
		require.Equal(t, http.StatusConflict, r.StatusCode, string(r.Body))
		require.Equal(t, http.StatusConflict, update(t, b, admin, map[string]any{"role": "MEMBER"}).StatusCode)
		require.Equal(t, http.StatusConflict, update(t, b, admin, map[string]any{"isActive": false}).StatusCode)

		second := b.h.NewUser(b.firm, auth.RoleFirmAdmin)
		require.Equal(t, http.StatusOK, update(t, b, admin, map[string]any{"role": "member"}).StatusCode)
		require.Equal(t, http.StatusConflict, deactivate(t, b, second.ID).StatusCode, "now the last one")
	})

	t.Run("another firm's user is not found", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		other := b.h.NewFirm(apitest.FirmOpts{})
		m := b.h.NewUser(other, auth.RoleMember)
		for _, id := range []uuid.UUID{m.ID, uuid.New()} {
			r := update(t, b, id, map[string]any{"firstName": "Hijack"})
			require.Equal(t, http.StatusNotFound, r.StatusCode, string(r.Body))
			require.Equal(t, http.StatusNotFound, deactivate(t, b, id).StatusCode)
		}
		access, _ := b.h.Login(m)
		require.Equal(t, http.StatusOK, b.h.Do("GET", "/api/v1/auth/me", apitest.Bearer(access)).StatusCode, "untouched")
		r := b.h.Do("GET", usersPath, apitest.APIKey(b.h.Key(other, apitest.ReadOnly)))
		var out api.UserListResponse
		r.Decode(&out)
		require.Equal(t, "Test", out.Data[0].FirstName)
	})
}
