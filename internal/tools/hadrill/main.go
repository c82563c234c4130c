// Command hadrill runs the high-availability drills against real processes: the
// server binary, HAProxy, MinIO and PostgreSQL clusters on loopback.
//
//	hadrill scale-out   [flags]   three replicas behind HAProxy, one killed and restarted
//	hadrill failover    [flags]   primary and synchronous standby, primary stopped, standby promoted
//	hadrill restore     [flags]   pg_dump under load, restore, a server on the copy reads it back
//
// scale-out and restore need DATABASE_URL (run them through cmd/devdb); failover starts its own
// two clusters. Each prints progress on stderr and one summary line on stdout; it exits 1 when a
// pass condition fails. docs/ha-drills.md describes the drills and their measured results.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const usage = `usage: hadrill scale-out|failover|restore [flags]

  scale-out  three server processes behind HAProxy sharing PostgreSQL (DATABASE_URL) and MinIO;
             one replica is killed with SIGKILL during a mixed workload and started again
  failover   a primary and a synchronous standby; the primary is stopped (immediate) under write
             load and the standby promoted while the server keeps running
  restore    pg_dump of DATABASE_URL under write load, restored into a fresh database; a server on
             the copy (same object store) reads back the cases, referrals and documents

Run "hadrill COMMAND -h" for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fmt.Print(usage)
		return
	}
	run := map[string]func(context.Context, *common) error{
		"scale-out": scaleOut,
		"failover":  failover,
		"restore":   restore,
	}[cmd]
	if run == nil {
		fmt.Fprintf(os.Stderr, "hadrill: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	fs := flag.NewFlagSet("hadrill "+cmd, flag.ContinueOnError)
	c := &common{name: cmd}
	fs.StringVar(&c.bin, "bin", "bin/casexchange", "server binary")
	fs.StringVar(&c.minio, "minio", "", "MinIO binary (make ha-tools builds it)")
	fs.StringVar(&c.haproxy, "haproxy", "haproxy", "HAProxy binary")
	fs.DurationVar(&c.duration, "duration", 0, "length of the load phase (0: the drill's default)")
	fs.StringVar(&c.workDir, "work", "", "directory for logs and data (default: a temporary one, removed on success)")
	fs.StringVar(&c.resultFile, "result", "", "append the summary line to this file as well")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	os.Exit(c.main(ctx, run))
}

// common holds what every drill shares: flags, the processes it started and the work dir.
type common struct {
	name, bin, minio, haproxy string
	duration                  time.Duration
	workDir, resultFile       string
	keepWork                  bool

	mu    sync.Mutex
	procs []*proc
}

func (c *common) main(ctx context.Context, run func(context.Context, *common) error) int {
	if c.workDir == "" {
		dir, err := os.MkdirTemp("", "hadrill-"+c.name+"-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "hadrill:", err)
			return 1
		}
		c.workDir = dir
	} else {
		c.keepWork = true
		if err := os.MkdirAll(c.workDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "hadrill:", err)
			return 1
		}
	}
	// The PostgreSQL user (when we are root) must reach data directories below the work dir.
	_ = os.Chmod(c.workDir, 0o755)
	if abs, err := filepath.Abs(c.bin); err == nil {
		c.bin = abs
	}
	err := run(ctx, c)
	c.stopAll()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: FAILED: %v\n  logs kept in %s\n", c.name, err, c.workDir)
		return 1
	}
	if !c.keepWork {
		_ = os.RemoveAll(c.workDir)
	}
	return 0
}

// summary prints the drill's one line (and appends it to -result).
func (c *common) summary(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	fmt.Println(line)
	if c.resultFile != "" {
		if f, err := os.OpenFile(c.resultFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, line)
			_ = f.Close()
		}
	}
}

// logf prints progress on stderr, prefixed with the drill's name and the elapsed time.
func (c *common) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", c.name, fmt.Sprintf(format, args...))
}

// proc is a child process with its output in a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// start runs bin with args and env (added to ours), output to workDir/name.log.
func (c *common) start(name string, env []string, bin string, args ...string) (*proc, error) {
	logPath := filepath.Join(c.workDir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	// If we die, our children go too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p, nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the process to end (SIGTERM) and kills it after 15 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.kill()
	}
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// tail returns the last lines of the process's log, for error messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func (c *common) stopAll() {
	c.mu.Lock()
	procs := append([]*proc(nil), c.procs...)
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop() }()
	}
	wg.Wait()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitHTTP polls url until it answers 200, p exits or the timeout passes.
func waitHTTP(ctx context.Context, url string, p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	cl := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := cl.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if p != nil && !p.running() {
			return fmt.Errorf("%s exited before answering %s: %v\n%s", p.name, url, p.err, p.tail())
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("%s did not answer 200 within %s (last error %v)", url, timeout, err)
			if p != nil {
				msg += "\n" + p.tail()
			}
			return errors.New(msg)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runOut runs a command to completion and returns its stdout; stderr goes into the error.
func runOut(ctx context.Context, env []string, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

func itoa(n int) string { return strconv.Itoa(n) }
