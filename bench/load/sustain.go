package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sustainResult is what the sustained run measured (sustained.json).
type sustainResult struct {
	Date               time.Time
	Machine, Commit    string
	PGSettings         string
	LoadStart, LoadEnd string
	Dataset            datasetInfo
	Seed               int64
	Endpoints          []string
	PeakConc           int
	PeakDuration       time.Duration
	PeakRPS            float64
	Share              float64
	Duration           time.Duration
	TargetRPS          float64
	AchievedRPS        float64 // successful responses per second of the paced phase
	Sent, Errors       int
	Dropped            int    // requests not sent on time: maxInFlight requests were already waiting
	FirstError         string `json:",omitempty"`
	P50, P99           time.Duration
	// RSS of the paced phase: StartKB when it began (after the peak probe, which warms the
	// server up), EndKB when it ended, PeakKB the highest sample.
	RSS     rssSummary
	RSSAt1m int64
	Samples []rssSample // every second, from the start of the paced phase
	PerSec  []int       // successful responses per second of the paced phase
}

const maxInFlight = 2048

// runSustained measures the peak throughput of a mixed read workload (closed loop, concurrency
// 64, round robin over the read endpoints), then offers o.sustainShare of that rate open-loop
// (requests start on a fixed schedule, whatever the responses do) for o.sustain, sampling the
// server's RSS every second. It writes sustained.md, sustained.json and sustained.svg, and
// re-renders results.md when results.json is there.
func runSustained(ctx context.Context, o options) error {
	if o.dsn == "" {
		return fmt.Errorf("DATABASE_URL is required (make bench-sustained starts a private cluster)")
	}
	res := &sustainResult{Date: time.Now().UTC(), Machine: machine(), Commit: commit(), LoadStart: loadAvg(),
		Seed: o.seed, PeakConc: targetConc, PeakDuration: o.peakDuration, Share: o.sustainShare, Duration: o.sustain}
	tmp, err := os.MkdirTemp("", "cx-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	os.Setenv("CX_DATA_DIR", tmp)
	s, err := openScale(ctx, o, o.db, o.scale)
	if err != nil {
		return err
	}
	res.Dataset = s.info
	res.PGSettings = pgSettings(ctx, s.pool)
	fx, err := prepareReads(ctx, s)
	s.close()
	if err != nil {
		return err
	}
	ours, err := startOurs(ctx, o, s.dsn, tmp, "ours")
	if err != nil {
		return err
	}
	defer ours.stop()
	eps := endpoints(fx)
	for _, ep := range eps {
		res.Endpoints = append(res.Endpoints, ep.name)
	}
	headers := map[string]string{"X-API-Key": fx.key}

	// Peak: closed loop, mixed.
	fmt.Fprintf(os.Stderr, "peak probe: mixed reads at c=%d for %s\n", res.PeakConc, o.peakDuration)
	var next atomic.Int64
	mixed := func() endpoint { return eps[int(next.Add(1))%len(eps)] }
	peak := loadMixed(ctx, ours.url, mixed, res.PeakConc, 2*time.Second, o.peakDuration, headers)
	res.PeakRPS = peak.RPS
	if peak.Errors > 0 {
		return fmt.Errorf("peak probe: %d errors (%s)", peak.Errors, peak.FirstError)
	}
	res.TargetRPS = res.PeakRPS * o.sustainShare
	fmt.Fprintf(os.Stderr, "peak %.0f req/s (p50 %s, p99 %s); offering %.0f req/s for %s\n", peak.RPS, ms(peak.P50), ms(peak.P99), res.TargetRPS, o.sustain)

	// Paced phase.
	rss := &rssSampler{pid: ours.cmd.Process.Pid, every: time.Second}
	rss.start()
	interval := time.Duration(float64(time.Second) / res.TargetRPS)
	var (
		wg       sync.WaitGroup
		inFlight atomic.Int64
		errs     atomic.Int64
		dropped  atomic.Int64
		firstErr atomic.Value
		mu       sync.Mutex
		lat      []time.Duration
	)
	secs := int(o.sustain / time.Second)
	perSec := make([]atomic.Int64, secs+1)
	t0 := time.Now()
	end := t0.Add(o.sustain)
	for i := 0; ; i++ {
		at := t0.Add(time.Duration(i) * interval)
		if !at.Before(end) {
			break
		}
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		if inFlight.Load() >= maxInFlight {
			dropped.Add(1)
			continue
		}
		inFlight.Add(1)
		wg.Add(1)
		ep := mixed()
		go func() {
			defer wg.Done()
			defer inFlight.Add(-1)
			failed, why := do(ctx, ours.url, ep, ep.path, headers)
			d := time.Since(at) // from the scheduled start: waiting for a slot counts
			if failed {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, ep.name+": "+why)
				return
			}
			if sec := int(time.Since(t0) / time.Second); sec < len(perSec) {
				perSec[sec].Add(1)
			}
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		}()
		if i%int(max(1, res.TargetRPS*10)) == 0 && i > 0 {
			el := time.Since(t0)
			fmt.Fprintf(os.Stderr, "\r%4.0fs / %s  rss %s  errors %d  dropped %d   ", el.Seconds(), o.sustain, mb(rss.latest()), errs.Load(), dropped.Load())
		}
	}
	elapsed := time.Since(t0)
	wg.Wait()
	rss.stop()
	fmt.Fprintln(os.Stderr)
	ours.stop()

	res.Sent = len(lat) + int(errs.Load())
	res.Errors, res.Dropped = int(errs.Load()), int(dropped.Load())
	if v := firstErr.Load(); v != nil {
		res.FirstError = v.(string)
	}
	res.AchievedRPS = float64(len(lat)) / elapsed.Seconds()
	res.P50, res.P99 = percentiles(lat)
	res.RSS = rss.summary()
	rss.mu.Lock()
	res.Samples = rss.samples
	rss.mu.Unlock()
	for _, x := range res.Samples {
		if x.At >= time.Minute {
			res.RSSAt1m = x.KB
			break
		}
	}
	for i := range secs {
		res.PerSec = append(res.PerSec, int(perSec[i].Load()))
	}
	res.LoadEnd = loadAvg()
	fmt.Fprintf(os.Stderr, "achieved %.0f req/s, %d errors, %d dropped; RSS start %s, end %s, max %s\n",
		res.AchievedRPS, res.Errors, res.Dropped, mb(res.RSS.StartKB), mb(res.RSS.EndKB), mb(res.RSS.PeakKB))

	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := saveJSON(filepath.Join(o.out, "sustained.json"), res); err != nil {
		return err
	}
	if err := writeSustainedSVG(filepath.Join(o.out, "sustained.svg"), res); err != nil {
		return err
	}
	if err := writeSustainedMD(filepath.Join(o.out, "sustained.md"), res); err != nil {
		return err
	}
	return nil
}

