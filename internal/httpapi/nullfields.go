package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

type nullFieldsKey struct{}

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
		raw, err := io.ReadAll(req.Body)
		if err != nil {
			return err
		}
		req.Body = io.NopCloser(bytes.NewReader(raw))
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
