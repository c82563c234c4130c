// Package testsummary lets each verification part of the test suite report one summary line
// (e.g. "matrix: 133 operations x 7 cases, 0 leaks") that `make test` prints even without -v.
//
// `go test` shows a passing package's output only with -v, so a line is also appended to the
// file named by CX_TEST_SUMMARY when that variable is set; the Makefile prints the file after
// the run. Without the variable a line only goes to standard output.
package testsummary

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

// EnvFile names the file summary lines are appended to.
const EnvFile = "CX_TEST_SUMMARY"

var mu sync.Mutex

// Printf formats one summary line, prints it and appends it to $CX_TEST_SUMMARY. Test binaries
// of different packages run concurrently; each line is written with one O_APPEND write, so
// lines never interleave.
func Printf(format string, args ...any) {
	line := strings.TrimRight(fmt.Sprintf(format, args...), "\n") + "\n"
	mu.Lock()
	defer mu.Unlock()
	fmt.Print(line)
	path := os.Getenv(EnvFile)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
		return
	}
	_, err = f.WriteString(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
	}
}
