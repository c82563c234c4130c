package httpapi

import (
	"bytes"
	"io"
	"net/http"
)

// bodyBuffer is a request body read once and kept: the middlewares that look at a JSON body
// (text checks, explicit nulls, the idempotency hash) share its bytes through bodyBytes, and
// each of them, the validator and the binder read it from the start again. Without it each
// read the whole body into a copy of its own.
type bodyBuffer struct {
	b    []byte
	r    bytes.Reader
	orig io.Closer
}

func (bb *bodyBuffer) Read(p []byte) (int, error) { return bb.r.Read(p) }
func (bb *bodyBuffer) Close() error               { return bb.orig.Close() }

// bodyBytes returns req's body, reading it on the first call (within the body limit; its 413,
// or a broken connection, is returned). After the call, reading req.Body starts at the
// beginning again, and req.GetBody gives the same bytes.
func bodyBytes(req *http.Request) ([]byte, error) {
	if bb, ok := req.Body.(*bodyBuffer); ok {
		bb.r.Reset(bb.b)
		return bb.b, nil
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	bb := &bodyBuffer{b: b, orig: req.Body}
	bb.r.Reset(b)
	req.Body = bb
	req.GetBody = func() (io.ReadCloser, error) {
		bb.r.Reset(bb.b)
		return bb, nil
	}
	return b, nil
}
