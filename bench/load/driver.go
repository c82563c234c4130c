package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type endpoint struct {
	name, method, path, body string
	read                     bool
	// For write endpoints: ids consumed one per request ("{id}" in path), one supply per target.
	oursIDs, baseIDs chan string
}

// proc is a server started by the driver.
type proc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

func start(ctx context.Context, bin string, args []string, dir, name string, env []string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if name == "limit" {
		args = append(args, "-addr", addr)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), "CX_HTTP_ADDR="+addr), env...)
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, url: "http://" + addr + "/api/public/v1", done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.done:
			deadline = time.Now()
		case <-time.After(100 * time.Millisecond):
		}
	}
	p.stop()
	b, _ := os.ReadFile(logf.Name())
	return nil, fmt.Errorf("%s did not start listening on %s:\n%s", name, addr, b)
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s); it may be called more than once.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// stats are the measurements of one run.
type stats struct {
	Requests, Errors int
	RPS              float64
	P50, P99         time.Duration
	FirstError       string `json:",omitempty"`
}

type cell struct {
	Name       string
	Read       bool
	Conc       int
	Ours, Base stats
}

var client = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute},
}

// do sends one request and reports whether it failed (transport error or status >= 300).
func do(ctx context.Context, base string, ep endpoint, path string, headers map[string]string) (failed bool, why string) {
	var body io.Reader
	if ep.body != "" {
		body = strings.NewReader(ep.body)
	}
	req, _ := http.NewRequestWithContext(ctx, ep.method, base+path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	var status int
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	if err != nil || status >= 300 {
		return true, fmt.Sprintf("status %d %v", status, err)
	}
	return false, ""
}

// load runs conc workers against base+ep.path for the warm-up then the measured duration.
func load(ctx context.Context, base string, ep endpoint, ids chan string, conc int, o options, headers map[string]string) stats {
	var (
		mu        sync.Mutex
		lat       []time.Duration
		errs      atomic.Int64
		firstErr  atomic.Value
		measuring atomic.Bool
		exhausted atomic.Bool
		wg        sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			for ctx.Err() == nil {
				path := ep.path
				if ids != nil {
					id, ok := <-ids
					if !ok {
						exhausted.Store(true)
						break
					}
					path = strings.Replace(path, "{id}", id, 1)
				}
				t0 := time.Now()
				failed, why := do(ctx, base, ep, path, headers)
				d := time.Since(t0)
				if ctx.Err() != nil {
					break
				}
				if !measuring.Load() {
					continue
				}
				local = append(local, d)
				if failed {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, why)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	time.Sleep(o.warmup)
	measuring.Store(true)
	t0 := time.Now()
	time.Sleep(o.duration)
	elapsed := time.Since(t0)
	measuring.Store(false)
	cancel()
	wg.Wait()
	s := stats{Requests: len(lat), Errors: int(errs.Load()), RPS: float64(len(lat)) / elapsed.Seconds()}
	s.P50, s.P99 = percentiles(lat)
	if v := firstErr.Load(); v != nil {
		s.FirstError = v.(string)
	}
	if exhausted.Load() {
		s.FirstError = strings.TrimPrefix(s.FirstError+"; ", "; ") + "ran out of prepared referrals before the end (throughput understated)"
	}
	return s
}

func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	return lat[len(lat)*50/100], lat[min(len(lat)-1, len(lat)*99/100)]
}

// rssSampler records the resident set size of a process from /proc.
type rssSampler struct {
	pid     int
	every   time.Duration
	samples []rssSample
	mu      sync.Mutex
	done    chan struct{}
	wg      sync.WaitGroup
}

type rssSample struct {
	At time.Duration // since the sampler started
	KB int64
}

// rssSummary is what the results keep of a sampling.
type rssSummary struct {
	StartKB, PeakKB, EndKB int64
	Samples                int
}

func (r *rssSampler) start() {
	r.done = make(chan struct{})
	r.wg.Add(1)
	t0 := time.Now()
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.every)
		defer t.Stop()
		for {
			if kb := readRSS(r.pid); kb > 0 {
				r.mu.Lock()
				r.samples = append(r.samples, rssSample{At: time.Since(t0), KB: kb})
				r.mu.Unlock()
			}
			select {
			case <-r.done:
				return
			case <-t.C:
			}
		}
	}()
}

func (r *rssSampler) stop() { close(r.done); r.wg.Wait() }

// latest returns the last sample (0 before the first).
func (r *rssSampler) latest() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples) == 0 {
		return 0
	}
	return r.samples[len(r.samples)-1].KB
}

func (r *rssSampler) summary() rssSummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s rssSummary
	s.Samples = len(r.samples)
	if len(r.samples) == 0 {
		return s
	}
	s.StartKB, s.EndKB = r.samples[0].KB, r.samples[len(r.samples)-1].KB
	for _, x := range r.samples {
		s.PeakKB = max(s.PeakKB, x.KB)
	}
	return s
}

func readRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func machine() string {
	mem := "?"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s RAM, %s/%s, %s", runtime.NumCPU(), cpu, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// loadAvg is the 1/5/15-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}
