package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/notify/notifytest"
)

const (
	completeInvitationPath = "/api/v1/auth/complete-invitation"
	forgotPasswordPath     = "/api/v1/auth/forgot-password"
	resetPasswordPath      = "/api/v1/auth/reset-password"
	profilePath            = "/api/v1/users/profile"
	sfTokensPath           = "/api/v1/integrations/salesforce/tokens"
	newPassword            = "violet-harbour-lantern-42"
)

// linkToken returns the token of the first link to path in an e-mail text.
func linkToken(t *testing.T, text, path string) (link, token string) {
	t.Helper()
	i := strings.Index(text, path+"?token=")
	require.Greater(t, i, 0, text)
	start := strings.LastIndexAny(text[:i], " \n") + 1
	link = strings.Fields(text[start:])[0]
	u, err := url.Parse(link)
	require.NoError(t, err)
	token = u.Query().Get("token")
	require.NotEmpty(t, token)
	return link, token
}

// invitee invites an address into firm through the Public API and returns the user id and the
// token of the delivered invitation.
func invitee(t *testing.T, h *apitest.Harness, mail *notifytest.Server, key, email string) (string, string) {
	t.Helper()
	r := h.Do("POST", usersPath, apitest.APIKey(key), apitest.JSON(map[string]any{"email": email, "firstName": "Ines", "lastName": "Vale"}))
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	id := mxGet(t, r.Body, "data.id")
	return id, nthToken(t, mail, email, "/accept-invitation", 1)
}

// nthToken waits for the n-th message to email and returns the token of its link to path.
func nthToken(t *testing.T, mail *notifytest.Server, email, path string, n int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(mail.To(email)) < n {
		require.True(t, time.Now().Before(deadline), "no message %d to %s", n, email)
		mail.Wait(t, len(mail.Mails())+1, time.Until(deadline))
	}
	_, tok := linkToken(t, mail.To(email)[n-1].Text, path)
	return tok
}

func TestAccountsInvitation(t *testing.T) {
	t.Parallel()
	type testBundle struct {
		h    *apitest.Harness
		mail *notifytest.Server
		firm *apitest.Firm
		key  string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		mail := withMail(t, h)
		firm := h.NewFirm(apitest.FirmOpts{Name: "Larkspur Legal"})
		return &testBundle{h: h, mail: mail, firm: firm, key: h.Key(firm, apitest.Full)}
	}
	complete := func(b *testBundle, token, password string) *apitest.Response {
		return b.h.Do("POST", completeInvitationPath, apitest.JSON(map[string]any{"token": token, "password": password}))
	}

	t.Run("completing signs in like a login and the token works once", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, token := invitee(t, b.h, b.mail, b.key, "ines.vale@larkspur.example")
		r := complete(b, token, newPassword)
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
		var names []string
		for _, c := range r.Cookies() {
			names = append(names, c.Name)
			require.True(t, c.HttpOnly)
		}
		require.ElementsMatch(t, []string{"auth_token", "refresh_token_id"}, names)
		access := mxGet(t, r.Body, "data.accessToken")
		require.Equal(t, "ines.vale@larkspur.example", mxGet(t, r.Body, "data.user.email"))
		me := b.h.Do("GET", "/api/v1/auth/me", apitest.Bearer(access))
		require.Equal(t, http.StatusOK, me.StatusCode, string(me.Body))

		again := complete(b, token, "another-fine-passphrase-9")
		require.Equal(t, http.StatusConflict, again.StatusCode, string(again.Body))
		// The second use changed nothing: the first password still signs in.
		b.h.Login(apitest.User{Email: "ines.vale@larkspur.example", Password: newPassword})
	})

	t.Run("a weak password, an unknown and an expired token get 400 naming the field", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id, token := invitee(t, b.h, b.mail, b.key, "weak@larkspur.example")
		for _, pw := range []string{"Password2024!", "aaaaaaaaaaaaaaaa", "weak@larkspur-2026-x"} {
			r := complete(b, token, pw)
			require.Equal(t, http.StatusBadRequest, r.StatusCode, pw)
			require.Equal(t, "body.password", mxGet(t, r.Body, "error.details.0.field"), pw)
		}
		r := complete(b, strings.Repeat("Z", 43), newPassword)
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, "body.token", mxGet(t, r.Body, "error.details.0.field"))
		_, err := b.h.Pool.Exec(t.Context(), "UPDATE users SET invitation_expires_at = now() - interval '1 minute' WHERE id = $1", id)
		require.NoError(t, err)
		r = complete(b, token, newPassword)
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Contains(t, mxGet(t, r.Body, "error.details.0.message"), "expired")
	})

	t.Run("the invitation lifetime is configurable", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t, apitest.Options{Config: func(c *config.Config) { c.InvitationTTL = 90 * time.Minute }})
		mail := withMail(t, h)
		firm := h.NewFirm(apitest.FirmOpts{})
		id, _ := invitee(t, h, mail, h.Key(firm, apitest.Full), "short.ttl@larkspur.example")
		var left time.Duration
		require.NoError(t, h.Pool.QueryRow(t.Context(), "SELECT invitation_expires_at - now() FROM users WHERE id = $1", id).Scan(&left))
		require.InDelta(t, (90 * time.Minute).Seconds(), left.Seconds(), 120)
	})

	t.Run("a firm administrator resends: new link, old one dead; others are refused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id, oldToken := invitee(t, b.h, b.mail, b.key, "resend@larkspur.example")
		admin, _ := b.h.Login(b.firm.Admin)
		resend := func(tok, id string) *apitest.Response {
			return b.h.Do("POST", apitest.Path("/api/v1/users", id, "resend-invitation"), apitest.Bearer(tok))
		}
		r := resend(admin, id)
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		newToken := nthToken(t, b.mail, "resend@larkspur.example", "/accept-invitation", 2)
		require.NotEqual(t, oldToken, newToken)
		r = complete(b, oldToken, newPassword)
		require.Equal(t, http.StatusBadRequest, r.StatusCode, "the replaced link is dead")

		// Another firm's administrator does not find the user; a member may not resend.
		other := b.h.NewFirm(apitest.FirmOpts{})
		otherAdmin, _ := b.h.Login(other.Admin)
		require.Equal(t, http.StatusNotFound, resend(otherAdmin, id).StatusCode)
		require.Equal(t, http.StatusNotFound, resend(admin, uuid.NewString()).StatusCode)
		member := b.h.NewUser(b.firm, auth.RoleMember)
		memberTok, _ := b.h.Login(member)
		require.Equal(t, http.StatusForbidden, resend(memberTok, id).StatusCode)

		require.Equal(t, http.StatusOK, complete(b, newToken, newPassword).StatusCode)
		r = resend(admin, id)
		require.Equal(t, http.StatusBadRequest, r.StatusCode, "an active user has no invitation to resend")
		require.Equal(t, "invalid_state_transition", r.ErrorCode())
	})
}

