package webhookverify_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/casexchange/server/pkg/webhookverify"
)

// A receiver verifies the request before trusting its body.
func ExampleVerifyRequest() {
	const secret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := webhookverify.VerifyRequest(r, secret, webhookverify.DefaultTolerance)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Printf("verified %s: %s\n", r.Header.Get(webhookverify.EventHeader), body)
		w.WriteHeader(http.StatusNoContent)
	})

	// What the server sends (here signed by hand).
	body := []byte(`{"event":"webhook.test","data":{"message":"hello"}}`)
	req := httptest.NewRequest(http.MethodPost, "/casexchange", bytes.NewReader(body))
	req.Header.Set(webhookverify.EventHeader, "webhook.test")
	req.Header.Set(webhookverify.SignatureHeader, webhookverify.Sign(secret, time.Now(), body))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	// A tampered body fails.
	req = httptest.NewRequest(http.MethodPost, "/casexchange", bytes.NewReader([]byte(`{"event":"forged"}`)))
	req.Header.Set(webhookverify.SignatureHeader, webhookverify.Sign(secret, time.Now(), body))
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// verified webhook.test: {"event":"webhook.test","data":{"message":"hello"}}
	// 204
	// 401
}
