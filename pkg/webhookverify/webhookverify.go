// Package webhookverify checks that a webhook request really comes from a CaseXchange server.
//
// Every delivery carries the header
//
//	X-CaseXchange-Signature: t=<unix seconds>,v1=<hex>
//
// where <hex> is the lowercase hex HMAC-SHA256, keyed with the whole subscription secret
// ("whsec_..."), of the timestamp, a period and the raw request body: "<t>.<body>". Verify the
// bytes exactly as received, before any JSON decoding, and refuse old timestamps so a captured
// request cannot be replayed later.
//
// A receiver in a few lines:
//
//	http.HandleFunc("/casexchange", func(w http.ResponseWriter, r *http.Request) {
//		body, err := webhookverify.VerifyRequest(r, os.Getenv("CX_WEBHOOK_SECRET"), webhookverify.DefaultTolerance)
//		if err != nil {
//			http.Error(w, "bad signature", http.StatusUnauthorized)
//			return
//		}
//		var ev struct {
//			Event   string `json:"event"`
//			EventID string `json:"eventId"`
//		}
//		_ = json.Unmarshal(body, &ev)
//		// Deliveries are at least once: skip ev.EventID if it was handled already.
//		w.WriteHeader(http.StatusNoContent)
//	})
//
// The package depends on the standard library only.
package webhookverify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of a delivery.
const (
	SignatureHeader = "X-CaseXchange-Signature"
	EventHeader     = "X-CaseXchange-Event"
	EventIDHeader   = "X-CaseXchange-Event-Id"
	DeliveryHeader  = "X-CaseXchange-Delivery"
)

// DefaultTolerance is how far a signature's timestamp may be from the receiver's clock.
const DefaultTolerance = 5 * time.Minute

// MaxBodyBytes bounds what VerifyRequest reads. Event bodies are far smaller.
const MaxBodyBytes = 1 << 20

// Errors returned by Verify; match them with errors.Is.
var (
	ErrNoSignature = errors.New("webhookverify: no signature header")
	ErrMalformed   = errors.New("webhookverify: malformed signature header")
	ErrTimestamp   = errors.New("webhookverify: timestamp outside the tolerance")
	ErrMismatch    = errors.New("webhookverify: signature does not match")
	ErrTooLarge    = errors.New("webhookverify: body too large")
)

// Sign returns the signature header value for body sent at t, keyed with secret. Servers use
// it; receivers use it in tests.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks header (the X-CaseXchange-Signature value) against body and secret at the
// current time. A tolerance of 0 or less skips the timestamp check (not recommended).
func Verify(secret, header string, body []byte, tolerance time.Duration) error {
	return VerifyAt(secret, header, body, tolerance, time.Now())
}

// VerifyAt is Verify with the receiver's clock given. The header may hold several v1 entries;
// one matching is enough.
func VerifyAt(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	if strings.TrimSpace(header) == "" {
		return ErrNoSignature
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrMalformed
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrMalformed
	}
	if tolerance > 0 {
		if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
			return fmt.Errorf("%w: signed at %s", ErrTimestamp, time.Unix(sec, 0).UTC().Format(time.RFC3339))
		}
	}
	want := []byte(mac(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal(want, []byte(strings.ToLower(s))) {
			return nil
		}
	}
	return ErrMismatch
}

// VerifyRequest reads r's body (at most MaxBodyBytes), verifies its signature and returns the
// body. On error the body is still returned when it could be read.
func VerifyRequest(r *http.Request, secret string, tolerance time.Duration) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("webhookverify: read body: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, ErrTooLarge
	}
	return body, Verify(secret, r.Header.Get(SignatureHeader), body, tolerance)
}