func TestAccountsPasswordReset(t *testing.T) {
	t.Parallel()
	type testBundle struct {
		h    *apitest.Harness
		mail *notifytest.Server
		firm *apitest.Firm
		user apitest.User
	}
	setup := func(t *testing.T, opts ...apitest.Options) *testBundle {
		t.Helper()
		h := apitest.New(t, opts...)
		mail := withMail(t, h)
		firm := h.NewFirm(apitest.FirmOpts{})
		return &testBundle{h: h, mail: mail, firm: firm, user: h.NewUser(firm, auth.RoleMember)}
	}
	forgot := func(b *testBundle, email string) *apitest.Response {
		return b.h.Do("POST", forgotPasswordPath, apitest.JSON(map[string]any{"email": email}))
	}
	reset := func(b *testBundle, token, password string) *apitest.Response {
		return b.h.Do("POST", resetPasswordPath, apitest.JSON(map[string]any{"token": token, "password": password}))
	}

	t.Run("a reset link sets a new password once and ends every session", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		access, refresh := b.h.Login(b.user)
		r := forgot(b, strings.ToUpper(b.user.Email))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		token := nthToken(t, b.mail, b.user.Email, "/reset-password", 1)
		var stored string
		require.NoError(t, b.h.Pool.QueryRow(t.Context(), "SELECT password_reset_token_hash FROM users WHERE id = $1", b.user.ID).Scan(&stored))
		require.NotContains(t, stored, token, "only a hash is stored")

		r = reset(b, token, "Password2024!")
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, "body.password", mxGet(t, r.Body, "error.details.0.field"))
		r = reset(b, token, newPassword)
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))

		require.Equal(t, http.StatusUnauthorized, b.h.Do("GET", "/api/v1/auth/me", apitest.Bearer(access)).StatusCode, "sessions ended")
		require.Equal(t, http.StatusUnauthorized, b.h.Do("POST", "/api/v1/auth/refresh-session", apitest.JSON(map[string]any{"refreshToken": refresh})).StatusCode)
		b.h.Login(apitest.User{Email: b.user.Email, Password: newPassword})
		r = reset(b, token, "yet-another-passphrase-7")
		require.Equal(t, http.StatusBadRequest, r.StatusCode, "a used token")
		require.Equal(t, "body.token", mxGet(t, r.Body, "error.details.0.field"))
	})

	t.Run("an expired token gets 400 and a deactivated account 403", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		forgot(b, b.user.Email)
		token := nthToken(t, b.mail, b.user.Email, "/reset-password", 1)
		_, err := b.h.Pool.Exec(t.Context(), "UPDATE users SET password_reset_expires_at = now() - interval '1 second' WHERE id = $1", b.user.ID)
		require.NoError(t, err)
		r := reset(b, token, newPassword)
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Contains(t, mxGet(t, r.Body, "error.details.0.message"), "expired")

		forgot(b, b.user.Email)
		token = nthToken(t, b.mail, b.user.Email, "/reset-password", 2)
		_, err = b.h.Pool.Exec(t.Context(), "UPDATE users SET is_active = false WHERE id = $1", b.user.ID)
		require.NoError(t, err)
		r = reset(b, token, newPassword)
		require.Equal(t, http.StatusForbidden, r.StatusCode, string(r.Body))
		require.Equal(t, "account_inactive", r.ErrorCode())
	})

	t.Run("no mail for unknown, invited or deactivated addresses, and the same answer for all", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		off := b.h.NewUser(b.firm, auth.RoleMember)
		_, err := b.h.Pool.Exec(t.Context(), "UPDATE users SET is_active = false WHERE id = $1", off.ID)
		require.NoError(t, err)
		key := b.h.Key(b.firm, apitest.Full)
		r := b.h.Do("POST", usersPath, apitest.APIKey(key), apitest.JSON(map[string]any{"email": "pending@reset.example", "firstName": "P", "lastName": "Q"}))
		require.Equal(t, http.StatusCreated, r.StatusCode)
		b.mail.Wait(t, 1, 20*time.Second) // the invitation

		var bodies []string
		for _, addr := range []string{b.user.Email, "nobody@reset.example", "pending@reset.example", off.Email} {
			r := forgot(b, addr)
			require.Equal(t, http.StatusOK, r.StatusCode)
			bodies = append(bodies, mxWithoutMeta(r.Body))
		}
		require.Len(t, slices.Compact(bodies), 1, "one answer whatever the address: %v", bodies)
		waitJobs(t, b.h, "password_reset_request", 4)
		mails := b.mail.Wait(t, 2, 20*time.Second)
		require.Len(t, mails, 2, "the invitation and one reset")
		require.Equal(t, []string{b.user.Email}, mails[1].To)
		require.Empty(t, b.mail.To("nobody@reset.example"))
		require.Len(t, b.mail.To("pending@reset.example"), 1, "only the invitation")
		require.Empty(t, b.mail.To(off.Email))
	})

	t.Run("requests are throttled per address and per client address", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range 5 {
			require.Equal(t, http.StatusOK, forgot(b, "limit@reset.example").StatusCode, i)
		}
		r := forgot(b, "LIMIT@reset.example")
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
		require.Equal(t, "rate_limited_email", r.ErrorCode())
		require.NotEmpty(t, r.Header.Get("Retry-After"))
		for i := range 15 {
			require.Equal(t, http.StatusOK, forgot(b, fmt.Sprintf("ip%d@reset.example", i)).StatusCode, i)
		}
		r = forgot(b, "one-more@reset.example")
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
		require.Equal(t, "rate_limited_ip", r.ErrorCode())
	})
}

