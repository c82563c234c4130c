package main

// The matrix run of make bench: list reads at the size of one large firm, against the
// limit server (bench/limit), exports and the write rows. See runFirmSize.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/auth"
)

// Previous write figures (ours, c=16) of bench/results/results.md at commit 154164e, the last
// run of the old harness (1M referrals): the writes target compares with them.
var previousWrites = map[string]float64{
	epBeginInvestigating: 91,
	epCreateCase:         130,
}

const (
	epBeginInvestigating = "POST /received-referrals/{id}/begin-investigating"
	epCreateCase         = "POST /sent-cases (sent to a partner)"
	deepPage             = 5000
	// writeWarmup is the least warm-up of a write cell.
	writeWarmup = 3 * time.Second
)

// Targets the report marks as met or missed.
const (
	tgtPageP50MS   = 5.0
	tgtPageGrowth  = 1.5
	tgtSearchP50MS = 20.0
	tgtOffsetP50MS = 50.0
	tgtLimitRatio  = 0.8
	tgtExportRows  = 20000.0
	tgtExportRSSMB = 150.0
	tgtWriteWithin = 0.9
	tgtTargetCases = 200000
	tgtLimitConc   = 64
)

// growthCell is one request of the firm-size growth table.
type growthCell struct {
	Endpoint, Variant, Firm string
	Size                    int64 // rows of the firm's list
	Path                    string
	Note                    string `json:",omitempty"`
	Stats                   *stats `json:",omitempty"` // nil: not applicable
}

type exportResult struct {
	Format     string
	Rows       int
	Bytes      int64
	Seconds    float64
	RowsPerSec float64
	PeakRSSKB  int64 // VmHWM of a server started for this export alone
	Truncated  bool
	Error      string `json:",omitempty"`
}

type writeResult struct {
	Name      string
	Conc      int
	Stats     stats
	BeforeRPS float64
}

type firmReport struct {
	Date               time.Time
	Machine, Commit    string
	PGSettings         string
	LoadStart, LoadEnd string
	Seed               int64
	FirmSize           int
	Warmup, Duration   time.Duration
	Dataset            datasetInfo
	Firms              []dataFirm
	ListRows           map[string]int64
	GrowthConc         int
	Growth             []growthCell
	Limit              []cell // Base is the limit server
	Exports            []exportResult
	Writes             []writeResult
	Import             *importResult `json:",omitempty"`
	Targets            []verdict     `json:"-"`
}

func keyFor(ctx context.Context, d *firmDB, f dataFirm) (string, error) {
	k, err := d.app.Auth.CreateKeyForFirm(ctx, f.ID, auth.KeyInput{Name: "bench " + f.Label + " " + time.Now().Format(time.RFC3339), Tier: auth.TierFull})
	return k.Key, err
}

// getJSON fetches path with key and decodes the body into v.
func getJSON(ctx context.Context, base, path, key string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	req.Header.Set("X-API-Key", key)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: status %d: %.300s", path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, v)
}

// listMeta reads the total and the next cursor of a list response, wherever the shape puts them.
func listMeta(ctx context.Context, base, path, key string) (total int64, next string, err error) {
	var body struct {
		Pagination *struct {
			Total      int64   `json:"total"`
			NextCursor *string `json:"nextCursor"`
		} `json:"pagination"`
		NextCursor *string `json:"nextCursor"`
	}
	if err := getJSON(ctx, base, path, key, &body); err != nil {
		return 0, "", err
	}
	if body.Pagination != nil {
		total = body.Pagination.Total
		if body.Pagination.NextCursor != nil {
			next = *body.Pagination.NextCursor
		}
	}
	if next == "" && body.NextCursor != nil {
		next = *body.NextCursor
	}
	return total, next, nil
}

type listSpec struct {
	path   string // without query
	search string // search term ("" = the endpoint has no search)
	status bool
	sort   string // "" = no sort parameter
}

