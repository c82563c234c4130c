package pgcluster_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/pgcluster"
)

// newDataDir returns a data directory path in a fresh temporary directory that the server
// user can reach when the tests run as root.
func newDataDir(t *testing.T) string {
	t.Helper()
	// Not t.TempDir(): its parent directory is private to root.
	dir, err := os.MkdirTemp("", "cx-pgcluster-test-")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, os.RemoveAll(dir)) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return filepath.Join(dir, "data")
}

func start(t *testing.T, opts pgcluster.Options) *pgcluster.Cluster {
	t.Helper()
	opts.TestMode = true
	c, err := pgcluster.Start(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Stop()) })
	return c
}

func query(t *testing.T, dsn, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var out string
	require.NoError(t, conn.QueryRow(ctx, sql).Scan(&out))
	return out
}

func exec(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	require.NoError(t, err)
}

func postmasterPID(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(t, err)
	return pid
}

// alive reports whether pid runs (a zombie, dead but not yet reaped by whoever inherited it,
// does not).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}

func TestCluster(t *testing.T) {
	t.Parallel()

	t.Run("StartsStopsAndRestartsWithDataKept", func(t *testing.T) {
		t.Parallel()
		dataDir := newDataDir(t)
		c, err := pgcluster.Start(t.Context(), pgcluster.Options{DataDir: dataDir, TestMode: true})
		require.NoError(t, err)
		require.Equal(t, dataDir, c.DataDir)
		dsn := c.DSN("postgres")

		require.Equal(t, "off", query(t, dsn, "SHOW fsync"))
		require.Equal(t, "200", query(t, dsn, "SHOW max_connections"))
		require.Equal(t, "256MB", query(t, dsn, "SHOW shared_buffers"))
		require.Equal(t, "UTF8", query(t, dsn, "SHOW server_encoding"))
		require.Equal(t, "C", query(t, dsn, "SELECT datcollate FROM pg_database WHERE datname = 'postgres'"))
		require.Equal(t, dataDir, query(t, dsn, "SHOW unix_socket_directories"))
		exec(t, dsn, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")

		require.NoError(t, c.Stop())
		require.NoError(t, c.Stop(), "second Stop is a no-op")
		select {
		case <-c.Exited():
		default:
			t.Fatal("server still running after Stop")
		}
		_, err = os.Stat(filepath.Join(dataDir, "postmaster.pid"))
		require.ErrorIs(t, err, fs.ErrNotExist, "clean shutdown removes postmaster.pid")

		c2 := start(t, pgcluster.Options{DataDir: dataDir})
		require.Equal(t, c.Port, c2.Port, "the recorded port is reused when free")
		require.Equal(t, "42", query(t, c2.DSN("postgres"), "SELECT v::text FROM kept"))
	})

	t.Run("RestartsAfterServerWasKilled", func(t *testing.T) {
		t.Parallel()
		dataDir := newDataDir(t)
		c, err := pgcluster.Start(t.Context(), pgcluster.Options{DataDir: dataDir, TestMode: true})
		require.NoError(t, err)
		// synchronous_commit=on: the row must reach the OS before the kill.
		exec(t, c.DSN("postgres"), "SET synchronous_commit = on; CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)")

		// A backend busy computing does not notice its postmaster's death: it survives
		// with the old shared memory attached, which makes a new postmaster refuse to
		// start until the orphan is gone.
		busy, err := pgx.Connect(t.Context(), c.DSN("postgres"))
		require.NoError(t, err)
		var busyPID int
		require.NoError(t, busy.QueryRow(t.Context(), "SELECT pg_backend_pid()").Scan(&busyPID))
		busyDone := make(chan struct{})
		go func() {
			defer close(busyDone)
			_, _ = busy.Exec(context.Background(), "SELECT count(*) FROM generate_series(1, 10000000000)")
		}()
		t.Cleanup(func() { <-busyDone })
		require.Eventually(t, func() bool {
			return query(t, c.DSN("postgres"), "SELECT state FROM pg_stat_activity WHERE pid = "+strconv.Itoa(busyPID)) == "active"
		}, 10*time.Second, 5*time.Millisecond)

		// Kill the postmaster only, as a crash would: postmaster.pid stays behind.
		pid := postmasterPID(t, dataDir)
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		<-c.Exited()
		_, err = os.Stat(filepath.Join(dataDir, "postmaster.pid"))
		require.NoError(t, err, "a killed server leaves postmaster.pid")

		require.True(t, alive(busyPID), "the busy backend outlived its postmaster")

		c2 := start(t, pgcluster.Options{DataDir: dataDir})
		require.Equal(t, "7", query(t, c2.DSN("postgres"), "SELECT v::text FROM kept"))
		require.False(t, alive(busyPID), "the orphan was killed")
	})

	t.Run("IgnoresStalePidFileWithReusedPID", func(t *testing.T) {
		t.Parallel()
		dataDir := newDataDir(t)
		c, err := pgcluster.Start(t.Context(), pgcluster.Options{DataDir: dataDir, TestMode: true})
		require.NoError(t, err)
		require.NoError(t, c.Stop())

		// A pid file naming a live process that is not PostgreSQL (this test binary), as
		// after a reboot that reassigned the PID.
		stale := strconv.Itoa(os.Getpid()) + "\n" + dataDir + "\n1700000000\n" + strconv.Itoa(c.Port) + "\n" + dataDir + "\n127.0.0.1\n  1234  5678\nready\n"
		require.NoError(t, os.WriteFile(filepath.Join(dataDir, "postmaster.pid"), []byte(stale), 0o600))

		c2 := start(t, pgcluster.Options{DataDir: dataDir})
		require.Equal(t, "1", query(t, c2.DSN("postgres"), "SELECT 1::text"))
		require.NotEqual(t, os.Getpid(), postmasterPID(t, dataDir))
	})

	t.Run("JoinsServerAlreadyRunning", func(t *testing.T) {
		t.Parallel()
		dataDir := newDataDir(t)
		owner := start(t, pgcluster.Options{DataDir: dataDir})

		joined, err := pgcluster.Start(t.Context(), pgcluster.Options{DataDir: dataDir, TestMode: true})
		require.NoError(t, err)
		require.Equal(t, owner.Port, joined.Port)
		require.NoError(t, joined.Stop(), "Stop of a joined server does nothing")
		require.Equal(t, "1", query(t, owner.DSN("postgres"), "SELECT 1::text"), "owner's server still up")
	})

	t.Run("ConcurrentStartsShareOneServer", func(t *testing.T) {
		t.Parallel()
		dataDir := newDataDir(t)
		var (
			wg       sync.WaitGroup
			clusters [2]*pgcluster.Cluster
			errs     [2]error
		)
		for i := range clusters {
			wg.Go(func() {
				clusters[i], errs[i] = pgcluster.Start(t.Context(), pgcluster.Options{DataDir: dataDir, TestMode: true})
			})
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs[:]...))
		t.Cleanup(func() {
			require.NoError(t, clusters[0].Stop())
			require.NoError(t, clusters[1].Stop())
		})
		require.Equal(t, clusters[0].Port, clusters[1].Port)
		require.Equal(t, "1", query(t, clusters[1].DSN("postgres"), "SELECT 1::text"))
	})

	t.Run("MovesOffRecordedPortWhenTaken", func(t *testing.T) {
		t.Parallel()
		dataDir := newDataDir(t)
		c, err := pgcluster.Start(t.Context(), pgcluster.Options{DataDir: dataDir, TestMode: true})
		require.NoError(t, err)
		require.NoError(t, c.Stop())
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(c.Port))
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close() })

		c2 := start(t, pgcluster.Options{DataDir: dataDir})
		require.NotEqual(t, c.Port, c2.Port)
	})

	t.Run("FailsWhenFixedPortTaken", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close() })
		port := l.Addr().(*net.TCPAddr).Port
		_, err = pgcluster.Start(t.Context(), pgcluster.Options{DataDir: newDataDir(t), Port: port, TestMode: true})
		require.ErrorContains(t, err, "port in use")
	})

	t.Run("EnsureRunningCreatesDatabase", func(t *testing.T) {
		t.Parallel()
		dsn, stop, err := pgcluster.EnsureRunning(t.Context(), pgcluster.Options{
			DataDir: newDataDir(t), Database: "cx_app", TestMode: true,
		})
		require.NoError(t, err)
		t.Cleanup(stop)
		require.Contains(t, dsn, "/cx_app?")
		require.Equal(t, "cx_app", query(t, dsn, "SELECT current_database()::text"))
		require.Equal(t, "postgres", query(t, dsn, "SELECT current_user::text"))
	})

	t.Run("FallsBackWhenDataDirUnreachableAsRoot", func(t *testing.T) {
		t.Parallel()
		if os.Geteuid() != 0 {
			t.Skip("only root runs PostgreSQL as another user")
		}
		private := t.TempDir() // 0700, owned by root: the server user cannot enter it
		requested := filepath.Join(private, "data")
		c, err := pgcluster.Start(t.Context(), pgcluster.Options{DataDir: requested, TestMode: true})
		require.NoError(t, err)
		t.Cleanup(func() {
			require.NoError(t, c.Stop())
			require.NoError(t, os.RemoveAll(c.DataDir))
		})
		require.NotEqual(t, requested, c.DataDir)
		require.True(t, strings.HasPrefix(c.DataDir, os.TempDir()), c.DataDir)
		require.Equal(t, "1", query(t, c.DSN("postgres"), "SELECT 1::text"))
	})
}