// TestAccountsForgotPasswordTiming checks that the answer's timing does not tell an existing
// address from an unknown one. It is a sequential top-level test, so the package's parallel
// tests do not run beside it; the users exist before the first measurement, and each pair is
// asked in a random order, so background work of an earlier request (the job that e-mails a
// link) falls on both kinds alike.
func TestAccountsForgotPasswordTiming(t *testing.T) {
	h := apitest.New(t, apitest.Options{Config: func(c *config.Config) { c.ResetRequestsPerIP = 1000 }})
	firm := h.NewFirm(apitest.FirmOpts{})
	const n = 31
	users := make([]apitest.User, n)
	for i := range users {
		users[i] = h.NewUser(firm, auth.RoleMember)
	}
	var known, unknown []time.Duration
	var bodies []string
	for i := range n {
		addrs := []string{users[i].Email, fmt.Sprintf("ghost%d-%s@nowhere.example", i, uuid.NewString()[:6])}
		for _, j := range rand.Perm(2) {
			start := time.Now()
			r := h.Do("POST", forgotPasswordPath, apitest.JSON(map[string]any{"email": addrs[j]}))
			d := time.Since(start)
			require.Equal(t, http.StatusOK, r.StatusCode)
			bodies = append(bodies, mxWithoutMeta(r.Body))
			if j == 0 {
				known = append(known, d)
			} else {
				unknown = append(unknown, d)
			}
		}
	}
	require.Len(t, slices.Compact(bodies), 1)
	mk, mu := median(known), median(unknown)
	diff := max(mk-mu, mu-mk)
	tolerance := max(3*time.Millisecond, max(mk, mu)*35/100)
	line := fmt.Sprintf("forgot-password timing: median %v existing vs %v unknown over %d calls each, random order (tolerance %v)", mk, mu, n, tolerance)
	t.Log(line)
	require.LessOrEqual(t, diff, tolerance, line)
	// The same work was queued for both: one job per request.
	waitJobs(t, h, "password_reset_request", 2*n)
}