// runGrowth measures the growth table on our server.
func runGrowth(ctx context.Context, o options, d *firmDB, ours *proc, keys map[string]string, rep *firmReport) {
	sizes := firmSizes(o.firmSize)
	for _, lbl := range []string{"S" + sizeLabel(sizes[0]), "S" + sizeLabel(sizes[1]), "S" + sizeLabel(sizes[2]), "R" + sizeLabel(o.firmSize)} {
		f := d.firm(lbl)
		n := f.Cases
		if f.Role == roleReceiver {
			n = o.firmSize
		}
		term := fmt.Sprintf("Holdings #%d", n-1) // matches case n-1 only (n*10 > n)
		specs := map[string]listSpec{
			"/sent-cases":         {path: "/sent-cases", search: term, status: true, sort: "referenceNumber"},
			"/cases":              {path: "/cases", search: term, status: true, sort: "title"},
			"/received-referrals": {path: "/received-referrals", search: "", status: true, sort: "referenceNumber"},
			"/referrals":          {path: "/referrals", status: true},
		}
		if f.Role == roleReceiver {
			// Received rows carry no titles: search by the reference number of one received referral.
			var ref string
			_ = d.pool.QueryRow(ctx, `SELECT reference_number FROM referrals WHERE referent_firm_id = $1 AND status <> 'draft' ORDER BY reference_number DESC LIMIT 1`, f.ID).Scan(&ref)
			s := specs["/received-referrals"]
			s.search = ref
			specs["/received-referrals"] = s
		}
		order := []string{"/sent-cases", "/cases", "/received-referrals", "/referrals"}
		for _, ep := range order {
			if f.Role == roleSender && ep == "/received-referrals" || f.Role == roleReceiver && ep == "/sent-cases" {
				continue // empty for this firm
			}
			sp := specs[ep]
			key := keys[lbl]
			add := func(variant, path, note string, measure bool) {
				c := growthCell{Endpoint: "GET " + ep, Variant: variant, Firm: lbl, Path: path, Note: note}
				if measure {
					s := load(ctx, ours.url, endpoint{name: ep, method: "GET", path: path, read: true}, nil, o.growthConc, o, map[string]string{"X-API-Key": key})
					c.Stats = &s
					fmt.Fprintf(os.Stderr, "%-6s %-20s %-22s p50 %9s p99 %9s %6d req err %d %s\n", lbl, ep, variant, ms(s.P50), ms(s.P99), s.Requests, s.Errors, s.FirstError)
				}
				rep.Growth = append(rep.Growth, c)
			}
			p1 := sp.path + "?limit=20"
			total, _, err := listMeta(ctx, ours.url, p1, key)
			if err != nil {
				add("page 1", p1, "error: "+err.Error(), false)
				continue
			}
			rep.ListRows[lbl+" "+ep] = total
			add("page 1", p1, "", true)
			last := int((total + 19) / 20)
			pg := min(deepPage, last)
			note := ""
			if pg < deepPage {
				note = fmt.Sprintf("page %d (the last) instead of %d", pg, deepPage)
			}
			deep := fmt.Sprintf("%s?limit=20&page=%d", sp.path, pg)
			add("offset page 5,000", deep, note, pg >= 1)
			// A cursor deep in the list: the one page 5,000 (or the last page but one) returns.
			cp := max(1, min(deepPage, last-1))
			_, next, err := listMeta(ctx, ours.url, fmt.Sprintf("%s?limit=20&page=%d", sp.path, cp), key)
			switch {
			case err != nil:
				add("cursor (deep)", "", "error: "+err.Error(), false)
			case next == "":
				add("cursor (deep)", "", "n/a: no nextCursor in the response", false)
			default:
				add("cursor (deep)", sp.path+"?limit=20&cursor="+url.QueryEscape(next), fmt.Sprintf("cursor of page %d", cp), true)
			}
			if sp.search != "" {
				add("search", sp.path+"?limit=20&search="+url.QueryEscape(sp.search), "search="+sp.search, true)
			} else {
				add("search", "", "n/a: no search parameter", false)
			}
			add("status=investigating", sp.path+"?limit=20&status=investigating", "", true)
			switch sp.sort {
			case "title":
				add("sort by title", sp.path+"?limit=20&sort=title&order=asc", "", true)
			case "":
				add("sort by title", "", "n/a: no sort parameter", false)
			default:
				add("sort by title", sp.path+"?limit=20&sort="+sp.sort+"&order=asc", "no title sort: sort="+sp.sort, true)
			}
		}
	}
}

