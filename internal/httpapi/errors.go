package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/casexchange/server/internal/apperr"
)

// kindStatus is the one table from error kind to HTTP status and default code.
var kindStatus = []struct {
	kind   error
	status int
	code   string
}{
	{apperr.ErrValidation, http.StatusBadRequest, "validation_error"},
	{apperr.ErrInvalidTransition, http.StatusBadRequest, "invalid_state_transition"},
	{apperr.ErrUnauthenticated, http.StatusUnauthorized, "invalid_api_key"},
	{apperr.ErrInsufficientTier, http.StatusForbidden, "insufficient_tier"},
	{apperr.ErrPermission, http.StatusForbidden, "permission_denied"},
	{apperr.ErrNotFound, http.StatusNotFound, "resource_not_found"},
	{apperr.ErrConflict, http.StatusConflict, "conflict"},
	{apperr.ErrTooLarge, http.StatusRequestEntityTooLarge, "validation_error"},
	{apperr.ErrRateLimited, http.StatusTooManyRequests, "rate_limited"},
	{apperr.ErrNotImplemented, http.StatusNotImplemented, "not_implemented"},
	{apperr.ErrUnavailable, http.StatusServiceUnavailable, "service_unavailable"},
}

type errorDetail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

type errorBody struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Details []errorDetail `json:"details,omitempty"`
}

type errorEnvelope struct {
	Error errorBody    `json:"error"`
	Meta  responseMeta `json:"meta"`
}

type responseMeta struct {
	RequestID string    `json:"requestId"`
	Timestamp time.Time `json:"timestamp"`
}

func newMeta(c echo.Context) responseMeta {
	return responseMeta{RequestID: requestID(c), Timestamp: time.Now().UTC()}
}

// classify turns any error into status, code, public message and details. Unknown errors become
// 500 internal_error with a generic message.
func classify(err error) (int, errorBody) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return classifyHTTPError(he)
	}
	if errors.Is(err, http.ErrNotMultipart) || errors.Is(err, http.ErrMissingBoundary) {
		return http.StatusBadRequest, errorBody{Code: "validation_error", Message: "Request validation failed",
			Details: []errorDetail{{Field: "header.Content-Type", Message: "must be multipart/form-data with a boundary"}}}
	}
	ae, isApp := apperr.As(err)
	for _, k := range kindStatus {
		if !errors.Is(err, k.kind) {
			continue
		}
		body := errorBody{Code: k.code, Message: http.StatusText(k.status)}
		if isApp {
			if ae.Code != "" {
				body.Code = ae.Code
			}
			if ae.Message != "" {
				body.Message = ae.Message
			}
			for _, d := range ae.Details {
				body.Details = append(body.Details, errorDetail{Field: d.Field, Message: d.Message})
			}
		}
		return k.status, body
	}
	return http.StatusInternalServerError, errorBody{Code: "internal_error", Message: "An unexpected error occurred"}
}

func classifyHTTPError(he *echo.HTTPError) (int, errorBody) {
	if he.Internal != nil {
		if _, isHTTP := he.Internal.(*echo.HTTPError); !isHTTP {
			if details := validationDetails(he.Internal); len(details) > 0 {
				return http.StatusBadRequest, errorBody{Code: "validation_error", Message: "Request validation failed", Details: details}
			}
		}
	}
	msg := fmt.Sprint(he.Message)
	switch he.Code {
	case http.StatusNotFound:
		return he.Code, errorBody{Code: "resource_not_found", Message: "No route matches this path"}
	case http.StatusMethodNotAllowed:
		return he.Code, errorBody{Code: "method_not_allowed", Message: "This method is not allowed on this path"}
	case http.StatusRequestEntityTooLarge:
		return he.Code, errorBody{Code: "validation_error", Message: "Request body too large", Details: []errorDetail{{Field: "body", Message: "exceeds the size limit"}}}
	case http.StatusUnsupportedMediaType:
		return http.StatusBadRequest, errorBody{Code: "validation_error", Message: "Unsupported content type", Details: []errorDetail{{Field: "header.Content-Type", Message: msg}}}
	case http.StatusBadRequest:
		return he.Code, errorBody{Code: "validation_error", Message: "Request validation failed", Details: []errorDetail{{Field: "request", Message: firstLine(msg)}}}
	case http.StatusUnauthorized:
		return he.Code, errorBody{Code: "invalid_api_key", Message: "Authentication required"}
	case http.StatusForbidden:
		return he.Code, errorBody{Code: "permission_denied", Message: "Forbidden"}
	case http.StatusTooManyRequests:
		return he.Code, errorBody{Code: "rate_limited", Message: "Too many requests"}
	case http.StatusServiceUnavailable:
		return he.Code, errorBody{Code: "service_unavailable", Message: "Service unavailable"}
	}
	if he.Code >= 500 {
		return http.StatusInternalServerError, errorBody{Code: "internal_error", Message: "An unexpected error occurred"}
	}
	return he.Code, errorBody{Code: "validation_error", Message: firstLine(msg)}
}

