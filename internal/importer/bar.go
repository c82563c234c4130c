package importer

import (
	"fmt"
	"io"
	"strings"
)

// ProgressBar returns a progress function for Run that draws a one-line bar on w (a terminal:
// it redraws with a carriage return), e.g. "[##########----------]  5000/10000 rows  50%". It
// redraws only when the shown percentage changes and ends the line when done reaches total.
func ProgressBar(w io.Writer, width int) func(done, total int) {
	return ProgressBarOf(w, width, "rows")
}

// ProgressBarOf is ProgressBar counting the given unit ("firms", ...) instead of rows.
func ProgressBarOf(w io.Writer, width int, unit string) func(done, total int) {
	if width < 10 {
		width = 10
	}
	last := -1
	return func(done, total int) {
		pct := 100
		if total > 0 {
			pct = done * 100 / total
		}
		if pct == last && done != total {
			return
		}
		last = pct
		filled := width * pct / 100
		fmt.Fprintf(w, "\r[%s%s] %*d/%d %s %3d%%", strings.Repeat("#", filled), strings.Repeat("-", width-filled),
			len(fmt.Sprint(total)), done, total, unit, pct)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}

// WriteReport prints the counts of a run and its row errors, one per line
// ("row 4, jurisdiction: unknown jurisdiction code "ZZ"").
func WriteReport(w io.Writer, r Result) {
	fmt.Fprintf(w, "%d rows: %d created, %d updated, %d skipped, %d failed\n", r.TotalRows, r.Created, r.Updated, r.Skipped, r.Failed)
	for _, e := range r.Errors {
		if e.Column != nil {
			fmt.Fprintf(w, "row %d, %s: %s\n", e.Row, *e.Column, e.Message)
		} else {
			fmt.Fprintf(w, "row %d: %s\n", e.Row, e.Message)
		}
	}
}
