package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Timeouts are the connection deadlines of one request, so that a slow or stalled
// client cannot hold a connection. Zero fields take the defaults below.
type Timeouts struct {
	BodyRead   time.Duration // reading an ordinary request body
	UploadRead time.Duration // reading a document upload or case import body
	Write      time.Duration // handling the request and writing an ordinary response
	StreamIdle time.Duration // each write of an export or download
}

// Default deadlines.
const (
	DefaultBodyReadTimeout   = 30 * time.Second
	DefaultUploadReadTimeout = 10 * time.Minute
	DefaultWriteTimeout      = time.Minute
	DefaultStreamIdleTimeout = 30 * time.Second
)

func (t Timeouts) withDefaults() Timeouts {
	if t.BodyRead <= 0 {
		t.BodyRead = DefaultBodyReadTimeout
	}
	if t.UploadRead <= 0 {
		t.UploadRead = DefaultUploadReadTimeout
	}
	if t.Write <= 0 {
		t.Write = DefaultWriteTimeout
	}
	if t.StreamIdle <= 0 {
		t.StreamIdle = DefaultStreamIdleTimeout
	}
	return t
}

// uploadOperations read large multipart bodies: they get Timeouts.UploadRead. Keys are
// lower-case operation ids (see opKey).
var uploadOperations = map[string]bool{
	"uploaddocument": true, "importcases": true, "importcasesupdate": true,
}

// streamedOperations write bodies of unbounded size (exports, file downloads): instead of one
// write deadline for the whole response, each write must make progress within StreamIdle.
var streamedOperations = map[string]bool{
	"exportcases": true, "exportallanalytics": true, "exportanalyticscategory": true, "downloaddocumentcontent": true,
}

// StatusClientClosedRequest is logged (never sent) for a request whose client went away
// while the body was being read.
const StatusClientClosedRequest = 499

const ctxBodyWatch = "cx.bodyWatch"

// deadlineMiddleware sets the read deadline of the request body and the write deadline of the
// response on the connection, so that a client sending its body (or reading the response)
// slowly cannot hold a connection and a goroutine forever: http.Server's ReadHeaderTimeout
// covers only the headers. It also watches the body for transport errors, which writeError
// reports as the client's doing (see bodyFailure) rather than as a server error.
func (s *Server) deadlineMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, res := c.Request(), c.Response()
		op := ""
		if acc, ok := s.access[req.Method+" "+c.Path()]; ok {
			op = opKey(acc.operationID)
		}
		read := s.timeouts.BodyRead
		if uploadOperations[op] {
			read = s.timeouts.UploadRead
		}
		now := time.Now()
		rc := http.NewResponseController(res.Writer)
		// Errors below mean the writer cannot take deadlines (a test recorder): nothing to bound.
		//
		// Only a request with a body gets a read deadline, and it is lifted once the body has
		// been read: the connection's background read (which notices a client that goes away)
		// runs under the same deadline, and its timing out would cancel the request's context.
		hasBody := req.Body != nil && req.Body != http.NoBody
		if hasBody {
			_ = rc.SetReadDeadline(now.Add(read))
			w := &bodyWatch{ReadCloser: req.Body, rc: rc}
			req.Body = w
			c.Set(ctxBodyWatch, w)
		}
		// The write deadline counts from the start, so it leaves room for the body.
		_ = rc.SetWriteDeadline(now.Add(read + s.timeouts.Write))
		if streamedOperations[op] {
			res.Writer = &deadlineWriter{ResponseWriter: res.Writer, rc: rc, idle: s.timeouts.StreamIdle}
		}
		return next(c)
	}
}

// deadlineWriter moves the write deadline forward before each write, so that a slow but
// live client can download a large export while a stalled one is cut off.
type deadlineWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

// streamChunk bounds one write of a streamed response: a caller handing over a large buffer
// at once (io.Copy from a bytes.Reader) must still get a fresh deadline per chunk.
const streamChunk = 64 << 10

func (w *deadlineWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n := min(len(b), streamChunk)
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
		m, err := w.ResponseWriter.Write(b[:n])
		written += m
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

func (w *deadlineWriter) Flush() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	_ = w.rc.Flush()
}

func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bodyWatch remembers the first transport error of a request body: the client closed the
// connection, or the read deadline passed.
type bodyWatch struct {
	io.ReadCloser
	rc  *http.ResponseController
	mu  sync.Mutex
	err error
}

func (b *bodyWatch) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		_ = b.rc.SetReadDeadline(time.Time{}) // the whole body is in
	} else if err != nil {
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			b.mu.Lock()
			if b.err == nil {
				b.err = err
			}
			b.mu.Unlock()
		}
	}
	return n, err
}

func (b *bodyWatch) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// bodyFailure reports whether the request failed because its body could not be read, and
// handles it: a body that timed out gets 408 request_timeout (and the server closes the
// connection, the rest of the body being unread); a body the client abandoned gets no answer
// (there is nobody to read it) and is logged as 499. Neither is a server error.
func (s *Server) bodyFailure(c echo.Context) bool {
	w, _ := c.Get(ctxBodyWatch).(*bodyWatch)
	if w == nil {
		return false
	}
	err := w.failure()
	if err == nil {
		return false
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.log.InfoContext(c.Request().Context(), "request body timed out", slog.String("request_id", requestID(c)))
		c.Response().Header().Set(echo.HeaderConnection, "close")
		s.writeEnvelope(c, http.StatusRequestTimeout, errorBody{Code: "request_timeout",
			Message: "The request body was not received in time"})
		return true
	}
	s.log.InfoContext(c.Request().Context(), "client closed request",
		slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
	c.Set(ctxErrorCode, "client_closed_request")
	c.Response().Status = StatusClientClosedRequest
	return true
}
