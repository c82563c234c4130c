package httpapi

import (
	"strings"

	"github.com/labstack/echo/v4"
)

const (
	headerCacheControl = "Cache-Control"
	// cacheNoStore keeps every response that may carry a secret or client data out of every
	// cache, the browser's included.
	cacheNoStore = "no-store"
	// cacheRevalidate is sent instead on Public API GET responses that carry an ETag: the
	// client's own cache may keep them (no shared cache may), but must revalidate on every use,
	// which needs the API key again; this keeps If-None-Match and 304 useful.
	cacheRevalidate = "private, no-cache"
)

// cacheableOperations are the anonymous public documents (no secret, no client data): they
// get no Cache-Control from us. Keys are lower-case operation ids (see opKey).
var cacheableOperations = map[string]bool{
	"gethealth": true, "getopenapiyaml": true, "getopenapijson": true,
}

// securityHeaders sets the headers every response carries:
// X-Content-Type-Options: nosniff, so that no browser second-guesses a declared content type
// (an uploaded document served as text/plain is not run as HTML), and Cache-Control: no-store
// on everything but the health check and the spec. The rule covers secrets (new API keys,
// webhook secrets, session tokens) and client data (cases, referrals, documents, exports)
// without a list to keep up to date; etagMiddleware relaxes it to "private, no-cache" for the
// responses it tags.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set(echo.HeaderXContentTypeOptions, "nosniff")
		if acc, ok := s.access[c.Request().Method+" "+c.Path()]; !ok || !cacheableOperations[opKey(acc.operationID)] {
			h.Set(headerCacheControl, cacheNoStore)
		}
		return next(c)
	}
}

// opKey is the lower-case form of an operation id: the embedded spec spells operation ids as
// Go names (GetHealth), the contract in camel case (getHealth).
func opKey(operationID string) string { return strings.ToLower(operationID) }
