package httpapi_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

// refListItem is what the brute-force expectation needs of a received referral.
type refListItem struct {
	id     uuid.UUID
	status string
	ref    string
	upd    string
}

// walkReceived reads every page of a received-referral query, by page number or by cursor.
func walkReceived(t *testing.T, b *lcBundle, query url.Values, byCursor bool) ([]uuid.UUID, int) {
	t.Helper()
	var ids []uuid.UUID
	total := -1
	cursor := ""
	for page := 1; page < 100; page++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", "4")
		if byCursor && cursor != "" {
			q.Set("cursor", cursor)
			q.Set("page", "77") // ignored with a cursor
		} else {
			q.Set("page", strconv.Itoa(page))
		}
		var list api.ReceivedReferralListResponse
		b.call(t, http.StatusOK, "GET", "/received-referrals?"+q.Encode(), b.rRO, nil, &list)
		require.Equal(t, page, list.Pagination.Page)
		if total < 0 {
			total = list.Pagination.Total
		}
		for _, d := range list.Data {
			ids = append(ids, d.Id)
		}
		if list.Pagination.NextCursor == nil {
			return ids, total
		}
		cursor = *list.Pagination.NextCursor
	}
	t.Fatal("walk did not end")
	return nil, 0
}

// requireCountersExact compares the list counters with count(*) over the referrals.
func requireCountersExact(t *testing.T, b *lcBundle) {
	t.Helper()
	var bad int
	err := b.h.Pool.QueryRow(context.Background(), `
		WITH want AS (
			SELECT referring_firm_id AS firm_id, 'referral_sent' AS list, status, COALESCE(closing_status, '') AS cs, count(*) AS n
			FROM referrals GROUP BY 1, 2, 3, 4
			UNION ALL
			SELECT referent_firm_id, 'referral_received', status, COALESCE(closing_status, ''), count(*)
			FROM referrals WHERE status <> 'draft' AND referent_firm_id IS NOT NULL GROUP BY 1, 2, 3, 4
		), have AS (
			SELECT firm_id, list, status, closing_status AS cs, sum(n) AS n FROM list_counts
			WHERE list LIKE 'referral_%' GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
		)
		SELECT count(*) FROM (SELECT * FROM want EXCEPT SELECT * FROM have
		                      UNION ALL SELECT * FROM have EXCEPT SELECT * FROM want) d`).Scan(&bad)
	require.NoError(t, err)
	require.Zero(t, bad, "list_counts differ from count(*)")
}

