package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/ratelimit"
)

// The two pages that e-mailed links open when no firm-facing application is configured
// (CX_APP_URL unset): /accept-invitation and /reset-password. Each is a small server-rendered
// form with no script and no external asset; the form posts back to the same path, and the
// handler calls the same domain method as the Internal API operation (completeInvitation
// without the sign-in, resetPassword), so the rules cannot differ. The token arrives in the
// link's query and travels on in a hidden field; Referrer-Policy keeps it out of any Referer.

const pageCSS = `body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1d2433}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.2rem;padding:.6rem 1.2rem;font-size:1rem}.error{background:#fde8e8;border:1px solid #e0a0a0;padding:.6rem}
.ok{background:#e6f4ea;border:1px solid #9ccfa8;padding:.6rem}.hint{color:#556;font-size:.9rem}`

// pageCSP allows nothing but the page's own style block and posting its form back.
var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}()

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{{.Title}} - CaseXchange</title><style>{{.CSS}}</style></head>
<body><h1>{{.Title}}</h1>
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
{{if .Done}}<p class="ok" id="done" role="status">{{.Done}}</p>{{else if .Token}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="token" value="{{.Token}}">
<label for="password">New password</label>
<input type="password" id="password" name="password" autocomplete="new-password" required minlength="12" maxlength="256">
<label for="confirm">Repeat the password</label>
<input type="password" id="confirm" name="confirm" autocomplete="new-password" required minlength="12" maxlength="256">
<p class="hint">At least 12 characters and not a common password; a few unrelated words work well.</p>
<button type="submit" id="submit">{{.Button}}</button>
</form>{{end}}
</body></html>
`))

type pageData struct {
	Title, Action, Button string
	Token                 string
	Error, Done           string
	CSS                   template.CSS
}

// pageKind describes one of the two pages.
type pageKind struct {
	path, title, button, done string
	submit                    func(s *Server, c echo.Context, token, password string) error
}

var (
	invitationPage = pageKind{
		path: "/accept-invitation", title: "Choose your password", button: "Activate my account",
		done: "Your account is active. Sign in with your e-mail address and the password you just chose.",
		submit: func(s *Server, c echo.Context, token, password string) error {
			_, err := s.Users.AcceptInvitation(c.Request().Context(), token, password)
			return err
		},
	}
	resetPage = pageKind{
		path: "/reset-password", title: "Choose a new password", button: "Change my password",
		done: "Your password was changed and you were signed out everywhere. Sign in with the new password.",
		submit: func(s *Server, c echo.Context, token, password string) error {
			return s.Users.ResetPassword(c.Request().Context(), token, password)
		},
	}
)

// registerPages adds the two pages to e.
func (s *Server) registerPages(e *echo.Echo) {
	for _, p := range []pageKind{invitationPage, resetPage} {
		e.GET(p.path, func(c echo.Context) error { return s.servePage(c, p, false) })
		e.POST(p.path, func(c echo.Context) error { return s.servePage(c, p, true) })
	}
}

func (s *Server) servePage(c echo.Context, p pageKind, post bool) error {
	d := pageData{Title: p.title, Action: p.path, Button: p.button, CSS: template.CSS(pageCSS)}
	// Anonymous like the operations behind them, so limited per client address like them.
	if err := s.applyRateLimit(c, ratelimit.Budget{Key: "ip:" + c.RealIP(), Limit: s.limits.IP}); err != nil {
		d.Error = "Too many requests from your network; wait a minute and try again."
		return renderPage(c, http.StatusTooManyRequests, d)
	}
	if !post {
		d.Token = strings.TrimSpace(c.QueryParam("token"))
		if d.Token == "" {
			d.Error = "This link is incomplete: open the link from the e-mail again, or copy all of it into the address bar."
			return renderPage(c, http.StatusBadRequest, d)
		}
		return renderPage(c, http.StatusOK, d)
	}
	d.Token = strings.TrimSpace(c.FormValue("token"))
	password, confirm := c.FormValue("password"), c.FormValue("confirm")
	switch {
	case d.Token == "":
		d.Error = "This form has no link token: open the link from the e-mail again."
		return renderPage(c, http.StatusBadRequest, d)
	case password != confirm:
		d.Error = "The two passwords do not match. Type the same password twice."
		return renderPage(c, http.StatusBadRequest, d)
	}
	err := p.submit(s, c, d.Token, password)
	if err == nil {
		d.Done, d.Token = p.done, ""
		return renderPage(c, http.StatusOK, d)
	}
	status, msg, keepForm := pageError(err)
	if msg == "" {
		s.log.Error("account page failed", "path", p.path, "error", err.Error(), "request_id", requestID(c))
		msg = "Something went wrong on our side; try again in a moment."
	}
	d.Error = msg
	if !keepForm {
		d.Token = ""
	}
	return renderPage(c, status, d)
}

// pageError turns a domain error into a status and a sentence for a person; keepForm says
// whether trying again with another password can help. An empty message means an unexpected
// failure.
func pageError(err error) (status int, msg string, keepForm bool) {
	ae, ok := apperr.As(err)
	if !ok {
		return http.StatusInternalServerError, "", true
	}
	switch {
	case errors.Is(err, apperr.ErrValidation):
		for _, d := range ae.Details {
			switch d.Field {
			case "token":
				if strings.HasPrefix(d.Message, "has expired") {
					return http.StatusBadRequest, "This link has expired. " + expiredAdvice(d.Message), false
				}
				return http.StatusBadRequest, "This link is not valid any more: it was already used or replaced by a newer one.", false
			case "password":
				return http.StatusBadRequest, "This password cannot be used: it " + d.Message + ".", true
			}
		}
		return http.StatusBadRequest, ae.Message, true
	case errors.Is(err, apperr.ErrConflict):
		return http.StatusConflict, "Your account is already active. Sign in with your password.", false
	case errors.Is(err, apperr.ErrPermission):
		return http.StatusForbidden, "This account is deactivated. Ask your firm administrator.", false
	}
	return http.StatusInternalServerError, "", true
}

func expiredAdvice(domainMsg string) string {
	if strings.Contains(domainMsg, "administrator") {
		return "Ask your firm administrator to send a new invitation."
	}
	return "Ask for a new link on the sign-in page."
}

func renderPage(c echo.Context, status int, d pageData) error {
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, d); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set(headerCacheControl, cacheNoStore)
	return c.HTMLBlob(status, b.Bytes())
}
