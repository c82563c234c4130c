package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// report is everything a matrix run measured; results.json keeps it so that the sustained run
// can re-render results.md with its own verdicts.
type report struct {
	Date               time.Time
	Machine, Commit    string
	PGSettings         string
	LoadStart, LoadEnd string
	CPUs               int
	Scale, GrowthScale int
	GrowthConc         int
	Seed               int64
	Warmup, Duration   time.Duration
	WriteConc          int
	Dataset            datasetInfo
	Small              *datasetInfo `json:",omitempty"`
	Cells              []cell
	Growth             []growthRow
	RSS                rssSummary
	Import             *importResult `json:",omitempty"`
	Plans              []planSummary
}

type growthRow struct {
	Name         string
	Small, Large stats
}

func saveJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// loadJSON reads path into v; ok is false when the file does not exist.
func loadJSON(path string, v any) (ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

// Target thresholds: ratios against the limit server that the report marks as met or missed.
const (
	targetReadThroughput = 0.8
	targetReadP99        = 1.5
	targetGrowth         = 2.0
	targetWriteRatio     = 0.7
	targetPollingSpread  = 3.0
	targetRSSMB          = 150.0
	targetRSSGrowthMB    = 5.0
	targetImportRatio    = 0.25
	targetConc           = 64
	targetReferrals      = 1_000_000
	bigScan              = 1000 // rows: smaller sequential scans (reference tables) are not listed in results.md
)

type verdict struct{ target, measured, result string }

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "**FAIL**"
}

