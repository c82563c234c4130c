package referrals_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/ptr"
	"github.com/casexchange/server/internal/referrals"
)

// TestSearchPagesAndTotal walks a search by page number and by cursor, in each view and sort
// direction, and compares the pages and the total with the matches listed without a search.
// It runs twice: with every match collected by the one statement that answers page and total,
// and with the collection capped below the number of matches, where the pages are read over
// all matches and the total is the cap.
func TestSearchPagesAndTotal(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	var matchSent, matchRecv []uuid.UUID
	for i := range 9 {
		var to *uuid.UUID
		if i%3 == 0 {
			to = &b.recv.FirmID
		}
		v, err := b.svc.CreateCase(ctx, b.sender, referrals.CreateCaseInput{
			Title: fmt.Sprintf("Quasar Holdings claim %d", i), CaseType: "personal_injury", Jurisdiction: "IL",
			County: ptr.To("Cook"), ClientFirstName: "Ada", ClientLastName: "Okafor", ReferentFirmID: to,
		})
		require.NoError(t, err)
		matchSent = append(matchSent, v.Case.ID)
		if to != nil {
			matchRecv = append(matchRecv, v.Case.ID)
		}
		// Cases that must not match.
		b.createCase(t, to)
	}
	// The receiver's own case that matches, for the all view.
	own, err := b.svc.CreateCase(ctx, b.recv, referrals.CreateCaseInput{
		Title: "quasar holdings intake", CaseType: "personal_injury", Jurisdiction: "IL", ClientFirstName: "Bo", ClientLastName: "Lind",
	})
	require.NoError(t, err)

	// expected lists every case of the view in the list's order, then keeps the matches.
	expected := func(a auth.Actor, view string, asc bool, match map[uuid.UUID]bool) []uuid.UUID {
		var out []uuid.UUID
		for pg := 1; ; pg++ {
			p, err := b.svc.ListCases(ctx, a, referrals.CaseQuery{View: view, Ascending: asc, Page: referrals.Page{Page: pg, Limit: 100}})
			require.NoError(t, err)
			for _, v := range p.Items {
				if match[v.Case.ID] {
					out = append(out, v.Case.ID)
				}
			}
			if p.NextCursor == nil {
				return out
			}
		}
	}
	set := func(ids ...[]uuid.UUID) map[uuid.UUID]bool {
		m := map[uuid.UUID]bool{}
		for _, l := range ids {
			for _, id := range l {
				m[id] = true
			}
		}
		return m
	}
	cases := []struct {
		name  string
		actor auth.Actor
		view  string
		match map[uuid.UUID]bool
	}{
		{"sender, sent view", b.sender, referrals.ViewSent, set(matchSent)},
		{"receiver, received view", b.recv, referrals.ViewReceived, set(matchRecv)},
		{"receiver, all view", b.recv, referrals.ViewAll, set(matchRecv, []uuid.UUID{own.Case.ID})},
	}
	for _, capped := range []bool{false, true} {
		if capped {
			defer referrals.SetSearchCountCap(2)()
		}
		for _, c := range cases {
			for _, asc := range []bool{false, true} {
				name := fmt.Sprintf("%s, ascending %t, capped %t", c.name, asc, capped)
				want := expected(c.actor, c.view, asc, c.match)
				require.Len(t, want, len(c.match), name)
				wantTotal := len(want)
				if capped {
					wantTotal = 2
				}
				byPage, byCursor := walkBoth(t, name, len(want), wantTotal, func(page int, cursor string) ([]uuid.UUID, int, *string) {
					q := referrals.CaseQuery{View: c.view, Search: "  QUASAR holdings ", Ascending: asc, Page: referrals.Page{Page: page, Limit: 2}, Cursor: cursor}
					p, err := b.svc.ListCases(ctx, c.actor, q)
					require.NoError(t, err, name)
					var ids []uuid.UUID
					for _, v := range p.Items {
						ids = append(ids, v.Case.ID)
					}
					return ids, p.Total, p.NextCursor
				})
				require.Equal(t, want, byPage, name+": pages by number")
				require.Equal(t, want, byCursor, name+": pages by cursor")
			}
		}
	}
	// A search that matches nothing has a total of 0 and no page.
	p, err := b.svc.ListCases(ctx, b.sender, referrals.CaseQuery{View: referrals.ViewAll, Search: "no-such-words", Page: referrals.Page{Page: 1, Limit: 5}})
	require.NoError(t, err)
	require.Zero(t, p.Total)
	require.Empty(t, p.Items)
	require.Nil(t, p.NextCursor)
}

