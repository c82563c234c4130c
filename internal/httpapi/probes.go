package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// ReadyCheck is one condition of /readyz: Check returns nil while it holds.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// probeTimeout bounds each readiness check.
const probeTimeout = time.Second

// probeBody is the body of /livez and /readyz. The probes are operational endpoints for load
// balancers and orchestrators, outside the contract (like /metrics), so their shape is ours:
// status "ok" or "unavailable" and, for /readyz, every check with "ok" or "fail" (the cause is
// logged, not shown: the API port is public).
type probeBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// livez answers 200 while the process runs and serves HTTP. It checks nothing else, so that an
// orchestrator restarts the process only when it is stuck, never because the database is.
func (s *Server) livez(c echo.Context) error {
	return c.JSON(http.StatusOK, probeBody{Status: "ok"})
}

// readyz answers 200 when every ready check holds (database reachable, migrations current, not
// draining), else 503 naming the failing ones.
func (s *Server) readyz(c echo.Context) error {
	body := probeBody{Status: "ok", Checks: map[string]string{}}
	for _, rc := range s.readyChecks {
		ctx, cancel := context.WithTimeout(c.Request().Context(), probeTimeout)
		err := rc.Check(ctx)
		cancel()
		if err != nil {
			s.log.WarnContext(c.Request().Context(), "readiness check failed", "check", rc.Name, "error", err.Error(), "request_id", requestID(c))
			body.Status = "unavailable"
			body.Checks[rc.Name] = "fail"
			continue
		}
		body.Checks[rc.Name] = "ok"
	}
	if body.Status != "ok" {
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	return c.JSON(http.StatusOK, body)
}
