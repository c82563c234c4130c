package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

// secLoginFrom sends a login from another loopback address than the harness's 127.0.0.1, so the
// server sees a second client address.
func secLoginFrom(t *testing.T, h *apitest.Harness, source, email, password string) *apitest.Response {
	t.Helper()
	body, err := json.Marshal(map[string]string{"email": email, "password": password})
	require.NoError(t, err)
	req, err := http.NewRequest("POST", h.URL+fdLoginPath, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}).DialContext}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, h.Validate(req, resp, b))
	r := &apitest.Response{Response: resp, Body: b}
	return r
}

func secLogin(h *apitest.Harness, email, password string) *apitest.Response {
	return h.Do("POST", fdLoginPath, apitest.JSON(map[string]string{"email": email, "password": password}))
}

// TestSecurityLoginThrottle covers finding 1: the throttle held only for requests sent one after
// the other, because the failure was recorded after the (slow) password check.
func TestSecurityLoginThrottle(t *testing.T) {
	t.Parallel()

	t.Run("forty simultaneous guesses for one account evaluate at most five", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		firm := h.NewFirm(apitest.FirmOpts{})
		const n = 40
		codes := make([]string, n)
		statuses := make([]int, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				r := secLogin(h, firm.Admin.Email, "wrong-password-guess")
				statuses[i], codes[i] = r.StatusCode, r.ErrorCode()
			})
		}
		close(start)
		wg.Wait()
		evaluated := 0
		for i := range n {
			switch statuses[i] {
			case http.StatusUnauthorized:
				require.Equal(t, "invalid_credentials", codes[i])
				evaluated++
			case http.StatusTooManyRequests:
				require.Equal(t, "rate_limited_email", codes[i])
			default:
				t.Fatalf("guess %d: unexpected status %d %s", i, statuses[i], codes[i])
			}
		}
		// Every evaluated guess left a failed attempt; refused ones left nothing.
		var failures int
		require.NoError(t, h.Pool.QueryRow(t.Context(),
			"SELECT count(*) FROM login_attempts WHERE email = $1 AND NOT succeeded", firm.Admin.Email).Scan(&failures))
		require.Equal(t, evaluated, failures)
		require.LessOrEqual(t, evaluated, auth.DefaultEmailFailures, "%d of %d guesses were evaluated", evaluated, n)
		apitest.SecurityFinding(t, 1, "%d of %d concurrent guesses evaluated", evaluated, n)
	})

	t.Run("the owner still signs in from an address without failures", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		firm := h.NewFirm(apitest.FirmOpts{})
		u := h.NewUser(firm, auth.RoleMember)
		for range auth.DefaultEmailFailures {
			require.Equal(t, "invalid_credentials", secLogin(h, u.Email, "wrong-password-guess").ErrorCode())
		}
		// From the guessing address even the right password waits.
		r := secLogin(h, u.Email, u.Password)
		require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
		require.Equal(t, "rate_limited_email", r.ErrorCode())

		// A clean address gets one attempt while the account is locked: a wrong guess uses it up.
		r = secLoginFrom(t, h, "127.0.0.3", u.Email, "wrong-password-guess")
		require.Equal(t, "invalid_credentials", r.ErrorCode())
		r = secLoginFrom(t, h, "127.0.0.3", u.Email, u.Password)
		require.Equal(t, "rate_limited_email", r.ErrorCode())

		// The owner, elsewhere, is not locked out.
		r = secLoginFrom(t, h, "127.0.0.2", u.Email, u.Password)
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		apitest.SecurityFinding(t, 1, "owner signs in from a clean address during a lockout")
	})
}