// loadMixed is load over a workload whose endpoint pick() chooses per request.
func loadMixed(ctx context.Context, base string, pick func() endpoint, conc int, warmup, duration time.Duration, headers map[string]string) stats {
	var (
		mu        sync.Mutex
		lat       []time.Duration
		errs      atomic.Int64
		firstErr  atomic.Value
		measuring atomic.Bool
		wg        sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for ctx.Err() == nil {
				ep := pick()
				t0 := time.Now()
				failed, why := do(ctx, base, ep, ep.path, headers)
				d := time.Since(t0)
				if ctx.Err() != nil || !measuring.Load() {
					continue
				}
				local = append(local, d)
				if failed {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, ep.name+": "+why)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	time.Sleep(warmup)
	measuring.Store(true)
	t0 := time.Now()
	time.Sleep(duration)
	elapsed := time.Since(t0)
	measuring.Store(false)
	cancel()
	wg.Wait()
	s := stats{Requests: len(lat), Errors: int(errs.Load()), RPS: float64(len(lat)) / elapsed.Seconds()}
	s.P50, s.P99 = percentiles(lat)
	if v := firstErr.Load(); v != nil {
		s.FirstError = v.(string)
	}
	return s
}

func writeSustainedMD(path string, r *sustainResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Sustained run\n\n")
	fmt.Fprintf(&b, "- Date: %s\n- Machine: %s\n- Commit: %s\n", r.Date.Format("2006-01-02 15:04 MST"), r.Machine, r.Commit)
	fmt.Fprintf(&b, "- Load average (1/5/15 min) at the start: %s; at the end: %s (%d CPUs)\n", r.LoadStart, r.LoadEnd, runtime.NumCPU())
	fmt.Fprintf(&b, "- PostgreSQL: %s\n", r.PGSettings)
	fmt.Fprintf(&b, "- Dataset: %s\n", describe(r.Dataset, r.Seed))
	fmt.Fprintf(&b, "- Workload: round robin over %s\n", strings.Join(r.Endpoints, ", "))
	fmt.Fprintf(&b, "- Peak: %.0f req/s, closed loop at concurrency %d for %s (after a 2 s warm-up); it also warms the server up.\n", r.PeakRPS, r.PeakConc, r.PeakDuration)
	fmt.Fprintf(&b, "- Paced phase: %s offering %.0f req/s (%.0f%% of the peak) open-loop: each request starts on a fixed schedule\n  whatever the earlier ones do, and its latency counts from its scheduled start.\n\n", r.Duration, r.TargetRPS, r.Share*100)
	grow := float64(r.RSS.EndKB-r.RSS.StartKB) / 1024
	b.WriteString("| Measure | Value | Target |\n|---|---:|---|\n")
	fmt.Fprintf(&b, "| Achieved rate (successful responses/s) | %.0f of %.0f offered | |\n", r.AchievedRPS, r.TargetRPS)
	fmt.Fprintf(&b, "| Requests sent | %d | |\n", r.Sent)
	fmt.Fprintf(&b, "| Errors | %d | 0 (%s) |\n", r.Errors, passFail(r.Errors == 0))
	fmt.Fprintf(&b, "| Not sent on time (%d already in flight) | %d | |\n", maxInFlight, r.Dropped)
	fmt.Fprintf(&b, "| Latency p50 / p99 | %s / %s | |\n", ms(r.P50), ms(r.P99))
	fmt.Fprintf(&b, "| RSS at the start of the paced phase | %s | |\n", mb(r.RSS.StartKB))
	if r.RSSAt1m > 0 {
		fmt.Fprintf(&b, "| RSS after 1 minute | %s | |\n", mb(r.RSSAt1m))
	}
	fmt.Fprintf(&b, "| RSS at the end | %s (%+.1f MB) | end - start <= %.0f MB (%s) |\n", mb(r.RSS.EndKB), grow, targetRSSGrowthMB, passFail(grow <= targetRSSGrowthMB))
	fmt.Fprintf(&b, "| RSS max | %s | < %.0f MB (%s) |\n", mb(r.RSS.PeakKB), targetRSSMB, passFail(float64(r.RSS.PeakKB)/1024 < targetRSSMB))
	if r.FirstError != "" {
		fmt.Fprintf(&b, "\nFirst error: %s\n", md(r.FirstError))
	}
	b.WriteString("\n![RSS and throughput over the paced phase](sustained.svg)\n\nRSS every minute: ")
	var marks []string
	for _, x := range r.Samples {
		if x.At%time.Minute < time.Second {
			marks = append(marks, fmt.Sprintf("%dm %s", int(x.At/time.Minute), mb(x.KB)))
		}
	}
	b.WriteString(strings.Join(marks, ", ") + ".\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// writeSustainedSVG plots RSS (MB) and successful responses per second over the paced phase.
func writeSustainedSVG(path string, r *sustainResult) error {
	const w, h, left, right, top, bottom = 760, 320, 60, 60, 40, 40
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	span := r.Duration.Seconds()
	maxMB, maxRate := targetRSSMB, 1.0
	for _, x := range r.Samples {
		maxMB = max(maxMB, float64(x.KB)/1024)
	}
	for _, n := range r.PerSec {
		maxRate = max(maxRate, float64(n))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="10" y="20" font-size="14" font-weight="bold">Sustained run: RSS (blue, MB, left) and successful responses/s (grey, right)</text>`+"\n")
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#ccc"/>`+"\n", left, top, pw, ph)
	ty := top + ph*(1-targetRSSMB/maxMB)
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#e53e3e" stroke-dasharray="4"/><text x="%d" y="%.1f" fill="#e53e3e">%.0f MB target</text>`+"\n",
		left, ty, float64(left)+pw, ty, left+4, ty-3, targetRSSMB)
	var pts []string
	for i, n := range r.PerSec {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", float64(left)+pw*float64(i)/max(span, 1), float64(top)+ph*(1-float64(n)/maxRate)))
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#a0aec0" points="%s"/>`+"\n", strings.Join(pts, " "))
	pts = pts[:0]
	for _, x := range r.Samples {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", float64(left)+pw*x.At.Seconds()/max(span, 1), float64(top)+ph*(1-float64(x.KB)/1024/maxMB)))
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="%s"/>`+"\n", strings.Join(pts, " "))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%.0f</text><text x="%d" y="%d" text-anchor="end">0</text>`+"\n", left-4, top+8, maxMB, left-4, top+int(ph))
	fmt.Fprintf(&b, `<text x="%.0f" y="%d">%.0f</text><text x="%.0f" y="%d">0</text>`+"\n", float64(left)+pw+4, top+8, maxRate, float64(left)+pw+4, top+int(ph))
	fmt.Fprintf(&b, `<text x="%d" y="%d">0 s</text><text x="%.0f" y="%d" text-anchor="end">%.0f s</text>`+"\n", left, h-bottom+16, float64(left)+pw, h-bottom+16, span)
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
