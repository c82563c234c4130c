package importer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/refdata"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/webhooks"
)

// BenchmarkImportVsCopy imports IMPORT_BENCH_ROWS (default 100,000) generated rows with the
// importer (as `casexchange import cases` does, through the referrals service with webhooks on)
// into one fresh database, COPYs the same rows (reference data resolved to ids) into base_cases
// of another, and reports both rates and their ratio (target: at least 0.5). With
// IMPORT_BENCH_SUBSCRIBED=1 the importing firm has a webhook subscription to case.created, so
// every row also writes a delivery and its job. Run it once:
//
//	go run ./cmd/devdb -ephemeral -- go test -run x -bench ImportVsCopy -benchtime 1x ./internal/importer/
func BenchmarkImportVsCopy(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("IMPORT_BENCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	subscribed := os.Getenv("IMPORT_BENCH_SUBSCRIBED") == "1"
	ctx := context.Background()
	data := importer.GenerateCSV(n, 1)
	for b.Loop() {
		// The importer.
		ib := setupWithWebhooks(b, subscribed)
		t0 := time.Now()
		res, err := ib.svc.Run(ctx, ib.actor, importer.Upsert, bytes.NewReader(data), importer.Options{}, nil)
		imp := time.Since(t0)
		require.NoError(b, err)
		require.Equal(b, n, res.Created, "%v", firstErrors(res))
		if subscribed {
			var deliveries int
			require.NoError(b, ib.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries`).Scan(&deliveries))
			require.Equal(b, n, deliveries)
		}

		// The raw COPY of the same rows.
		cb := setup(b)
		rows := copyRows(b, cb, data)
		conn, err := cb.pool.Acquire(ctx)
		require.NoError(b, err)
		// One COPY of every row can outlast the pool's statement timeout on a busy machine.
		_, err = conn.Exec(ctx, "SET statement_timeout = 0")
		require.NoError(b, err)
		t0 = time.Now()
		copied, err := conn.Conn().CopyFrom(ctx, pgx.Identifier{"base_cases"}, copyColumns, pgx.CopyFromRows(rows))
		cp := time.Since(t0)
		conn.Release()
		require.NoError(b, err)
		require.EqualValues(b, n, copied)

		impRate, copyRate := float64(n)/imp.Seconds(), float64(n)/cp.Seconds()
		b.ReportMetric(impRate, "import-rows/s")
		b.ReportMetric(copyRate, "copy-rows/s")
		b.ReportMetric(impRate/copyRate, "ratio")
		b.Logf("import vs COPY: %d rows (subscribed: %v), importer %.0f rows/s, COPY %.0f rows/s, ratio %.2f (target >= 0.5)",
			n, subscribed, impRate, copyRate, impRate/copyRate)
	}
}

// setupWithWebhooks is setup with the referrals service recording webhook events, as the server
// runs it; subscribed adds a subscription of the firm to case.created (its deliveries are
// queued, not sent).
func setupWithWebhooks(t testing.TB, subscribed bool) *testBundle {
	t.Helper()
	b := setup(t)
	ctx := context.Background()
	hooks := webhooks.New(b.pool, webhooks.Config{AllowPrivate: true})
	q, err := jobs.New(b.pool, nil, jobs.Config{}, hooks.Workers())
	require.NoError(t, err)
	hooks.UseQueue(q)
	b.cases = referrals.New(b.pool, referrals.WithWebhooks(hooks))
	b.svc = importer.New(b.pool, refdata.NewService(b.pool), b.cases, nil)
	if subscribed {
		require.NoError(t, jobs.Migrate(ctx, b.pool))
		_, _, err := hooks.Create(ctx, b.actor.FirmID, webhooks.CreateInput{
			URL: "https://127.0.0.1/hook", Events: []webhooks.EventType{webhooks.EventCaseCreated},
		})
		require.NoError(t, err)
	}
	return b
}

func firstErrors(res importer.Result) []importer.RowError {
	return res.Errors[:min(5, len(res.Errors))]
}

var copyColumns = []string{
	"owner_firm_id", "title", "description", "case_type_id", "jurisdiction_code", "county",
	"client_first_name", "client_last_name", "client_email", "client_phone", "client_date_of_birth", "incident_date",
	"tier", "source", "salesforce_id", "salesforce_object_type", "is_retainer_signed",
}

// copyRows turns a GenerateCSV file into base_cases rows for b's firm.
func copyRows(t testing.TB, b *testBundle, data []byte) [][]any {
	t.Helper()
	ctx := context.Background()
	ref := refdata.NewService(b.pool)
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	types := map[string]any{}
	date := func(v string) pgtype.Date {
		for _, l := range []string{"2006-01-02", "1/2/2006"} {
			if d, err := time.Parse(l, v); err == nil {
				return pgtype.Date{Time: d, Valid: true}
			}
		}
		return pgtype.Date{}
	}
	opt := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	out := make([][]any, 0, len(recs)-1)
	for _, r := range recs[1:] {
		ct, ok := types[r[1]]
		if !ok {
			c, err := ref.ResolveCaseType(ctx, r[1])
			require.NoError(t, err)
			ct, types[r[1]] = c.ID, c.ID
		}
		tier, _ := strconv.Atoi(r[10])
		out = append(out, []any{
			b.actor.FirmID, r[0], opt(r[12]), ct, strings.ToUpper(r[2]), opt(r[3]),
			r[4], r[5], opt(r[6]), opt(r[7]), date(r[8]), date(r[9]),
			int32(tier), opt(r[11]), opt(r[13]), opt(r[14]), r[15] == "yes",
		})
	}
	return out
}
