package routing

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"
)

// PickWeighted chooses an index of weights for the case identified by key on the given attempt.
// The choice is deterministic (the same key and attempt always give the same index) and, over
// many keys, each index is chosen in proportion to its weight: the key and attempt are hashed to
// a uniform 64-bit number that is mapped onto the cumulative weights. Weights below 1 count as
// 1. It returns -1 when weights is empty.
func PickWeighted(weights []int, key string, attempt int) int {
	if len(weights) == 0 {
		return -1
	}
	var total uint64
	for _, w := range weights {
		total += uint64(max(w, 1))
	}
	h := sha256.Sum256([]byte(key + "\x00" + strconv.Itoa(attempt)))
	// total is at most a few thousand, so the modulo bias of a 64-bit hash is negligible.
	point := binary.BigEndian.Uint64(h[:8]) % total
	for i, w := range weights {
		w := uint64(max(w, 1))
		if point < w {
			return i
		}
		point -= w
	}
	return len(weights) - 1
}

// ByWeight returns the order in which to show weighted items: highest weight first, the
// original order on a tie. It returns indexes into weights.
func ByWeight(weights []int) []int {
	idx := make([]int, len(weights))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return weights[b] - weights[a] })
	return idx
}

// Heaviest returns the index of the highest weight, the first one on a tie, or -1 for none.
func Heaviest(weights []int) int {
	best := -1
	for i, w := range weights {
		if best < 0 || w > weights[best] {
			best = i
		}
	}
	return best
}
