// Command load is the benchmark driver of `make bench` and `make bench-sustained`.
//
// DATABASE_URL names a database of a PostgreSQL cluster; the driver keeps each dataset in its
// own database of that cluster (cx_bench_s<N> for scale N, -db to name another), creating and
// seeding it only when absent, so a persistent cluster keeps a large dataset between runs.
//
// The matrix run seeds the scale dataset when missing, starts our server (bin/casexchange serve)
// and the baseline (bench/baseline), then runs each endpoint at each concurrency level against
// both, interleaved (ours, then the baseline, cell after cell). With -growth-scale below -scale
// it also serves the small dataset with a second instance of our server and runs the read
// endpoints against it right after their large-scale cell, for the growth table. It times a
// CSV import against a raw COPY of the same rows (-import-rows) and writes, to -out,
// results.md (tables and target verdicts), results.json, throughput.svg and plans.md
// (EXPLAIN (ANALYZE, BUFFERS) of every query behind each read endpoint, at -scale).
//
// With -sustain D it runs the sustained memory check instead (see sustain.go) and writes
// sustained.md and sustained.json, then refreshes the targets of results.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type options struct {
	dsn, serverBin, baselineBin, out string
	scale                            int
	db                               string // database of -scale ("" = cx_bench_s<scale>)
	growthScale                      int    // 0: no growth run
	growthDB                         string
	growthConc                       int
	seed                             int64
	duration, warmup                 time.Duration
	conc                             []int
	writeConc, writePool             int
	importRows                       int
	sustain                          time.Duration
	sustainShare                     float64
	peakDuration                     time.Duration
}

