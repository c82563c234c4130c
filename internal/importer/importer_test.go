package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/firms"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/refdata"
	"github.com/casexchange/server/internal/referrals"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type testBundle struct {
	pool  *pgxpool.Pool
	svc   *importer.Service
	cases *referrals.Service
	actor auth.Actor
}

func setup(t testing.TB) *testBundle {
	t.Helper()
	pool, _ := pgtest.NewDB(t)
	ref := refdata.NewService(pool)
	cases := referrals.New(pool)
	f, err := firms.New(pool).Create(context.Background(), firms.CreateInput{
		Name: "Importing Firm", Slug: "importing-" + uuid.NewString()[:8], ReferencePrefix: "IMP",
	})
	require.NoError(t, err)
	return &testBundle{
		pool:  pool,
		svc:   importer.New(pool, ref, cases, nil),
		cases: cases,
		actor: auth.Actor{FirmID: f.ID, Source: referrals.SourceSystem},
	}
}

func rows(n int) string {
	var sb strings.Builder
	sb.WriteString("title,caseType,jurisdiction,clientFirstName,clientLastName,clientEmail,incidentDate,tier,cmsId\n")
	for i := range n {
		fmt.Fprintf(&sb, "Case %d,Personal Injury,WA,First%d,Last%d,c%d@example.org,1/%d/2026,%d,EXT-%d\n", i, i, i, i, i%28+1, i%5+1, i)
	}
	return sb.String()
}

func TestImportRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ReportsProgressFromZeroToTotal", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var mu sync.Mutex
		var calls [][2]int
		res, err := b.svc.Run(ctx, b.actor, importer.Upsert, strings.NewReader(rows(40)), importer.Options{}, func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, [2]int{done, total})
		})
		require.NoError(t, err)
		require.Equal(t, 40, res.Created, "%v", res.Errors)
		require.Len(t, calls, 41)
		for i, c := range calls {
			require.Equal(t, [2]int{i, 40}, c)
		}
		page, err := b.cases.ListCases(ctx, b.actor, referrals.CaseQuery{})
		require.NoError(t, err)
		require.Equal(t, 40, page.Total)
	})

	t.Run("RowsNamingTheSameCaseApplyInFileOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		csv := "title,caseType,jurisdiction,clientFirstName,clientLastName,salesforceId,tier\n"
		for i := range 12 {
			csv += fmt.Sprintf("Title v%d,Personal Injury,WA,Ana,Ruiz,SAME,%d\n", i, i%5+1)
		}
		res, err := b.svc.Run(ctx, b.actor, importer.Upsert, strings.NewReader(csv), importer.Options{Workers: 3}, nil)
		require.NoError(t, err)
		require.Equal(t, 1, res.Created, "%v", res.Errors)
		require.Equal(t, 11, res.Updated)
		page, err := b.cases.ListCases(ctx, b.actor, referrals.CaseQuery{})
		require.NoError(t, err)
		require.Equal(t, 1, page.Total)
		require.Equal(t, "Title v11", page.Items[0].Case.Title)
	})

	t.Run("CanceledContextStops", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := b.svc.Run(cctx, b.actor, importer.Upsert, strings.NewReader(rows(30)), importer.Options{}, nil)
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("TenThousandRows", func(t *testing.T) {
		if testing.Short() {
			t.Skip("writes 10,000 cases")
		}
		t.Parallel()
		b := setup(t)
		data := rows(10_000)
		start := time.Now()
		res, err := b.svc.Run(ctx, b.actor, importer.Upsert, strings.NewReader(data), importer.HTTPOptions, nil)
		require.NoError(t, err)
		t.Logf("10,000 rows (%d bytes) created in %v", len(data), time.Since(start))
		require.Equal(t, 10_000, res.Created, "%v", res.Errors[:min(len(res.Errors), 5)])

		start = time.Now()
		res, err = b.svc.Run(ctx, b.actor, importer.Upsert, strings.NewReader(data), importer.HTTPOptions, nil)
		require.NoError(t, err)
		t.Logf("the same 10,000 rows matched and skipped in %v", time.Since(start))
		require.Equal(t, 10_000, res.Skipped, "%v", res.Errors[:min(len(res.Errors), 5)])

		start = time.Now()
		res, err = b.svc.Run(ctx, b.actor, importer.Upsert, strings.NewReader(strings.ReplaceAll(data, "Case ", "Renamed case ")), importer.HTTPOptions, nil)
		require.NoError(t, err)
		t.Logf("the same 10,000 rows with a new title updated in %v", time.Since(start))
		require.Equal(t, 10_000, res.Updated, "%v", res.Errors[:min(len(res.Errors), 5)])
	})
}

func TestImportWholeFileChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// No row reaches the database: a nil pool is never touched.
	svc := importer.New(nil, nil, nil, nil)
	actor := auth.Actor{FirmID: uuid.New()}
	header := "title,caseType,jurisdiction,clientFirstName,clientLastName\n"

	for name, tc := range map[string]struct {
		mode importer.Mode
		in   string
		opts importer.Options
		kind error
	}{
		"empty":                 {importer.Upsert, "", importer.Options{}, apperr.ErrValidation},
		"only a BOM":            {importer.Upsert, "\ufeff", importer.Options{}, apperr.ErrValidation},
		"missing required":      {importer.Upsert, "title,caseType\n", importer.Options{}, apperr.ErrValidation},
		"update without id col": {importer.UpdateOnly, "title,tier\n", importer.Options{}, apperr.ErrValidation},
		"invalid utf-8":         {importer.Upsert, header + "a,b,c,d,\xff\n", importer.Options{}, apperr.ErrValidation},
		"cut utf-8 at the end":  {importer.Upsert, header + "a,b,c,d,\xc3", importer.Options{}, apperr.ErrValidation},
		"nul byte":              {importer.Upsert, header + "a\x00,b,c,d,e\n", importer.Options{}, apperr.ErrValidation},
		"bare quote":            {importer.Upsert, header + "a\"b,c,d,e,f\n", importer.Options{}, apperr.ErrValidation},
		"too many rows":         {importer.Upsert, header + strings.Repeat(",,,,\n", 4), importer.Options{MaxRows: 3}, apperr.ErrValidation},
		"too many bytes":        {importer.Upsert, header + strings.Repeat(",,,,\n", 40), importer.Options{MaxBytes: 100}, apperr.ErrTooLarge},
		"bytes beat rows":       {importer.Upsert, header + strings.Repeat(",,,,\n", 40), importer.Options{MaxBytes: 100, MaxRows: 3}, apperr.ErrTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := svc.Run(ctx, actor, tc.mode, strings.NewReader(tc.in), tc.opts, nil)
			require.ErrorIs(t, err, tc.kind)
			ae, ok := apperr.As(err)
			require.True(t, ok)
			require.Equal(t, "body.file", ae.Details[0].Field)
		})
	}

	t.Run("HeaderOnlyAndBOMAreFine", func(t *testing.T) {
		t.Parallel()
		res, err := svc.Run(ctx, actor, importer.Upsert, strings.NewReader("\ufeff"+header), importer.Options{}, nil)
		require.NoError(t, err)
		require.Zero(t, res.TotalRows)
	})

	t.Run("ExactlyAtTheByteLimitIsFine", func(t *testing.T) {
		t.Parallel()
		res, err := svc.Run(ctx, actor, importer.Upsert, strings.NewReader(header), importer.Options{MaxBytes: int64(len(header))}, nil)
		require.NoError(t, err)
		require.Zero(t, res.TotalRows)
	})
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	tpl := importer.Template()
	require.True(t, bytes.HasSuffix(tpl, []byte("\n")))
	cols := strings.Split(strings.TrimSpace(string(tpl)), ",")
	require.Equal(t, importer.Columns, cols)
	require.Equal(t, importer.Required, cols[:len(importer.Required)], "required columns come first")
	require.Equal(t, "referenceNumber", cols[len(cols)-1])
}