// TestHelperProcess is not a test: ServerQuitsWhenParentDies runs the test binary as a
// process that starts a cluster and waits to be killed.
func TestHelperProcess(t *testing.T) {
	dataDir := os.Getenv("CX_PGCLUSTER_HELPER_DATA_DIR")
	if dataDir == "" {
		t.Skip("helper process only")
	}
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{DataDir: dataDir, TestMode: true})
	if err != nil {
		fmt.Println("error: " + err.Error())
		os.Exit(1)
	}
	fmt.Println("ready " + strconv.Itoa(c.Port))
	time.Sleep(time.Minute)
	os.Exit(1)
}

func TestServerQuitsWhenParentDies(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	cmd := osexec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "CX_PGCLUSTER_HELPER_DATA_DIR="+dataDir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "ready "), line)
	pid := postmasterPID(t, dataDir)
	require.True(t, alive(pid))

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.Eventually(t, func() bool { return !alive(pid) }, 20*time.Second, 10*time.Millisecond,
		"the kernel's parent-death signal stops the server")

	// And the next start cleans up after it.
	c := start(t, pgcluster.Options{DataDir: dataDir})
	require.Equal(t, "1", query(t, c.DSN("postgres"), "SELECT 1::text"))
}

func TestFindBinDir(t *testing.T) {
	t.Parallel()
	dir, err := pgcluster.FindBinDir()
	require.NoError(t, err)
	for _, name := range []string{"initdb", "postgres"} {
		_, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
	}
}
