// Package apitest runs the whole server (internal/app) over httptest on a fresh database and
// checks every response against api-reference/openapi.yml. Tests drive it with raw requests
// (Do) or the generated client (Client); both validate what comes back, so a drift between the
// contract and the behaviour fails the test that saw it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/gen/apiclient"
	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/firms"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/webhooks/webhookstest"
)

// Main is TestMain for packages using the harness: it provides the PostgreSQL server.
func Main(m *testing.M) {
	pgtest.AfterMigrate.Name = "river"
	pgtest.AfterMigrate.Fn = jobs.Migrate
	code := pgtest.Run(m)
	printSecuritySummary()
	webhookstest.PrintSummary()
	os.Exit(code)
}

// Options adjust the server under test.
type Options struct {
	RateReadOnly, RateStandard, RateFull int           // 0: a budget no ordinary test reaches
	RateFirm, RateSession, RateIP        int           // 0: a budget no ordinary test reaches
	MaxActiveKeys                        int           // 0: more keys than any ordinary test creates
	RateWindow                           time.Duration // 0: one minute
	AccessTTL                            time.Duration // 0: 15 minutes
	Config                               func(*config.Config)
}

// Harness is one running server on its own database.
type Harness struct {
	t      testing.TB
	App    *app.App
	Pool   *pgxpool.Pool
	DSN    string
	Server *httptest.Server
	URL    string
	Client *apiclient.ClientWithResponses // validates every response

	router routers.Router
	seq    atomic.Int64
}

var (
	specOnce   sync.Once
	specErr    error
	specRouter routers.Router
)

func loadRouter() (routers.Router, error) {
	specOnce.Do(func() {
		spec, err := api.GetSpec()
		if err != nil {
			specErr = err
			return
		}
		spec.Servers = nil
		specRouter, specErr = gorillamux.NewRouter(spec)
	})
	return specRouter, specErr
}

