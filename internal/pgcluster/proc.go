package pgcluster

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidFile is the lock file PostgreSQL keeps in the data directory while it runs.
const pidFile = "postmaster.pid"

// pidInfo is what postmaster.pid says about the server that wrote it.
type pidInfo struct {
	pid  int
	port int
}

// readPidFile parses postmaster.pid: line 1 is the postmaster PID, line 4 the port. It returns
// fs.ErrNotExist when there is none.
func readPidFile(dataDir string) (pidInfo, error) {
	f, err := os.Open(filepath.Join(dataDir, pidFile))
	if err != nil {
		return pidInfo{}, err
	}
	defer f.Close() //nolint:errcheck // read only
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(lines) < 4 {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	var info pidInfo
	if len(lines) > 0 {
		info.pid, _ = strconv.Atoi(lines[0])
	}
	if len(lines) > 3 {
		info.port, _ = strconv.Atoi(lines[3])
	}
	return info, nil
}

// isPostgres reports whether pid is a live PostgreSQL process. A PID from a stale pid file may
// have been reused by an unrelated process, so liveness alone is not enough.
func isPostgres(pid int) bool {
	if pid <= 0 {
		return false
	}
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false
		}
		// No /proc (not Linux): fall back to a liveness probe.
		err := syscall.Kill(pid, 0)
		return err == nil || errors.Is(err, syscall.EPERM)
	}
	name := strings.TrimSpace(string(comm))
	return name == "postgres" || name == "postmaster"
}

// runningServer returns the postmaster PID and port when a live server owns dataDir.
func runningServer(dataDir string) (pidInfo, bool) {
	info, err := readPidFile(dataDir)
	if err != nil || !isPostgres(info.pid) {
		return pidInfo{}, false
	}
	// The PID is a postgres process, but maybe of another cluster that got the PID after a
	// reboot: its working directory is its data directory.
	if cwd, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(info.pid), "cwd")); err == nil && cwd != dataDir {
		return pidInfo{}, false
	}
	return info, true
}

// clearStale removes what a killed server left behind: backend processes that outlived their
// postmaster (they keep the old shared memory attached, so a new postmaster refuses to start)
// and the postmaster.pid file. Call it only when runningServer reported no live server.
func clearStale(ctx context.Context, dataDir string, log *slog.Logger) error {
	orphans := orphanProcesses(dataDir)
	for _, pid := range orphans {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(orphans) > 0 {
		log.Warn("postgres: killed processes left by a previous server", "data_dir", dataDir, "pids", orphans)
		deadline := time.Now().Add(10 * time.Second)
		for len(orphanProcesses(dataDir)) > 0 && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	err := os.Remove(filepath.Join(dataDir, pidFile))
	switch {
	case err == nil:
		log.Warn("postgres: removed stale postmaster.pid from a server that did not shut down", "data_dir", dataDir)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return nil
}

// orphanProcesses lists postgres processes whose working directory is dataDir (every server
// process chdirs to its data directory). Without /proc it finds none.
func orphanProcesses(dataDir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if !isPostgres(pid) {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || cwd != dataDir {
			continue
		}
		// A zombie (exited, not yet reaped by its parent) holds nothing: skip it.
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// Running reports whether a live PostgreSQL server owns dataDir (per its postmaster.pid).
func Running(dataDir string) bool {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return false
	}
	_, ok := runningServer(abs)
	return ok
}
