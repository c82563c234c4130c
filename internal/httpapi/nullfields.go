package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/casexchange/server/internal/apperr"
)

type nullFieldsKey struct{}

// textMiddleware refuses text PostgreSQL cannot store before it reaches a query: a NUL character
// or bytes that are not UTF-8 anywhere in the path, the query string or a JSON body; and a JSON
// body with trailing data after its value.
func textMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if bad := badText(req.URL.Path); bad != "" {
			return apperr.Field("path", bad)
		}
		for k, vs := range req.URL.Query() {
			for _, v := range vs {
				if bad := badText(k + v); bad != "" {
					return apperr.Field("query."+k, bad)
				}
			}
		}
		if strings.HasPrefix(req.Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) && req.Body != nil {
			raw, err := bodyBytes(req)
			if err != nil {
				return err
			}
			if !utf8.Valid(raw) {
				return apperr.Field("body", "is not valid UTF-8")
			}
			if jsonHasNUL(raw) {
				return apperr.Field("body", "contains a NUL character")
			}
			// The validator and the binder read the first JSON value only: refuse a body with
			// anything after it rather than act on part of what the client sent.
			if len(bytes.TrimSpace(raw)) > 0 {
				dec := json.NewDecoder(bytes.NewReader(raw))
				var v json.RawMessage
				if dec.Decode(&v) == nil {
					if _, err := dec.Token(); err != io.EOF {
						return apperr.Field("body", "has data after the JSON value")
					}
				}
			}
		}
		return next(c)
	}
}

func badText(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL character"
	}
	return ""
}

// nullFieldsMiddleware records which top-level members of a PUT or PATCH JSON body are an
// explicit null. The generated models decode null and absent alike (both leave a nil pointer),
// but the contract gives them different meanings on partial updates: absent keeps the stored
// value, null clears it.
func nullFieldsMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if (req.Method != http.MethodPatch && req.Method != http.MethodPut) ||
			!strings.HasPrefix(req.Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) || req.Body == nil {
			return next(c)
		}
		raw, err := bodyBytes(req)
		if err != nil {
			return err
		}
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) == nil {
			nulls := map[string]bool{}
			for k, v := range members {
				if string(bytes.TrimSpace(v)) == "null" {
					nulls[k] = true
				}
			}
			if len(nulls) > 0 {
				c.SetRequest(req.WithContext(context.WithValue(req.Context(), nullFieldsKey{}, nulls)))
			}
		}
		return next(c)
	}
}

// sentNull reports whether the request body of ctx set the top-level member name to null.
func sentNull(ctx context.Context, name string) bool {
	m, _ := ctx.Value(nullFieldsKey{}).(map[string]bool)
	return m[name]
}