// targets evaluates the targets on rep and, when present, the sustained run.
func targets(rep *report, sus *sustainResult) []verdict {
	var out []verdict
	atScale := ""
	if rep.Dataset.Referrals < targetReferrals*9/10 {
		atScale = fmt.Sprintf(" (at %d referrals; the target is stated at 1M)", rep.Dataset.Referrals)
	}
	find := func(name string, conc int) *cell {
		for i := range rep.Cells {
			if rep.Cells[i].Name == name && rep.Cells[i].Conc == conc {
				return &rep.Cells[i]
			}
		}
		return nil
	}
	var reads, writes []string
	for _, c := range rep.Cells {
		list := &writes
		if c.Read {
			list = &reads
		}
		if !contains(*list, c.Name) {
			*list = append(*list, c.Name)
		}
	}
	for _, name := range reads {
		c := find(name, targetConc)
		if c == nil {
			out = append(out, verdict{fmt.Sprintf("%s: throughput >= %.1fx baseline at c=%d", name, targetReadThroughput, targetConc), "not measured", "NOT RUN"})
			continue
		}
		if c.Ours.Requests == 0 || c.Base.Requests == 0 {
			out = append(out, verdict{fmt.Sprintf("%s at c=%d", name, targetConc), noData(c), "**NO DATA**"})
			continue
		}
		r := c.Ours.RPS / c.Base.RPS
		out = append(out, verdict{fmt.Sprintf("%s: throughput >= %.1fx baseline at c=%d", name, targetReadThroughput, targetConc),
			fmt.Sprintf("%.2f (%.0f vs %.0f req/s)%s", r, c.Ours.RPS, c.Base.RPS, atScale), passFail(r >= targetReadThroughput && c.Ours.Errors == 0)})
		p := float64(c.Ours.P99) / float64(c.Base.P99)
		out = append(out, verdict{fmt.Sprintf("%s: p99 <= %.1fx baseline at c=%d", name, targetReadP99, targetConc),
			fmt.Sprintf("%.2f (%s vs %s)%s", p, ms(c.Ours.P99), ms(c.Base.P99), atScale), passFail(p <= targetReadP99)})
	}
	if len(rep.Growth) == 0 {
		out = append(out, verdict{fmt.Sprintf("Growth: each read endpoint's p50 at 1M referrals <= %.0fx its p50 at 10k", targetGrowth),
			"not measured (run with BENCH_SCALE=1000)", "NOT RUN"})
	}
	for _, g := range rep.Growth {
		if g.Small.Requests == 0 || g.Large.Requests == 0 {
			out = append(out, verdict{g.Name + ": p50 growth", "no request completed in a cell", "**NO DATA**"})
			continue
		}
		r := float64(g.Large.P50) / float64(g.Small.P50)
		out = append(out, verdict{fmt.Sprintf("%s: p50 growth <= %.0fx (scale %d vs %d, c=%d)", g.Name, targetGrowth, rep.Scale, rep.GrowthScale, rep.GrowthConc),
			fmt.Sprintf("%.2f (%s vs %s)", r, ms(g.Large.P50), ms(g.Small.P50)), passFail(r <= targetGrowth)})
	}
	for _, name := range writes {
		c := find(name, rep.WriteConc)
		if c == nil {
			continue
		}
		if c.Ours.Requests == 0 || c.Base.Requests == 0 {
			out = append(out, verdict{fmt.Sprintf("%s at c=%d", name, rep.WriteConc), noData(c), "**NO DATA**"})
			continue
		}
		r := c.Ours.RPS / c.Base.RPS
		out = append(out, verdict{fmt.Sprintf("%s: throughput >= %.1fx baseline at c=%d, zero errors", name, targetWriteRatio, rep.WriteConc),
			fmt.Sprintf("%.2f (%.0f vs %.0f req/s), %d errors", r, c.Ours.RPS, c.Base.RPS, c.Ours.Errors), passFail(r >= targetWriteRatio && c.Ours.Errors == 0)})
	}
	if c := find(epPolling, targetConc); c != nil && c.Ours.Requests == 0 {
		out = append(out, verdict{"Polling: " + epPolling + " at c=64", noData(c), "**NO DATA**"})
	} else if c != nil {
		r := float64(c.Ours.P99) / float64(c.Ours.P50)
		out = append(out, verdict{fmt.Sprintf("Polling: %s at c=%d, our p99/p50 < %.0f", epPolling, targetConc, targetPollingSpread),
			fmt.Sprintf("%.2f (p50 %s, p99 %s)%s", r, ms(c.Ours.P50), ms(c.Ours.P99), atScale), passFail(r < targetPollingSpread)})
	}
	out = append(out, verdict{fmt.Sprintf("Memory: our RSS < %.0f MB during the whole run", targetRSSMB),
		fmt.Sprintf("peak %s (start %s, end %s; %d samples)", mb(rep.RSS.PeakKB), mb(rep.RSS.StartKB), mb(rep.RSS.EndKB), rep.RSS.Samples),
		passFail(float64(rep.RSS.PeakKB)/1024 < targetRSSMB)})
	if sus == nil {
		out = append(out, verdict{"Memory: no RSS growth across a 5-minute run at 70% of peak, zero errors", "not measured (make bench-sustained)", "NOT RUN"})
	} else {
		grow := float64(sus.RSS.EndKB-sus.RSS.StartKB) / 1024
		ok := grow <= targetRSSGrowthMB && float64(sus.RSS.PeakKB)/1024 < targetRSSMB && sus.Errors == 0 && sus.Duration >= 5*time.Minute
		short := ""
		if sus.Duration < 5*time.Minute {
			short = ", shorter than the 5 minutes of the target"
		}
		out = append(out, verdict{fmt.Sprintf("Memory: sustained %s at %.0f%% of peak: RSS end - start <= %.0f MB, max < %.0f MB, zero errors", sus.Duration, sus.Share*100, targetRSSGrowthMB, targetRSSMB),
			fmt.Sprintf("start %s, end %s (%+.1f MB), max %s, %d errors, %.0f of %.0f req/s offered (%s, %s%s)",
				mb(sus.RSS.StartKB), mb(sus.RSS.EndKB), grow, mb(sus.RSS.PeakKB), sus.Errors, sus.AchievedRPS, sus.TargetRPS, sus.Dataset.DB, sus.Date.Format("2006-01-02 15:04 MST"), short),
			passFail(ok)})
	}
	if rep.Import == nil {
		out = append(out, verdict{fmt.Sprintf("Bulk import: rows/s >= %.2fx a raw COPY", targetImportRatio), "not measured (-import-rows 0)", "NOT RUN"})
	} else {
		im := rep.Import
		r := im.ImporterRowsPerSec / im.CopyRowsPerSec
		out = append(out, verdict{fmt.Sprintf("Bulk import: %d-row CSV at >= %.2fx the rows/s of a raw COPY", im.Rows, targetImportRatio),
			fmt.Sprintf("%.3f (%.0f vs %.0f rows/s; %d failed rows)", r, im.ImporterRowsPerSec, im.CopyRowsPerSec, im.Failed), passFail(r >= targetImportRatio && im.Failed == 0)})
	}
	return out
}

