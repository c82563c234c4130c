// Package pgcluster runs a private PostgreSQL cluster for development and tests, so that a
// checkout needs only the server binaries (not a configured server) when DATABASE_URL is unset.
//
// The cluster listens on 127.0.0.1 and on a unix socket, trusts every local connection (it is
// a development cluster: never expose it) and runs as a child of the calling process: when
// that process dies the kernel sends the server SIGQUIT, and a later Start cleans up whatever
// a hard kill left behind.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// DefaultDataDir is used when Options.DataDir is empty (callers pass CX_DATA_DIR).
	DefaultDataDir = ".data/postgres"
	// DefaultDatabase is the database EnsureRunning creates and names in its DSN.
	DefaultDatabase = "casexchange"

	superuser = "postgres"
	portFile  = "casexchange.port"
	logFile   = "postgres.log"
)

// Options configures Start and EnsureRunning. The zero value is a durable development
// cluster in ./.data/postgres.
type Options struct {
	// DataDir holds the cluster. When this process is root and the unprivileged user that
	// runs PostgreSQL cannot reach DataDir (e.g. under /root), a stable directory under
	// os.TempDir() is used instead and Cluster.DataDir says which.
	DataDir string
	// Database is created when missing and named in the DSN of EnsureRunning.
	Database string
	// TestMode trades durability for speed: no fsync, asynchronous commit, no autovacuum.
	// Only for throwaway clusters.
	TestMode bool
	// Port is the TCP port on 127.0.0.1. Zero reuses the port recorded in the data
	// directory when it is free, or else picks a free one.
	Port int
	// Logger receives progress and warnings; nil means slog.Default().
	Logger *slog.Logger
	// StartTimeout bounds initdb plus startup; zero means one minute.
	StartTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = time.Minute
	}
	return o
}

// Cluster is a running PostgreSQL server started (or found running) by Start.
type Cluster struct {
	// DataDir is the data directory actually used (see Options.DataDir).
	DataDir string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// BinDir holds the PostgreSQL binaries.
	BinDir string

	log  *slog.Logger
	user *osUser // nil unless we are root

	cmd      *exec.Cmd     // nil when the server was already running: Stop leaves it alone
	exited   chan struct{} // closed when cmd has exited
	waitErr  error         // cmd.Wait's result, set before exited is closed
	stopOnce sync.Once
	stopErr  error
}

// EnsureRunning starts the private cluster described by opts (or joins the one already
// running on its data directory), creates opts.Database and returns its DSN and a function
// that stops the server if this call started it. It returns ErrNoBinaries when PostgreSQL is
// not installed.
func EnsureRunning(ctx context.Context, opts Options) (dsn string, stop func(), err error) {
	opts = opts.withDefaults()
	c, err := Start(ctx, opts)
	if err != nil {
		return "", nil, err
	}
	if err := c.CreateDatabase(ctx, opts.Database); err != nil {
		_ = c.Stop()
		return "", nil, err
	}
	stop = func() {
		if err := c.Stop(); err != nil {
			opts.Logger.Error("postgres: stop private cluster", "err", err)
		}
	}
	return c.DSN(opts.Database), stop, nil
}

