package referrals_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/postgres/pgtest"
)

// Case reference numbers keep six digits while they fit and grow past 999,999 instead of being
// truncated (which would hand out a number twice).
func TestCaseReferenceWidth(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewDB(t)
	ctx := context.Background()
	next := func() string {
		var ref string
		require.NoError(t, pool.QueryRow(ctx, `SELECT next_case_reference()`).Scan(&ref))
		return ref
	}
	t.Run("small numbers are padded to six digits", func(t *testing.T) {
		_, err := pool.Exec(ctx, `SELECT setval('base_case_reference_seq', 41)`)
		require.NoError(t, err)
		require.Regexp(t, `^CX-\d{4}-000042$`, next())
	})
	t.Run("numbers past 999999 keep every digit", func(t *testing.T) {
		_, err := pool.Exec(ctx, `SELECT setval('base_case_reference_seq', 999999)`)
		require.NoError(t, err)
		require.Regexp(t, `^CX-\d{4}-1000000$`, next())
		require.Regexp(t, `^CX-\d{4}-1000001$`, next())
	})
}
