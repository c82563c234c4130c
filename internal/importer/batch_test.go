package importer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/referrals"
)

func TestImportBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// A row the database refuses (here through a constraint added for the test) fails its
	// batch's transaction; the batch is then written row by row, so only that row fails.
	t.Run("ARowTheDatabaseRefusesFailsAlone", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.pool.Exec(ctx, "ALTER TABLE base_cases ADD CONSTRAINT test_refused CHECK (title <> 'Refused')")
		require.NoError(t, err)
		var sb strings.Builder
		sb.WriteString("title,caseType,jurisdiction,clientFirstName,clientLastName,cmsId\n")
		for i := range 40 {
			title := "Accepted"
			if i == 17 {
				title = "Refused"
			}
			ext := ""
			if i%2 == 0 {
				ext = "EXT-" + strings.Repeat("9", i+1)
			}
			sb.WriteString(title + ",Personal Injury,WA,Ana,Ruiz," + ext + "\n")
		}
		res, err := b.svc.Run(ctx, b.actor, importer.Upsert, strings.NewReader(sb.String()), importer.Options{Workers: 1}, nil)
		require.NoError(t, err)
		require.Equal(t, 39, res.Created, "%v", res.Errors)
		require.Equal(t, 1, res.Failed)
		require.Len(t, res.Errors, 1)
		require.Equal(t, 19, res.Errors[0].Row)
		page, err := b.cases.ListCases(ctx, b.actor, referrals.CaseQuery{})
		require.NoError(t, err)
		require.Equal(t, 39, page.Total)
	})

	// Rows naming the same external id are applied in file order even within one batch: the
	// first creates the case, the next ones update it.
	t.Run("RowsOfOneExternalIDKeepFileOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res, err := b.svc.Run(ctx, b.actor, importer.Upsert, strings.NewReader(
			"title,caseType,jurisdiction,clientFirstName,clientLastName,cmsId,tier\n"+
				"First,Personal Injury,WA,Ana,Ruiz,E-1,1\n"+
				"Other,Personal Injury,WA,Ben,Ode,E-2,1\n"+
				"Second,Personal Injury,WA,Ana,Ruiz,E-1,2\n"+
				"Second,Personal Injury,WA,Ana,Ruiz,E-1,2\n"), importer.Options{Workers: 1}, nil)
		require.NoError(t, err)
		require.Equal(t, importer.Result{TotalRows: 4, Created: 2, Updated: 1, Skipped: 1, Errors: []importer.RowError{}}, res)
	})

	// Two imports of the same file at once create each external id's case once: batches lock
	// their ids and leave out those another run created meanwhile (those rows fail).
	t.Run("ConcurrentRunsCreateEachExternalIDOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var sb strings.Builder
		sb.WriteString("title,caseType,jurisdiction,clientFirstName,clientLastName,salesforceId\n")
		for i := range 300 {
			sb.WriteString("Case,Personal Injury,WA,Ana,Ruiz,SF-" + strings.Repeat("1", i%40+1) + "-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "\n")
		}
		file := sb.String()
		results := make(chan importer.Result, 2)
		for range 2 {
			go func() {
				res, err := b.svc.Run(ctx, b.actor, importer.Upsert, strings.NewReader(file), importer.Options{}, nil)
				if err != nil {
					t.Error(err)
				}
				results <- res
			}()
		}
		r1, r2 := <-results, <-results
		require.Equal(t, 300, r1.Created+r2.Created, "each id created once")
		require.Equal(t, 300, r1.Created+r1.Failed+r1.Updated+r1.Skipped)
		page, err := b.cases.ListCases(ctx, b.actor, referrals.CaseQuery{})
		require.NoError(t, err)
		require.Equal(t, 300, page.Total)
	})
}
