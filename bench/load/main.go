// Command load is the benchmark driver of `make bench`. Over one database (DATABASE_URL) it
// seeds the scale dataset when missing, starts our server (bin/casexchange serve) and the
// baseline (bench/baseline), then runs each endpoint at each concurrency level against both,
// interleaved (ours, then the baseline, cell after cell), and writes bench/results/results.md,
// throughput.svg and plans.md (EXPLAIN (ANALYZE, BUFFERS) of the queries behind the endpoints).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	dbfs "github.com/casexchange/server/db"
	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/seed"
)

type options struct {
	dsn, serverBin, baselineBin, out string
	scale                            int
	seed                             int64
	duration, warmup                 time.Duration
	conc                             []int
	writeConc, writePool             int
}

func main() {
	var o options
	var conc string
	flag.StringVar(&o.dsn, "dsn", os.Getenv("DATABASE_URL"), "database (default DATABASE_URL)")
	flag.StringVar(&o.serverBin, "server", "bin/casexchange", "our server binary")
	flag.StringVar(&o.baselineBin, "baseline", "bin/bench-baseline", "baseline server binary")
	flag.StringVar(&o.out, "out", "bench/results", "results directory")
	flag.IntVar(&o.scale, "scale", 10, "firms to seed when the database holds no scale data (~1000 referrals each)")
	flag.Int64Var(&o.seed, "seed", 1, "dataset seed")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "measured time per cell")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured time before each cell")
	flag.StringVar(&conc, "concurrency", "1,16,64", "concurrency levels")
	flag.IntVar(&o.writeConc, "write-concurrency", 16, "the concurrency level (of -concurrency) the write endpoints run at")
	flag.IntVar(&o.writePool, "write-pool", 1500, "fresh referrals prepared per server for begin-investigating")
	flag.Parse()
	for _, s := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bad -concurrency %q\n", conc)
			os.Exit(2)
		}
		o.conc = append(o.conc, n)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// fixtures are the ids and parameters the endpoints are called with.
type fixtures struct {
	firm, key              string
	writer, writerKey      string // the firm the write endpoints act as: not firm, so its feed stays still
	sender                 string // a firm that sends to firm
	caseType, jurisdiction string
	oursFresh, baseFresh   chan string // under_evaluation referrals received by firm
	caseID, caseRef        string
	deepPage               int
	since                  time.Time
	referrals, statusCount int64
}

type endpoint struct {
	name, method, path, body string
	read                     bool
	// For write endpoints: ids consumed one per request ("{id}" in path), one supply per target.
	oursIDs, baseIDs chan string
}