// runLimit compares our server with the limit server.
func runLimit(ctx context.Context, o options, d *firmDB, ours, lim *proc, keys map[string]string, rep *firmReport) error {
	big := "S" + sizeLabel(o.firmSize)
	recv := "R" + sizeLabel(o.firmSize)
	var since time.Time
	if err := d.pool.QueryRow(ctx, `SELECT max(created_at) - interval '2 days' FROM status_updates WHERE referring_firm_id = $1 OR referent_firm_id = $1`, d.firm(big).ID).Scan(&since); err != nil {
		return err
	}
	cells := []struct{ name, firm, path string }{
		{"GET /sent-cases (page 1)", big, "/sent-cases?limit=20"},
		{"GET /sent-cases?status=investigating", big, "/sent-cases?limit=20&status=investigating"},
		{epPolling, big, "/status-updates?limit=20&updatedSince=" + url.QueryEscape(since.Format(time.RFC3339Nano))},
		{"GET /received-referrals (page 1)", recv, "/received-referrals?limit=20"},
		{"GET /referrals (page 1)", big, "/referrals?limit=20"},
	}
	for _, c := range o.conc {
		for _, x := range cells {
			ep := endpoint{name: x.name, method: "GET", path: x.path, read: true}
			h := map[string]string{"X-API-Key": keys[x.firm]}
			r := cell{Name: x.name + " [" + x.firm + "]", Read: true, Conc: c}
			r.Ours = load(ctx, ours.url, ep, nil, c, o, h)
			r.Base = load(ctx, lim.url, ep, nil, c, o, h)
			fmt.Fprintf(os.Stderr, "c=%-3d %-50s ours %7.0f req/s p50 %8s err %d | limit %7.0f req/s p50 %8s err %d  ratio %s\n",
				c, r.Name, r.Ours.RPS, ms(r.Ours.P50), r.Ours.Errors, r.Base.RPS, ms(r.Base.P50), r.Base.Errors, ratio(r.Ours.RPS, r.Base.RPS))
			rep.Limit = append(rep.Limit, r)
		}
	}
	return nil
}

// runExports downloads the large sending firm's /cases/export once per format, each from a
// server started for it alone, and reads that server's VmHWM after.
func runExports(ctx context.Context, o options, d *firmDB, dir, key string, rep *firmReport) {
	for _, format := range []string{"csv", "xlsx"} {
		res := exportResult{Format: format}
		srv, err := startOurs(ctx, o, d.dsn, dir, "ours-export-"+format)
		if err != nil {
			res.Error = err.Error()
			rep.Exports = append(rep.Exports, res)
			continue
		}
		fmt.Fprintf(os.Stderr, "export %s of S%s ...\n", format, sizeLabel(o.firmSize))
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.url+"/cases/export?view=sent&format="+format, nil)
		req.Header.Set("X-API-Key", key)
		t0 := time.Now()
		long := &http.Client{Timeout: 15 * time.Minute}
		resp, err := long.Do(req)
		var body []byte
		if err == nil {
			var buf bytes.Buffer
			_, err = io.Copy(&buf, resp.Body)
			resp.Body.Close()
			body = buf.Bytes()
			res.Truncated = resp.Header.Get("X-Export-Truncated") == "true"
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("status %d: %.300s", resp.StatusCode, body)
			}
		}
		res.Seconds = time.Since(t0).Seconds()
		res.PeakRSSKB = readStatusKB(srv.cmd.Process.Pid, "VmHWM:")
		srv.stop()
		if err != nil {
			res.Error = err.Error()
		} else {
			res.Bytes = int64(len(body))
			res.Rows, err = exportRows(format, body)
			if err != nil {
				res.Error = err.Error()
			}
			res.RowsPerSec = float64(res.Rows) / res.Seconds
		}
		fmt.Fprintf(os.Stderr, "export %s: %d rows in %.2fs (%.0f rows/s), %d bytes, peak RSS %s, truncated %v %s\n",
			format, res.Rows, res.Seconds, res.RowsPerSec, res.Bytes, mb(res.PeakRSSKB), res.Truncated, res.Error)
		rep.Exports = append(rep.Exports, res)
	}
}

