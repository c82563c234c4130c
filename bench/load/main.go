// Command load is the benchmark driver of `make bench` and `make bench-sustained`.
//
// DATABASE_URL names a database of a PostgreSQL cluster; the driver keeps each dataset in its
// own database of that cluster, creating and seeding it only when absent, so a persistent
// cluster (make bench BENCH_DATA=DIR) keeps a large dataset between runs.
//
// The matrix run seeds the firm-size dataset (firmdata.go: sending firms of 100,
// firm-size/20 and firm-size cases, a firm receiving firm-size referrals, small partner firms;
// database cx_bench_firms_<firm-size>), starts our server (bin/casexchange serve) and the limit
// server (bench/limit), and measures (firmrun.go): the firm-size growth table at
// -growth-concurrency (page 1, offset page 5,000, a cursor page taken from page 5,000's
// nextCursor, search, status filter, sort of /sent-cases, /cases, /received-referrals and
// /referrals per firm); ours versus the limit server at each -concurrency; the exports of the
// largest firm (CSV and XLSX, each from a fresh server whose VmHWM is read); the two write rows
// at -write-concurrency. It writes results.md (targets with verdicts), results.json and
// throughput.svg to -out.
//
// With -sustain D it runs the sustained memory check instead (see sustain.go) on the -scale
// dataset and writes sustained.md and sustained.json.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

type options struct {
	dsn, serverBin, limitBin, out string
	firmSize                      int
	firmDB                        string
	scale                         int
	db                            string // database of -scale ("" = cx_bench_s<scale>)
	growthScale                   int    // 0: no growth run
	growthDB                      string
	growthConc                    int
	seed                          int64
	duration, warmup              time.Duration
	conc                          []int
	writeConc, writePool          int
	importRows                    int
	sustain                       time.Duration
	sustainShare                  float64
	peakDuration                  time.Duration
}

func main() {
	var o options
	var conc string
	flag.StringVar(&o.dsn, "dsn", os.Getenv("DATABASE_URL"), "any database of the cluster (default DATABASE_URL); the datasets get their own databases")
	flag.StringVar(&o.serverBin, "server", "bin/casexchange", "our server binary")
	flag.StringVar(&o.limitBin, "limit", "bin/bench-limit", "limit server binary (bench/limit)")
	flag.IntVar(&o.firmSize, "firm-size", 4000, "cases of the largest sending firm and received referrals of the receiving firm (the full run: 200000); the other sending firms have 100 and firm-size/20")
	flag.StringVar(&o.firmDB, "firm-db", "", "database of the firm-size dataset (default cx_bench_firms_<firm-size>), seeded when absent")
	flag.StringVar(&o.out, "out", "bench/results", "results directory")
	flag.IntVar(&o.scale, "scale", 10, "firms of the scale dataset of -sustain (~1000 referrals each), seeded when its database is absent")
	flag.StringVar(&o.db, "db", "", "database holding the -scale dataset (default cx_bench_s<scale>); an existing one must hold exactly -scale scale firms")
	flag.IntVar(&o.growthScale, "growth-scale", 10, "small dataset the read endpoints are also run at, for the growth table (only when below -scale; 0: never)")
	flag.StringVar(&o.growthDB, "growth-db", "", "database of the small dataset (default cx_bench_s<growth-scale>)")
	flag.IntVar(&o.growthConc, "growth-concurrency", 1, "concurrency of the growth comparison (p50 at 1 is the cost of one request)")
	flag.Int64Var(&o.seed, "seed", 1, "dataset seed")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "measured time per cell")
	flag.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured time before each cell")
	flag.StringVar(&conc, "concurrency", "1,16,64", "concurrency levels")
	flag.IntVar(&o.writeConc, "write-concurrency", 16, "the concurrency level (of -concurrency) the write endpoints run at")
	flag.IntVar(&o.writePool, "write-pool", 2000, "fresh referrals prepared per server for begin-investigating")
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
	if o.firmDB == "" {
		o.firmDB = fmt.Sprintf("cx_bench_firms_%d", o.firmSize)
	}
	if o.firmSize < 400 {
		fmt.Fprintln(os.Stderr, "-firm-size must be at least 400")
		os.Exit(2)
	}
	if o.growthScale >= o.scale {
		o.growthScale = 0
	}
	var err error
	if o.sustain > 0 {
		err = runSustained(context.Background(), o)
	} else {
		err = runFirmSize(context.Background(), o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func dbName(scale int) string { return fmt.Sprintf("cx_bench_s%d", scale) }

func startOurs(ctx context.Context, o options, dsn, dir, name string) (*proc, error) {
	return start(ctx, o.serverBin, []string{"serve"}, dir, name, []string{
		"DATABASE_URL=" + dsn, "CX_SEED=false", "CX_RATE_LIMIT_FULL=1000000000", "CX_LOG_LEVEL=warn",
		"CX_JWT_SECRET=bench-jwt-secret-0123456789abcdef0123456789", "CX_DOWNLOAD_LINK_SECRET=bench-link-secret-0123456789abcdef012345"})
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