func run(ctx context.Context, o options) error {
	if o.dsn == "" {
		return errors.New("DATABASE_URL is required (make bench starts a private cluster)")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pool, err := postgres.Open(ctx, o.dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool, dbfs.Migrations); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := jobs.Migrate(ctx, pool); err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	tmp, err := os.MkdirTemp("", "cx-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	os.Setenv("CX_DATA_DIR", tmp)
	os.Setenv("DATABASE_URL", o.dsn)

	fx, seedTime, err := prepare(ctx, o, pool, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "dataset: %d referrals, %d status updates; firm %s\n", fx.referrals, fx.statusCount, fx.firm)

	ours, err := start(ctx, o.serverBin, []string{"serve"}, tmp, "ours", []string{
		"CX_SEED=false", "CX_RATE_LIMIT_FULL=1000000000", "CX_LOG_LEVEL=warn"})
	if err != nil {
		return err
	}
	defer ours.stop()
	base, err := start(ctx, o.baselineBin, nil, tmp, "baseline", nil)
	if err != nil {
		return err
	}
	defer base.stop()

	eps := []endpoint{
		{name: "GET /sent-cases (page 1)", method: "GET", path: "/sent-cases?limit=20", read: true},
		{name: "GET /sent-cases (deep page, search)", method: "GET", path: fmt.Sprintf("/sent-cases?limit=20&search=Law&page=%d", fx.deepPage), read: true},
		{name: "GET /received-referrals?status=investigating", method: "GET", path: "/received-referrals?status=investigating&limit=20", read: true},
		{name: "GET /status-updates?updatedSince", method: "GET", path: "/status-updates?limit=20&updatedSince=" + fx.since.Format(time.RFC3339), read: true},
		{name: "GET /sent-cases/{uuid}", method: "GET", path: "/sent-cases/" + fx.caseID, read: true},
		{name: "GET /sent-cases/{referenceNumber}", method: "GET", path: "/sent-cases/" + fx.caseRef, read: true},
		{name: "GET /analytics/homepage", method: "GET", path: "/analytics/homepage", read: true},
	}
	eps = append(eps,
		endpoint{name: "POST /received-referrals/{id}/begin-investigating", method: "POST", path: "/received-referrals/{id}/begin-investigating",
			body: "{}", oursIDs: fx.oursFresh, baseIDs: fx.baseFresh},
		endpoint{name: "POST /sent-cases (sent to a partner)", method: "POST", path: "/sent-cases", body: fmt.Sprintf(
			`{"title":"Bench case","caseType":%q,"jurisdiction":%q,"clientFirstName":"Bench","clientLastName":"Client","referentFirmId":%q}`,
			fx.caseType, fx.jurisdiction, fx.sender)},
	)
	var results []cell
	rss := &rssSampler{pid: ours.cmd.Process.Pid}
	rss.start()
	for _, c := range o.conc {
		for _, ep := range eps {
			if !ep.read && c != o.writeConc {
				continue
			}
			r := cell{ep: ep, conc: c}
			key, firm := fx.key, fx.firm
			if !ep.read {
				key, firm = fx.writerKey, fx.writer
			}
			r.ours = load(ctx, ours.url, ep, ep.oursIDs, c, o, map[string]string{"X-API-Key": key})
			r.base = load(ctx, base.url, ep, ep.baseIDs, c, o, map[string]string{"X-Firm-Id": firm})
			fmt.Fprintf(os.Stderr, "c=%-3d %-45s ours %8.0f req/s p50 %7s p99 %7s err %d | baseline %8.0f req/s p50 %7s p99 %7s err %d\n",
				c, ep.name, r.ours.rps, ms(r.ours.p50), ms(r.ours.p99), r.ours.errors, r.base.rps, ms(r.base.p50), ms(r.base.p99), r.base.errors)
			results = append(results, r)
		}
	}
	rss.stop()

	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := writeMarkdown(filepath.Join(o.out, "results.md"), o, fx, seedTime, results, rss); err != nil {
		return err
	}
	if err := writeSVG(filepath.Join(o.out, "throughput.svg"), results); err != nil {
		return err
	}
	return writePlans(ctx, filepath.Join(o.out, "plans.md"), pool, fx)
}

// prepare seeds the dataset when missing, creates a FULL key for the first scale firm and
// picks the endpoint parameters.
func prepare(ctx context.Context, o options, pool *pgxpool.Pool, log *slog.Logger) (fixtures, time.Duration, error) {
	var fx fixtures
	cfg, err := config.Load()
	if err != nil {
		return fx, 0, err
	}
	a, err := app.New(ctx, cfg, pool, log, app.Options{})
	if err != nil {
		return fx, 0, err
	}
	defer a.Close()
	var seedTime time.Duration
	var seeded bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM firms WHERE slug = $1)`, seed.ScaleSlug(0)).Scan(&seeded); err != nil {
		return fx, 0, err
	}
	if !seeded {
		fmt.Fprintf(os.Stderr, "seeding %d firms (~%d referrals)\n", o.scale, o.scale*seed.ScaleReferralsPerFirm)
		t0 := time.Now()
		if err := seed.Scale(ctx, a, pool, o.scale, o.seed, importer.ProgressBar(os.Stderr, 40)); err != nil {
			return fx, 0, err
		}
		seedTime = time.Since(t0)
		fmt.Fprintf(os.Stderr, "\nseeded in %s\n", seedTime.Round(time.Millisecond))
	}
	f, err := a.Firms.Lookup(ctx, seed.ScaleSlug(0))
	if err != nil {
		return fx, 0, err
	}
	fx.firm = f.ID.String()
	k, err := a.Auth.CreateKeyForFirm(ctx, f.ID, auth.KeyInput{Name: "bench " + time.Now().Format(time.RFC3339), Tier: auth.TierFull})
	if err != nil {
		return fx, 0, err
	}
	fx.key = k.Key
	w, err := a.Firms.Lookup(ctx, seed.ScaleSlug(1))
	if err != nil {
		return fx, 0, err
	}
	fx.writer = w.ID.String()
	if k, err = a.Auth.CreateKeyForFirm(ctx, w.ID, auth.KeyInput{Name: "bench writer " + time.Now().Format(time.RFC3339), Tier: auth.TierFull}); err != nil {
		return fx, 0, err
	}
	fx.writerKey = k.Key
	var caseID uuid.UUID
	var cases int
	if err := pool.QueryRow(ctx, `
		SELECT c.id, c.reference_number, (SELECT count(*) FROM base_cases WHERE owner_firm_id = $1)
		FROM base_cases c WHERE c.owner_firm_id = $1 ORDER BY c.created_at LIMIT 1 OFFSET 100`, f.ID).Scan(&caseID, &fx.caseRef, &cases); err != nil {
		return fx, 0, fmt.Errorf("pick a case: %w", err)
	}
	fx.caseID = caseID.String()
	fx.deepPage = max(1, cases/20-1)
	// A poller that last looked two days before the firm's newest entry.
	if err := pool.QueryRow(ctx, `SELECT max(created_at) - interval '2 days' FROM status_updates WHERE referring_firm_id = $1 OR referent_firm_id = $1`, f.ID).Scan(&fx.since); err != nil {
		return fx, 0, err
	}
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM referrals), (SELECT count(*) FROM status_updates)`).Scan(&fx.referrals, &fx.statusCount); err != nil {
		return fx, 0, err
	}
	return fx, seedTime, prepareWrites(ctx, o, a, pool, &fx)
}

