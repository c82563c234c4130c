package tabular_test

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/casexchange/server/internal/tabular"
)

// BenchmarkWorkbook200k writes a 200,000-row sheet of the case export's shape (twelve mixed
// cells per row); it reports rows per second.
func BenchmarkWorkbook200k(b *testing.B) {
	const rows = 200_000
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	header := []string{"id", "reference", "title", "status", "partner", "client", "type", "state", "created", "amount", "rating", "retainer"}
	for range b.N {
		wb, err := tabular.NewWorkbook()
		if err != nil {
			b.Fatal(err)
		}
		s, err := wb.AddSheet("Cases", header, tabular.SheetOptions{BoldHeader: true, FreezeHeader: true, Filter: true})
		if err != nil {
			b.Fatal(err)
		}
		row := make([]tabular.Cell, 12)
		for i := range rows {
			n := strconv.Itoa(i)
			row[0] = tabular.Text("3f0c2a1e-8d7b-4c55-9e6a-" + n)
			row[1] = tabular.Text("CX-2026-" + n)
			row[2] = tabular.Text("Stark Holdings #" + n)
			row[3] = tabular.Text("under_evaluation")
			row[4] = tabular.Text("Bay Legal Group")
			row[5] = tabular.Text("Jordan Walker")
			row[6] = tabular.Text("personal_injury")
			row[7] = tabular.Text("IL")
			row[8] = tabular.Date(day)
			row[9] = tabular.Cents(int64(i) * 137)
			row[10] = tabular.Int(int64(i % 5))
			row[11] = tabular.Bool(i%2 == 0)
			if err := s.Row(row); err != nil {
				b.Fatal(err)
			}
		}
		if err := wb.Write(io.Discard, false); err != nil {
			b.Fatal(err)
		}
		wb.Close()
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