// TestSecurityDemotion covers finding 2: a demoted administrator's access token kept the
// administrator's role, and the keys they had made kept working after they left.
func TestSecurityDemotion(t *testing.T) {
	t.Parallel()
	type bundle struct {
		h    *apitest.Harness
		firm *apitest.Firm
		full string // a firm key from the command line
	}
	setup := func(t *testing.T) *bundle {
		t.Helper()
		h := apitest.New(t)
		firm := h.NewFirm(apitest.FirmOpts{})
		return &bundle{h: h, firm: firm, full: h.Key(firm, apitest.Full)}
	}
	createKey := func(t *testing.T, b *bundle, access string) *apitest.Response {
		t.Helper()
		return b.h.Do("POST", fdKeysPath, apitest.Bearer(access), apitest.JSON(map[string]string{"name": "mine", "tier": "FULL"}))
	}
	keyWorks := func(b *bundle, key string) int {
		return b.h.Do("GET", usersPath, apitest.APIKey(key)).StatusCode
	}

	t.Run("a demoted administrator's access token no longer administers", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		admin := b.h.NewUser(b.firm, auth.RoleFirmAdmin)
		access, _ := b.h.Login(admin)
		r := createKey(t, b, access)
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		key := mxGet(t, r.Body, "data.key")
		require.Equal(t, http.StatusOK, keyWorks(b, key))

		r = b.h.Do("PUT", apitest.Path(usersPath, admin.ID.String()), apitest.APIKey(b.full), apitest.JSON(map[string]string{"role": "MEMBER"}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))

		r = createKey(t, b, access)
		require.Equal(t, http.StatusForbidden, r.StatusCode, string(r.Body))
		require.Equal(t, "permission_denied", r.ErrorCode())
		r = b.h.Do("GET", fdKeysPath, apitest.Bearer(access))
		require.Equal(t, http.StatusForbidden, r.StatusCode, string(r.Body))
		// The session itself goes on, as a member.
		r = b.h.Do("GET", fdMePath, apitest.Bearer(access))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Equal(t, "member", mxGet(t, r.Body, "data.role"))

		// The key the administrator made went with the role; the firm's other keys did not.
		r = b.h.Do("GET", usersPath, apitest.APIKey(key))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode)
		require.Equal(t, "invalid_api_key", r.ErrorCode())
		require.Equal(t, http.StatusOK, keyWorks(b, b.full))
		apitest.SecurityFinding(t, 2, "demotion: token refused (403), own key revoked")
	})

	t.Run("a deactivated administrator's keys stop working", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		leaver := b.h.NewUser(b.firm, auth.RoleFirmAdmin)
		access, _ := b.h.Login(leaver)
		r := createKey(t, b, access)
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		leaversKey := mxGet(t, r.Body, "data.key")
		stayerAccess, _ := b.h.Login(b.firm.Admin)
		r = createKey(t, b, stayerAccess)
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
		stayersKey := mxGet(t, r.Body, "data.key")

		r = b.h.Do("DELETE", apitest.Path(usersPath, leaver.ID.String()), apitest.APIKey(b.full))
		require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.Body))

		require.Equal(t, http.StatusUnauthorized, keyWorks(b, leaversKey))
		require.Equal(t, http.StatusOK, keyWorks(b, stayersKey))
		// Reactivation does not bring the key back.
		r = b.h.Do("PUT", apitest.Path(usersPath, leaver.ID.String()), apitest.APIKey(b.full), apitest.JSON(map[string]bool{"isActive": true}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Equal(t, http.StatusUnauthorized, keyWorks(b, leaversKey))
		apitest.SecurityFinding(t, 2, "deactivation revokes the user's keys")
	})
}