// prepareWrites picks the POST /sent-cases parameters and creates, through the referral
// service, o.writePool acknowledged (under_evaluation) referrals per server, sent to the
// writer firm by a partner, for begin-investigating to consume. Neither touches the reading
// firm, so the writes leave its status-update feed as it was.
func prepareWrites(ctx context.Context, o options, a *app.App, pool *pgxpool.Pool, fx *fixtures) error {
	firm, reader := uuid.MustParse(fx.writer), uuid.MustParse(fx.firm)
	var sender uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT to_firm_id FROM network_relationships WHERE from_firm_id = $1 AND to_firm_id <> $2 AND status = 'active' ORDER BY to_firm_id LIMIT 1`, firm, reader).Scan(&sender); err != nil {
		return fmt.Errorf("pick a partner (scale needs at least 3 firms): %w", err)
	}
	var from uuid.UUID // a firm sending to the writer firm
	if err := pool.QueryRow(ctx, `SELECT from_firm_id FROM network_relationships WHERE to_firm_id = $1 AND from_firm_id <> $2 AND status = 'active' ORDER BY from_firm_id LIMIT 1`, firm, reader).Scan(&from); err != nil {
		return fmt.Errorf("pick a sender (scale needs at least 3 firms): %w", err)
	}
	fx.sender = sender.String()
	if err := pool.QueryRow(ctx, `
		SELECT ct.name, (SELECT code FROM jurisdictions WHERE kind = 'state' ORDER BY code LIMIT 1)
		FROM case_types ct WHERE ct.is_active AND NOT EXISTS (SELECT 1 FROM case_type_fields f WHERE f.case_type_id = ct.id AND f.is_required)
		ORDER BY ct.sort_order LIMIT 1`).Scan(&fx.caseType, &fx.jurisdiction); err != nil {
		return fmt.Errorf("pick a case type: %w", err)
	}
	fmt.Fprintf(os.Stderr, "preparing %d fresh referrals per server for begin-investigating\n", o.writePool)
	fx.oursFresh, fx.baseFresh = make(chan string, o.writePool), make(chan string, o.writePool)
	ref := a.Server.Referrals
	work := make(chan chan string)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for dst := range work {
				v, err := ref.CreateCase(ctx, referrals.Actor{FirmID: from}, referrals.CreateCaseInput{
					Title: "Bench fresh referral", CaseType: fx.caseType, Jurisdiction: fx.jurisdiction,
					ClientFirstName: "Fresh", ClientLastName: "Client", ReferentFirmID: &firm,
				})
				if err == nil && v.Current == nil {
					err = errors.New("the case has no referral")
				}
				if err == nil {
					_, err = ref.Act(ctx, referrals.Actor{FirmID: firm}, referrals.Selector{Key: v.Current.ReferenceNumber, Receiving: true},
						referrals.ActionAcknowledge, referrals.ActionInput{})
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				dst <- v.Current.ReferenceNumber
			}
		}()
	}
	for range o.writePool {
		work <- fx.oursFresh
		work <- fx.baseFresh
	}
	close(work)
	wg.Wait()
	close(fx.oursFresh)
	close(fx.baseFresh)
	if v := firstErr.Load(); v != nil {
		return fmt.Errorf("prepare fresh referrals: %w", v.(error))
	}
	return nil
}

// proc is a server started by the driver.
type proc struct {
	cmd *exec.Cmd
	url string
}

func start(ctx context.Context, bin string, args []string, dir, name string, env []string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if name == "baseline" {
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
	p := &proc{cmd: cmd, url: "http://" + addr + "/api/public/v1"}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return p, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	b, _ := os.ReadFile(logf.Name())
	return nil, fmt.Errorf("%s did not start listening on %s:\n%s", name, addr, b)
}

func (p *proc) stop() {
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
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
	requests, errors int
	rps              float64
	p50, p99         time.Duration
	firstError       string
}

type cell struct {
	ep         endpoint
	conc       int
	ours, base stats
}

var client = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
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
				t0 := time.Now()
				resp, err := client.Do(req)
				var status int
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				d := time.Since(t0)
				if ctx.Err() != nil {
					break
				}
				if !measuring.Load() {
					continue
				}
				local = append(local, d)
				if err != nil || status >= 300 {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d %v", status, err))
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
	slices.Sort(lat)
	s := stats{requests: len(lat), errors: int(errs.Load()), rps: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		s.p50 = lat[len(lat)*50/100]
		s.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	if v := firstErr.Load(); v != nil {
		s.firstError = v.(string)
	}
	if exhausted.Load() {
		s.firstError = strings.TrimPrefix(s.firstError+"; ", "; ") + "ran out of prepared referrals before the end (throughput understated)"
	}
	return s
}

// rssSampler records the resident set size of a process from /proc.
type rssSampler struct {
	pid             int
	first, last, hi int64 // kB
	done            chan struct{}
	wg              sync.WaitGroup
}

func (r *rssSampler) start() {
	r.done = make(chan struct{})
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if kb := readRSS(r.pid); kb > 0 {
				if r.first == 0 {
					r.first = kb
				}
				r.last, r.hi = kb, max(r.hi, kb)
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

func writeMarkdown(path string, o options, fx fixtures, seedTime time.Duration, cells []cell, rss *rssSampler) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark results\n\n")
	fmt.Fprintf(&b, "- Date: %s\n- Machine: %s\n- Commit: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), commit())
	fmt.Fprintf(&b, "- Dataset: %d referrals, %d status updates (scale %d firms, seed %d)", fx.referrals, fx.statusCount, o.scale, o.seed)
	if seedTime > 0 {
		fmt.Fprintf(&b, ", seeded in %s", seedTime.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "\n- Reads act as the first scale firm; writes as the second (begin-investigating on referrals prepared and acknowledged before the run; POST /sent-cases sends each new case to a partner).\n- Each cell: %s warm-up, then %s measured; ours then baseline, interleaved per cell. The client runs on the same machine.\n", o.warmup, o.duration)
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(&b, "- Load average when the run ended (1/5/15 min): %s (other processes share the machine)\n", strings.Join(strings.Fields(string(la))[:3], " "))
	}
	fmt.Fprintf(&b, "- Our server RSS during the run: start %.1f MB, peak %.1f MB, end %.1f MB\n\n", float64(rss.first)/1024, float64(rss.hi)/1024, float64(rss.last)/1024)
	b.WriteString("| Endpoint | Conc. | Ours req/s | Base req/s | Ratio | Ours p50 | Base p50 | Ours p99 | Base p99 | p99 ratio | Errors (ours/base) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range cells {
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %d/%d |\n", c.ep.name, c.conc, c.ours.rps, c.base.rps,
			ratio(c.ours.rps, c.base.rps), ms(c.ours.p50), ms(c.base.p50), ms(c.ours.p99), ms(c.base.p99),
			ratio(float64(c.ours.p99), float64(c.base.p99)), c.ours.errors, c.base.errors)
	}
	var errs []string
	for _, c := range cells {
		if c.ours.firstError != "" {
			errs = append(errs, fmt.Sprintf("- ours, %s c=%d: %s", c.ep.name, c.conc, c.ours.firstError))
		}
		if c.base.firstError != "" {
			errs = append(errs, fmt.Sprintf("- baseline, %s c=%d: %s", c.ep.name, c.conc, c.base.firstError))
		}
	}
	if len(errs) > 0 {
		b.WriteString("\nFirst error per cell:\n\n" + strings.Join(errs, "\n") + "\n")
	}
	b.WriteString(`
Ratio is ours/baseline throughput (target at concurrency 64: >= 0.8); p99 ratio is ours/baseline
p99 (target: <= 1.5). The baseline runs the same domain call (same SQL, same pool settings) behind
a bare Echo with no middleware, and encodes the domain result as JSON.
`)
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// writeSVG draws two panels of horizontal bars, throughput and p99, ours against the baseline.
func writeSVG(path string, cells []cell) error {
	const (
		labelW, barW, rowH, gap, top = 360, 420, 22, 10, 50
	)
	rows := len(cells)
	panelH := rows*(2*rowH/2+gap) + 40
	h := top + 2*panelH + 40
	w := labelW + barW + 120
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="10" y="20" font-size="15" font-weight="bold">CaseXchange vs baseline</text>`+"\n")
	fmt.Fprintf(&b, `<rect x="%d" y="8" width="12" height="10" fill="#2b6cb0"/><text x="%d" y="17">ours</text><rect x="%d" y="8" width="12" height="10" fill="#a0aec0"/><text x="%d" y="17">baseline</text>`+"\n",
		labelW, labelW+16, labelW+70, labelW+86)
	panel := func(y0 int, title string, val func(stats) float64, unit string) {
		maxV := 0.0
		for _, c := range cells {
			maxV = max(maxV, val(c.ours), val(c.base))
		}
		if maxV == 0 {
			maxV = 1
		}
		fmt.Fprintf(&b, `<text x="10" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", y0, title)
		y := y0 + 12
		for _, c := range cells {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s c=%d</text>`+"\n", labelW-8, y+14, esc(c.ep.name), c.conc)
			for i, s := range []stats{c.ours, c.base} {
				v := val(s)
				bw := int(v / maxV * barW)
				color := []string{"#2b6cb0", "#a0aec0"}[i]
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/><text x="%d" y="%d">%.1f %s</text>`+"\n",
					labelW, y+i*rowH/2, max(bw, 1), rowH/2-1, color, labelW+bw+4, y+i*rowH/2+9, v, unit)
			}
			y += rowH + gap
		}
	}
	panel(top, "Throughput (requests/s, higher is better)", func(s stats) float64 { return s.rps }, "req/s")
	panel(top+panelH, "p99 latency (ms, lower is better)", func(s stats) float64 { return float64(s.p99.Microseconds()) / 1000 }, "ms")
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
