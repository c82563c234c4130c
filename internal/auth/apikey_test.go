package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGenerateKey(t *testing.T) {
	t.Parallel()

	t.Run("EachTierHasItsPrefixAndFortyBase62Characters", func(t *testing.T) {
		t.Parallel()
		for tier, prefix := range map[Tier]string{TierReadOnly: "cxp_ro_", TierStandard: "cxp_std_", TierFull: "cxp_full_"} {
			key, err := GenerateKey(tier)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(key, prefix), key)
			secret := strings.TrimPrefix(key, prefix)
			require.Len(t, secret, KeySecretLength)
			for _, c := range secret {
				require.Contains(t, base62Alphabet, string(c))
			}
			got, ok := ParseKeyTier(key)
			require.True(t, ok)
			require.Equal(t, tier, got)
			require.Equal(t, KeyPrefix(tier), prefix)
		}
	})

	t.Run("UnknownTierIsAnError", func(t *testing.T) {
		t.Parallel()
		_, err := GenerateKey("ADMIN")
		require.Error(t, err)
	})

	t.Run("KeysDoNotRepeat", func(t *testing.T) {
		t.Parallel()
		seen := make(map[string]bool)
		for range 5000 {
			key, err := GenerateKey(TierStandard)
			require.NoError(t, err)
			require.False(t, seen[key], "duplicate key %s", key)
			seen[key] = true
		}
	})

	t.Run("CharactersAreUniform", func(t *testing.T) {
		t.Parallel()
		// 62 * 2000 draws: each character expected 2000 times. A modulo bias over bytes would
		// give the first eight characters 5/4 of the others' share, about +20%; the bounds
		// below are ~9 standard deviations wide, so honest randomness never trips them.
		const perChar = 2000
		counts := make(map[byte]int)
		for range perChar * len(base62Alphabet) / KeySecretLength {
			s, err := randomBase62(KeySecretLength)
			require.NoError(t, err)
			for i := 0; i < len(s); i++ {
				counts[s[i]]++
			}
		}
		require.Len(t, counts, len(base62Alphabet))
		for c, n := range counts {
			require.InDelta(t, perChar, n, perChar*0.2, "character %q drawn %d times", c, n)
		}
		first, rest := 0, 0
		for i := 0; i < len(base62Alphabet); i++ {
			if i < 8 {
				first += counts[base62Alphabet[i]]
			} else {
				rest += counts[base62Alphabet[i]]
			}
		}
		ratio := (float64(first) / 8) / (float64(rest) / 54)
		require.InDelta(t, 1.0, ratio, 0.05, "first eight characters over-represented: ratio %.3f", ratio)
	})
}

func TestParseKeyTier(t *testing.T) {
	t.Parallel()
	good := "cxp_std_" + strings.Repeat("aZ09", 10)
	for name, tc := range map[string]struct {
		key  string
		ok   bool
		tier Tier
	}{
		"Valid":         {good, true, TierStandard},
		"ValidFull":     {"cxp_full_" + strings.Repeat("x", 40), true, TierFull},
		"Empty":         {"", false, ""},
		"PrefixOnly":    {"cxp_ro_", false, ""},
		"TooShort":      {good[:len(good)-1], false, ""},
		"TooLong":       {good + "a", false, ""},
		"BadCharacter":  {"cxp_std_" + strings.Repeat("a", 39) + "-", false, ""},
		"UnknownPrefix": {"cxp_adm_" + strings.Repeat("a", 40), false, ""},
		"UpperPrefix":   {"CXP_STD_" + strings.Repeat("a", 40), false, ""},
		"Whitespace":    {" " + good, false, ""},
		"NonASCII":      {"cxp_std_" + strings.Repeat("a", 38) + "é", false, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tier, ok := ParseKeyTier(tc.key)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.tier, tier)
		})
	}
}

func TestHashKey(t *testing.T) {
	t.Parallel()
	a, b := HashKey("cxp_ro_a"), HashKey("cxp_ro_b")
	require.Len(t, a, 64)
	require.NotEqual(t, a, b)
	require.Equal(t, a, HashKey("cxp_ro_a"))
	require.Equal(t, "cxp_full_abc", DisplayPrefix("cxp_full_abcdef"))
	require.Equal(t, "short", DisplayPrefix("short"))
}

func TestRefreshTokenShape(t *testing.T) {
	t.Parallel()
	tok, err := newRefreshToken()
	require.NoError(t, err)
	require.Len(t, tok, 43)
	require.True(t, refreshTokenShapeOK(tok))
	require.False(t, refreshTokenShapeOK(tok[:42]))
	require.False(t, refreshTokenShapeOK(tok[:42]+"+"))
	require.False(t, refreshTokenShapeOK(""))
	other, err := newRefreshToken()
	require.NoError(t, err)
	require.NotEqual(t, tok, other)
}

func TestTierAllows(t *testing.T) {
	t.Parallel()
	require.True(t, TierFull.Allows(TierReadOnly))
	require.True(t, TierFull.Allows(TierFull))
	require.True(t, TierStandard.Allows(TierStandard))
	require.False(t, TierStandard.Allows(TierFull))
	require.False(t, TierReadOnly.Allows(TierStandard))
	require.False(t, Tier("").Allows(TierReadOnly))
	require.False(t, TierFull.Allows("GOD"))
}
