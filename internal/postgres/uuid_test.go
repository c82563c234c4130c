package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/postgres/pgtest"
)

// TestUUIDCodec round-trips the project's UUID type through the pool's connections: alone, as
// a nullable pointer, and in arrays, both as parameters and as results, and checks that the
// bytes PostgreSQL receives are the value's own (its text form matches).
func TestUUIDCodec(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewEmptyDB(t)
	a, b := uuid.New(), uuid.New()

	var text string
	var back uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid::text, $1::uuid`, a).Scan(&text, &back))
	require.Equal(t, a.String(), text)
	require.Equal(t, a, back)

	none := &a
	require.NoError(t, pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&none))
	require.Nil(t, none)
	var some *uuid.UUID
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid`, &b).Scan(&some))
	require.NotNil(t, some)
	require.Equal(t, b, *some)
	var isNull bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid IS NULL`, (*uuid.UUID)(nil)).Scan(&isNull))
	require.True(t, isNull)

	var list []uuid.UUID
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid[], cardinality($1::uuid[])`, []uuid.UUID{a, b, a}).Scan(&list, &n))
	require.Equal(t, []uuid.UUID{a, b, a}, list)
	require.Equal(t, 3, n)
	require.NoError(t, pool.QueryRow(ctx, `SELECT array_to_string($1::uuid[], ',')`, []uuid.UUID{b}).Scan(&text))
	require.Equal(t, b.String(), text)

	// Scanning NULL into a plain UUID is an error, as before.
	require.Error(t, pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&back))
	// Text still works both ways.
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::text::uuid`, a.String()).Scan(&back))
	require.Equal(t, a, back)
}

// BenchmarkUUIDArrayParam is the cost of a round trip with a page's worth of ids.
func BenchmarkUUIDArrayParam(b *testing.B) {
	pool, _ := pgtest.NewEmptyDB(b)
	ids := make([]uuid.UUID, 21)
	for i := range ids {
		ids[i] = uuid.New()
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var n int
		if err := pool.QueryRow(ctx, `SELECT cardinality($1::uuid[])`, ids).Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
}
