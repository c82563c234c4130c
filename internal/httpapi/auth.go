package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/ratelimit"
)

// Principal is the authenticated caller: an API key of a firm, or a user session (JWT).
type Principal struct {
	FirmID    uuid.UUID
	KeyID     uuid.UUID // API key callers
	KeyPrefix string
	Tier      auth.Tier
	UserID    uuid.UUID // JWT callers
	SessionID uuid.UUID
	Role      string
}

type principalKey struct{}

// PrincipalFrom returns the caller stored by the auth middleware.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Authenticators turn credentials into principals. Errors should be *apperr.Error of kind
// ErrUnauthenticated with the contract's code.
type Authenticators struct {
	APIKey func(ctx context.Context, key string) (*Principal, error)
	Token  func(ctx context.Context, token string) (*Principal, error)
}

// RateLimits are the request budgets per window. A Public API request counts against its
// key's tier budget and its firm's budget (Firm, shared by all the firm's keys); an Internal
// API request against its client address's budget (IP) and, once authenticated, its
// session's (Session). Zero budgets are not applied.
type RateLimits struct {
	Window   time.Duration
	ReadOnly int
	Standard int
	Full     int
	Firm     int
	Session  int
	IP       int
}

func (r RateLimits) forTier(t auth.Tier) int {
	switch t {
	case auth.TierFull:
		return r.Full
	case auth.TierStandard:
		return r.Standard
	}
	return r.ReadOnly
}

// routeAccess describes what a route needs, keyed by method + Echo path.
type routeAccess struct {
	operationID string
	public      bool      // Public API (X-API-Key)
	internal    bool      // Internal API (JWT)
	anonymous   bool      // no credentials
	tier        auth.Tier // empty: any key
}

const (
	publicPrefix   = "/api/public/v1/"
	internalPrefix = "/api/v1/"
)

// authMiddleware authenticates by the route's layer, checks the tier, and applies the rate limit.
// It runs before request validation so that credentials are judged before input (401/403 before 400).
func (s *Server) authMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		acc, ok := s.access[c.Request().Method+" "+c.Path()]
		if !ok {
			return next(c)
		}
		req := c.Request()
		// The Internal API is limited per client address before anything else, so that
		// anonymous requests (login, refresh) and bad tokens count too.
		if acc.internal {
			if err := s.applyRateLimit(c, ratelimit.Budget{Key: "ip:" + c.RealIP(), Limit: s.limits.IP}); err != nil {
				return err
			}
		}
		if acc.anonymous {
			return next(c)
		}
		var p *Principal
		var err error
		switch {
		case acc.public:
			key := req.Header.Get("X-API-Key")
			if key == "" {
				return apperr.Unauthenticated("invalid_api_key", "Missing X-API-Key header")
			}
			p, err = s.auth.APIKey(req.Context(), key)
		case acc.internal:
			tok := bearerToken(req)
			if tok == "" {
				return apperr.Unauthenticated("no_token", "No access token: send Authorization: Bearer <token> or the auth_token cookie")
			}
			p, err = s.auth.Token(req.Context(), tok)
		}
		if err != nil {
			return err
		}
		c.Set(ctxPrincipal, p)
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), principalKey{}, p)))
		if acc.internal {
			if err := s.applyRateLimit(c, ratelimit.Budget{Key: "session:" + p.SessionID.String(), Limit: s.limits.Session}); err != nil {
				return err
			}
		}
		if acc.public {
			if err := s.applyRateLimit(c,
				ratelimit.Budget{Key: "key:" + p.KeyID.String(), Limit: s.limits.forTier(p.Tier)},
				ratelimit.Budget{Key: "firm:" + p.FirmID.String(), Limit: s.limits.Firm}); err != nil {
				return err
			}
			if acc.tier != "" && !p.Tier.Allows(acc.tier) {
				return apperr.New(apperr.ErrInsufficientTier, "insufficient_tier",
					"This operation requires a "+acc.tier.Label()+" key; this key is "+p.Tier.Label())
			}
		}
		return next(c)
	}
}

func bearerToken(r *http.Request) string {
	if h := r.Header.Get(echo.HeaderAuthorization); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:])
		}
		return ""
	}
	if ck, err := r.Cookie("auth_token"); err == nil {
		return ck.Value
	}
	return ""
}

// applyRateLimit counts the request against budgets (zero limits skipped) and sets the
// X-RateLimit-* headers from the binding one, taking earlier budgets of the same request
// (ctxRate) into account, so that the headers always describe the limit closest to refusing.
func (s *Server) applyRateLimit(c echo.Context, budgets ...ratelimit.Budget) error {
	if s.limiter == nil {
		return nil
	}
	active := budgets[:0:0]
	for _, b := range budgets {
		if b.Limit > 0 {
			active = append(active, b)
		}
	}
	if len(active) == 0 {
		return nil
	}
	res, err := ratelimit.TakeAll(c.Request().Context(), s.limiter, s.limits.Window, active...)
	if err != nil {
		// A broken limiter store must not take the API down: let the request through, log it.
		s.log.Warn("rate limiter unavailable", "error", err.Error(), "request_id", requestID(c))
		return nil
	}
	if prev, ok := c.Get(ctxRate).(ratelimit.Result); ok {
		res = ratelimit.Binding(prev, res)
	}
	c.Set(ctxRate, res)
	setRateHeaders(c, res)
	if !res.Allowed {
		retry := res.RetryAfter(time.Now())
		c.Response().Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
		return apperr.New(apperr.ErrRateLimited, "rate_limited", "Rate limit exceeded; retry after the window resets")
	}
	return nil
}

func setRateHeaders(c echo.Context, r ratelimit.Result) {
	h := c.Response().Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(r.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(r.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(r.Reset.Unix(), 10))
}

// requirePrincipal returns the caller or an unauthenticated error (for handlers).
func requirePrincipal(ctx context.Context) (*Principal, error) {
	p := PrincipalFrom(ctx)
	if p == nil {
		return nil, errors.Join(apperr.Unauthenticated("invalid_api_key", "Authentication required"))
	}
	return p, nil
}
