package importer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/storage"
)

// nopQueue accepts jobs without running them: the test runs them itself.
type nopQueue struct{}

func (nopQueue) InsertTx(context.Context, pgx.Tx, river.JobArgs, *river.InsertOpts) error { return nil }

func TestImportJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	jobSetup := func(t *testing.T) (*testBundle, storage.Store) {
		t.Helper()
		b := setup(t)
		store, err := storage.NewLocal(t.TempDir(), []byte(strings.Repeat("k", 32)), func() string { return "http://x" })
		require.NoError(t, err)
		b.svc.UseJobs(nopQueue{}, store)
		return b, store
	}

	t.Run("SmallFilesRunAtOnceUnlessAsync", func(t *testing.T) {
		t.Parallel()
		b, _ := jobSetup(t)
		res, job, err := b.svc.Submit(ctx, b.actor, importer.Upsert, strings.NewReader(rows(3)), false)
		require.NoError(t, err)
		require.Nil(t, job)
		require.Equal(t, 3, res.Created)
		res, job, err = b.svc.Submit(ctx, b.actor, importer.Upsert, strings.NewReader(rows(3)), true)
		require.NoError(t, err)
		require.Nil(t, res)
		require.Equal(t, importer.JobQueued, job.Status)
		require.Equal(t, 3, job.TotalRows)
	})

	// A job stopped half-way (a crash, a deploy) and run again writes each row once: rows
	// without an external id, which nothing else would match, are not created twice.
	t.Run("ARunAgainAfterACrashResumes", func(t *testing.T) {
		t.Parallel()
		b, store := jobSetup(t)
		var sb strings.Builder
		sb.WriteString("title,caseType,jurisdiction,clientFirstName,clientLastName\n")
		const n = 1500
		for i := range n {
			sb.WriteString("Case " + strings.Repeat("x", i%7) + ",Personal Injury,WA,Ana,Ruiz\n")
		}
		_, job, err := b.svc.Submit(ctx, b.actor, importer.Upsert, strings.NewReader(sb.String()), true)
		require.NoError(t, err)

		// First run: cancelled right after it records its progress at 500 rows (a crash
		// between two batches).
		runCtx, cancel := context.WithCancel(ctx)
		b.svc.OnJobProgress(func(int) { cancel() })
		err = b.svc.WorkJob(runCtx, job.ID, false)
		cancel()
		b.svc.OnJobProgress(nil)
		require.Error(t, err, "the interrupted run asks for a retry")
		mid, err := b.svc.Job(ctx, b.actor.FirmID, job.ID)
		require.NoError(t, err)
		require.Equal(t, importer.JobRunning, mid.Status)
		page, err := b.cases.ListCases(ctx, b.actor, referrals.CaseQuery{})
		require.NoError(t, err)
		require.Less(t, page.Total, n, "the first run stopped early")

		// Second run: finishes.
		require.NoError(t, b.svc.WorkJob(ctx, job.ID, false))
		done, err := b.svc.Job(ctx, b.actor.FirmID, job.ID)
		require.NoError(t, err)
		require.Equal(t, importer.JobSucceeded, done.Status)
		require.Equal(t, n, done.Created, "%v", done.Errors)
		require.Equal(t, n, done.ProcessedRows)
		page, err = b.cases.ListCases(ctx, b.actor, referrals.CaseQuery{})
		require.NoError(t, err)
		require.Equal(t, n, page.Total, "every row written exactly once")

		// The spooled file is gone, and a stray extra run changes nothing.
		_, _, err = store.Get(ctx, "imports/"+b.actor.FirmID.String()+"/"+job.ID.String()+".csv")
		require.ErrorIs(t, err, storage.ErrNotExist)
		require.NoError(t, b.svc.WorkJob(ctx, job.ID, false))
		again, err := b.svc.Job(ctx, b.actor.FirmID, job.ID)
		require.NoError(t, err)
		require.Equal(t, done, again)
	})

	t.Run("FinishedJobsAreKeptThirtyDays", func(t *testing.T) {
		t.Parallel()
		b, _ := jobSetup(t)
		_, job, err := b.svc.Submit(ctx, b.actor, importer.Upsert, strings.NewReader(rows(1)), true)
		require.NoError(t, err)
		require.NoError(t, b.svc.WorkJob(ctx, job.ID, false))
		_, err = b.pool.Exec(ctx, "UPDATE import_jobs SET finished_at = now() - interval '29 days' WHERE id = $1", job.ID)
		require.NoError(t, err)
		_, err = b.svc.Job(ctx, b.actor.FirmID, job.ID)
		require.NoError(t, err)
		_, err = b.pool.Exec(ctx, "UPDATE import_jobs SET finished_at = now() - interval '31 days' WHERE id = $1", job.ID)
		require.NoError(t, err)
		_, err = b.svc.Job(ctx, b.actor.FirmID, job.ID)
		require.ErrorIs(t, err, apperr.ErrNotFound)
		list, total, err := b.svc.Jobs(ctx, b.actor.FirmID, 1, 20)
		require.NoError(t, err)
		require.Empty(t, list)
		require.Zero(t, total)
		// The next upload deletes it for good.
		_, _, err = b.svc.Submit(ctx, b.actor, importer.Upsert, strings.NewReader(rows(1)), true)
		require.NoError(t, err)
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, "SELECT count(*) FROM import_jobs WHERE id = $1", job.ID).Scan(&n))
		require.Zero(t, n)
	})

	t.Run("AMissingFileFailsTheJob", func(t *testing.T) {
		t.Parallel()
		b, store := jobSetup(t)
		_, job, err := b.svc.Submit(ctx, b.actor, importer.Upsert, strings.NewReader(rows(2)), true)
		require.NoError(t, err)
		require.NoError(t, store.Delete(ctx, "imports/"+b.actor.FirmID.String()+"/"+job.ID.String()+".csv"))
		require.NoError(t, b.svc.WorkJob(ctx, job.ID, false))
		j, err := b.svc.Job(ctx, b.actor.FirmID, job.ID)
		require.NoError(t, err)
		require.Equal(t, importer.JobFailed, j.Status)
		require.NotNil(t, j.Failure)
	})
}
