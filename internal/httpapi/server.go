// Package httpapi is the HTTP layer: Echo, the middleware chain, and the strict-server methods
// that map requests to domain calls and results to typed responses. It owns no business rules.
package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	echomw "github.com/oapi-codegen/echo-middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/portal"
	"github.com/casexchange/server/internal/ratelimit"
)

// Deps are the services the HTTP layer calls.
type Deps struct {
	Log        *slog.Logger
	Auth       Authenticators
	Limiter    ratelimit.Limiter
	RateLimits RateLimits
	Registry   prometheus.Registerer // nil: a fresh registry (the request metrics go there)
	Ready      func(ctx context.Context) error
	// ReadyChecks are the conditions of /readyz, in order.
	ReadyChecks []ReadyCheck
	// TrustedProxies and ClientIPHeader decide the client address (see ClientIP).
	TrustedProxies []netip.Prefix
	ClientIPHeader string
	Services       Services
	Cookies        CookieOptions
	Timeouts       Timeouts // zero fields: the defaults
}

// CookieOptions shape the session cookies of the Internal API.
type CookieOptions struct {
	Secure     bool
	AccessTTL  time.Duration
	RefreshTTL time.Duration
}

// Server implements api.StrictServerInterface: every operation of the contract is a method, so a
// new or renamed operation fails the build until it is written.
type Server struct {
	Services

	log         *slog.Logger
	auth        Authenticators
	limiter     ratelimit.Limiter
	limits      RateLimits
	metrics     *metrics
	ready       func(ctx context.Context) error
	readyChecks []ReadyCheck
	cookies     CookieOptions
	timeouts    Timeouts
	retries     *finishRetries
	access      map[string]routeAccess
	fieldTiers  map[string]*fieldTier // operation (Go name) -> its x-access-tier-by-field rule
	spec        *openapi3.T

	specOnce    sync.Once
	specYAMLTag string
	specJSON    []byte
	specJSONTag string
}

var _ api.StrictServerInterface = (*Server)(nil)

// New builds the Echo instance serving the whole contract.
func New(d Deps) (*echo.Echo, *Server, error) {
	spec, err := api.GetSpec()
	if err != nil {
		return nil, nil, fmt.Errorf("load embedded spec: %w", err)
	}
	s := &Server{
		Services:    d.Services,
		log:         d.Log,
		auth:        d.Auth,
		limiter:     d.Limiter,
		limits:      d.RateLimits,
		ready:       d.Ready,
		readyChecks: d.ReadyChecks,
		cookies:     d.Cookies,
		timeouts:    d.Timeouts.withDefaults(),
		retries:     newFinishRetries(),
		spec:        spec,
		access:      buildAccess(spec),
	}
	if s.fieldTiers, err = buildFieldTiers(spec); err != nil {
		return nil, nil, err
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Client addresses come from the connection; a forwarding header is read only from the
	// configured proxies.
	e.IPExtractor = ClientIP(d.TrustedProxies, d.ClientIPHeader)
	e.HTTPErrorHandler = s.writeError
	e.JSONSerializer = jsonSerializer{}
	// Auth runs before the body limit so that even a 413 carries the rate-limit headers.
	e.Use(s.recoverMiddleware, requestIDMiddleware, s.securityHeaders, s.accessLog, s.deadlineMiddleware, s.authMiddleware, bodyLimit, s.contentTypeMiddleware, textMiddleware, nullFieldsMiddleware)

	// The validator needs servers stripped (it would check the Host) and auth left to us.
	vspec := *spec
	vspec.Servers = nil
	vopts := echomw.Options{
		SilenceServersWarning: true,
		Skipper: func(c echo.Context) bool {
			_, known := s.access[c.Request().Method+" "+c.Path()]
			return !known
		},
		ErrorHandler: func(c echo.Context, err *echo.HTTPError) error { return err },
		MultiErrorHandler: func(me openapi3.MultiError) *echo.HTTPError {
			return &echo.HTTPError{Code: http.StatusBadRequest, Message: "Request validation failed", Internal: me}
		},
		Options: openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}
	// Uploads and imports are multipart bodies of up to 50 MB: the validator would read them
	// into memory, so it checks only their parameters, and the handlers validate each part
	// while streaming it.
	streamOpts := vopts
	streamOpts.Options.ExcludeRequestBody = true
	withBody := echomw.OapiRequestValidatorWithOptions(&vspec, &vopts)
	withoutBody := echomw.OapiRequestValidatorWithOptions(&vspec, &streamOpts)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		full, light := withBody(next), withoutBody(next)
		return func(c echo.Context) error {
			if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), "multipart/") {
				return light(c)
			}
			return full(c)
		}
	})
	// Idempotent writes and conditional requests come after validation, so that only
	// valid, authenticated requests are stored, replayed or answered 304.
	e.Use(s.idempotencyMiddleware, s.etagMiddleware)

	api.RegisterHandlers(e, api.NewStrictHandler(s, []api.StrictMiddlewareFunc{s.fieldTierMiddleware}))
	// Probes for load balancers and orchestrators, outside the contract. /metrics is not here:
	// it has a listener of its own (CX_METRICS_ADDR), never the API port.
	e.GET("/livez", s.livez)
	e.GET("/readyz", s.readyz)
	s.registerPages(e) // the pages that e-mailed account links open
	// The developer portal; the root path leads there.
	docs, err := portal.Load()
	if err != nil {
		return nil, nil, fmt.Errorf("load developer portal: %w", err)
	}
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/docs") })
	e.GET("/docs", echo.WrapHandler(docs))
	e.GET("/docs/*", echo.WrapHandler(docs))
	e.HEAD("/docs", echo.WrapHandler(docs))
	e.HEAD("/docs/*", echo.WrapHandler(docs))
	e.POST("/docs/_discard", echo.WrapHandler(docs))
	e.GET("/favicon.ico", echo.WrapHandler(docs))
	// A method the path does not have answers 405 with every method it does have in Allow.
	e.RouteNotFound("/*", func(c echo.Context) error {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if m == c.Request().Method {
				continue
			}
			if _, ok := s.access[m+" "+routePath(e, m, c.Request().URL.Path)]; ok {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			return echo.ErrNotFound
		}
		c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
		return echo.ErrMethodNotAllowed
	})
	return e, s, nil
}

