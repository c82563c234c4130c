package keyset_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/keyset"
)

// batches returns a next function over n items in batches of size, counting its calls.
func batches(n, size int, calls *atomic.Int32) func() ([]int, bool, error) {
	pos := 0
	return func() ([]int, bool, error) {
		calls.Add(1)
		var b []int
		for ; pos < n && len(b) < size; pos++ {
			b = append(b, pos)
		}
		return b, pos < n, nil
	}
}

func TestWalk(t *testing.T) {
	t.Parallel()
	t.Run("EveryItemInOrder", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		var got []int
		require.NoError(t, keyset.Walk(1000, batches(25, 4, &calls), func(v int) error { got = append(got, v); return nil }))
		require.Len(t, got, 25)
		for i, v := range got {
			require.Equal(t, i, v)
		}
		require.EqualValues(t, 7, calls.Load())
	})
	t.Run("StopsAtTheLimit", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		var got []int
		require.NoError(t, keyset.Walk(10, batches(100, 4, &calls), func(v int) error { got = append(got, v); return nil }))
		require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, got)
		// At most one batch is read ahead of the one being written; none after Walk returns.
		n := calls.Load()
		require.LessOrEqual(t, n, int32(5))
		require.Equal(t, n, calls.Load())
	})
	t.Run("AnEmitErrorStopsTheReads", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		boom := errors.New("client gone")
		err := keyset.Walk(1000, batches(100, 4, &calls), func(v int) error {
			if v == 5 {
				return boom
			}
			return nil
		})
		require.ErrorIs(t, err, boom)
		n := calls.Load()
		require.LessOrEqual(t, n, int32(4))
		require.Equal(t, n, calls.Load(), "next called after Walk returned")
	})
	t.Run("ANextErrorIsReturnedAfterTheItemsBeforeIt", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("database gone")
		i := 0
		var got []int
		err := keyset.Walk(1000, func() ([]int, bool, error) {
			i++
			if i == 3 {
				return nil, false, boom
			}
			return []int{i}, true, nil
		}, func(v int) error { got = append(got, v); return nil })
		require.ErrorIs(t, err, boom)
		require.Equal(t, []int{1, 2}, got)
	})
	t.Run("APanicInNextIsAnError", func(t *testing.T) {
		t.Parallel()
		err := keyset.Walk(1000, func() ([]int, bool, error) { panic("bad row") }, func(int) error { return nil })
		require.ErrorContains(t, err, "bad row")
	})
}