func noData(c *cell) string {
	return fmt.Sprintf("no request completed within the measured time (ours %d, baseline %d): the machine is overloaded or the cells too short", c.Ours.Requests, c.Base.Requests)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeResults renders results.md from results.json's report and, when present, sustained.json.
func writeResults(dir string, rep *report) error {
	var sus *sustainResult
	var s sustainResult
	if ok, err := loadJSON(filepath.Join(dir, "sustained.json"), &s); err != nil {
		return err
	} else if ok {
		sus = &s
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark results\n\n")
	fmt.Fprintf(&b, "- Date: %s\n- Machine: %s\n- Commit: %s\n", rep.Date.Format("2006-01-02 15:04 MST"), rep.Machine, rep.Commit)
	cpus := rep.CPUs
	if cpus == 0 {
		cpus = runtime.NumCPU()
	}
	fmt.Fprintf(&b, "- Load average (1/5/15 min) at the start: %s; at the end: %s. With %d CPUs, a 1-minute load well above %d means\n  other processes competed with the run and the figures are noisy.\n", rep.LoadStart, rep.LoadEnd, cpus, cpus+1)
	fmt.Fprintf(&b, "- PostgreSQL: %s\n", rep.PGSettings)
	fmt.Fprintf(&b, "- Dataset: %s\n", describe(rep.Dataset, rep.Seed))
	if rep.Small != nil {
		fmt.Fprintf(&b, "- Growth dataset: %s\n", describe(*rep.Small, rep.Seed))
	}
	fmt.Fprintf(&b, "- Reads act as the first scale firm; writes as the second (begin-investigating on referrals prepared and acknowledged\n  before the run; POST /sent-cases sends each new case to a partner).\n")
	fmt.Fprintf(&b, "- Each cell: %s warm-up, then %s measured; ours then baseline, interleaved per cell. The client runs on the same machine.\n", rep.Warmup, rep.Duration)
	fmt.Fprintf(&b, "- Our server's RSS during the run (sampled every 200 ms): start %s, peak %s, end %s\n\n", mb(rep.RSS.StartKB), mb(rep.RSS.PeakKB), mb(rep.RSS.EndKB))

	b.WriteString("## Targets\n\n| Target | Measured | Verdict |\n|---|---|---|\n")
	for _, v := range targets(rep, sus) {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", md(v.target), md(v.measured), v.result)
	}

	fmt.Fprintf(&b, "\n## Ours versus the baseline\n\n")
	b.WriteString("| Endpoint | Conc. | Ours req/s | Base req/s | Ratio | Ours p50 | Base p50 | Ours p99 | Base p99 | p99 ratio | Errors (ours/base) |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range rep.Cells {
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %d/%d |\n", c.Name, c.Conc, c.Ours.RPS, c.Base.RPS,
			ratio(c.Ours.RPS, c.Base.RPS), ms(c.Ours.P50), ms(c.Base.P50), ms(c.Ours.P99), ms(c.Base.P99),
			ratio(float64(c.Ours.P99), float64(c.Base.P99)), c.Ours.Errors, c.Base.Errors)
	}
	var errs []string
	for _, c := range rep.Cells {
		if c.Ours.FirstError != "" {
			errs = append(errs, fmt.Sprintf("- ours, %s c=%d: %s", c.Name, c.Conc, c.Ours.FirstError))
		}
		if c.Base.FirstError != "" {
			errs = append(errs, fmt.Sprintf("- baseline, %s c=%d: %s", c.Name, c.Conc, c.Base.FirstError))
		}
	}
	if len(errs) > 0 {
		b.WriteString("\nFirst error per cell:\n\n" + strings.Join(errs, "\n") + "\n")
	}
	b.WriteString(`
Ratio is ours/baseline throughput; p99 ratio is ours/baseline p99. The baseline runs the same domain call (same SQL,
same pool settings) behind a bare Echo with no middleware, and encodes the domain result as JSON. See throughput.svg.
`)

	if len(rep.Growth) > 0 {
		fmt.Fprintf(&b, "\n## Growth: %d versus %d referrals\n\n", rep.Dataset.Referrals, rep.Small.Referrals)
		fmt.Fprintf(&b, "Our server at concurrency %d on each dataset (a second instance serves the small one); the small cell runs right\nafter the large one, so both see the same machine.\n\n", rep.GrowthConc)
		fmt.Fprintf(&b, "| Endpoint | p50 at scale %d | p50 at scale %d | Ratio | p99 at scale %d | p99 at scale %d |\n|---|---:|---:|---:|---:|---:|\n",
			rep.GrowthScale, rep.Scale, rep.GrowthScale, rep.Scale)
		for _, g := range rep.Growth {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", g.Name, ms(g.Small.P50), ms(g.Large.P50),
				ratio(float64(g.Large.P50), float64(g.Small.P50)), ms(g.Small.P99), ms(g.Large.P99))
		}
	}

	if im := rep.Import; im != nil {
		fmt.Fprintf(&b, "\n## Bulk import versus COPY\n\n")
		fmt.Fprintf(&b, "A %d-row CSV from importer.GenerateCSV (every optional column filled, %d rows with an external id) for the first\nscale firm of a fresh ", im.Rows, im.WithExternalID)
		fmt.Fprintf(&b, "copy of a %d-firm database (%d cases), imported as `casexchange import cases` does (importer.Service.Run, %d workers);\n", importScale, im.TemplateCases, im.Workers)
		b.WriteString("then the same rows, reference data resolved to ids, sent by one `COPY base_cases ... FROM STDIN` into another fresh copy.\n\n")
		b.WriteString("| | Time | Rows/s |\n|---|---:|---:|\n")
		fmt.Fprintf(&b, "| Importer (%d created, %d failed) | %s | %.0f |\n", im.Created, im.Failed, im.Importer.Round(time.Millisecond), im.ImporterRowsPerSec)
		fmt.Fprintf(&b, "| Raw COPY | %s | %.0f |\n", im.Copy.Round(time.Millisecond), im.CopyRowsPerSec)
		fmt.Fprintf(&b, "| Ratio | | %.3f |\n", im.ImporterRowsPerSec/im.CopyRowsPerSec)
		if im.FirstFailure != "" {
			fmt.Fprintf(&b, "\nFirst failed row: %s\n", md(im.FirstFailure))
		}
	}

	fmt.Fprintf(&b, "\n## Query plans\n\n")
	fmt.Fprintf(&b, "plans.md has `EXPLAIN (ANALYZE, BUFFERS)` of every statement of every read endpoint on %s, with the indexes\n", rep.Dataset.DB)
	fmt.Fprintf(&b, "each uses. Sequential scans reading %d rows or more:\n\n", bigScan)
	n := 0
	for _, p := range rep.Plans {
		var what []string
		for _, sc := range p.SeqScans {
			if sc.read() >= bigScan {
				what = append(what, sc.String())
			}
		}
		if p.Error != "" {
			what = append(what, "error: "+p.Error)
		}
		if len(what) > 0 {
			n++
			fmt.Fprintf(&b, "- %s, %s: %s\n", p.Endpoint, p.Query, md(strings.Join(what, ", ")))
		}
	}
	if n == 0 {
		b.WriteString("- none.\n")
	}

	fmt.Fprintf(&b, "\n## Sustained run\n\n")
	if sus == nil {
		b.WriteString("Not run yet: `make bench-sustained` writes sustained.md and fills its target above.\n")
	} else {
		fmt.Fprintf(&b, "See [sustained.md](sustained.md) (%s, %s at %.0f%% of a %.0f req/s peak).\n", sus.Date.Format("2006-01-02 15:04 MST"), sus.Duration, sus.Share*100, sus.PeakRPS)
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(b.String()), 0o644)
}

