package app_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/testsummary"
)

// TestSlowAndAbortedBodies covers security finding 5 on the real http.Server of the binary
// (App.HTTPServer) with the body deadline shortened to one second: a client trickling its body
// (to the unauthenticated login and to an authenticated Public API write) is answered 408 and
// disconnected within the deadline, and a client that goes away mid-body causes neither a 500
// nor an ERROR log line.
func TestSlowAndAbortedBodies(t *testing.T) {
	t.Parallel()
	const bodyTimeout = time.Second
	pool, _ := pgtest.NewDB(t)
	cfg := testConfig(t)
	cfg.BodyReadTimeout = bodyTimeout
	cfg.WriteTimeout = 2 * time.Second
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), cfg, pool, log, app.Options{PasswordCost: auth.TestPasswordParams})
	require.NoError(t, err)
	f := newFirm(t, a)
	key := newKey(t, a, f.FirmID, auth.TierFull)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := a.HTTPServer()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		a.Close()
	})
	addr := ln.Addr().String()

	// request writes the head of a JSON request announcing a 200-byte body.
	request := func(conn net.Conn, path string, headers ...string) {
		t.Helper()
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 200\r\n", path, addr)
		for i := 0; i+1 < len(headers); i += 2 {
			head += headers[i] + ": " + headers[i+1] + "\r\n"
		}
		_, err := io.WriteString(conn, head+"\r\n{")
		require.NoError(t, err)
	}

	targets := []struct {
		name, path string
		headers    []string
	}{
		{"login (unauthenticated)", "/api/v1/auth/login", nil},
		{"public write", "/api/public/v1/notifications/emails", []string{"X-API-Key", key}},
	}
	var slowest time.Duration
	for _, tc := range targets {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer conn.Close()
		start := time.Now()
		request(conn, tc.path, tc.headers...)
		// One byte every 200 ms, until the server closes the connection.
		stop := make(chan struct{})
		go func() {
			tk := time.NewTicker(200 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		// A guard far beyond the deadline: without one the read below waits forever.
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*bodyTimeout)))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err, "%s: no response to a body trickled past the deadline", tc.name)
		require.Equal(t, http.StatusRequestTimeout, resp.StatusCode, tc.name)
		body, _ := io.ReadAll(resp.Body)
		require.Contains(t, string(body), `"request_timeout"`, tc.name)
		// The server closes the connection: the next read ends (EOF or reset), not at the guard.
		_, err = conn.Read(make([]byte, 1))
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "%s: connection still open %s after the request began", tc.name, time.Since(start))
		took := time.Since(start)
		close(stop)
		require.Less(t, took, bodyTimeout+time.Second, "%s: closed only after %s", tc.name, took)
		slowest = max(slowest, took)
	}

	// A client that sends part of the body and hangs up.
	for _, tc := range targets {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		request(conn, tc.path, tc.headers...)
		_, err = io.WriteString(conn, `"email": "gone`)
		require.NoError(t, err)
		require.NoError(t, conn.Close())
	}
	// Wait for the access log lines of all four requests (two trickled, two aborted).
	require.Eventually(t, func() bool {
		return strings.Count(logs.String(), `"msg":"request"`) == 2*len(targets)
	}, 5*time.Second, 20*time.Millisecond, "the aborted requests were not logged")
	out := logs.String()
	require.NotContains(t, out, `"level":"ERROR"`, "an aborted body is not a server error:\n%s", out)
	require.NotContains(t, out, `"status":500`, out)
	require.Equal(t, len(targets), strings.Count(out, `"status":499`), out)
	require.Contains(t, out, "client closed request")

	apitest.SecurityFinding(t, 5, "trickled bodies cut after %s (deadline %s), aborted bodies 499 with 0 ERROR lines", slowest.Round(10*time.Millisecond), bodyTimeout)
	testsummary.Printf("slow-bodies: trickled bodies answered 408 and cut after at most %s (deadline %s); aborted bodies logged 499 at info, 0 ERROR lines, 0 500s\n",
		slowest.Round(10*time.Millisecond), bodyTimeout)
}