// TestReceivedSearchPagesAndTotal walks a received-referrals search (by the referring firm's
// name and by a reference number) in every sort and direction, by page number and by cursor,
// and compares pages and totals with the unsearched list filtered by hand; once with every
// match collected by the one statement, once capped below the matches (the count and page
// statements of the fallback).
func TestReceivedSearchPagesAndTotal(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	fromSender := map[uuid.UUID]bool{}
	for range 7 {
		v := b.createCase(t, &b.recv.FirmID)
		fromSender[v.Current.ID] = true
	}
	// Referrals from another firm that must not match a search for "sender".
	relate(t, b.pool, b.other.FirmID, b.recv.FirmID)
	var oneRef string
	for range 3 {
		v, err := b.svc.CreateCase(ctx, b.other, referrals.CreateCaseInput{
			Title: "Other firm's case", CaseType: "personal_injury", Jurisdiction: "IL", ClientFirstName: "Cy", ClientLastName: "Dahl",
			ReferentFirmID: &b.recv.FirmID,
		})
		require.NoError(t, err)
		oneRef = v.Current.ReferenceNumber
	}
	all := func(sort string, asc bool) []referrals.ReferralView {
		var out []referrals.ReferralView
		for pg := 1; ; pg++ {
			p, err := b.svc.ListReceived(ctx, b.recv, referrals.ReceivedQuery{Sort: sort, Ascending: asc, Page: referrals.Page{Page: pg, Limit: 100}})
			require.NoError(t, err)
			out = append(out, p.Items...)
			if p.NextCursor == nil {
				return out
			}
		}
	}
	searches := []struct {
		text  string
		match func(referrals.ReferralView) bool
	}{
		{"  SENDER ", func(v referrals.ReferralView) bool { return fromSender[v.Referral.ID] }},
		{strings.ToLower(oneRef), func(v referrals.ReferralView) bool { return v.Referral.ReferenceNumber == oneRef }},
	}
	for _, capped := range []bool{false, true} {
		if capped {
			defer referrals.SetSearchCountCap(2)()
		}
		for _, sc := range searches {
			for _, sort := range []string{referrals.SortUpdatedAt, referrals.SortStatus, referrals.SortReferenceNumber} {
				for _, asc := range []bool{false, true} {
					name := fmt.Sprintf("search %q, sort %s, ascending %t, capped %t", sc.text, sort, asc, capped)
					var want []uuid.UUID
					for _, v := range all(sort, asc) {
						if sc.match(v) {
							want = append(want, v.Referral.ID)
						}
					}
					require.NotEmpty(t, want, name)
					// The received total stays exact past the cap (the fallback counts every match).
					byPage, byCursor := walkBoth(t, name, len(want), len(want), func(page int, cursor string) ([]uuid.UUID, int, *string) {
						q := referrals.ReceivedQuery{Search: sc.text, Sort: sort, Ascending: asc, Page: referrals.Page{Page: page, Limit: 2}, Cursor: cursor}
						p, err := b.svc.ListReceived(ctx, b.recv, q)
						require.NoError(t, err, name)
						var ids []uuid.UUID
						for _, v := range p.Items {
							ids = append(ids, v.Referral.ID)
						}
						return ids, p.Total, p.NextCursor
					})
					require.Equal(t, want, byPage, name+": pages by number")
					require.Equal(t, want, byCursor, name+": pages by cursor")
				}
			}
		}
	}
}

// walkBoth reads a list of n items in pages of 2, once by page number (two pages past the
// end) and once by cursor from page 1, and checks every page's total; get answers one page.
func walkBoth(t *testing.T, name string, n, wantTotal int, get func(page int, cursor string) (ids []uuid.UUID, total int, next *string)) (byPage, byCursor []uuid.UUID) {
	t.Helper()
	for pg := 1; pg <= n/2+2; pg++ {
		ids, total, _ := get(pg, "")
		require.Equal(t, wantTotal, total, name)
		byPage = append(byPage, ids...)
	}
	cursor := ""
	for range n + 2 {
		ids, total, next := get(1, cursor)
		require.Equal(t, wantTotal, total, name)
		byCursor = append(byCursor, ids...)
		if next == nil {
			break
		}
		cursor = *next
	}
	return byPage, byCursor
}