// Start runs initdb when the data directory is new and starts the server, or returns the
// server already running on that directory (whose Stop then does nothing). It returns
// ErrNoBinaries when PostgreSQL is not installed, and an error quoting the server log when
// the server does not come up.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	opts = opts.withDefaults()
	log := opts.Logger
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	begin := time.Now()

	binDir, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	u, err := serverUser(log)
	if err != nil {
		return nil, err
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("postgres data dir: %w", err)
	}
	if !reachable(dataDir, u) {
		fallback := filepath.Join(os.TempDir(), "casexchange-postgres-"+shortHash(dataDir))
		log.Warn("postgres: data dir not reachable by the server user, using another directory",
			"requested", dataDir, "data_dir", fallback, "user", u.name)
		dataDir = fallback
	}

	unlock, err := lockDir(ctx, dataDir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	c := &Cluster{DataDir: dataDir, BinDir: binDir, log: log, user: u}
	if info, ok := runningServer(dataDir); ok {
		c.Port = info.port
		if err := c.waitReady(ctx, nil); err != nil {
			return nil, fmt.Errorf("postgres already running on %s (pid %d) but not answering: %w", dataDir, info.pid, err)
		}
		log.Info("postgres: using the server already running", "data_dir", dataDir, "port", c.Port, "pid", info.pid)
		return c, nil
	}
	if err := clearStale(ctx, dataDir, log); err != nil {
		return nil, fmt.Errorf("postgres: clear stale server state in %s: %w", dataDir, err)
	}
	if err := c.initdb(ctx, opts.TestMode); err != nil {
		return nil, err
	}

	useRecorded := true
	for attempt := 1; ; attempt++ {
		port, err := c.choosePort(opts.Port, useRecorded)
		if err != nil {
			return nil, err
		}
		err = c.start(ctx, port, opts.TestMode)
		if err == nil {
			break
		}
		// Another process may take a free port between our probe and the server's bind.
		if errors.Is(err, errPortInUse) && opts.Port == 0 && attempt < 4 {
			log.Warn("postgres: port taken, trying another", "port", port)
			useRecorded = false
			continue
		}
		return nil, err
	}
	if err := c.writeOwned(portFile, []byte(strconv.Itoa(c.Port)+"\n")); err != nil {
		log.Warn("postgres: cannot record port", "err", err)
	}
	log.Info("postgres: private cluster ready", "data_dir", dataDir, "port", c.Port,
		"version", serverVersion(binDir), "test_mode", opts.TestMode, "elapsed", time.Since(begin).Round(time.Millisecond))
	return c, nil
}

// DSN returns a connection URL for database on this cluster.
func (c *Cluster) DSN(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(superuser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates database unless it exists. Concurrent calls are safe.
func (c *Cluster) CreateDatabase(ctx context.Context, database string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("postgres: connect to create database %q: %w", database, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: look up database %q: %w", database, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize())
	var pgErr *pgconn.PgError
	// 42P04 duplicate_database, or 23505 when a concurrent CREATE won the catalog insert.
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres: create database %q: %w", database, err)
	}
	c.log.Info("postgres: created database", "database", database)
	return nil
}

// Stop shuts the server down (fast shutdown: sessions are ended, data is kept) if Start
// started it, and does nothing otherwise. It is safe to call more than once. It returns an
// error only when the server survives SIGKILL.
func (c *Cluster) Stop() error {
	if c == nil || c.cmd == nil {
		return nil
	}
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *Cluster) stop() error {
	steps := []struct {
		sig  syscall.Signal
		wait time.Duration
	}{
		{syscall.SIGINT, 30 * time.Second},  // fast shutdown
		{syscall.SIGQUIT, 10 * time.Second}, // immediate shutdown
		{syscall.SIGKILL, 10 * time.Second},
	}
	for _, s := range steps {
		if err := c.cmd.Process.Signal(s.sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("postgres: signal %v: %w", s.sig, err)
		}
		select {
		case <-c.exited:
			c.log.Info("postgres: private cluster stopped", "data_dir", c.DataDir, "port", c.Port)
			return nil
		case <-time.After(s.wait):
			c.log.Warn("postgres: server still running after signal", "signal", s.sig, "pid", c.cmd.Process.Pid)
		}
	}
	return fmt.Errorf("postgres: server pid %d did not exit", c.cmd.Process.Pid)
}

// Exited is closed when a server started by this Cluster exits (nil for a joined server).
func (c *Cluster) Exited() <-chan struct{} { return c.exited }

// initdb creates the cluster unless the data directory already holds one.
func (c *Cluster) initdb(ctx context.Context, testMode bool) error {
	if _, err := os.Stat(filepath.Join(c.DataDir, "PG_VERSION")); err == nil {
		return chownTree(c.DataDir, c.user)
	}
	if err := os.MkdirAll(filepath.Dir(c.DataDir), 0o755); err != nil {
		return fmt.Errorf("postgres: create parent of data dir: %w", err)
	}
	if err := os.Mkdir(c.DataDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("postgres: create data dir: %w", err)
	}
	if entries, err := os.ReadDir(c.DataDir); err != nil {
		return fmt.Errorf("postgres: read data dir: %w", err)
	} else if len(entries) > 0 {
		return fmt.Errorf("postgres: data dir %s is neither empty nor a PostgreSQL cluster (no PG_VERSION): move it away", c.DataDir)
	}
	if err := os.Chmod(c.DataDir, 0o700); err != nil {
		return err
	}
	if err := chownTree(c.DataDir, c.user); err != nil {
		return fmt.Errorf("postgres: chown data dir: %w", err)
	}
	args := []string{"-D", c.DataDir, "-U", superuser, "-A", "trust", "--encoding=UTF8", "--locale=C"}
	if testMode {
		args = append(args, "--no-sync")
	}
	c.log.Info("postgres: initializing cluster", "data_dir", c.DataDir, "bin_dir", c.BinDir)
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "initdb"), args...)
	c.prepare(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("postgres: initdb %s: %w\n%s", c.DataDir, err, out)
	}
	// Trust the unix socket and IPv4 loopback only (initdb's default also lists ::1 and
	// replication).
	hba := "# Written by casexchange: private development cluster, local connections only.\n" +
		"local all all trust\n" +
		"host  all all 127.0.0.1/32 trust\n"
	return c.writeOwned("pg_hba.conf", []byte(hba))
}

