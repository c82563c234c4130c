package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
// If-None-Match with 304 while it matches. The 200 JSON body is buffered to hash it;
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
		h.Set(headerCacheControl, cacheRevalidate)
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
	members, ok := topLevelMembers(body)
	if !ok {
		h.Write(body)
	} else {
		sort.Slice(members, func(i, j int) bool { return members[i].name < members[j].name })
		var n [8]byte
		for _, m := range members {
			if m.name == "meta" {
				continue
			}
			for _, part := range [][]byte{[]byte(m.name), m.value} {
				binary.BigEndian.PutUint64(n[:], uint64(len(part)))
				h.Write(n[:])
				h.Write(part)
			}
		}
	}
	sum := h.Sum(nil)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// jsonMember is one top-level member of a JSON object: its name as written (our encoder never
// escapes member names) and the exact bytes of its value.
type jsonMember struct {
	name  string
	value []byte
}

// topLevelMembers splits a JSON object into its members without decoding the values: it only
// tracks strings and nesting, so it costs a fraction of json.Unmarshal on a large list (the
// body was just produced by our own encoder, so it is valid JSON). ok is false when the body is
// not a single object of that shape, or a member name is repeated or contains an escape.
func topLevelMembers(b []byte) (members []jsonMember, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, skipSpace(b, i+1) == len(b)
	}
	seen := map[string]bool{}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end := stringEnd(b, i)
		if end < 0 || bytesContain(b[i+1:end], '\\') {
			return nil, false
		}
		name := string(b[i+1 : end])
		if seen[name] {
			return nil, false
		}
		seen[name] = true
		i = skipSpace(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		vEnd := valueEnd(b, i)
		if vEnd < 0 {
			return nil, false
		}
		members = append(members, jsonMember{name: name, value: b[i:vEnd]})
		i = skipSpace(b, vEnd)
		if i >= len(b) {
			return nil, false
		}
		if b[i] == '}' {
			return members, skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return nil, false
		}
		i = skipSpace(b, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

func bytesContain(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// stringEnd returns the index of the quote closing the string that starts at b[i], or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

// valueEnd returns the index just past the JSON value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		if e := stringEnd(b, i); e >= 0 {
			return e + 1
		}
		return -1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
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
