// Package keyset encodes the opaque cursors of keyset pagination: the position after the last
// item of a page (its sort key and id), the page number it leads to, and a fingerprint of the
// list's filters and order, so a cursor is refused with other filters than those it came from.
//
// A cursor is not secret and needs no signature: the lists apply the caller's firm on every
// query, so a forged cursor only moves the caller within its own list.
package keyset

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/casexchange/server/internal/apperr"
)

// Cursor is a position in a list.
type Cursor struct {
	// Fingerprint of the list, its filters and its order (see Fingerprint).
	F string `json:"f"`
	// Key is the sort key of the last item returned, as text ("" for a NULL key); ID its id.
	Key string `json:"k"`
	ID  string `json:"i"`
	// Extra carries a second key where a list needs one (e.g. a timestamp after a status).
	Extra string `json:"x,omitempty"`
	// Page is the page number this cursor leads to.
	Page int `json:"p"`
}

// Fingerprint hashes the parts that define a list (its name, filters, sort and order).
func Fingerprint(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		switch v := p.(type) {
		case *string:
			if v == nil {
				b.WriteString("\x00nil")
			} else {
				b.WriteString(*v)
			}
		default:
			fmt.Fprint(&b, v)
		}
		b.WriteByte(0x1f)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

// Encode returns the opaque text of c.
func Encode(c Cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode parses s and checks it belongs to the list with fingerprint fp. Errors: an
// apperr.ErrValidation on field (e.g. "query.cursor") for a cursor that cannot be decoded or
// that was issued for other filters or another order.
func Decode(s, fp, field string) (Cursor, error) {
	var c Cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Page < 2 || c.ID == "" {
		return Cursor{}, apperr.Field(field, "is not a cursor returned by this list")
	}
	if c.F != fp {
		return Cursor{}, apperr.Field(field, "was issued for other filters, sort or order: repeat the request that returned it")
	}
	return c, nil
}

// Walk emits the items of a list read in batches, at most limit of them: next reads the batch
// after the previous one (each from its own short transaction, typically) and reports whether
// more may follow. While one batch is emitted, the next one is read: the database and the
// writer work at the same time, and at most two batches are held. next is called from one
// goroutine at a time, never after Walk returns. An error from next or emit stops the walk and
// is returned; so is a panic in next, as an error.
func Walk[T any](limit int, next func() (batch []T, more bool, err error), emit func(T) error) error {
	type result struct {
		batch []T
		more  bool
		err   error
	}
	results := make(chan result, 1)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(results)
		for {
			var r result
			func() {
				defer func() {
					if p := recover(); p != nil {
						r = result{err: fmt.Errorf("keyset: reading a batch: %v", p)}
					}
				}()
				r.batch, r.more, r.err = next()
			}()
			select {
			case results <- r:
			case <-stop:
				return
			}
			if r.err != nil || !r.more {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-done
	}()
	written := 0
	for r := range results {
		if r.err != nil {
			return r.err
		}
		for _, v := range r.batch {
			if written >= limit {
				return nil
			}
			if err := emit(v); err != nil {
				return err
			}
			written++
		}
		if !r.more {
			return nil
		}
	}
	return nil
}
