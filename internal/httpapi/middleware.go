package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	ctxRequestID = "cx.requestId"
	ctxPrincipal = "cx.principal"
	ctxErrorCode = "cx.errorCode"
	ctxRate      = "cx.rate"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:\-]{1,128}$`)

type requestIDKey struct{}

type requestInfoKey struct{}

type requestInfo struct{ ip, userAgent string }

// RequestInfoFrom returns the client address and User-Agent of the request in ctx.
func RequestInfoFrom(ctx context.Context) (ip, userAgent string) {
	ri, _ := ctx.Value(requestInfoKey{}).(requestInfo)
	return ri.ip, ri.userAgent
}

// RequestIDFrom returns the request id stored in ctx by the middleware.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func requestID(c echo.Context) string {
	if v, ok := c.Get(ctxRequestID).(string); ok {
		return v
	}
	return ""
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}

// requestIDMiddleware honours a well-formed incoming X-Request-Id and otherwise generates one.
func requestIDMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		req := c.Request()
		ctx := context.WithValue(req.Context(), requestIDKey{}, id)
		ctx = context.WithValue(ctx, requestInfoKey{}, requestInfo{ip: c.RealIP(), userAgent: req.UserAgent()})
		c.SetRequest(req.WithContext(ctx))
		return next(c)
	}
}

// recoverMiddleware turns a panic into a 500 envelope and logs the stack with the request id.
func (s *Server) recoverMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic", slog.String("request_id", requestID(c)), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casexchange_http_requests_total",
			Help: "HTTP requests by operation (the contract's operationId), method and status.",
		}, []string{"operation", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "casexchange_http_request_duration_seconds",
			Help:    "HTTP request latency by operation and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// accessLog logs one structured line per request and records metrics. It never logs credentials:
// only the display prefix of an API key.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		dur := time.Since(start)
		if s.metrics != nil {
			op := "unmatched"
			if acc, ok := s.access[c.Request().Method+" "+c.Path()]; ok {
				op = acc.operationID
			} else if p := c.Path(); p == "/livez" || p == "/readyz" {
				op = p[1:]
			}
			s.metrics.requests.WithLabelValues(op, c.Request().Method, strconv.Itoa(status)).Inc()
			s.metrics.duration.WithLabelValues(op, c.Request().Method).Observe(dur.Seconds())
		}
		attrs := []slog.Attr{
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(dur.Microseconds())/1000),
			slog.String("client_ip", c.RealIP()),
		}
		if p, ok := c.Get(ctxPrincipal).(*Principal); ok && p != nil {
			if p.KeyPrefix != "" {
				attrs = append(attrs, slog.String("key_prefix", p.KeyPrefix))
			}
			attrs = append(attrs, slog.String("firm_id", p.FirmID.String()))
		}
		if code, ok := c.Get(ctxErrorCode).(string); ok {
			attrs = append(attrs, slog.String("error_code", code))
		}
		s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", attrs...)
		return nil
	}
}

// jsonHasNUL reports whether a JSON text holds a NUL character, which PostgreSQL cannot store
// in text: a raw zero byte, or the escape \u0000 in a string. A backslash that is itself
// escaped starts no escape: "\\u0000" is a backslash followed by the five characters u0000,
// which is ordinary text.
func jsonHasNUL(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case 0:
			return true
		case '\\':
			if i+1 >= len(raw) {
				return false
			}
			if raw[i+1] == 'u' && i+5 < len(raw) && string(raw[i+2:i+6]) == "0000" {
				return true
			}
			i++ // skip the escaped character (for \uXXXX the hex digits are not backslashes)
		}
	}
	return false
}
