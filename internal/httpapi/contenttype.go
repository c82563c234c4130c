package httpapi

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/casexchange/server/internal/apperr"
)

// bodyTypesBySpec caches, per loaded spec, the media types each route's requestBody declares,
// keyed like Server.access ("PUT /api/public/v1/network/outbound/:firmId"). Echo applies Use
// middleware on every request, so the table is built once here rather than in the middleware
// constructor.
var bodyTypesBySpec sync.Map // *openapi3.T -> map[string][]string

func (s *Server) bodyTypes() map[string][]string {
	if m, ok := bodyTypesBySpec.Load(s.spec); ok {
		return m.(map[string][]string)
	}
	m, _ := bodyTypesBySpec.LoadOrStore(s.spec, buildBodyTypes(s.spec))
	return m.(map[string][]string)
}

// buildBodyTypes lists, for every operation with a requestBody, its declared media types
// (lower case, sorted).
func buildBodyTypes(spec *openapi3.T) map[string][]string {
	out := map[string][]string{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			var types []string
			for ct := range op.RequestBody.Value.Content {
				types = append(types, strings.ToLower(ct))
			}
			sort.Strings(types)
			out[method+" "+toEchoPath(path)] = types
		}
	}
	return out
}

// contentTypeMiddleware refuses, for an operation that declares a request body, a request whose
// Content-Type is not one of the media types the operation declares, and a request that sends
// body bytes without a Content-Type: 400 validation_error naming header.Content-Type (the
// contract documents no 415). It runs before anything reads the body, so that no later layer
// falls back to another decoder: the request validator checks only the parameters of
// multipart requests (the handlers stream those), and the strict binder ignores a body it
// cannot decode, so a JSON operation sent a form body used to run with no body at all, and an
// upload sent as multipart/mixed used to be stored. A Content-Type with no body is checked too:
// the client declared something the operation does not take. Operations without a request
// body are left alone (clients often send a Content-Type on every request).
func (s *Server) contentTypeMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		types, ok := s.bodyTypes()[req.Method+" "+c.Path()]
		if !ok {
			return next(c)
		}
		ct := req.Header.Get(echo.HeaderContentType)
		if ct == "" {
			if hasBody(req) {
				return contentTypeError("is required with a request body: send " + strings.Join(types, " or "))
			}
			return next(c)
		}
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return contentTypeError("is not a valid media type: send " + strings.Join(types, " or "))
		}
		if !slices.Contains(types, mt) {
			return contentTypeError("must be " + strings.Join(types, " or ") + " for this operation, not " + mt)
		}
		if strings.HasPrefix(mt, "multipart/") && params["boundary"] == "" {
			return contentTypeError("must be multipart/form-data with a boundary")
		}
		return next(c)
	}
}

func contentTypeError(msg string) error {
	return apperr.Field("header.Content-Type", msg)
}

// hasBody reports whether req carries at least one body byte. A body of unknown length
// (chunked) is peeked at and put back.
func hasBody(req *http.Request) bool {
	switch {
	case req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0:
		return false
	case req.ContentLength > 0:
		return true
	}
	var b [1]byte
	n, _ := io.ReadFull(req.Body, b[:])
	req.Body = readCloser{io.MultiReader(bytes.NewReader(b[:n]), req.Body), req.Body}
	return n > 0
}

type readCloser struct {
	io.Reader
	io.Closer
}