func TestReferralLists(t *testing.T) {
	t.Parallel()

	t.Run("PagesSortsFiltersSearchAndCountersMatchBruteForce", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		rng := rand.New(rand.NewPCG(13, 13))
		for i := 0; i < 14; i++ {
			switch rng.IntN(6) {
			case 0: // a draft, not received
				b.call(t, http.StatusCreated, "POST", "/cases", b.sStd, caseBody(nil), nil)
			case 1:
				b.sentCase(t, b.recv)
			case 2:
				c := b.sentCase(t, b.recv)
				b.call(t, http.StatusOK, "POST", refPath("received-referrals", referralID(c), "acknowledge"), b.rStd, nil, nil)
			case 3:
				c := b.sentCase(t, b.recv)
				b.call(t, http.StatusOK, "POST", refPath("received-referrals", referralID(c), "reject"), b.rStd, map[string]any{"reason": "Conflict"}, nil)
			case 4:
				c := b.sentCase(t, b.recv)
				b.call(t, http.StatusOK, "POST", refPath("referrals", referralID(c), "withdraw"), b.sStd, map[string]any{"reason": "Client left"}, nil)
			case 5:
				b.sentCase(t, b.other)
			}
			requireCountersExact(t, b)
		}
		b.sentCase(t, b.recv)

		// Everything the receiver has, from one page.
		var all api.ReceivedReferralListResponse
		b.call(t, http.StatusOK, "GET", "/received-referrals?limit=100", b.rRO, nil, &all)
		items := make([]refListItem, len(all.Data))
		for i, d := range all.Data {
			items[i] = refListItem{d.Id, string(d.Status), *d.ReferenceNumber, d.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000")}
		}
		require.Equal(t, len(items), all.Pagination.Total)
		less := map[string]func(a, c refListItem) bool{
			"updatedAt": func(a, c refListItem) bool {
				if a.upd != c.upd {
					return a.upd < c.upd
				}
				return a.id.String() < c.id.String()
			},
			"status": func(a, c refListItem) bool {
				if a.status != c.status {
					return a.status < c.status
				}
				if a.upd != c.upd {
					return a.upd < c.upd
				}
				return a.id.String() < c.id.String()
			},
			"referenceNumber": func(a, c refListItem) bool { return a.ref < c.ref },
		}
		statuses := []string{"", "sent", "under_evaluation", "rejected", "withdrawn"}
		for sortKey, lf := range less {
			for _, order := range []string{"asc", "desc"} {
				for _, st := range statuses {
					for _, search := range []string{"", "halvorsen", items[0].ref[len(items[0].ref)-3:]} {
						var want []uuid.UUID
						for _, it := range items {
							if st != "" && it.status != st {
								continue
							}
							if search != "" && !strings.Contains(strings.ToLower(it.ref), strings.ToLower(search)) && search != "halvorsen" {
								continue
							}
							want = append(want, it.id)
						}
						byID := map[uuid.UUID]refListItem{}
						for _, it := range items {
							byID[it.id] = it
						}
						sort.Slice(want, func(i, j int) bool {
							a, c := byID[want[i]], byID[want[j]]
							if order == "desc" {
								return lf(c, a)
							}
							return lf(a, c)
						})
						q := url.Values{"sort": {sortKey}, "order": {order}}
						if st != "" {
							q.Set("status", st)
						}
						if search != "" {
							q.Set("search", search)
						}
						for _, byCursor := range []bool{false, true} {
							got, total := walkReceived(t, b, q, byCursor)
							require.Equal(t, len(want), total, "%v", q)
							if len(want) == 0 {
								require.Empty(t, got, "%v", q)
								continue
							}
							require.Equal(t, want, got, "%v cursor=%v", q, byCursor)
						}
					}
				}
			}
		}

		// GET /referrals (the sender's: drafts included) newest first, by page and by cursor.
		var top api.ReferralListResponse
		b.call(t, http.StatusOK, "GET", "/referrals?limit=100", b.sRO, nil, &top)
		var wantTop []uuid.UUID
		for _, r := range top.Data {
			wantTop = append(wantTop, r.Id)
		}
		require.Equal(t, len(wantTop), top.Pagination.Total)
		require.True(t, sort.SliceIsSorted(top.Data, func(i, j int) bool { return top.Data[i].CreatedAt.After(top.Data[j].CreatedAt) }))
		var walked []uuid.UUID
		cursor := ""
		for page := 1; ; page++ {
			path := "/referrals?limit=3"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			var pg api.ReferralListResponse
			b.call(t, http.StatusOK, "GET", path, b.sRO, nil, &pg)
			require.Equal(t, page, pg.Pagination.Page)
			for _, r := range pg.Data {
				walked = append(walked, r.Id)
			}
			if pg.Pagination.NextCursor == nil {
				break
			}
			cursor = *pg.Pagination.NextCursor
		}
		require.Equal(t, wantTop, walked)
		requireCountersExact(t, b)
	})

	t.Run("CursorErrorsNameTheCursor", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		for i := 0; i < 3; i++ {
			b.sentCase(t, b.recv)
		}
		var list api.ReceivedReferralListResponse
		b.call(t, http.StatusOK, "GET", "/received-referrals?limit=1&sort=referenceNumber", b.rRO, nil, &list)
		require.NotNil(t, list.Pagination.NextCursor)
		c := url.QueryEscape(*list.Pagination.NextCursor)
		for _, path := range []string{
			"/received-referrals?cursor=garbage",
			"/received-referrals?limit=1&sort=updatedAt&cursor=" + c,
			"/received-referrals?limit=1&sort=referenceNumber&status=sent&cursor=" + c,
			"/referrals?cursor=" + c,
		} {
			r := b.callErr(t, http.StatusBadRequest, "validation_error", "GET", path, b.rRO, nil)
			require.Contains(t, string(r.Body), "query.cursor", path)
		}
	})

	t.Run("CursorWalkUnderConcurrentWritesReturnsEachItemOnce", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		for i := 0; i < 9; i++ {
			b.sentCase(t, b.recv)
		}
		var start api.ReceivedReferralListResponse
		b.call(t, http.StatusOK, "GET", "/received-referrals?limit=100", b.rRO, nil, &start)
		var startTop api.ReferralListResponse
		b.call(t, http.StatusOK, "GET", "/referrals?limit=100", b.rRO, nil, &startTop)

		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := b.h.Do("POST", pub+"/sent-cases", apitest.APIKey(b.sStd), apitest.JSON(caseBody(b.recv)))
				if r.StatusCode != http.StatusCreated {
					return
				}
			}
		}()
		seen := map[uuid.UUID]int{}
		cursor := ""
		for {
			path := "/received-referrals?limit=2&sort=referenceNumber"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			var pg api.ReceivedReferralListResponse
			b.call(t, http.StatusOK, "GET", path, b.rRO, nil, &pg)
			for _, d := range pg.Data {
				seen[d.Id]++
			}
			if pg.Pagination.NextCursor == nil || len(seen) > 60 {
				break
			}
			cursor = *pg.Pagination.NextCursor
		}
		seenTop := map[uuid.UUID]int{}
		cursor = ""
		for {
			path := "/referrals?limit=2"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			var pg api.ReferralListResponse
			b.call(t, http.StatusOK, "GET", path, b.rRO, nil, &pg)
			for _, d := range pg.Data {
				seenTop[d.Id]++
			}
			if pg.Pagination.NextCursor == nil || len(seenTop) > 60 {
				break
			}
			cursor = *pg.Pagination.NextCursor
		}
		close(stop)
		wg.Wait()
		for id, n := range seen {
			require.Equal(t, 1, n, "received %s repeated", id)
		}
		for id, n := range seenTop {
			require.Equal(t, 1, n, "referral %s repeated", id)
		}
		for _, d := range start.Data {
			require.Contains(t, seen, d.Id, "received referral skipped")
		}
		for _, d := range startTop.Data {
			require.Contains(t, seenTop, d.Id, "referral skipped")
		}
	})
}
