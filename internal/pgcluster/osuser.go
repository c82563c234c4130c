package pgcluster

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// serverUserName is the system user created to run PostgreSQL when this process is root.
const serverUserName = "casexchange"

// osUser is the unprivileged account that runs initdb and postgres when we are root
// (PostgreSQL refuses to run as root).
type osUser struct {
	name     string
	uid, gid uint32
}

func (u *osUser) credential() *syscall.Credential {
	if u == nil {
		return nil
	}
	return &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: []uint32{}}
}

// serverUser returns nil when this process is not root: the binaries then run as ourselves.
// As root it returns the casexchange system user, creating it with useradd if needed, or
// nobody when that fails.
func serverUser(log *slog.Logger) (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if u, err := lookupUser(serverUserName); err == nil {
		return u, nil
	}
	out, err := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
		"--comment", "CaseXchange private PostgreSQL", serverUserName).CombinedOutput()
	// Look up again whatever useradd said: a concurrent process may have created it first.
	if u, lerr := lookupUser(serverUserName); lerr == nil {
		if err == nil {
			log.Info("postgres: created system user to run the private cluster", "user", serverUserName)
		}
		return u, nil
	}
	log.Warn("postgres: cannot create system user, falling back to nobody",
		"user", serverUserName, "err", err, "output", string(out))
	u, lerr := lookupUser("nobody")
	if lerr != nil {
		return nil, fmt.Errorf("running as root and no unprivileged user to run PostgreSQL: useradd %s: %v: %s; %w",
			serverUserName, err, out, lerr)
	}
	return u, nil
}

func lookupUser(name string) (*osUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", name, u.Gid, err)
	}
	return &osUser{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
}

// reachable reports whether u can traverse every existing ancestor of path. Missing
// ancestors will be created by root with mode 0755, which is enough.
func reachable(path string, u *osUser) bool {
	if u == nil {
		return true
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if fi, err := os.Stat(dir); err == nil {
			if !canSearch(fi, u) {
				return false
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return false
		}
		if dir == filepath.Dir(dir) {
			return true
		}
	}
}

func canSearch(fi fs.FileInfo, u *osUser) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := fi.Mode().Perm()
	switch {
	case st.Uid == u.uid:
		return mode&0o100 != 0
	case st.Gid == u.gid:
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

// chownTree gives path and everything below it to u, when u is set and path is not already
// owned by it.
func chownTree(path string, u *osUser) error {
	if u == nil {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == u.uid && st.Gid == u.gid {
		// initdb created everything below as u; only our own files (log, port) could differ
		// and those are chowned when written.
		return nil
	}
	return filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(u.uid), int(u.gid))
	})
}

// shortHash names per-directory side files (lock, fallback directories) in a stable way.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:10]
}