// exportRows counts the data rows of an export (header excluded).
func exportRows(format string, b []byte) (int, error) {
	if format == "csv" {
		return max(0, bytes.Count(b, []byte("\r\n"))-1), nil // no quoted line breaks in the bench data
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return 0, err
	}
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "xl/worksheets/") && strings.HasSuffix(f.Name, ".xml") {
			rc, err := f.Open()
			if err != nil {
				return 0, err
			}
			x, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return 0, err
			}
			return max(0, bytes.Count(x, []byte("<row"))-1), nil
		}
	}
	return 0, fmt.Errorf("no worksheet in the xlsx")
}

func readStatusKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// runFirmSize is the matrix run.
func runFirmSize(ctx context.Context, o options) error {
	if o.dsn == "" {
		return fmt.Errorf("DATABASE_URL is required (make bench starts a private cluster)")
	}
	rep := &firmReport{Date: time.Now().UTC(), Machine: machine(), Commit: commit(), LoadStart: loadAvg(), Seed: o.seed,
		FirmSize: o.firmSize, Warmup: o.warmup, Duration: o.duration, GrowthConc: o.growthConc, ListRows: map[string]int64{}}
	tmp, err := os.MkdirTemp("", "cx-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	os.Setenv("CX_DATA_DIR", tmp)
	d, err := openFirmSize(ctx, o)
	if err != nil {
		return err
	}
	defer d.close()
	rep.Dataset, rep.Firms = d.info, d.Firms
	rep.PGSettings = pgSettings(ctx, d.pool)
	keys := map[string]string{}
	for _, f := range d.Firms {
		if f.Role == roleSender || f.Role == roleReceiver {
			if keys[f.Label], err = keyFor(ctx, d, f); err != nil {
				return err
			}
		}
	}
	// Writes act as partner firms: P1 receives from P2 and sends to P3.
	p1, p2, p3 := d.firm("P1"), d.firm("P2"), d.firm("P3")
	var fx fixtures
	fx.writer, fx.sender = p1.ID.String(), p3.ID.String()
	if fx.writerKey, err = keyFor(ctx, d, p1); err != nil {
		return err
	}
	if err := prepareWriteRefs(ctx, o, &d.scaleDB, p1.ID, p2.ID, &fx); err != nil {
		return err
	}

	ours, err := startOurs(ctx, o, d.dsn, tmp, "ours")
	if err != nil {
		return err
	}
	defer ours.stop()
	lim, err := start(ctx, o.limitBin, nil, tmp, "limit", []string{"DATABASE_URL=" + d.dsn})
	if err != nil {
		return err
	}
	defer lim.stop()

	fmt.Fprintf(os.Stderr, "--- firm-size growth (c=%d)\n", o.growthConc)
	runGrowth(ctx, o, d, ours, keys, rep)
	fmt.Fprintf(os.Stderr, "--- ours versus the limit server\n")
	if err := runLimit(ctx, o, d, ours, lim, keys, rep); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "--- writes (c=%d)\n", o.writeConc)
	// The reads before leave the write path's pages (the indexes of referrals, case_listings and
	// status_updates) out of PostgreSQL's buffer cache: the first seconds of writes read them
	// back in (a cold start measured 101 req/s, the next seconds 157). The write cells measure
	// the steady state, after a longer warm-up.
	wo := o
	wo.warmup = max(o.warmup, writeWarmup)
	for _, ep := range []endpoint{
		{name: epBeginInvestigating, method: "POST", path: "/received-referrals/{id}/begin-investigating", body: "{}", oursIDs: fx.oursFresh},
		{name: epCreateCase, method: "POST", path: "/sent-cases", body: fmt.Sprintf(
			`{"title":"Bench case","caseType":%q,"jurisdiction":%q,"clientFirstName":"Bench","clientLastName":"Client","referentFirmId":%q}`,
			fx.caseType, fx.jurisdiction, fx.sender)},
	} {
		s := load(ctx, ours.url, ep, ep.oursIDs, o.writeConc, wo, map[string]string{"X-API-Key": fx.writerKey})
		fmt.Fprintf(os.Stderr, "c=%-3d %-50s %7.0f req/s p50 %8s err %d %s\n", o.writeConc, ep.name, s.RPS, ms(s.P50), s.Errors, s.FirstError)
		rep.Writes = append(rep.Writes, writeResult{Name: ep.name, Conc: o.writeConc, Stats: s, BeforeRPS: previousWrites[ep.name]})
	}
	ours.stop()
	lim.stop()
	runExports(ctx, o, d, tmp, keys["S"+sizeLabel(o.firmSize)], rep)
	if o.importRows > 0 {
		imp, err := importBench(ctx, o)
		if err != nil {
			return fmt.Errorf("import benchmark: %w", err)
		}
		rep.Import = &imp
	}
	rep.LoadEnd = loadAvg()
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := saveJSON(filepath.Join(o.out, "results.json"), rep); err != nil {
		return err
	}
	if err := writeSVG(filepath.Join(o.out, "throughput.svg"), rep.Limit); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(o.out, "results.md"), []byte(renderFirm(rep)), 0o644)
}