// routePath returns the route template Echo would match for method and path ("" if none).
func routePath(e *echo.Echo, method, path string) string {
	c := e.NewContext(nil, nil)
	e.Router().Find(method, path, c)
	return c.Path()
}

func init() {
	// kin-openapi checks no string formats by default; these two appear in the contract and
	// must be refused at the edge with a field-named validation_error.
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`))
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
}

// buildAccess reads every operation's layer and x-access-tier from the spec, keyed by the Echo
// route ("GET /api/public/v1/sent-cases/:id").
func buildAccess(spec *openapi3.T) map[string]routeAccess {
	out := map[string]routeAccess{}
	for path, item := range spec.Paths.Map() {
		echoPath := toEchoPath(path)
		for method, op := range item.Operations() {
			acc := routeAccess{operationID: op.OperationID}
			acc.public = strings.HasPrefix(path, publicPrefix)
			acc.internal = strings.HasPrefix(path, internalPrefix)
			acc.anonymous = op.Security != nil && len(*op.Security) == 0
			if op.Security == nil && len(spec.Security) == 0 {
				acc.anonymous = true
			}
			if t, ok := op.Extensions["x-access-tier"].(string); ok {
				acc.tier = auth.ParseTier(t)
			}
			out[method+" "+echoPath] = acc
		}
	}
	return out
}

// buildFieldTiers reads every operation's x-access-tier-by-field rule, keyed by the operation's
// Go name (the one strict middlewares are given: "UpdateCaseStatus" for updateCaseStatus).
func buildFieldTiers(spec *openapi3.T) (map[string]*fieldTier, error) {
	out := map[string]*fieldTier{}
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			v, ok := op.Extensions["x-access-tier-by-field"]
			if !ok {
				continue
			}
			r, err := parseFieldTier(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op.OperationID, err)
			}
			out[goOperationName(op.OperationID)] = r
		}
	}
	return out, nil
}

// goOperationName is an operation id as the generated code names it: its first letter upper-cased.
func goOperationName(id string) string {
	if id == "" {
		return id
	}
	return strings.ToUpper(id[:1]) + id[1:]
}

func toEchoPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '{' {
			j := strings.IndexByte(p[i:], '}')
			b.WriteString(":" + p[i+1:i+j])
			i += j
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// bodyLimit caps request bodies: uploads and imports have their own larger limits, enforced
// while streaming by their handlers; everything else is JSON and small.
func bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	small := middleware.BodyLimit("2M")(next)
	return func(c echo.Context) error {
		ct := c.Request().Header.Get(echo.HeaderContentType)
		if strings.HasPrefix(ct, "multipart/") {
			return next(c)
		}
		return small(c)
	}
}

// jsonSerializer writes compact JSON without HTML escaping and rejects trailing garbage.
type jsonSerializer struct{}

func (jsonSerializer) Serialize(c echo.Context, i interface{}, indent string) error {
	enc := json.NewEncoder(c.Response())
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(i)
}

func (jsonSerializer) Deserialize(c echo.Context, i interface{}) error {
	dec := json.NewDecoder(c.Request().Body)
	if err := dec.Decode(i); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "malformed JSON body").SetInternal(err)
	}
	return nil
}
