package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/webhooks/webhookstest"
)

// Imported cases are written by the referrals service, so they record the events a case created
// or changed over the API records.
func TestImportWebhooks(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		*whBundle
		full string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		wb := whSetup(t)
		b := &testBundle{whBundle: wb, full: wb.h.Key(wb.firm, apitest.Full)}
		b.create(t, map[string]any{"url": b.recv.URL(), "events": []string{"case.created", "case.updated"}})
		return b
	}
	// settled waits until every delivery is final and returns all that the receiver got: nothing
	// committed so far can arrive later.
	settled := func(t *testing.T, b *testBundle, want int) map[string][]hookEvent {
		t.Helper()
		b.recv.Wait(t, want, 30*time.Second)
		webhookstest.WaitSettled(t, b.h.Pool, 30*time.Second)
		reqs := b.recv.Requests()
		require.Len(t, reqs, want, "deliveries beyond one per imported row")
		return hookEvents(t, reqs)
	}
	csv := func(n int, title string) string {
		var sb strings.Builder
		sb.WriteString(importHeader)
		for i := range n {
			fmt.Fprintf(&sb, "%s %d,Personal Injury,WA,Ana,Ruiz%d,2026-01-02,%d,CMS-%03d,\n", title, i, i, i%5+1, i)
		}
		return sb.String()
	}

	t.Run("every imported row sends one case.created to the owning firm", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 60
		res := importOK(t, b.h, b.full, "/api/public/v1/import/cases", csv(n, "Imported"))
		require.Equal(t, n, res.Created, "%v", res.Errors)

		got := settled(t, b, n)
		owner := got[b.firm.ID.String()]
		require.Len(t, owner, n, "only the owning firm hears of its drafts")
		byCase := map[string]bool{}
		titles := map[string]bool{}
		for _, e := range owner {
			require.Equal(t, "case.created", e.Type)
			require.Equal(t, "sent", e.Env["perspective"])
			c := e.data()
			byCase[c["baseCaseId"].(string)] = true
			titles[c["title"].(string)] = true
			require.Equal(t, "draft", c["status"])
		}
		require.Len(t, byCase, n, "one event per case")
		for i := range n {
			require.True(t, titles[fmt.Sprintf("Imported %d", i)], "row %d", i)
		}
		// The outbox holds one delivery per case, all delivered, and the lists count the cases.
		var deliveries, events int
		require.NoError(t, b.h.Pool.QueryRow(context.Background(),
			`SELECT count(*), count(DISTINCT event_id) FROM webhook_deliveries WHERE firm_id = $1 AND event_type = 'case.created' AND status = 'DELIVERED'`,
			b.firm.ID).Scan(&deliveries, &events))
		require.Equal(t, [2]int{n, n}, [2]int{deliveries, events})
		r := b.h.Do("GET", "/api/public/v1/sent-cases", apitest.APIKey(b.full), apitest.Query("limit", "100"))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.EqualValues(t, n, r.Map()["pagination"].(map[string]any)["total"])
		for _, c := range r.Map()["data"].([]any) {
			require.True(t, byCase[c.(map[string]any)["id"].(string)], "listed cases are the announced ones")
		}
	})

	t.Run("rows that change a case send case.updated and unchanged rows send nothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 12
		importOK(t, b.h, b.full, "/api/public/v1/import/cases", csv(n, "First"))
		settled(t, b, n)

		// The same file with a new title on the first four rows.
		var sb strings.Builder
		sb.WriteString(importHeader)
		for i := range n {
			title := "First"
			if i < 4 {
				title = "Renamed"
			}
			fmt.Fprintf(&sb, "%s %d,Personal Injury,WA,Ana,Ruiz%d,2026-01-02,%d,CMS-%03d,\n", title, i, i, i%5+1, i)
		}
		res := importOK(t, b.h, b.full, "/api/public/v1/import/cases", sb.String())
		require.Equal(t, [3]int{0, 4, n - 4}, [3]int{res.Created, res.Updated, res.Skipped}, "%v", res.Errors)

		got := settled(t, b, n+4)[b.firm.ID.String()][n:]
		for _, e := range got {
			require.Equal(t, "case.updated", e.Type)
			require.Equal(t, []any{"title"}, e.Env["changedFields"], "%v", e.Env)
			require.True(t, strings.HasPrefix(e.data()["title"].(string), "Renamed "))
		}
	})
}