// prepareWriteRefs fills fx's write parameters and o.writePool acknowledged referrals sent to
// writer by from, for begin-investigating.
func prepareWriteRefs(ctx context.Context, o options, s *scaleDB, writer, from uuid.UUID, fx *fixtures) error {
	return prepareWritesFor(ctx, o, s, writer, from, fx)
}

func p50ms(s *stats) float64 { return float64(s.P50.Microseconds()) / 1000 }

func (r *firmReport) cell(firm, ep, variant string) *growthCell {
	for i := range r.Growth {
		g := &r.Growth[i]
		if g.Firm == firm && g.Endpoint == ep && g.Variant == variant {
			return g
		}
	}
	return nil
}

func (r *firmReport) targets() []verdict {
	var out []verdict
	sizes := firmSizes(r.FirmSize)
	small, big, recv := "S"+sizeLabel(sizes[0]), "S"+sizeLabel(sizes[2]), "R"+sizeLabel(r.FirmSize)
	at := ""
	if r.FirmSize < tgtTargetCases {
		at = fmt.Sprintf(" (at %d cases; the target is stated at 200,000: run with BENCH_FIRM_SIZE=200000)", r.FirmSize)
	}
	noRun := func(t string, why string) { out = append(out, verdict{t, why, "NOT RUN"}) }
	for _, ep := range []string{"GET /sent-cases", "GET /cases", "GET /received-referrals", "GET /referrals"} {
		firm := big
		if ep == "GET /received-referrals" {
			firm = recv
		}
		for _, v := range []string{"page 1", "cursor (deep)"} {
			t := fmt.Sprintf("%s %s p50 <= %.0f ms at %s and <= %.1fx %s", ep, v, tgtPageP50MS, firm, tgtPageGrowth, small)
			c := r.cell(firm, ep, v)
			if c == nil || c.Stats == nil || c.Stats.Requests == 0 {
				why := "not measured"
				if c != nil && c.Note != "" {
					why = c.Note
				}
				noRun(t, why)
				continue
			}
			p := p50ms(c.Stats)
			ok := p <= tgtPageP50MS && c.Stats.Errors == 0
			m := fmt.Sprintf("%.2f ms", p)
			if sc := r.cell(small, ep, v); sc != nil && sc.Stats != nil && sc.Stats.Requests > 0 {
				g := p / p50ms(sc.Stats)
				m += fmt.Sprintf(", %.2fx %s (%.2f ms)", g, small, p50ms(sc.Stats))
				ok = ok && g <= tgtPageGrowth
			} else {
				m += fmt.Sprintf(" (no %s cell: %s has none)", small, small)
			}
			out = append(out, verdict{t, m + at, passFail(ok)})
		}
		for _, x := range []struct {
			v   string
			max float64
		}{{"search", tgtSearchP50MS}, {"offset page 5,000", tgtOffsetP50MS}} {
			t := fmt.Sprintf("%s %s p50 <= %.0f ms at %s", ep, x.v, x.max, firm)
			c := r.cell(firm, ep, x.v)
			if c == nil || c.Stats == nil || c.Stats.Requests == 0 {
				why := "not measured"
				if c != nil && c.Note != "" {
					why = c.Note
				}
				noRun(t, why)
				continue
			}
			out = append(out, verdict{t, fmt.Sprintf("%.2f ms%s%s", p50ms(c.Stats), noteOf(c), at), passFail(p50ms(c.Stats) <= x.max && c.Stats.Errors == 0)})
		}
	}
	for _, name := range []string{"GET /sent-cases (page 1)", "GET /sent-cases?status=investigating", epPolling} {
		t := fmt.Sprintf("%s: throughput >= %.1fx the limit server at c=%d", name, tgtLimitRatio, tgtLimitConc)
		var c *cell
		for i := range r.Limit {
			if strings.HasPrefix(r.Limit[i].Name, name+" [") && r.Limit[i].Conc == tgtLimitConc {
				c = &r.Limit[i]
			}
		}
		if c == nil || c.Base.Requests == 0 {
			noRun(t, "not measured")
			continue
		}
		x := c.Ours.RPS / c.Base.RPS
		out = append(out, verdict{t, fmt.Sprintf("%.2f (%.0f vs %.0f req/s; errors %d/%d)%s", x, c.Ours.RPS, c.Base.RPS, c.Ours.Errors, c.Base.Errors, at),
			passFail(x >= tgtLimitRatio && c.Ours.Errors == 0 && c.Base.Errors == 0)})
	}
	for _, e := range r.Exports {
		t := fmt.Sprintf("Export %s of %s: >= %.0f rows/s, peak RSS < %.0f MB", e.Format, big, tgtExportRows, tgtExportRSSMB)
		if e.Error != "" {
			out = append(out, verdict{t, "error: " + e.Error, "**FAIL**"})
			continue
		}
		tr := ""
		if e.Truncated {
			tr = " (X-Export-Truncated: the server capped the rows)"
		}
		out = append(out, verdict{t, fmt.Sprintf("%d rows in %.2f s = %.0f rows/s, VmHWM %s%s%s", e.Rows, e.Seconds, e.RowsPerSec, mb(e.PeakRSSKB), tr, at),
			passFail(e.RowsPerSec >= tgtExportRows && float64(e.PeakRSSKB)/1024 < tgtExportRSSMB)})
	}
	for _, w := range r.Writes {
		t := fmt.Sprintf("%s at c=%d: within 10%% of before (>= %.1fx %.0f req/s), zero errors", w.Name, w.Conc, tgtWriteWithin, w.BeforeRPS)
		x := w.Stats.RPS / w.BeforeRPS
		out = append(out, verdict{t, fmt.Sprintf("%.0f req/s = %.2fx before, %d errors", w.Stats.RPS, x, w.Stats.Errors), passFail(x >= tgtWriteWithin && w.Stats.Errors == 0)})
	}
	return out
}

