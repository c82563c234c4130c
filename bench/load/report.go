package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

func saveJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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
