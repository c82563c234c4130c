package apitest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/casexchange/server/internal/testsummary"
)

// security collects the findings of the security review that a passing regression
// test covered, so the package prints one "security:" summary line after its tests.
var security struct {
	mu    sync.Mutex
	notes map[int]string
}

// SecurityFinding records that finding n of the security review is covered by the calling test,
// with a short note (for the throttle race: how many guesses were evaluated). It is recorded
// only when the test passes.
func SecurityFinding(t testing.TB, n int, format string, args ...any) {
	t.Helper()
	note := fmt.Sprintf(format, args...)
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		security.mu.Lock()
		defer security.mu.Unlock()
		if security.notes == nil {
			security.notes = map[int]string{}
		}
		if prev, ok := security.notes[n]; ok && prev != "" && note != "" && prev != note {
			note = prev + "; " + note
		} else if note == "" {
			note = prev
		}
		security.notes[n] = note
	})
}

// printSecuritySummary prints the "security:" line when any finding was recorded.
func printSecuritySummary() {
	security.mu.Lock()
	defer security.mu.Unlock()
	if len(security.notes) == 0 {
		return
	}
	ns := make([]int, 0, len(security.notes))
	for n := range security.notes {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	parts := make([]string, 0, len(ns))
	for _, n := range ns {
		if s := security.notes[n]; s != "" {
			parts = append(parts, fmt.Sprintf("#%d %s", n, s))
		} else {
			parts = append(parts, fmt.Sprintf("#%d", n))
		}
	}
	// One line per test package (the HTTP tests, and the real-server tests of internal/app).
	pkg := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	testsummary.Printf("security (%s): %d findings covered by passing HTTP regression tests: %s\n", pkg, len(ns), strings.Join(parts, ", "))
}