func describe(d datasetInfo, seed int64) string {
	s := fmt.Sprintf("database %s: %d referrals, %d status updates, %d cases (scale %d firms, seed %d)", d.DB, d.Referrals, d.StatusUpdates, d.BaseCases, d.Scale, seed)
	if d.SeedTime > 0 {
		s += fmt.Sprintf(", seeded by this run in %s", d.SeedTime.Round(time.Millisecond))
	} else {
		s += ", kept from an earlier run"
	}
	return s
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
			maxV = max(maxV, val(c.Ours), val(c.Base))
		}
		if maxV == 0 {
			maxV = 1
		}
		fmt.Fprintf(&b, `<text x="10" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", y0, title)
		y := y0 + 12
		for _, c := range cells {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s c=%d</text>`+"\n", labelW-8, y+14, esc(c.Name), c.Conc)
			for i, s := range []stats{c.Ours, c.Base} {
				v := val(s)
				bw := int(v / maxV * barW)
				color := []string{"#2b6cb0", "#a0aec0"}[i]
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/><text x="%d" y="%d">%.1f %s</text>`+"\n",
					labelW, y+i*rowH/2, max(bw, 1), rowH/2-1, color, labelW+bw+4, y+i*rowH/2+9, v, unit)
			}
			y += rowH + gap
		}
	}
	panel(top, "Throughput (requests/s, higher is better)", func(s stats) float64 { return s.RPS }, "req/s")
	panel(top+panelH, "p99 latency (ms, lower is better)", func(s stats) float64 { return float64(s.P99.Microseconds()) / 1000 }, "ms")
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// esc escapes text for SVG.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// md escapes text for a Markdown table cell.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