func noteOf(c *growthCell) string {
	if c.Note == "" {
		return ""
	}
	return " (" + c.Note + ")"
}

func renderFirm(r *firmReport) string {
	var b strings.Builder
	sizes := firmSizes(r.FirmSize)
	fmt.Fprintf(&b, "# Benchmark results\n\n")
	fmt.Fprintf(&b, "- Date: %s\n- Machine: %s\n- Commit: %s\n", r.Date.Format("2006-01-02 15:04 MST"), r.Machine, r.Commit)
	fmt.Fprintf(&b, "- Load average (1/5/15 min) at the start: %s; at the end: %s. With %d CPUs, a 1-minute load well above %d means\n  other processes competed with the run and the figures are noisy.\n", r.LoadStart, r.LoadEnd, runtime.NumCPU(), runtime.NumCPU()+1)
	fmt.Fprintf(&b, "- PostgreSQL: %s\n", r.PGSettings)
	seeded := "kept from an earlier run"
	if r.Dataset.SeedTime > 0 {
		seeded = fmt.Sprintf("seeded by this run in %s (COPY, with the triggers of migration 0016 filling the list read model)", r.Dataset.SeedTime.Round(time.Second))
	}
	fmt.Fprintf(&b, "- Dataset: database %s (-firm-size %d, seed %d): %d cases, %d referrals, %d status updates; %s\n", r.Dataset.DB, r.FirmSize, r.Seed,
		r.Dataset.BaseCases, r.Dataset.Referrals, r.Dataset.StatusUpdates, seeded)
	fmt.Fprintf(&b, "- Firms: sending firms S%s, S%s and S%s own that many cases (titles \"<Company> Holdings #N\"), referred to 5 partner firms in\n", sizeLabel(sizes[0]), sizeLabel(sizes[1]), sizeLabel(sizes[2]))
	fmt.Fprintf(&b, "  the scale seed's status mix; R%s receives %d non-draft referrals from 3 feeder firms. FULL API keys made by the auth service.\n", sizeLabel(r.FirmSize), r.FirmSize)
	fmt.Fprintf(&b, "- Each cell: %s warm-up, then %s measured. The client runs on the same machine.\n\n", r.Warmup, r.Duration)

	b.WriteString("## Targets\n\n| Target | Measured | Verdict |\n|---|---|---|\n")
	for _, v := range r.targets() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", md(v.target), md(v.measured), v.result)
	}

	firms := []string{"S" + sizeLabel(sizes[0]), "S" + sizeLabel(sizes[1]), "S" + sizeLabel(sizes[2]), "R" + sizeLabel(r.FirmSize)}
	fmt.Fprintf(&b, "\n## Firm-size growth\n\nOur server at concurrency %d, p50 / p99 per firm; limit=20. \"-\": the firm's list is empty there (a sending firm\nreceives nothing, the receiving firm sends nothing). Notes under the table.\n\n", r.GrowthConc)
	b.WriteString("| Endpoint | Request |")
	for _, f := range firms {
		fmt.Fprintf(&b, " %s |", f)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---:|", len(firms)) + "\n")
	type key struct{ ep, v string }
	var rows []key
	seen := map[key]bool{}
	for _, g := range r.Growth {
		k := key{g.Endpoint, g.Variant}
		if !seen[k] {
			seen[k] = true
			rows = append(rows, k)
		}
	}
	var notes []string
	for _, k := range rows {
		fmt.Fprintf(&b, "| %s | %s |", k.ep, k.v)
		for _, f := range firms {
			c := r.cell(f, k.ep, k.v)
			switch {
			case c == nil:
				b.WriteString(" - |")
			case c.Stats == nil:
				b.WriteString(" n/a |")
			case c.Stats.Requests == 0:
				b.WriteString(" no data |")
			default:
				e := ""
				if c.Stats.Errors > 0 {
					e = fmt.Sprintf(" (%d errors)", c.Stats.Errors)
				}
				fmt.Fprintf(&b, " %s / %s%s |", ms(c.Stats.P50), ms(c.Stats.P99), e)
			}
			if c != nil && c.Note != "" {
				notes = append(notes, fmt.Sprintf("%s %s, %s: %s", k.ep, k.v, f, c.Note))
			}
			if c != nil && c.Stats != nil && c.Stats.FirstError != "" {
				notes = append(notes, fmt.Sprintf("%s %s, %s: first error: %s", k.ep, k.v, f, c.Stats.FirstError))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\nList totals (pagination.total of page 1):")
	for _, f := range firms {
		for _, ep := range []string{"/sent-cases", "/cases", "/received-referrals", "/referrals"} {
			if n, ok := r.ListRows[f+" "+ep]; ok {
				fmt.Fprintf(&b, " %s %s %d;", f, ep, n)
			}
		}
	}
	b.WriteString("\n\n")
	for _, n := range notes {
		fmt.Fprintf(&b, "- %s\n", md(n))
	}

	fmt.Fprintf(&b, "\n## Ours versus the limit server\n\n")
	b.WriteString("The limit server (bench/limit) runs the minimal hand-written SQL of each page in one round trip (index range of the\npage, latest referral per case, firm names, exact total from the list_counts counters) behind a bare Echo. Ratio is\nours/limit throughput.\n\n")
	b.WriteString("| Endpoint [firm] | Conc. | Ours req/s | Limit req/s | Ratio | Ours p50 | Limit p50 | Ours p99 | Limit p99 | Errors (ours/limit) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range r.Limit {
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f | %s | %s | %s | %s | %s | %d/%d |\n", c.Name, c.Conc, c.Ours.RPS, c.Base.RPS, ratio(c.Ours.RPS, c.Base.RPS),
			ms(c.Ours.P50), ms(c.Base.P50), ms(c.Ours.P99), ms(c.Base.P99), c.Ours.Errors, c.Base.Errors)
	}
	for _, c := range r.Limit {
		if c.Ours.FirstError != "" || c.Base.FirstError != "" {
			fmt.Fprintf(&b, "\n- %s c=%d first errors: ours %q, limit %q", c.Name, c.Conc, c.Ours.FirstError, c.Base.FirstError)
		}
	}

	fmt.Fprintf(&b, "\n\n## Exports\n\n`GET /cases/export?view=sent` of S%s, each format from a server started for it alone; peak RSS is that process's VmHWM.\n\n", sizeLabel(r.FirmSize))
	b.WriteString("| Format | Rows | Bytes | Time | Rows/s | Peak RSS | Truncated | Error |\n|---|---:|---:|---:|---:|---:|---|---|\n")
	for _, e := range r.Exports {
		fmt.Fprintf(&b, "| %s | %d | %d | %.2f s | %.0f | %s | %v | %s |\n", e.Format, e.Rows, e.Bytes, e.Seconds, e.RowsPerSec, mb(e.PeakRSSKB), e.Truncated, md(e.Error))
	}

	fmt.Fprintf(&b, "\n## Writes\n\nPartner firm P1 acts: begin-investigating on referrals P2 sent it (acknowledged before the run), POST /sent-cases to P3. Each cell warms up for at least 3 s (the reads before leave the write path out of the buffer cache).\n\"Before\" is the old harness's figure (commit 154164e, 1M-referral dataset).\n\n")
	b.WriteString("| Endpoint | Conc. | req/s | p50 | p99 | Errors | Before req/s | Ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, w := range r.Writes {
		fmt.Fprintf(&b, "| %s | %d | %.0f | %s | %s | %d | %.0f | %s |\n", w.Name, w.Conc, w.Stats.RPS, ms(w.Stats.P50), ms(w.Stats.P99), w.Stats.Errors, w.BeforeRPS, ratio(w.Stats.RPS, w.BeforeRPS))
	}
	if im := r.Import; im != nil {
		fmt.Fprintf(&b, "\n## Bulk import versus COPY\n\n| | Time | Rows/s |\n|---|---:|---:|\n")
		fmt.Fprintf(&b, "| Importer (%d rows, %d failed) | %s | %.0f |\n| Raw COPY | %s | %.0f |\n| Ratio | | %.3f |\n", im.Rows, im.Failed,
			im.Importer.Round(time.Millisecond), im.ImporterRowsPerSec, im.Copy.Round(time.Millisecond), im.CopyRowsPerSec, im.ImporterRowsPerSec/im.CopyRowsPerSec)
	}
	b.WriteString("\n## Sustained run\n\n`make bench-sustained` writes sustained.md (scale dataset, see mk/bench.mk).\n")
	return b.String()
}