// prepare sets what every PostgreSQL binary we run needs: the unprivileged user when we are
// root, a directory that user can enter, and an environment without PG* variables that would
// redirect it.
func (c *Cluster) prepare(cmd *exec.Cmd) {
	cmd.Dir = "/"
	env := []string{"LC_ALL=C"} // English messages: startup errors are matched below
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = c.user.credential()
}

var errPortInUse = errors.New("port in use")

// start runs the postmaster as our child and waits until it accepts connections.
func (c *Cluster) start(ctx context.Context, port int, testMode bool) error {
	sockDir, err := c.socketDir(port)
	if err != nil {
		return err
	}
	logPath := filepath.Join(c.DataDir, logFile)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("postgres: open server log: %w", err)
	}
	if c.user != nil {
		_ = logf.Chown(int(c.user.uid), int(c.user.gid))
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)

	args := []string{"-D", c.DataDir, "-p", strconv.Itoa(port)}
	for _, s := range serverSettings(sockDir, testMode) {
		args = append(args, "-c", s)
	}
	cmd := exec.Command(filepath.Join(c.BinDir, "postgres"), args...)
	c.prepare(cmd)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group: a terminal's Ctrl-C reaches us, and we shut the server down in
	// order. Pdeathsig: if we die without stopping it, the kernel asks it to quit.
	cmd.SysProcAttr.Setpgid = true
	setParentDeathSignal(cmd.SysProcAttr, syscall.SIGQUIT)

	exited := make(chan struct{})
	startErr := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the *thread* that forked the child exits. This goroutine
		// keeps its thread until the server exits, so that is never early.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			startErr <- err
			_ = logf.Close()
			return
		}
		startErr <- nil
		c.waitErr = cmd.Wait()
		_ = logf.Close()
		close(exited)
	}()
	if err := <-startErr; err != nil {
		return fmt.Errorf("postgres: start server: %w", err)
	}

	c.Port = port
	if err := c.waitReady(ctx, exited); err != nil {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		tail := readTail(logPath, logStart)
		if strings.Contains(tail, "could not create any TCP/IP sockets") || strings.Contains(tail, "Address already in use") {
			return fmt.Errorf("postgres: port %d: %w", port, errPortInUse)
		}
		return fmt.Errorf("postgres: server on %s did not start: %w (exit: %v); server log:\n%s", c.DataDir, err, c.waitErr, tail)
	}
	c.cmd, c.exited = cmd, exited
	return nil
}

var errServerExited = errors.New("server exited")

