package auth

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/db"
)

func TestKeyCacheRules(t *testing.T) {
	t.Parallel()
	row := db.ApiKeyGetByHashRow{ID: uuid.New(), FirmID: uuid.New(), FirmIsActive: true}

	t.Run("ALookupThatRacedAnInvalidationIsNotStored", func(t *testing.T) {
		t.Parallel()
		c := newKeyCache(10, time.Minute, time.Now)
		c.setLive(true)
		gen := c.generation() // the lookup starts
		c.invalidate([]KeyChange{KeyChanged(row.ID)})
		c.put("h", row, gen) // the row it read may predate the revocation
		_, ok := c.get("h")
		require.False(t, ok)
		c.put("h", row, c.generation())
		_, ok = c.get("h")
		require.True(t, ok)
	})

	t.Run("NothingIsStoredOrServedWhileDown", func(t *testing.T) {
		t.Parallel()
		c := newKeyCache(10, time.Minute, time.Now)
		c.put("h", row, c.generation())
		_, ok := c.get("h")
		require.False(t, ok)
		c.setLive(true)
		c.put("h", row, c.generation())
		c.setLive(false)
		c.setLive(true)
		_, ok = c.get("h")
		require.False(t, ok, "a reconnection flushes")
	})

	t.Run("PayloadsRoundTripAndGarbageIsRejected", func(t *testing.T) {
		t.Parallel()
		changes := []KeyChange{KeyChanged(row.ID), FirmKeysChanged(row.FirmID), AllKeysChanged()}
		nonce, got, ok := parseKeyPayload(keyPayload("abc", changes))
		require.True(t, ok)
		require.Equal(t, "abc", nonce)
		require.Equal(t, changes, got)
		for _, p := range []string{"", "abc", "abc key:nope", "abc user:" + row.ID.String(), "abc key"} {
			_, _, ok := parseKeyPayload(p)
			require.False(t, ok, p)
		}
		many := make([]KeyChange, maxNotifiedChanges+1)
		for i := range many {
			many[i] = KeyChanged(uuid.New())
		}
		p := keyPayload("n", many)
		require.Equal(t, "n all", p)
	})
}