func init() {
	for _, ct := range []string{"text/csv", "application/yaml",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream",
		"application/pdf", "image/png", "image/jpeg", "text/plain"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// New starts a server on a fresh database.
func New(t testing.TB, opts ...Options) *Harness {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	pool, dsn := pgtest.NewDB(t)
	cfg := config.Config{
		HTTPAddr:        "127.0.0.1:0",
		DataDir:         t.TempDir(),
		JWTSecret:       []byte("test-secret-0123456789abcdef0123456789abcdef"),
		AccessTokenTTL:  o.AccessTTL,
		RefreshTokenTTL: 7 * 24 * time.Hour,
		RateWindow:      o.RateWindow,
		RateReadOnly:    orInt(o.RateReadOnly, 1_000_000),
		RateStandard:    orInt(o.RateStandard, 1_000_000),
		RateFull:        orInt(o.RateFull, 1_000_000),
		RateFirm:        orInt(o.RateFirm, 1_000_000),
		RateSession:     orInt(o.RateSession, 1_000_000),
		RateIP:          orInt(o.RateIP, 1_000_000),
		MaxActiveKeys:   orInt(o.MaxActiveKeys, 1_000),
		RateStore:       "memory",
		LogLevel:        slog.LevelWarn,
	}
	if cfg.AccessTokenTTL == 0 {
		cfg.AccessTokenTTL = 15 * time.Minute
	}
	if cfg.RateWindow == 0 {
		cfg.RateWindow = time.Minute
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := app.New(context.Background(), cfg, pool, log, app.Options{PasswordCost: auth.TestPasswordParams})
	if err != nil {
		t.Fatalf("apitest: build app: %v", err)
	}
	srv := httptest.NewServer(a.Echo)
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	a.Config.PublicBaseURL = srv.URL
	router, err := loadRouter()
	if err != nil {
		t.Fatalf("apitest: load spec: %v", err)
	}
	h := &Harness{t: t, App: a, Pool: pool, DSN: dsn, Server: srv, URL: srv.URL, router: router}
	client, err := apiclient.NewClientWithResponses(srv.URL, apiclient.WithHTTPClient(validatingDoer{h: h}))
	if err != nil {
		t.Fatalf("apitest: client: %v", err)
	}
	h.Client = client
	return h
}

func orInt(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// ---- fixtures -------------------------------------------------------------------------------

// Firm is a test firm with an admin user.
type Firm struct {
	ID    uuid.UUID
	Name  string
	Admin User
}

// User is a test user with a known password.
type User struct {
	ID       uuid.UUID
	FirmID   uuid.UUID
	Email    string
	Password string
	Role     auth.Role
}

// FirmOpts describe a firm; every field has a default.
type FirmOpts struct {
	Name          string
	Private       bool // not listed in the directory
	Jurisdictions []string
	CaseTypeIDs   []uuid.UUID
	Instructions  string
}

// DefaultPassword is the password of fixture users.
const DefaultPassword = "correct-horse-battery"

// NewFirm creates a firm (listed in the directory unless Private) with a FIRM_ADMIN user.
func (h *Harness) NewFirm(o FirmOpts) *Firm {
	h.t.Helper()
	n := h.seq.Add(1)
	if o.Name == "" {
		o.Name = fmt.Sprintf("Test Firm %d", n)
	}
	prof := firms.Update{}
	if len(o.Jurisdictions) > 0 {
		j := o.Jurisdictions
		prof.Jurisdictions = &j
	}
	if len(o.CaseTypeIDs) > 0 {
		c := o.CaseTypeIDs
		prof.CaseTypeIDs = &c
	}
	if o.Instructions != "" {
		s := o.Instructions
		prof.GeneralReferralInstructions = &s
	}
	f, err := h.App.Firms.Create(context.Background(), firms.CreateInput{
		Name:            o.Name,
		Slug:            fmt.Sprintf("test-firm-%d-%s", n, uuid.NewString()[:8]),
		Profile:         prof,
		IsPublic:        !o.Private,
		ReferencePrefix: fmt.Sprintf("T%d", n),
	})
	if err != nil {
		h.t.Fatalf("apitest: create firm: %v", err)
	}
	firm := &Firm{ID: f.ID, Name: f.Name}
	firm.Admin = h.NewUser(firm, auth.RoleFirmAdmin)
	return firm
}

// NewUser creates an active user of firm with role and DefaultPassword.
func (h *Harness) NewUser(f *Firm, role auth.Role) User {
	h.t.Helper()
	n := h.seq.Add(1)
	email := fmt.Sprintf("user%d-%s@example.test", n, uuid.NewString()[:8])
	u, err := h.App.Auth.ProvisionUser(context.Background(), auth.ProvisionInput{
		FirmID: f.ID, Email: email, FirstName: "Test", LastName: fmt.Sprintf("User%d", n), Role: role, Password: DefaultPassword,
	})
	if err != nil {
		h.t.Fatalf("apitest: create user: %v", err)
	}
	return User{ID: u.ID, FirmID: f.ID, Email: email, Password: DefaultPassword, Role: role}
}

// Tier names for Key.
const (
	ReadOnly = auth.TierReadOnly
	Standard = auth.TierStandard
	Full     = auth.TierFull
)

// Key creates an API key of tier for firm and returns its plaintext.
func (h *Harness) Key(f *Firm, tier auth.Tier) string {
	h.t.Helper()
	k, err := h.App.Auth.CreateKeyForFirm(context.Background(), f.ID, auth.KeyInput{Name: "test " + string(tier), Tier: tier})
	if err != nil {
		h.t.Fatalf("apitest: create key: %v", err)
	}
	return k.Key
}

// Login signs u in through the Internal API and returns its access and refresh tokens.
func (h *Harness) Login(u User) (access, refresh string) {
	h.t.Helper()
	r := h.Do("POST", "/api/v1/auth/login", JSON(map[string]string{"email": u.Email, "password": u.Password}))
	if r.StatusCode != http.StatusOK {
		h.t.Fatalf("apitest: login %s: %d %s", u.Email, r.StatusCode, r.Body)
	}
	var body struct {
		Data struct {
			AccessToken  string `json:"accessToken"`
			RefreshToken string `json:"refreshToken"`
		} `json:"data"`
	}
	r.Decode(&body)
	return body.Data.AccessToken, body.Data.RefreshToken
}

// ---- raw requests ---------------------------------------------------------------------------

// Response is a received, validated response with its body read.
type Response struct {
	*http.Response
	Body []byte
	t    testing.TB
}

// Decode unmarshals the body into v, failing the test on error.
func (r *Response) Decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("apitest: decode %q: %v", r.Body, err)
	}
}

// Map returns the body as a generic JSON object.
func (r *Response) Map() map[string]any {
	r.t.Helper()
	var m map[string]any
	r.Decode(&m)
	return m
}

// ErrorCode returns error.code of an error envelope ("" if absent).
func (r *Response) ErrorCode() string {
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &env)
	return env.Error.Code
}

// Opt modifies a request.
type Opt func(*http.Request)

// APIKey sends X-API-Key.
func APIKey(k string) Opt { return Header("X-API-Key", k) }

// Bearer sends an Authorization bearer token.
func Bearer(tok string) Opt { return Header("Authorization", "Bearer "+tok) }

// Header sets a request header.
func Header(k, v string) Opt { return func(r *http.Request) { r.Header.Set(k, v) } }

// Cookie adds a cookie.
func Cookie(name, value string) Opt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

// JSON sends v as the JSON body.
func JSON(v any) Opt {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return Body("application/json", b)
}

// Body sends raw bytes with a content type.
func Body(contentType string, b []byte) Opt {
	return func(r *http.Request) {
		r.Header.Set("Content-Type", contentType)
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
}

// Query adds query parameters.
func Query(kv ...string) Opt {
	return func(r *http.Request) {
		q := r.URL.Query()
		for i := 0; i+1 < len(kv); i += 2 {
			q.Add(kv[i], kv[i+1])
		}
		r.URL.RawQuery = q.Encode()
	}
}

// Do sends a request to path (which may contain a query) and validates the response.
func (h *Harness) Do(method, path string, opts ...Opt) *Response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.URL+path, nil)
	if err != nil {
		h.t.Fatalf("apitest: %v", err)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		h.t.Fatalf("apitest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("apitest: read body: %v", err)
	}
	if err := h.Validate(req, resp, body); err != nil {
		h.t.Errorf("apitest: %s %s -> %d does not match the contract: %v\nbody: %.2000s", method, path, resp.StatusCode, err, body)
	}
	return &Response{Response: resp, Body: body, t: h.t}
}

// Validate checks one exchange against the contract: the status is declared, the body matches
// its schema, every response has X-Request-Id, error bodies are envelopes, and authenticated
// Public API responses carry the rate-limit headers.
func (h *Harness) Validate(req *http.Request, resp *http.Response, body []byte) error {
	if resp.Header.Get("X-Request-Id") == "" {
		return fmt.Errorf("no X-Request-Id header")
	}
	if resp.StatusCode >= 400 {
		if err := checkEnvelope(body); err != nil {
			return err
		}
	}
	route, params, err := h.router.FindRoute(req)
	if err != nil {
		// Unknown routes and methods are outside the contract; the envelope check above applies.
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("request matches no operation of the contract: %v", err)
	}
	if strings.HasPrefix(route.Path, "/api/public/v1/") && route.Operation.Security != nil && len(*route.Operation.Security) > 0 &&
		resp.StatusCode != http.StatusUnauthorized {
		for _, hd := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if resp.Header.Get(hd) == "" {
				return fmt.Errorf("missing %s header", hd)
			}
		}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: resp.StatusCode,
		Header: resp.Header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func checkEnvelope(body []byte) error {
	var env struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Meta *struct {
			RequestID string `json:"requestId"`
			Timestamp string `json:"timestamp"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("error body is not JSON: %v", err)
	}
	if env.Error == nil || env.Error.Code == "" || env.Error.Message == "" || env.Meta == nil || env.Meta.RequestID == "" {
		return fmt.Errorf("error body is not the {error:{code,message},meta} envelope")
	}
	return nil
}

// validatingDoer is the generated client's transport: it validates each response.
type validatingDoer struct{ h *Harness }

func (d validatingDoer) Do(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	if err := d.h.Validate(vreq, resp, body); err != nil {
		d.h.t.Errorf("apitest: %s %s -> %d does not match the contract: %v\nbody: %.2000s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}

// WithKey is a client request editor adding X-API-Key (for the generated client).
func WithKey(k string) apiclient.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-API-Key", k)
		return nil
	}
}

// WithBearer is a client request editor adding a bearer token.
func WithBearer(tok string) apiclient.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}

// Path joins segments with escaping, e.g. Path("/api/public/v1/firms", id).
func Path(base string, segs ...string) string {
	for _, s := range segs {
		base += "/" + url.PathEscape(s)
	}
	return base
}

var _ = openapi3.T{}
