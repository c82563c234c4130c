package routing

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestPickWeighted(t *testing.T) {
	t.Parallel()

	t.Run("empty gives -1", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, -1, PickWeighted(nil, "k", 1))
	})

	t.Run("single recipient always chosen", func(t *testing.T) {
		t.Parallel()
		for i := range 100 {
			require.Equal(t, 0, PickWeighted([]int{7}, fmt.Sprint(i), 1))
		}
	})

	t.Run("deterministic for a case and attempt", func(t *testing.T) {
		t.Parallel()
		w := []int{1, 2, 3, 4}
		for i := range 200 {
			key := uuid.NewString()
			first := PickWeighted(w, key, i%3+1)
			for range 5 {
				require.Equal(t, first, PickWeighted(w, key, i%3+1))
			}
		}
	})

	t.Run("attempt changes the draw", func(t *testing.T) {
		t.Parallel()
		w := []int{1, 1, 1, 1}
		differs := 0
		for i := range 200 {
			key := fmt.Sprintf("case-%d", i)
			if PickWeighted(w, key, 1) != PickWeighted(w, key, 2) {
				differs++
			}
		}
		// With four equal weights about three draws in four differ.
		require.Greater(t, differs, 100)
	})

	distributions := []struct {
		name    string
		weights []int
	}{
		{"equal", []int{1, 1}},
		{"one to three", []int{1, 3}},
		{"three uneven", []int{50, 30, 20}},
		{"large and small", []int{1000, 1, 10}},
		{"five", []int{5, 4, 3, 2, 1}},
	}
	for _, d := range distributions {
		t.Run("follows weights "+d.name, func(t *testing.T) {
			t.Parallel()
			const n = 10_000
			counts := make([]int, len(d.weights))
			for i := range n {
				counts[PickWeighted(d.weights, fmt.Sprintf("CX-2026-%06d", i), 1)]++
			}
			total := 0
			for _, w := range d.weights {
				total += w
			}
			for i, w := range d.weights {
				want := float64(w) / float64(total)
				got := float64(counts[i]) / n
				require.LessOrEqual(t, math.Abs(got-want), 0.03, "index %d: share %.4f, weight share %.4f", i, got, want)
			}
		})
	}
}

func TestByWeightAndHeaviest(t *testing.T) {
	t.Parallel()

	tests := []struct {
		weights  []int
		order    []int
		heaviest int
	}{
		{nil, []int{}, -1},
		{[]int{1}, []int{0}, 0},
		{[]int{1, 3, 2}, []int{1, 2, 0}, 1},
		{[]int{2, 5, 5, 1}, []int{1, 2, 0, 3}, 1},
		{[]int{4, 4, 4}, []int{0, 1, 2}, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.weights), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.order, ByWeight(tt.weights))
			require.Equal(t, tt.heaviest, Heaviest(tt.weights))
		})
	}
}

func TestEvaluationChoose(t *testing.T) {
	t.Parallel()

	a, b := uuid.New(), uuid.New()
	ev := Evaluation{Assignments: []Target{{FirmID: a, Weight: 3}, {FirmID: b, Weight: 1}}}
	got := map[uuid.UUID]int{}
	for i := range 4000 {
		tg, ok := ev.Choose(fmt.Sprint(i), 1)
		require.True(t, ok)
		got[tg.FirmID]++
	}
	require.InDelta(t, 0.75, float64(got[a])/4000, 0.03)

	_, ok := Evaluation{}.Choose("x", 1)
	require.False(t, ok)
}
