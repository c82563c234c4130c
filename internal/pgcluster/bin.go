package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries can be found. Its message says
// how to fix that.
var ErrNoBinaries = errors.New(`PostgreSQL server binaries (initdb, postgres) not found in "pg_config --bindir", ` +
	`PATH or /usr/lib/postgresql/*/bin: install them with "apt-get install postgresql" ` +
	`(Debian/Ubuntu), or set DATABASE_URL to use an existing server`)

// debianRoot is where Debian and Ubuntu install one directory per major version.
var debianRoot = "/usr/lib/postgresql"

// FindBinDir returns the directory holding initdb and postgres. It looks at pg_config --bindir,
// then PATH, then the highest version under /usr/lib/postgresql. It returns ErrNoBinaries when
// none has both.
func FindBinDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); hasServerBinaries(dir) {
			return dir, nil
		}
	}
	// Resolve symlinks (e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb) so
	// initdb and postgres come from the same installation.
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && hasServerBinaries(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	if dir := highestDebianBinDir(debianRoot); dir != "" {
		return dir, nil
	}
	return "", ErrNoBinaries
}

func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// highestDebianBinDir returns root/<version>/bin for the highest numeric version that has the
// server binaries, or "".
func highestDebianBinDir(root string) string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return ""
	}
	type cand struct {
		version float64
		dir     string
	}
	var cands []cand
	for _, e := range entries {
		v, err := strconv.ParseFloat(e.Name(), 64) // "15", "9.6"
		if err != nil {
			continue
		}
		dir := filepath.Join(root, e.Name(), "bin")
		if hasServerBinaries(dir) {
			cands = append(cands, cand{v, dir})
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].version > cands[j].version })
	return cands[0].dir
}

// serverVersion returns the output of "postgres --version", for logs.
func serverVersion(binDir string) string {
	out, err := exec.Command(filepath.Join(binDir, "postgres"), "--version").Output()
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return strings.TrimSpace(string(out))
}