func main() {
	var o options
	var conc string
	flag.StringVar(&o.dsn, "dsn", os.Getenv("DATABASE_URL"), "any database of the cluster (default DATABASE_URL); the datasets get their own databases")
	flag.StringVar(&o.serverBin, "server", "bin/casexchange", "our server binary")
	flag.StringVar(&o.baselineBin, "baseline", "bin/bench-baseline", "baseline server binary")
	flag.StringVar(&o.out, "out", "bench/results", "results directory")
	flag.IntVar(&o.scale, "scale", 10, "firms of the dataset (~1000 referrals each), seeded when its database is absent")
	flag.StringVar(&o.db, "db", "", "database holding the -scale dataset (default cx_bench_s<scale>); an existing one must hold exactly -scale scale firms")
	flag.IntVar(&o.growthScale, "growth-scale", 10, "small dataset the read endpoints are also run at, for the growth table (only when below -scale; 0: never)")
	flag.StringVar(&o.growthDB, "growth-db", "", "database of the small dataset (default cx_bench_s<growth-scale>)")
	flag.IntVar(&o.growthConc, "growth-concurrency", 1, "concurrency of the growth comparison (p50 at 1 is the cost of one request)")
	flag.Int64Var(&o.seed, "seed", 1, "dataset seed")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "measured time per cell")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured time before each cell")
	flag.StringVar(&conc, "concurrency", "1,16,64", "concurrency levels")
	flag.IntVar(&o.writeConc, "write-concurrency", 16, "the concurrency level (of -concurrency) the write endpoints run at")
	flag.IntVar(&o.writePool, "write-pool", 1500, "fresh referrals prepared per server for begin-investigating")
	flag.IntVar(&o.importRows, "import-rows", 100_000, "rows of the import-vs-COPY comparison (0: skip it)")
	flag.DurationVar(&o.sustain, "sustain", 0, "run the sustained memory check for this long instead of the matrix")
	flag.Float64Var(&o.sustainShare, "sustain-share", 0.7, "share of the measured peak throughput the sustained run offers")
	flag.DurationVar(&o.peakDuration, "peak-duration", 15*time.Second, "measured time of the peak-throughput probe of the sustained run")
	flag.Parse()
	for _, s := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bad -concurrency %q\n", conc)
			os.Exit(2)
		}
		o.conc = append(o.conc, n)
	}
	if o.db == "" {
		o.db = dbName(o.scale)
	}
	if o.growthDB == "" {
		o.growthDB = dbName(o.growthScale)
	}
	if o.growthScale >= o.scale {
		o.growthScale = 0
	}
	var err error
	if o.sustain > 0 {
		err = runSustained(context.Background(), o)
	} else {
		err = run(context.Background(), o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func dbName(scale int) string { return fmt.Sprintf("cx_bench_s%d", scale) }

// run is the matrix run.
func run(ctx context.Context, o options) error {
	if o.dsn == "" {
		return errors.New("DATABASE_URL is required (make bench starts a private cluster)")
	}
	rep := &report{
		Date: time.Now().UTC(), Machine: machine(), Commit: commit(), LoadStart: loadAvg(), CPUs: runtime.NumCPU(),
		Scale: o.scale, GrowthScale: o.growthScale, GrowthConc: o.growthConc, Seed: o.seed,
		Warmup: o.warmup, Duration: o.duration, WriteConc: o.writeConc,
	}
	tmp, err := os.MkdirTemp("", "cx-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	os.Setenv("CX_DATA_DIR", tmp)

	large, err := openScale(ctx, o, o.db, o.scale)
	if err != nil {
		return err
	}
	defer large.close()
	rep.Dataset = large.info
	rep.PGSettings = pgSettings(ctx, large.pool)
	fx, err := prepareReads(ctx, large)
	if err != nil {
		return err
	}
	if err := prepareWrites(ctx, o, large, &fx); err != nil {
		return err
	}
	var small *scaleDB
	var sfx fixtures
	if o.growthScale > 0 {
		if small, err = openScale(ctx, o, o.growthDB, o.growthScale); err != nil {
			return err
		}
		defer small.close()
		rep.Small = &small.info
		if sfx, err = prepareReads(ctx, small); err != nil {
			return err
		}
	}

	ours, err := startOurs(ctx, o, large.dsn, tmp, "ours")
	if err != nil {
		return err
	}
	defer ours.stop()
	base, err := start(ctx, o.baselineBin, nil, tmp, "baseline", []string{"DATABASE_URL=" + large.dsn})
	if err != nil {
		return err
	}
	defer base.stop()
	var oursSmall *proc
	if small != nil {
		if oursSmall, err = startOurs(ctx, o, small.dsn, tmp, "ours-small"); err != nil {
			return err
		}
		defer oursSmall.stop()
	}

	eps := endpoints(fx)
	var smallEps map[string]endpoint
	if small != nil {
		smallEps = map[string]endpoint{}
		for _, ep := range endpoints(sfx) {
			smallEps[ep.name] = ep
		}
	}
	rss := &rssSampler{pid: ours.cmd.Process.Pid, every: 200 * time.Millisecond}
	rss.start()
	growthDone := map[string]bool{}
	for _, c := range o.conc {
		for _, ep := range eps {
			if !ep.read && c != o.writeConc {
				continue
			}
			r := cell{Name: ep.name, Read: ep.read, Conc: c}
			key, firm := fx.key, fx.firm
			if !ep.read {
				key, firm = fx.writerKey, fx.writer
			}
			r.Ours = load(ctx, ours.url, ep, ep.oursIDs, c, o, map[string]string{"X-API-Key": key})
			r.Base = load(ctx, base.url, ep, ep.baseIDs, c, o, map[string]string{"X-Firm-Id": firm})
			fmt.Fprintf(os.Stderr, "c=%-3d %-45s ours %8.0f req/s p50 %7s p99 %7s err %d | baseline %8.0f req/s p50 %7s p99 %7s err %d\n",
				c, ep.name, r.Ours.RPS, ms(r.Ours.P50), ms(r.Ours.P99), r.Ours.Errors, r.Base.RPS, ms(r.Base.P50), ms(r.Base.P99), r.Base.Errors)
			rep.Cells = append(rep.Cells, r)
			if small != nil && ep.read && c == o.growthConc {
				rep.Growth = append(rep.Growth, measureGrowth(ctx, o, ep, r.Ours, smallEps[ep.name], oursSmall, sfx))
				growthDone[ep.name] = true
			}
		}
	}
	// A growth concurrency outside -concurrency gets its own pair of cells.
	if small != nil {
		for _, ep := range eps {
			if ep.read && !growthDone[ep.name] {
				large := load(ctx, ours.url, ep, nil, o.growthConc, o, map[string]string{"X-API-Key": fx.key})
				rep.Growth = append(rep.Growth, measureGrowth(ctx, o, ep, large, smallEps[ep.name], oursSmall, sfx))
			}
		}
	}
	rss.stop()
	rep.RSS = rss.summary()
	ours.stop()
	base.stop()
	if oursSmall != nil {
		oursSmall.stop()
	}

	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	rep.Plans, err = writePlans(ctx, filepath.Join(o.out, "plans.md"), large, fx)
	if err != nil {
		return fmt.Errorf("plans: %w", err)
	}
	if o.importRows > 0 {
		imp, err := importBench(ctx, o)
		if err != nil {
			return fmt.Errorf("import benchmark: %w", err)
		}
		rep.Import = &imp
	}
	rep.LoadEnd = loadAvg()
	if err := saveJSON(filepath.Join(o.out, "results.json"), rep); err != nil {
		return err
	}
	if err := writeSVG(filepath.Join(o.out, "throughput.svg"), rep.Cells); err != nil {
		return err
	}
	return writeResults(o.out, rep)
}

func measureGrowth(ctx context.Context, o options, ep endpoint, large stats, sep endpoint, oursSmall *proc, sfx fixtures) growthRow {
	s := load(ctx, oursSmall.url, sep, nil, o.growthConc, o, map[string]string{"X-API-Key": sfx.key})
	fmt.Fprintf(os.Stderr, "      %-45s growth: p50 %s at scale %d, %s at scale %d\n", ep.name, ms(s.P50), o.growthScale, ms(large.P50), o.scale)
	return growthRow{Name: ep.name, Small: s, Large: large}
}

func startOurs(ctx context.Context, o options, dsn, dir, name string) (*proc, error) {
	return start(ctx, o.serverBin, []string{"serve"}, dir, name, []string{
		"DATABASE_URL=" + dsn, "CX_SEED=false", "CX_RATE_LIMIT_FULL=1000000000", "CX_LOG_LEVEL=warn"})
}

// endpoints are the benchmarked calls with fx's parameters.
func endpoints(fx fixtures) []endpoint {
	eps := []endpoint{
		{name: "GET /sent-cases (page 1)", method: "GET", path: "/sent-cases?limit=20", read: true},
		{name: "GET /sent-cases (deep page, search)", method: "GET", path: fmt.Sprintf("/sent-cases?limit=20&search=Law&page=%d", fx.deepPage), read: true},
		{name: "GET /received-referrals?status=investigating", method: "GET", path: "/received-referrals?status=investigating&limit=20", read: true},
		{name: "GET /status-updates?updatedSince", method: "GET", path: "/status-updates?limit=20&updatedSince=" + fx.since.Format(time.RFC3339), read: true},
		{name: "GET /sent-cases/{uuid}", method: "GET", path: "/sent-cases/" + fx.caseID, read: true},
		{name: "GET /sent-cases/{referenceNumber}", method: "GET", path: "/sent-cases/" + fx.caseRef, read: true},
		{name: "GET /analytics/homepage", method: "GET", path: "/analytics/homepage", read: true},
	}
	if fx.oursFresh == nil {
		return eps
	}
	return append(eps,
		endpoint{name: "POST /received-referrals/{id}/begin-investigating", method: "POST", path: "/received-referrals/{id}/begin-investigating",
			body: "{}", oursIDs: fx.oursFresh, baseIDs: fx.baseFresh},
		endpoint{name: "POST /sent-cases (sent to a partner)", method: "POST", path: "/sent-cases", body: fmt.Sprintf(
			`{"title":"Bench case","caseType":%q,"jurisdiction":%q,"clientFirstName":"Bench","clientLastName":"Client","referentFirmId":%q}`,
			fx.caseType, fx.jurisdiction, fx.sender)},
	)
}

// Names of the endpoints the targets single out.
const (
	epPolling = "GET /status-updates?updatedSince"
)
