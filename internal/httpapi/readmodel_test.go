package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/testsummary"
)

// TestListReadModelProperty runs a randomized workload of lifecycle actions over HTTP among
// three firms and then checks, row by row, that the read model the case lists use
// (case_listings) equals a recomputation from the base tables, and that every list counter
// equals a count(*) of the base tables; the lists' totals over HTTP are checked against the
// same counts.
func TestListReadModelProperty(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	firms := []*apitest.Firm{
		h.NewFirm(apitest.FirmOpts{Name: "Property Alpha"}),
		h.NewFirm(apitest.FirmOpts{Name: "Property Beta"}),
		h.NewFirm(apitest.FirmOpts{Name: "Property Gamma"}),
	}
	for _, a := range firms {
		for _, b := range firms {
			if a != b {
				connectFirms(t, h, a, b)
			}
		}
	}
	keys := make([]string, len(firms))
	for i, f := range firms {
		keys[i] = h.Key(f, apitest.Full)
	}
	ctx := context.Background()
	seed := uint64(20261207)
	rng := rand.New(rand.NewPCG(seed, seed))
	firmIndex := map[uuid.UUID]int{}
	for i, f := range firms {
		firmIndex[f.ID] = i
	}

	// A random referral (and its case, sender and receiver) in some status, from the database.
	type target struct {
		caseID, refID uuid.UUID
		owner, recv   int
	}
	pick := func(statuses ...string) (target, bool) {
		var tg target
		var owner uuid.UUID
		var recv *uuid.UUID
		err := h.Pool.QueryRow(ctx, `SELECT r.base_case_id, r.id, c.owner_firm_id, r.referent_firm_id
			FROM referrals r JOIN base_cases c ON c.id = r.base_case_id
			WHERE r.status = ANY($1) ORDER BY random() LIMIT 1`, statuses).Scan(&tg.caseID, &tg.refID, &owner, &recv)
		if err != nil {
			return tg, false
		}
		tg.owner, tg.recv = firmIndex[owner], -1
		if recv != nil {
			tg.recv = firmIndex[*recv]
		}
		return tg, true
	}
	other := func(i int) int { return (i + 1 + rng.IntN(len(firms)-1)) % len(firms) }
	api := "/api/public/v1"
	actions := map[string]int{}
	fivexx := 0
	do := func(name, method, path, key string, body any) {
		opts := []apitest.Opt{apitest.APIKey(key)}
		if body != nil {
			opts = append(opts, apitest.JSON(body))
		}
		r := h.Do(method, path, opts...)
		if r.StatusCode >= 500 {
			fivexx++
			t.Errorf("%s %s: %d %s", method, path, r.StatusCode, r.Body)
		}
		if r.StatusCode < 300 {
			actions[name]++
		}
	}
	const steps = 400
	for step := 0; step < steps; step++ {
		switch n := rng.IntN(100); {
		case n < 22: // a new case, a draft or sent at once
			o := rng.IntN(len(firms))
			body := map[string]any{
				"title": fmt.Sprintf("Property case %d", step), "caseType": "Personal Injury", "jurisdiction": "WA",
				"clientFirstName": fmt.Sprintf("Client%d", step), "clientLastName": "Propertyson",
			}
			if rng.IntN(3) > 0 {
				body["referentFirmId"] = firms[other(o)].ID.String()
			}
			// /cases makes a draft referral when no firm is named; /sent-cases makes none.
			do("create", "POST", []string{api + "/sent-cases", api + "/cases"}[rng.IntN(2)], keys[o], body)
		case n < 32:
			if tg, ok := pick("draft", "rejected", "withdrawn", "closed"); ok {
				do("refer", "POST", apitest.Path(api+"/sent-cases", tg.caseID.String(), "refer"), keys[tg.owner],
					map[string]any{"referentFirmId": firms[other(tg.owner)].ID.String()})
			}
		case n < 48:
			if tg, ok := pick("sent"); ok {
				do("acknowledge", "POST", apitest.Path(api+"/received-referrals", tg.refID.String(), "acknowledge"), keys[tg.recv], nil)
			}
		case n < 56:
			if tg, ok := pick("sent", "under_evaluation"); ok {
				do("reject", "POST", apitest.Path(api+"/received-referrals", tg.refID.String(), "reject"), keys[tg.recv],
					map[string]any{"reason": "Not our practice area"})
			}
		case n < 62:
			if tg, ok := pick("sent", "under_evaluation"); ok {
				do("withdraw", "POST", apitest.Path(api+"/cases", tg.caseID.String(), "referrals", tg.refID.String(), "withdraw"), keys[tg.owner],
					map[string]any{"reason": "Client changed their mind"})
			}
		case n < 70:
			if tg, ok := pick("under_evaluation"); ok {
				do("begin-investigating", "POST", apitest.Path(api+"/received-referrals", tg.refID.String(), "begin-investigating"), keys[tg.recv], nil)
			}
		case n < 75:
			if tg, ok := pick("investigating"); ok {
				do("sign", "POST", apitest.Path(api+"/received-referrals", tg.refID.String(), "sign"), keys[tg.recv], nil)
			}
		case n < 79:
			if tg, ok := pick("signed", "in_litigation"); ok {
				do("close", "POST", apitest.Path(api+"/received-referrals", tg.refID.String(), "close"), keys[tg.recv],
					map[string]any{"closingStatus": []string{"won_settled", "lost", "no_longer_pursuing"}[rng.IntN(3)]})
			}
		case n < 83:
			if tg, ok := pick("draft"); ok {
				do("delete-draft", "DELETE", apitest.Path(api+"/cases", tg.caseID.String(), "referrals", tg.refID.String()), keys[tg.owner], nil)
			}
		case n < 95:
			if tg, ok := pick("draft", "sent", "under_evaluation", "investigating", "signed", "rejected", "withdrawn", "closed"); ok {
				do("update-case", "PUT", apitest.Path(api+"/cases", tg.caseID.String()), keys[tg.owner], map[string]any{
					"title": fmt.Sprintf("Renamed case %d", step), "clientLastName": fmt.Sprintf("Changed%d", step)})
			}
		case n < 97: // the bulk importer (COPY in batches) writes cases too
			var csv strings.Builder
			csv.WriteString(importHeader)
			for j := 0; j < 1+rng.IntN(30); j++ {
				fmt.Fprintf(&csv, "Imported %d-%d,Personal Injury,WA,Imported%d,Rowson,,,,\n", step, j, j)
			}
			r := importCSV(t, h, keys[rng.IntN(len(firms))], api+"/import/cases", []byte(csv.String()))
			require.Less(t, r.StatusCode, 500, string(r.Body))
			if r.StatusCode == http.StatusOK {
				actions["import"]++
			}
		default:
			f := rng.IntN(len(firms))
			do("rename-firm", "PUT", api+"/firms/me", keys[f], map[string]any{"name": fmt.Sprintf("Property Firm %d-%d", f, step)})
		}
	}
	require.Zero(t, fivexx)
	require.Greater(t, actions["create"], 20)
	require.Greater(t, actions["acknowledge"], 5)
	for _, a := range []string{"import", "refer", "reject", "withdraw", "delete-draft", "update-case", "rename-firm", "close"} {
		require.Greater(t, actions[a], 0, "no %s succeeded: %v", a, actions)
	}

	// The read model, row by row, against its definition over the base tables.
	var diff []string
	rows, err := h.Pool.Query(ctx, `
		WITH want AS (
			SELECT l.* FROM base_cases c, LATERAL case_listing_compute(c.id, c.owner_firm_id) l
			UNION ALL
			SELECT l.* FROM (SELECT DISTINCT base_case_id, referent_firm_id FROM referrals
			                 WHERE status <> 'draft' AND referent_firm_id IS NOT NULL) x,
			     LATERAL case_listing_compute(x.base_case_id, x.referent_firm_id) l
		)
		SELECT coalesce(w.base_case_id, g.base_case_id)::text, coalesce(w.firm_id, g.firm_id)::text,
		       coalesce(row(w.*)::text, 'missing'), coalesce(row(g.*)::text, 'missing')
		FROM want w FULL JOIN case_listings g USING (firm_id, base_case_id)
		WHERE row(w.*) IS DISTINCT FROM row(g.*)`)
	require.NoError(t, err)
	for rows.Next() {
		var c, f, w, g string
		require.NoError(t, rows.Scan(&c, &f, &w, &g))
		diff = append(diff, fmt.Sprintf("case %s firm %s: want %s, have %s", c, f, w, g))
	}
	require.NoError(t, rows.Err())
	require.Empty(t, diff)

	// An independent recomputation of the visible set: one row per owned case and per
	// (case, firm) with a non-draft referral to it.
	var listings, expected int
	require.NoError(t, h.Pool.QueryRow(ctx, `SELECT count(*) FROM case_listings`).Scan(&listings))
	require.NoError(t, h.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM base_cases) +
		(SELECT count(DISTINCT (base_case_id, referent_firm_id)) FROM referrals WHERE status <> 'draft')`).Scan(&expected))
	require.Equal(t, expected, listings)

	// Every counter against count(*) of the base tables.
	var bad []string
	rows, err = h.Pool.Query(ctx, `
		WITH counted AS (
			SELECT firm_id, CASE WHEN is_owner THEN 'case_sent' ELSE 'case_received' END AS list, status,
			       coalesce(closing_status, '') AS closing_status, count(*) AS n
			FROM case_listings GROUP BY 1, 2, 3, 4
			UNION ALL
			SELECT referring_firm_id, 'referral_sent', status, coalesce(closing_status, ''), count(*)
			FROM referrals GROUP BY 1, 2, 3, 4
			UNION ALL
			SELECT referent_firm_id, 'referral_received', status, coalesce(closing_status, ''), count(*)
			FROM referrals WHERE status <> 'draft' AND referent_firm_id IS NOT NULL GROUP BY 1, 2, 3, 4
		), kept AS (
			SELECT firm_id, list, status, closing_status, sum(n) AS n FROM list_counts GROUP BY 1, 2, 3, 4
		)
		SELECT coalesce(c.firm_id, k.firm_id)::text, coalesce(c.list, k.list), coalesce(c.status, k.status),
		       coalesce(c.n, 0), coalesce(k.n, 0)
		FROM counted c FULL JOIN kept k USING (firm_id, list, status, closing_status)
		WHERE coalesce(c.n, 0) <> coalesce(k.n, 0)`)
	require.NoError(t, err)
	for rows.Next() {
		var f, l, s string
		var c, k int64
		require.NoError(t, rows.Scan(&f, &l, &s, &c, &k))
		bad = append(bad, fmt.Sprintf("%s %s %s: count(*) %d, counter %d", f, l, s, c, k))
	}
	require.NoError(t, rows.Err())
	require.Empty(t, bad)

	// Folding the slots keeps every sum.
	var before, after int64
	require.NoError(t, h.Pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM list_counts`).Scan(&before))
	_, err = h.Pool.Exec(ctx, `SELECT list_counts_compact()`)
	require.NoError(t, err)
	require.NoError(t, h.Pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM list_counts`).Scan(&after))
	require.Equal(t, before, after)

	// The lists' totals over HTTP, per firm and view, and per status.
	checked := 0
	for i, f := range firms {
		for view, where := range map[string]string{"sent": "c.owner_firm_id = $1", "received": "c.owner_firm_id <> $1"} {
			var want int
			require.NoError(t, h.Pool.QueryRow(ctx, `SELECT count(*) FROM case_listings l JOIN base_cases c ON c.id = l.base_case_id
				WHERE l.firm_id = $1 AND `+where, f.ID).Scan(&want))
			r := h.Do("GET", api+"/cases", apitest.APIKey(keys[i]), apitest.Query("view", view, "limit", "5"))
			require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
			var page struct {
				Pagination struct{ Total int } `json:"pagination"`
			}
			r.Decode(&page)
			require.Equal(t, want, page.Pagination.Total, "firm %d view %s", i, view)
			checked++
		}
		for _, st := range []string{"draft", "sent", "under_evaluation", "rejected", "closed"} {
			var want int
			require.NoError(t, h.Pool.QueryRow(ctx, `SELECT count(*) FROM base_cases c
				LEFT JOIN LATERAL (SELECT status FROM referrals r WHERE r.base_case_id = c.id ORDER BY sequence_number DESC LIMIT 1) r ON true
				WHERE c.owner_firm_id = $1 AND coalesce(r.status, 'draft') = $2`, f.ID, st).Scan(&want))
			r := h.Do("GET", api+"/sent-cases", apitest.APIKey(keys[i]), apitest.Query("status", st, "limit", "5"))
			require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
			var page struct {
				Pagination struct{ Total int } `json:"pagination"`
			}
			r.Decode(&page)
			require.Equal(t, want, page.Pagination.Total, "firm %d status %s", i, st)
			checked++
		}
	}
	// Each /sent-cases item (read from the read model with its page) equals the same fields of the
	// case read from the base tables (GET /sent-cases/{id}), walked by cursor and under a search.
	summaryFields := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for _, k := range []string{"id", "referenceNumber", "cmsId", "salesforceId", "title", "status", "closingStatus",
			"receivingFirmId", "receivingFirmName", "createdAt", "updatedAt"} {
			out[k] = m[k]
		}
		return out
	}
	compared := 0
	for i := range firms {
		for _, q := range [][]string{
			{"limit", "7"}, {"limit", "7", "search", "property"}, {"limit", "7", "status", "sent"},
			{"limit", "7", "sort", "status", "order", "asc"}, {"limit", "7", "page", "2", "sort", "referenceNumber"},
		} {
			var cursor string
			for pages := 0; pages < 1000; pages++ {
				query := q
				if cursor != "" {
					query = append(append([]string{}, q...), "cursor", cursor)
				}
				r := h.Do("GET", api+"/sent-cases", apitest.APIKey(keys[i]), apitest.Query(query...))
				require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
				var page struct {
					Data       []map[string]any `json:"data"`
					Pagination struct {
						NextCursor *string `json:"nextCursor"`
					} `json:"pagination"`
				}
				r.Decode(&page)
				for _, item := range page.Data {
					d := h.Do("GET", api+"/sent-cases/"+item["id"].(string), apitest.APIKey(keys[i]))
					require.Equal(t, http.StatusOK, d.StatusCode, string(d.Body))
					var detail struct {
						Data map[string]any `json:"data"`
					}
					d.Decode(&detail)
					require.Equal(t, summaryFields(detail.Data), summaryFields(item), "firm %d %v", i, q)
					compared++
				}
				if page.Pagination.NextCursor == nil {
					break
				}
				cursor = *page.Pagination.NextCursor
			}
		}
	}
	require.Positive(t, compared)
	testsummary.Printf("read-model: %d random actions over HTTP (%v), case_listings equal to the recomputation (%d rows), every list counter equal to count(*), %d list totals over HTTP checked, %d /sent-cases items equal to their case\n",
		steps, actions, listings, checked, compared)
}

// TestCounterCompaction: the counter slots of backends that are gone are folded into one by the
// queue's periodic job (run once when the queue starts), and every total stays the same.
func TestCounterCompaction(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	firm := h.NewFirm(apitest.FirmOpts{Name: "Compaction Firm"})
	key := h.Key(firm, apitest.Full)
	for i := range 3 {
		r := h.Do("POST", "/api/public/v1/sent-cases", apitest.APIKey(key), apitest.JSON(map[string]any{
			"title": fmt.Sprintf("Compaction case %d", i), "caseType": "Personal Injury", "jurisdiction": "WA",
			"clientFirstName": "Ada", "clientLastName": "Lovelace",
		}))
		require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	}
	total := func() int {
		r := h.Do("GET", "/api/public/v1/sent-cases", apitest.APIKey(key), apitest.Query("limit", "1"))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var page struct {
			Pagination struct{ Total int } `json:"pagination"`
		}
		r.Decode(&page)
		return page.Pagination.Total
	}
	require.Equal(t, 3, total())

	ctx := t.Context()
	// Hand the firm's slots to backends that cannot exist (no pid is negative), spread over
	// several slots per key, as connections that came and went leave them.
	_, err := h.Pool.Exec(ctx, `UPDATE list_counts SET slot = -1 - slot WHERE firm_id = $1`, firm.ID)
	require.NoError(t, err)
	_, err = h.Pool.Exec(ctx, `INSERT INTO list_counts (firm_id, list, status, closing_status, slot, n)
		SELECT firm_id, list, status, closing_status, -7, 2 FROM list_counts WHERE firm_id = $1
		UNION ALL SELECT firm_id, list, status, closing_status, -8, -2 FROM list_counts WHERE firm_id = $1`, firm.ID)
	require.NoError(t, err)
	slots := func() (n int) {
		require.NoError(t, h.Pool.QueryRow(ctx, `SELECT count(*) FROM list_counts WHERE firm_id = $1 AND slot <> 0`, firm.ID).Scan(&n))
		return n
	}
	require.Greater(t, slots(), 2)
	require.Equal(t, 3, total())

	require.NoError(t, h.App.Jobs.Start(context.WithoutCancel(ctx)))
	deadline := time.Now().Add(30 * time.Second)
	for slots() > 0 {
		require.True(t, time.Now().Before(deadline), "the dead slots were not folded within 30 s")
		time.Sleep(50 * time.Millisecond)
	}
	var rows int
	require.NoError(t, h.Pool.QueryRow(ctx, `SELECT count(*) FROM list_counts WHERE firm_id = $1`, firm.ID).Scan(&rows))
	require.Equal(t, 1, rows, "one folded row per key (one key: case_sent draft)")
	require.Equal(t, 3, total())
	var done int
	require.NoError(t, h.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'list_counts_compact'`).Scan(&done))
	require.Positive(t, done)
}