// waitReady polls until the server accepts a connection. exited, when not nil, aborts the wait
// when our child dies.
func (c *Cluster) waitReady(ctx context.Context, exited <-chan struct{}) error {
	dsn := c.DSN("postgres")
	delay := 5 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgconn.Connect(cctx, dsn)
		cancel()
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-exited:
			return errServerExited
		case <-ctx.Done():
			return fmt.Errorf("%w (last connection error: %v)", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

// serverSettings sizes the server for the project's machines (2 cores, 24 GB) serving one
// application and its tests.
func serverSettings(sockDir string, testMode bool) []string {
	s := []string{
		"listen_addresses=127.0.0.1",
		"unix_socket_directories=" + sockDir,
		"max_connections=200",
		"shared_buffers=256MB",
		"effective_cache_size=4GB",
		"work_mem=8MB",
		"maintenance_work_mem=256MB",
		"random_page_cost=1.1",
		"max_worker_processes=4",
		"max_parallel_workers=2",
		"max_parallel_workers_per_gather=1",
		"max_parallel_maintenance_workers=1",
		"jit=off", // compiling short OLTP queries costs more than it saves
		"logging_collector=off",
	}
	if testMode {
		return append(s,
			"fsync=off",
			"synchronous_commit=off",
			"full_page_writes=off",
			"autovacuum=off", // test databases live for seconds
			// The data directory may be in memory (see ScratchDir): keep WAL small.
			// Checkpoints are cheap without fsync.
			"max_wal_size=1GB",
		)
	}
	return append(s,
		"max_wal_size=2GB",
		"log_min_duration_statement=1s",
	)
}

// socketDir returns the data directory, or a short directory under os.TempDir() when the
// socket path would exceed the kernel's limit (107 bytes).
func (c *Cluster) socketDir(port int) (string, error) {
	if len(c.DataDir)+len("/.s.PGSQL.")+len(strconv.Itoa(port))+len(".lock") < 100 {
		return c.DataDir, nil
	}
	dir := filepath.Join(os.TempDir(), "cxpg-"+shortHash(c.DataDir))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("postgres: socket dir: %w", err)
	}
	if c.user != nil {
		if err := os.Chown(dir, int(c.user.uid), int(c.user.gid)); err != nil {
			return "", fmt.Errorf("postgres: socket dir: %w", err)
		}
	}
	return dir, nil
}

// choosePort returns fixed if set, else the recorded port if it is free, else a free port.
func (c *Cluster) choosePort(fixed int, useRecorded bool) (int, error) {
	if fixed != 0 {
		return fixed, nil
	}
	if useRecorded {
		if b, err := os.ReadFile(filepath.Join(c.DataDir, portFile)); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 && portFree(p) {
				return p, nil
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("postgres: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// writeOwned writes a file in the data directory and gives it to the server user.
func (c *Cluster) writeOwned(name string, data []byte) error {
	p := filepath.Join(c.DataDir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return err
	}
	if c.user != nil {
		return os.Chown(p, int(c.user.uid), int(c.user.gid))
	}
	return nil
}

// readTail returns the server log written since offset, at most its last 4 KB.
func readTail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	if offset > 0 && offset <= int64(len(b)) {
		b = b[offset:]
	}
	if len(b) > 4096 {
		b = b[len(b)-4096:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return strings.TrimSpace(string(b))
}

// lockDir serializes Start calls on one data directory across processes, with flock on a
// file beside it (".<name>.lock", so it goes away with a temporary parent). The lock is
// released when startup is over, not held while the server runs.
func lockDir(ctx context.Context, dataDir string) (unlock func(), err error) {
	parent := filepath.Dir(dataDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("postgres: create parent of data dir: %w", err)
	}
	path := filepath.Join(parent, "."+filepath.Base(dataDir)+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		// A parent we may not write to: lock in the temporary directory instead.
		path = filepath.Join(os.TempDir(), "casexchange-pg-"+shortHash(dataDir)+".lock")
		if f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666); err != nil {
			return nil, fmt.Errorf("postgres: open start lock: %w", err)
		}
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("postgres: start lock: %w", err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("postgres: waiting for another process starting %s: %w", dataDir, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// ScratchDir returns a parent directory for throwaway clusters: /dev/shm when it is a
// writable tmpfs with at least 1 GiB free (creating a database there is several times faster
// than on disk, and a test cluster need not survive a reboot), and os.TempDir() otherwise.
func ScratchDir() string {
	const shm = "/dev/shm"
	var st syscall.Statfs_t
	if err := syscall.Statfs(shm, &st); err == nil && st.Bavail*uint64(st.Bsize) >= 1<<30 && syscall.Access(shm, 0o2 /* W_OK */) == nil {
		return shm
	}
	return os.TempDir()
}
