// Command verify checks that a webhook delivery really comes from CaseXchange:
//
//	CX_WEBHOOK_SECRET=whsec_... go run verify.go "$SIGNATURE_HEADER" < body.json
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// tolerance is how far the signature's timestamp may be from our clock.
const tolerance = 5 * time.Minute

// verifySignature checks header (the X-CaseXchange-Signature value) against the raw body, as
// received and before any JSON decoding.
func verifySignature(secret, header string, body []byte, now time.Time) error {
	var timestamp string
	var signatures []string
	for _, part := range strings.Split(header, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch key {
		case "t":
			timestamp = value
		case "v1":
			signatures = append(signatures, strings.ToLower(value))
		}
	}
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || len(signatures) == 0 {
		return errors.New("malformed signature header")
	}
	if age := now.Sub(time.Unix(seconds, 0)); age > tolerance || age < -tolerance {
		return errors.New("timestamp outside the tolerance")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	expected := []byte(hex.EncodeToString(mac.Sum(nil)))
	for _, s := range signatures {
		if hmac.Equal(expected, []byte(s)) {
			return nil
		}
	}
	return errors.New("signature does not match")
}

func main() {
	body, err := io.ReadAll(os.Stdin)
	if err == nil && len(os.Args) == 2 {
		err = verifySignature(os.Getenv("CX_WEBHOOK_SECRET"), os.Args[1], body, time.Now())
	} else if err == nil {
		err = errors.New("usage: verify SIGNATURE_HEADER < BODY")
	}
	if err != nil {
		fmt.Println("rejected:", err)
		os.Exit(1)
	}
	fmt.Println("verified")
}
