package webhookverify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/pkg/webhookverify"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	const secret = "whsec_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	body := []byte(`{"a":1}`)
	at := time.Unix(1_780_000_000, 0)

	t.Run("the signature is the hex HMAC-SHA256 of t.body keyed with the whole secret", func(t *testing.T) {
		t.Parallel()
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("1780000000." + string(body)))
		require.Equal(t, "t=1780000000,v1="+hex.EncodeToString(m.Sum(nil)), webhookverify.Sign(secret, at, body))
	})
	t.Run("a fresh signature verifies", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, webhookverify.VerifyAt(secret, webhookverify.Sign(secret, at, body), body, time.Minute, at.Add(30*time.Second)))
	})
	t.Run("any matching v1 entry is enough", func(t *testing.T) {
		t.Parallel()
		h := webhookverify.Sign(secret, at, body)
		h = "t=1780000000,v1=00ff,v1=" + h[len("t=1780000000,v1="):]
		require.NoError(t, webhookverify.VerifyAt(secret, h, body, time.Minute, at))
	})
	t.Run("another body, secret or timestamp fails", func(t *testing.T) {
		t.Parallel()
		h := webhookverify.Sign(secret, at, body)
		require.ErrorIs(t, webhookverify.VerifyAt(secret, h, []byte(`{"a":2}`), time.Minute, at), webhookverify.ErrMismatch)
		require.ErrorIs(t, webhookverify.VerifyAt(secret+"x", h, body, time.Minute, at), webhookverify.ErrMismatch)
		forged := "t=1780000001" + h[len("t=1780000000"):]
		require.ErrorIs(t, webhookverify.VerifyAt(secret, forged, body, time.Minute, at), webhookverify.ErrMismatch)
	})
	t.Run("an old or future timestamp is refused", func(t *testing.T) {
		t.Parallel()
		h := webhookverify.Sign(secret, at, body)
		require.ErrorIs(t, webhookverify.VerifyAt(secret, h, body, time.Minute, at.Add(2*time.Minute)), webhookverify.ErrTimestamp)
		require.ErrorIs(t, webhookverify.VerifyAt(secret, h, body, time.Minute, at.Add(-2*time.Minute)), webhookverify.ErrTimestamp)
		require.NoError(t, webhookverify.VerifyAt(secret, h, body, 0, at.Add(time.Hour)))
	})
	t.Run("missing and malformed headers are told apart", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, webhookverify.VerifyAt(secret, "", body, time.Minute, at), webhookverify.ErrNoSignature)
		for _, h := range []string{"garbage", "t=abc,v1=00", "t=1780000000", "v1=00"} {
			require.ErrorIs(t, webhookverify.VerifyAt(secret, h, body, time.Minute, at), webhookverify.ErrMalformed, h)
		}
	})
}
