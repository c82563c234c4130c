package app_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/testsummary"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestShutdownOnSIGTERM runs the real binary (cmd/casexchange serve) and sends it SIGTERM while
// a request is in flight (its body half sent): new connections are refused at once, the
// request still completes and is stored, and the process then stops its job queue and exits 0.
// TestGracefulShutdown covers the same steps in-process; this one covers the signal wiring.
func TestShutdownOnSIGTERM(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the server with")
	}
	bin := filepath.Join(t.TempDir(), "casexchange")
	build := exec.Command(goBin, "build", "-o", bin, "github.com/casexchange/server/cmd/casexchange")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build: %s", out)

	// Fixtures go straight into the database through an App of this process.
	pool, dsn := pgtest.NewDB(t)
	a := newApp(t, testConfig(t), pool)
	f := newFirm(t, a)
	key := newKey(t, a, f.FirmID, auth.TierFull)
	a.Close()

	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dsn, "CX_DATA_DIR="+t.TempDir(), "CX_HTTP_ADDR=127.0.0.1:0", "CX_SEED=false",
		"CX_SHUTDOWN_TIMEOUT=10s", "CX_LOG_LEVEL=info", "CX_PUBLIC_BASE_URL=",
		"CX_JWT_SECRET=shutdown-test-secret-0123456789abcdef", "CX_DOWNLOAD_LINK_SECRET=shutdown-test-link-secret-0123456789ab",
	)
	stderr := &lockedBuffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(stderr, pw)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		_ = pw.Close()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited //nolint:errcheck // killed: the exit status says nothing
		}
	})

	// The address is printed once the server listens.
	urlRE := regexp.MustCompile(`serving on (http://[0-9.:]+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	var base string
	select {
	case base = <-found:
	case err := <-exited:
		t.Fatalf("server exited before serving: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not start:\n%s", stderr.String())
	}
	addr := strings.TrimPrefix(base, "http://")
	r := call("GET", base+"/api/public/v1/health", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	// A write whose body arrives in two halves, with the signal in between.
	email := "sigterm-" + uuid.NewString()[:8] + "@example.test"
	body := []byte(fmt.Sprintf(`{"email": %q}`, email))
	bodyR, bodyW := io.Pipe()
	req, err := http.NewRequest("POST", base+"/api/public/v1/notifications/emails", bodyR)
	require.NoError(t, err)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", key)
	inflight := make(chan result, 1)
	go func() {
		c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			inflight <- result{Err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- result{Status: resp.StatusCode, Body: b, Err: err, Took: time.Since(start)}
	}()
	_, err = bodyW.Write(body[:len(body)/2])
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // the server has the headers and half the body

	signalled := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))

	// The listener closes while the request is still open.
	var refusedAfter time.Duration
	require.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return false
		}
		refusedAfter = time.Since(signalled)
		return errors.Is(err, syscall.ECONNREFUSED)
	}, 5*time.Second, 10*time.Millisecond, "new connections still accepted after SIGTERM")
	select {
	case r := <-inflight:
		t.Fatalf("the in-flight request ended before its body was sent: %+v", r)
	case err := <-exited:
		t.Fatalf("the server exited with a request in flight: %v", err)
	default:
	}

	_, err = bodyW.Write(body[len(body)/2:])
	require.NoError(t, err)
	require.NoError(t, bodyW.Close())
	res := <-inflight
	require.NoError(t, res.Err)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	select {
	case err := <-exited:
		require.NoError(t, err, "exit status\n%s", stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("the server did not exit after SIGTERM:\n%s", stderr.String())
	}
	exitedAfter := time.Since(signalled)
	logs := stderr.String()
	require.Contains(t, logs, "shutting down")
	require.NotContains(t, logs, "did not stop cleanly", "the job queue did not stop cleanly")
	require.NotContains(t, logs, `"level":"ERROR"`)

	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM notification_emails WHERE firm_id = $1 AND email = $2`, f.FirmID, email).Scan(&n))
	require.Equal(t, 1, n, "the request answered during shutdown is not stored")

	testsummary.Printf("shutdown-sigterm: real binary: new connections refused %s after SIGTERM, in-flight write finished with 201 and stored, exit 0 after %s, job queue stopped cleanly\n",
		refusedAfter.Round(time.Millisecond), exitedAfter.Round(time.Millisecond))
}