// TestSecurityUserEnumeration covers finding 6.
func TestSecurityUserEnumeration(t *testing.T) {
	t.Parallel()

	t.Run("inviting another firm's address answers like a new address", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		mine, theirs := h.NewFirm(apitest.FirmOpts{}), h.NewFirm(apitest.FirmOpts{})
		key := h.Key(mine, apitest.Full)
		invite := func(email string) *apitest.Response {
			return h.Do("POST", usersPath, apitest.APIKey(key), apitest.JSON(map[string]string{"email": email, "firstName": "Some", "lastName": "One"}))
		}
		fresh := invite("fresh-" + uuid.NewString()[:8] + "@example.test")
		taken := invite(strings.ToUpper(theirs.Admin.Email))
		require.Equal(t, fresh.StatusCode, taken.StatusCode, string(taken.Body))
		require.Equal(t, http.StatusCreated, taken.StatusCode)
		var f, g api.UserResponse
		fresh.Decode(&f)
		taken.Decode(&g)
		require.Equal(t, f.Data.Status, g.Data.Status)
		require.Equal(t, f.Data.IsActive, g.Data.IsActive)
		require.Equal(t, mine.ID, g.Data.FirmId)
		require.Equal(t, theirs.Admin.Email, string(g.Data.Email))

		// Listing it back looks the same too.
		r := h.Do("GET", usersPath, apitest.APIKey(key), apitest.Query("search", theirs.Admin.Email))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Equal(t, g.Data.Id.String(), mxGet(t, r.Body, "data.0.id"))
		require.Equal(t, "invited", mxGet(t, r.Body, "data.0.status"))
		require.Equal(t, "1", mxGet(t, r.Body, "pagination.total"))

		// Inviting it again is the caller's own duplicate, as for any address.
		require.Equal(t, http.StatusConflict, invite(theirs.Admin.Email).StatusCode)
		require.Equal(t, http.StatusConflict, invite(string(f.Data.Email)).StatusCode)

		// The owner is untouched: they still sign in, at their own firm.
		r = secLogin(h, theirs.Admin.Email, theirs.Admin.Password)
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Equal(t, theirs.ID.String(), mxGet(t, r.Body, "data.user.firmId"))

		// Moving an invitation onto another firm's address is no oracle either.
		r = h.Do("PUT", apitest.Path(usersPath, f.Data.Id.String()), apitest.APIKey(key),
			apitest.JSON(map[string]string{"email": theirs.Admin.Email + ".moved"}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		other := h.NewUser(theirs, auth.RoleMember)
		r = h.Do("PUT", apitest.Path(usersPath, f.Data.Id.String()), apitest.APIKey(key),
			apitest.JSON(map[string]string{"email": other.Email}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		apitest.SecurityFinding(t, 6, "other firm's address: 201 like a new one")
	})

	t.Run("an invited user without a password gets invalid_credentials like a wrong password", func(t *testing.T) {
		t.Parallel()
		h := apitest.New(t)
		firm := h.NewFirm(apitest.FirmOpts{})
		email := "invitee-" + uuid.NewString()[:8] + "@example.test"
		r := h.Do("POST", usersPath, apitest.APIKey(h.Key(firm, apitest.Full)),
			apitest.JSON(map[string]string{"email": email, "firstName": "In", "lastName": "Vitee"}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))

		invited := secLogin(h, email, "any-password-at-all")
		unknown := secLogin(h, "nobody-"+uuid.NewString()[:8]+"@example.test", "any-password-at-all")
		wrong := secLogin(h, firm.Admin.Email, "any-password-at-all")
		for _, r := range []*apitest.Response{invited, unknown, wrong} {
			require.Equal(t, http.StatusUnauthorized, r.StatusCode, string(r.Body))
			require.Equal(t, "invalid_credentials", r.ErrorCode())
			require.Equal(t, fdErrorMessage(t, wrong), fdErrorMessage(t, r))
		}

		// account_not_fully_activated only follows the right password.
		u := h.NewUser(firm, auth.RoleMember)
		_, err := h.Pool.Exec(context.Background(), `UPDATE users SET activation_state = 'invited' WHERE id = $1`, u.ID)
		require.NoError(t, err)
		require.Equal(t, "invalid_credentials", secLogin(h, u.Email, "not-the-password").ErrorCode())
		r = secLogin(h, u.Email, u.Password)
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "account_not_fully_activated", r.ErrorCode())
		apitest.SecurityFinding(t, 6, "invited login: 401 like a wrong password")
	})
}

// TestSecurityPasswordPolicy covers finding 11: trivial passwords were accepted.
func TestSecurityPasswordPolicy(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	firm := h.NewFirm(apitest.FirmOpts{})
	u := h.NewUser(firm, auth.RoleMember)
	access, _ := h.Login(u)
	local := u.Email[:strings.IndexByte(u.Email, '@')]
	refused := map[string]string{
		"aaaaaaaaaaaa":                 "different characters",
		"abcabcabcabcabc":              "different characters",
		"correctcorrect":               "repeated pattern",
		"qwertyuiopasd":                "keyboard row",
		"123456789012":                 "run of the alphabet",
		"Password2024!":                "common password",
		"P@ssw0rd12345":                "common password",
		"iloveyou1234":                 "common password",
		"My-" + strings.ToUpper(local): "e-mail address",
	}
	for pw, rule := range refused {
		r := h.Do("POST", fdPasswordPath, apitest.Bearer(access),
			apitest.JSON(map[string]string{"currentPassword": u.Password, "newPassword": pw}))
		fdRequireValidation(t, r, "body.newPassword")
		var env api.Error
		r.Decode(&env)
		require.Contains(t, (*env.Error.Details)[0].Message, rule, pw)
	}
	// The password did not change, and a good one is still accepted.
	r := h.Do("POST", fdPasswordPath, apitest.Bearer(access),
		apitest.JSON(map[string]string{"currentPassword": u.Password, "newPassword": "plum tuesday orbit 42"}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	apitest.SecurityFinding(t, 11, "%d weak passwords refused", len(refused))
}
