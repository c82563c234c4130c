package seed_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/seed"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestScale(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// digest summarises the generated rows, so two loads can be compared.
	digest := func(t *testing.T, seedValue int64) (string, int) {
		t.Helper()
		pool, _ := pgtest.NewDB(t)
		var calls int
		require.NoError(t, seed.Scale(ctx, nil, pool, 3, seedValue, func(done, total int) {
			calls++
			require.Equal(t, 3, total)
			require.Equal(t, calls, done)
		}))
		require.Equal(t, 3, calls)

		var d string
		require.NoError(t, pool.QueryRow(ctx, `
			SELECT md5(string_agg(r.reference_number || r.status || r.id::text, ',' ORDER BY r.reference_number))
			FROM referrals r`).Scan(&d))

		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM referrals`).Scan(&n))

		// Lifecycle consistency: the last transition of every sent referral reached its status,
		// acknowledgement matches the path, closing status only on closed referrals.
		var bad int
		require.NoError(t, pool.QueryRow(ctx, `
			SELECT count(*) FROM referrals r
			LEFT JOIN LATERAL (SELECT s.status FROM status_updates s
			                   WHERE s.referral_id = r.id AND NOT s.is_message
			                   ORDER BY s.created_at DESC LIMIT 1) last ON true
			WHERE (r.status = 'draft') <> (last.status IS NULL)
			   OR (r.status <> 'draft' AND last.status <> r.status)
			   OR (r.status IN ('under_evaluation', 'investigating', 'signed', 'in_litigation', 'closing', 'closed'))
			      <> (r.acknowledged_at IS NOT NULL AND r.status NOT IN ('rejected'))
			   OR (r.status = 'sent') <> (r.expires_at IS NOT NULL)
			   OR (r.status = 'closed') <> (r.closing_status IS NOT NULL)`).Scan(&bad))
		require.Zero(t, bad)

		var statuses int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT status) FROM referrals`).Scan(&statuses))
		require.Equal(t, 10, statuses)

		var msgs, docs, rules, rels int
		require.NoError(t, pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM status_updates WHERE is_message),
			(SELECT count(*) FROM documents),
			(SELECT count(*) FROM routing_rules),
			(SELECT count(*) FROM network_relationships WHERE status = 'active')`).Scan(&msgs, &docs, &rules, &rels))
		require.Positive(t, msgs)
		require.Positive(t, docs)
		require.Equal(t, 6, rules)
		require.Equal(t, 6, rels) // every firm sends to both others

		// The sequence continues after the generated reference numbers.
		var next, maxRef int64
		require.NoError(t, pool.QueryRow(ctx, `SELECT nextval('base_case_reference_seq')`).Scan(&next))
		require.NoError(t, pool.QueryRow(ctx, `SELECT max(right(reference_number, 6)::bigint) FROM base_cases`).Scan(&maxRef))
		require.Greater(t, next, maxRef)
		return d, n
	}

	t.Run("LoadsAboutAThousandReferralsPerFirmDeterministically", func(t *testing.T) {
		t.Parallel()
		d1, n1 := digest(t, 42)
		d2, _ := digest(t, 42)
		require.Equal(t, d1, d2)
		require.GreaterOrEqual(t, n1, 3*seed.ScaleReferralsPerFirm)
		require.Less(t, n1, 3*seed.ScaleReferralsPerFirm+10)
	})

	t.Run("RefusesASecondLoad", func(t *testing.T) {
		t.Parallel()
		pool, _ := pgtest.NewDB(t)
		require.NoError(t, seed.Scale(ctx, nil, pool, 2, 1, nil))
		require.ErrorContains(t, seed.Scale(ctx, nil, pool, 2, 1, nil), "already holds scale data")
	})
}