// waitJobs waits until n jobs of kind exist (the queue need not run them).
func waitJobs(t *testing.T, h *apitest.Harness, kind string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var got int
		_ = h.Pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = $1", kind).Scan(&got)
		return got >= n
	}, 10*time.Second, 20*time.Millisecond)
	var running int
	require.Eventually(t, func() bool {
		_ = h.Pool.QueryRow(context.Background(), "SELECT count(*) FROM river_job WHERE kind = $1 AND state NOT IN ('completed', 'available')", kind).Scan(&running)
		return running == 0
	}, 20*time.Second, 20*time.Millisecond, "jobs still running")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestAccountsProfile(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	firm := h.NewFirm(apitest.FirmOpts{})
	u := h.NewUser(firm, auth.RoleMember)
	tok, _ := h.Login(u)

	r := h.Do("GET", profilePath, apitest.Bearer(tok))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	require.Equal(t, u.Email, mxGet(t, r.Body, "data.email"))

	r = h.Do("PUT", profilePath, apitest.Bearer(tok), apitest.JSON(map[string]any{
		"firstName": " Odile ", "lastName": "Marchetti", "phone": "+1 (206) 555-0142",
		"role": "FIRM_ADMIN", "email": "hijack@example.test", "firmId": uuid.NewString(),
	}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	require.Equal(t, "Odile", mxGet(t, r.Body, "data.firstName"))
	require.Equal(t, "+1 (206) 555-0142", mxGet(t, r.Body, "data.phone"))
	require.Equal(t, "member", mxGet(t, r.Body, "data.role"), "role is not changed here")
	require.Equal(t, u.Email, mxGet(t, r.Body, "data.email"))
	require.Equal(t, firm.ID.String(), mxGet(t, r.Body, "data.firmId"))

	r = h.Do("PUT", profilePath, apitest.Bearer(tok), apitest.JSON(map[string]any{"phone": "call me maybe"}))
	require.Equal(t, http.StatusBadRequest, r.StatusCode)
	require.Equal(t, "body.phone", mxGet(t, r.Body, "error.details.0.field"))
	r = h.Do("PUT", profilePath, apitest.Bearer(tok), apitest.JSON(map[string]any{"firstName": ""}))
	require.Equal(t, http.StatusBadRequest, r.StatusCode)

	r = h.Do("PUT", profilePath, apitest.Bearer(tok), apitest.Body("application/json", []byte(`{"phone":null}`)))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	require.Nil(t, r.Map()["data"].(map[string]any)["phone"])
	require.Equal(t, "Marchetti", mxGet(t, h.Do("GET", "/api/v1/auth/me", apitest.Bearer(tok)).Body, "data.lastName"))
}

func TestAccountsSalesforceTokens(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, apitest.Options{RateStandard: 3, RateFull: 1000})
	firm := h.NewFirm(apitest.FirmOpts{})
	admin, _ := h.Login(firm.Admin)

	r := h.Do("POST", sfTokensPath, apitest.Bearer(admin), apitest.JSON(map[string]any{
		"name": "Production org", "salesforceConnectionId": "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"}))
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	id, plain := mxGet(t, r.Body, "data.id"), mxGet(t, r.Body, "data.plainToken")
	require.True(t, strings.HasPrefix(plain, "cxsf_"), plain)
	require.Equal(t, plain[:12], mxGet(t, r.Body, "data.prefix"))
	require.Equal(t, "active", mxGet(t, r.Body, "data.status"))
	var stored string
	require.NoError(t, h.Pool.QueryRow(t.Context(), "SELECT key_hash FROM api_keys WHERE id = $1", id).Scan(&stored))
	require.NotContains(t, stored, plain[5:])

	list := h.Do("GET", sfTokensPath, apitest.Bearer(admin))
	require.Equal(t, http.StatusOK, list.StatusCode)
	require.Equal(t, id, mxGet(t, list.Body, "data.tokens.0.id"))
	require.NotContains(t, string(list.Body), plain, "the secret is shown only once")
	require.NotContains(t, string(h.Do("GET", "/api/v1/public-api-keys", apitest.Bearer(admin)).Body), id, "not a Public API key")

	t.Run("the token calls the Public API at the standard tier, limited and counted like a key", func(t *testing.T) {
		r := h.Do("POST", sfTokensPath, apitest.Bearer(admin), apitest.JSON(map[string]any{"name": "Sandbox org"}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		id, plain := mxGet(t, r.Body, "data.id"), mxGet(t, r.Body, "data.plainToken")
		r = h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(plain))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Equal(t, "3", r.Header.Get("X-RateLimit-Limit"), "the standard budget")
		r = h.Do("PUT", "/api/public/v1/firms/me", apitest.APIKey(plain), apitest.JSON(map[string]any{"phone": "555-0100"}))
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "insufficient_tier", r.ErrorCode())
		h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(plain))
		r = h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(plain))
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
		require.NoError(t, h.App.Auth.FlushUsage(t.Context()))
		u := h.Do("GET", apitest.Path("/api/v1/public-api-keys", id, "usage"), apitest.Bearer(admin))
		require.Equal(t, http.StatusOK, u.StatusCode, string(u.Body))
		require.Equal(t, "4", mxGet(t, u.Body, "data.totalRequests"), "authenticated requests count, refused or not")
	})

	t.Run("rotation kills the old secret at once; deletion kills the token", func(t *testing.T) {
		r := h.Do("POST", apitest.Path(sfTokensPath, id, "rotate"), apitest.Bearer(admin))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		fresh := mxGet(t, r.Body, "data.plainToken")
		require.Equal(t, id, mxGet(t, r.Body, "data.id"))
		require.NotEqual(t, plain, fresh)
		require.Equal(t, http.StatusUnauthorized, h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(plain)).StatusCode)
		require.Equal(t, http.StatusOK, h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(fresh)).StatusCode)

		require.Equal(t, http.StatusNoContent, h.Do("DELETE", apitest.Path(sfTokensPath, id), apitest.Bearer(admin)).StatusCode)
		require.Equal(t, http.StatusUnauthorized, h.Do("GET", "/api/public/v1/firms/me", apitest.APIKey(fresh)).StatusCode)
		require.Equal(t, http.StatusNoContent, h.Do("DELETE", apitest.Path(sfTokensPath, id), apitest.Bearer(admin)).StatusCode, "idempotent")
		require.Equal(t, http.StatusConflict, h.Do("POST", apitest.Path(sfTokensPath, id, "rotate"), apitest.Bearer(admin)).StatusCode)
		require.Contains(t, string(h.Do("GET", sfTokensPath, apitest.Bearer(admin)).Body), `"status":"revoked"`)
	})

	t.Run("another firm's id is not found and members are refused", func(t *testing.T) {
		r := h.Do("POST", sfTokensPath, apitest.Bearer(admin), apitest.JSON(map[string]any{"name": "second"}))
		require.Equal(t, http.StatusCreated, r.StatusCode)
		own := mxGet(t, r.Body, "data.id")
		other := h.NewFirm(apitest.FirmOpts{})
		stranger, _ := h.Login(other.Admin)
		require.Equal(t, http.StatusNotFound, h.Do("POST", apitest.Path(sfTokensPath, own, "rotate"), apitest.Bearer(stranger)).StatusCode)
		require.Equal(t, http.StatusNotFound, h.Do("DELETE", apitest.Path(sfTokensPath, own), apitest.Bearer(stranger)).StatusCode)
		require.NotContains(t, string(h.Do("GET", sfTokensPath, apitest.Bearer(stranger)).Body), own)
		// A Public API key's id is not a token id.
		k := h.Do("POST", "/api/v1/public-api-keys", apitest.Bearer(admin), apitest.JSON(map[string]any{"name": "k", "tier": "FULL"}))
		require.Equal(t, http.StatusNotFound, h.Do("DELETE", apitest.Path(sfTokensPath, mxGet(t, k.Body, "data.id")), apitest.Bearer(admin)).StatusCode)
		member, _ := h.Login(h.NewUser(firm, auth.RoleMember))
		require.Equal(t, http.StatusForbidden, h.Do("GET", sfTokensPath, apitest.Bearer(member)).StatusCode)
		require.Equal(t, http.StatusForbidden, h.Do("POST", sfTokensPath, apitest.Bearer(member), apitest.JSON(map[string]any{"name": "x"})).StatusCode)
	})
}
