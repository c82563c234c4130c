package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
)

func TestHasher(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("HashAndVerify", func(t *testing.T) {
		t.Parallel()
		h := NewHasher(TestPasswordParams)
		enc, err := h.Hash(ctx, "correct horse battery staple")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$"), enc)
		ok, err := h.Verify(ctx, "correct horse battery staple", enc)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = h.Verify(ctx, "correct horse battery staplE", enc)
		require.NoError(t, err)
		require.False(t, ok)
	})

	t.Run("SaltsDiffer", func(t *testing.T) {
		t.Parallel()
		h := NewHasher(TestPasswordParams)
		a, err := h.Hash(ctx, "same password here")
		require.NoError(t, err)
		b, err := h.Hash(ctx, "same password here")
		require.NoError(t, err)
		require.NotEqual(t, a, b)
	})

	t.Run("DefaultParamsAreTheOWASPOnes", func(t *testing.T) {
		t.Parallel()
		h := NewHasher(PasswordParams{})
		enc, err := h.Hash(ctx, "a long enough password")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=65536,t=2,p=2$"), enc)
		// A hasher with other parameters still verifies it: the string carries its own.
		ok, err := NewHasher(TestPasswordParams).Verify(ctx, "a long enough password", enc)
		require.NoError(t, err)
		require.True(t, ok)
	})

	t.Run("MalformedHashesAreErrors", func(t *testing.T) {
		t.Parallel()
		h := NewHasher(TestPasswordParams)
		good, err := h.Hash(ctx, "whatever password")
		require.NoError(t, err)
		parts := strings.Split(good, "$")
		for name, enc := range map[string]string{
			"Empty":       "",
			"Bcrypt":      "$2a$10$abcdefghijklmnopqrstuuJ0Vh8M9tJg7rJ8hHkq1nJr4sYH1l4yG",
			"Argon2i":     strings.Replace(good, "argon2id", "argon2i", 1),
			"OldVersion":  strings.Replace(good, "v=19", "v=16", 1),
			"HugeMemory":  strings.Join([]string{"", parts[1], parts[2], "m=4194304,t=1,p=1", parts[4], parts[5]}, "$"),
			"ManyPasses":  strings.Join([]string{"", parts[1], parts[2], "m=1024,t=1000,p=1", parts[4], parts[5]}, "$"),
			"NoLanes":     strings.Join([]string{"", parts[1], parts[2], "m=1024,t=1,p=0", parts[4], parts[5]}, "$"),
			"BadSalt":     strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"),
			"ShortKey":    strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
			"MissingPart": strings.Join(parts[:5], "$"),
		} {
			ok, err := h.Verify(ctx, "whatever password", enc)
			require.Error(t, err, name)
			require.False(t, ok, name)
		}
	})

	t.Run("CanceledContextStopsWaiting", func(t *testing.T) {
		t.Parallel()
		h := NewHasher(TestPasswordParams)
		for range cap(h.sem) {
			h.sem <- struct{}{}
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := h.Hash(cctx, "a long enough password")
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestCheckPasswordPolicy(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{
		"twelve chars",
		"éàèùâêîôûçé1", // 12 characters, 23 bytes
		"correct horse battery",
		"my dog eats 3 socks",
		"Tr0ub4dor&3xq",
	} {
		require.NoError(t, CheckPasswordPolicy("password", pw, "jane.doe@example.test"), pw)
	}
	for name, tc := range map[string]struct{ pw, rule string }{
		"Short":          {"elevenchars", "at least 12 characters"},
		"Blank":          {strings.Repeat(" ", 20), "blank"},
		"TooLong":        {strings.Repeat("ab", MaxPasswordLength), "at most"},
		"BadUTF8":        {"abcdefghijk\xff", "UTF-8"},
		"OneCharacter":   {"aaaaaaaaaaaa", "different characters"},
		"FewCharacters":  {"abababababab", "different characters"},
		"Pattern":        {"abcdeabcdeabcde", "repeated pattern"},
		"Alphabet":       {"abcdefghijklm", "run of the alphabet"},
		"Digits":         {"345678901234", "run of the alphabet"},
		"KeyboardRow":    {"qwertyuiopas", "keyboard row"},
		"KeyboardColumn": {"1qaz2wsx3edc", "keyboard row"},
		"Listed":         {"administrator", "common password"},
		"ListedLong":     {"iloveyou1234", "common password"},
		"Suffixed":       {"Password2024!", "common password"},
		"Prefixed":       {"2024sunshine", "common password"},
		"LookAlikes":     {"P@ssw0rd2024!", "common password"},
		"LookAlikeS":     {"$ecret123456", "common password"},
		"EmailLocalPart": {"xx-Jane.Doe-2024", "e-mail address"},
	} {
		err := CheckPasswordPolicy("newPassword", tc.pw, "jane.doe@example.test")
		require.ErrorIs(t, err, apperr.ErrValidation, name)
		e, _ := apperr.As(err)
		require.Equal(t, "newPassword", e.Details[0].Field, name)
		require.Contains(t, e.Details[0].Message, tc.rule, name)
	}
	// A local part shorter than three characters is not a rule of its own.
	require.NoError(t, CheckPasswordPolicy("password", "a fine passphrase", "a@example.test"))
}