// validationDetails converts kin-openapi request validation errors into field details.
func validationDetails(err error) []errorDetail {
	var out []errorDetail
	var walk func(prefix string, err error)
	walk = func(prefix string, err error) {
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, x := range e {
				walk(prefix, x)
			}
		case *openapi3filter.RequestError:
			p := "body"
			if e.Parameter != nil {
				p = e.Parameter.In + "." + e.Parameter.Name
			}
			switch inner := e.Err.(type) {
			case nil:
				out = append(out, errorDetail{Field: p, Message: firstLine(e.Reason)})
			case openapi3.MultiError, *openapi3.SchemaError:
				walk(p, inner)
			case *openapi3filter.ParseError:
				msg := "malformed value"
				if inner.Reason != "" {
					msg = "malformed: " + inner.Reason
				}
				out = append(out, errorDetail{Field: p, Message: firstLine(msg)})
			default:
				msg := e.Reason
				if msg == "" {
					msg = inner.Error()
				}
				out = append(out, errorDetail{Field: p, Message: firstLine(msg)})
			}
		case *openapi3.SchemaError:
			field := prefix
			if ptr := e.JSONPointer(); len(ptr) > 0 {
				field = prefix + "." + strings.Join(ptr, ".")
			}
			out = append(out, errorDetail{Field: orDefault(field, "request"), Message: schemaMessage(e)})
		case *routers.RouteError, *openapi3filter.SecurityRequirementsError:
		default:
			if err != nil {
				out = append(out, errorDetail{Field: orDefault(prefix, "request"), Message: firstLine(err.Error())})
			}
		}
	}
	walk("", err)
	return out
}

func schemaMessage(se *openapi3.SchemaError) string {
	if se.Reason != "" {
		return firstLine(se.Reason)
	}
	return firstLine(se.Error())
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// writeError writes the error envelope; it is Echo's HTTPErrorHandler.
func (s *Server) writeError(err error, c echo.Context) {
	if c.Response().Committed || s.bodyFailure(c) {
		return
	}
	status, body := classify(err)
	if status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed",
			slog.String("request_id", requestID(c)), slog.Int("status", status), slog.String("error", err.Error()))
	}
	if ae, ok := apperr.As(err); ok && errors.Is(ae, apperr.ErrRateLimited) {
		if ra := c.Response().Header().Get("Retry-After"); ra == "" {
			c.Response().Header().Set("Retry-After", "1")
		}
	}
	c.Set(ctxErrorCode, body.Code)
	env := errorEnvelope{Error: body, Meta: newMeta(c)}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	buf, _ := json.Marshal(env)
	_ = c.Blob(status, echo.MIMEApplicationJSON, buf)
}

// renameField maps a field path of a domain validation error to the member the request sent it
// in, for routes whose body names a domain input differently. Other errors pass unchanged.
func renameField(err error, from, to string) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || len(ae.Details) == 0 {
		return err
	}
	out := *ae
	out.Details = make([]apperr.FieldError, len(ae.Details))
	for i, d := range ae.Details {
		if d.Field == from {
			d.Field = to
		}
		out.Details[i] = d
	}
	return &out
}
