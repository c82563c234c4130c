package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
)

const (
	headerETag        = "ETag"
	headerIfNoneMatch = "If-None-Match"
)

// etagMiddleware gives authenticated Public API GET responses in JSON a strong ETag and answers
// If-None-Match with 304 while it matches (issue 9). The 200 JSON body is buffered to hash it;
// every other response (errors, CSV and XLSX exports, redirects) passes through unbuffered and
// untouched. A 304 keeps the headers already set (X-Request-Id, X-RateLimit-*) and the ETag,
// and drops the body and its Content-Type.
func (s *Server) etagMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodGet {
			return next(c)
		}
		if acc, ok := s.access[req.Method+" "+c.Path()]; !ok || !acc.public || acc.anonymous {
			return next(c)
		}
		res := c.Response()
		w := &etagWriter{ResponseWriter: res.Writer}
		res.Writer = w
		err := next(c)
		res.Writer = w.ResponseWriter
		if !w.buffering {
			return err
		}
		if err != nil { // the body was (partly) written: send it as it is
			w.ResponseWriter.WriteHeader(w.status)
			_, _ = w.ResponseWriter.Write(w.buf.Bytes())
			return err
		}
		tag := bodyETag(w.buf.Bytes())
		h := w.Header()
		h.Set(headerETag, tag)
		if matchesIfNoneMatch(req.Header.Values(headerIfNoneMatch), tag) {
			h.Del(echo.HeaderContentType)
			h.Del(echo.HeaderContentLength)
			res.Status = http.StatusNotModified
			w.ResponseWriter.WriteHeader(http.StatusNotModified)
			return nil
		}
		w.ResponseWriter.WriteHeader(w.status)
		_, _ = w.ResponseWriter.Write(w.buf.Bytes()) // a failed write means the client left
		return nil
	}
}

// bodyETag is the quoted hex of a SHA-256 (first 128 bits) over the body without its volatile
// meta member: the other top-level members (data, pagination), in name order, each with its
// exact bytes. A body that is not a JSON object is hashed whole.
func bodyETag(body []byte) string {
	h := sha256.New()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		h.Write(body)
	} else {
		names := make([]string, 0, len(top))
		for k := range top {
			if k != "meta" {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		var n [8]byte
		for _, k := range names {
			for _, part := range [][]byte{[]byte(k), top[k]} {
				binary.BigEndian.PutUint64(n[:], uint64(len(part)))
				h.Write(n[:])
				h.Write(part)
			}
		}
	}
	sum := h.Sum(nil)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// matchesIfNoneMatch reports whether any If-None-Match value matches tag: "*", or an entity tag
// equal to tag under the weak comparison (W/ prefixes ignored), as RFC 9110 asks for
// If-None-Match.
func matchesIfNoneMatch(values []string, tag string) bool {
	want := strings.TrimPrefix(tag, "W/")
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || (t != "" && strings.TrimPrefix(t, "W/") == want) {
				return true
			}
		}
	}
	return false
}

// isJSON reports whether a Content-Type is JSON (application/json or a +json type).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json")
}

// etagWriter decides at WriteHeader: a 200 JSON response is buffered, anything else passes
// straight through.
type etagWriter struct {
	http.ResponseWriter
	decided   bool
	buffering bool
	status    int
	buf       bytes.Buffer
}

func (w *etagWriter) WriteHeader(code int) {
	if w.decided {
		return
	}
	w.decided = true
	if code == http.StatusOK && isJSON(w.Header().Get(echo.HeaderContentType)) {
		w.buffering, w.status = true, code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *etagWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.buffering {
		return w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *etagWriter) Flush() {
	if w.buffering {
		return
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *etagWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
