package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/jobs/jobstest"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/notify/notifytest"
)

func TestStatusUpdates(t *testing.T) {
	t.Parallel()

	t.Run("MessagesAreEntriesBothFirmsRead", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)

		// The published collection's message, addressed by case id.
		var msg api.PublicStatusUpdateResponse
		b.call(t, http.StatusCreated, "POST", "/messages/send", b.sStd, map[string]any{"id": c.Id.String(), "message": "Please provide an update on this case."}, &msg)
		require.True(t, msg.Data.IsMessage)
		require.Equal(t, api.LifecycleStatus("sent"), msg.Data.Status)
		require.Equal(t, b.sender.ID, *msg.Data.CreatedByFirmId)
		require.Equal(t, "test STANDARD", *msg.Data.CreatedByName)

		b.call(t, http.StatusCreated, "POST", "/messages/send", b.rStd, map[string]any{
			"id": *c.Referrals[0].ReferenceNumber, "message": "Can we sign?", "requestedStatus": "signed",
		}, &msg)
		require.Equal(t, api.PublicStatusUpdateDtoRequestedStatus("signed"), *msg.Data.RequestedStatus)
		var rr api.ReceivedReferralResponse
		b.call(t, http.StatusOK, "GET", refPath("received-referrals", referralID(c)), b.rRO, nil, &rr)
		require.Equal(t, api.LifecycleStatus("sent"), rr.Data.Status, "a requested status is only a request")

		b.callErr(t, http.StatusNotFound, "resource_not_found", "POST", "/messages/send", b.oStd, map[string]any{"id": c.Id.String(), "message": "hi"})
		b.callErr(t, http.StatusNotFound, "resource_not_found", "POST", "/messages/send", b.sStd, map[string]any{"id": "CX-0000-000000", "message": "hi"})
		b.callErr(t, http.StatusBadRequest, "validation_error", "POST", "/messages/send", b.sStd, map[string]any{"id": c.Id.String(), "message": ""})
		draft := b.sentCase(t, nil)
		b.callErr(t, http.StatusConflict, "conflict", "POST", "/messages/send", b.sStd, map[string]any{"id": draft.Id.String(), "message": "hi"})
		var created api.CaseResponse
		b.call(t, http.StatusCreated, "POST", "/cases", b.sStd, caseBody(nil), &created)
		b.callErr(t, http.StatusConflict, "conflict", "POST", "/messages/send", b.sStd, map[string]any{"id": created.Data.ReferenceNumber, "message": "hi"})

		for _, key := range []string{b.sRO, b.rRO} {
			var look api.PublicStatusUpdateLookupResponse
			b.call(t, http.StatusOK, "GET", "/status-updates/lookup?id="+url.QueryEscape(*c.ReferenceNumber), key, nil, &look)
			require.Len(t, look.Data, 3)
			require.False(t, look.Data[0].IsMessage)
			require.True(t, look.Data[1].IsMessage)
			require.Equal(t, "Please provide an update on this case.", *look.Data[1].Message)
		}
	})

	t.Run("LookupScopesCaseIdsToTheCallersReferrals", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		c := b.sentCase(t, b.recv)
		b.call(t, http.StatusOK, "POST", refPath("referrals", referralID(c), "reject"), b.rStd, map[string]any{"reason": "Busy"}, nil)
		var sc api.SentCaseResponse
		b.call(t, http.StatusOK, "POST", refPath("sent-cases", c.Id.String(), "refer"), b.sStd, map[string]any{"referentFirmId": b.other.ID}, &sc)

		lookup := func(key, id string) []api.PublicStatusUpdateDto {
			var out api.PublicStatusUpdateLookupResponse
			b.call(t, http.StatusOK, "GET", "/status-updates/lookup?id="+url.QueryEscape(id), key, nil, &out)
			return out.Data
		}
		require.Len(t, lookup(b.sRO, c.Id.String()), 3, "sender: both referrals")
		require.Len(t, lookup(b.rRO, c.Id.String()), 2, "first receiver: its own referral")
		require.Len(t, lookup(b.oStd, *c.ReferenceNumber), 1, "second receiver: its own referral")
		require.Len(t, lookup(b.sRO, *sc.Data.Referrals[1].ReferenceNumber), 1)
		require.Len(t, lookup(b.sRO, referralID(c)), 2)
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", "/status-updates/lookup?id="+referralID(c), b.oStd, nil)
		b.callErr(t, http.StatusNotFound, "resource_not_found", "GET", "/status-updates/lookup?id="+uuid.NewString(), b.sRO, nil)
	})

	t.Run("BrowsingIsNewestFirstAndFiltered", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		b.signedCase(t)
		b.sentCase(t, b.other) // not visible to recv

		var feed api.PublicStatusUpdateListResponse
		b.call(t, http.StatusOK, "GET", "/status-updates", b.rRO, nil, &feed)
		require.Len(t, feed.Data, 3)
		require.Equal(t, api.LifecycleStatus("signed"), feed.Data[0].Status)
		require.Equal(t, 3, feed.Pagination.Total)
		require.NotEmpty(t, feed.NextCursor)
		b.call(t, http.StatusOK, "GET", "/status-updates?page=1&limit=20", b.sRO, nil, &feed)
		require.Len(t, feed.Data, 4)
		b.call(t, http.StatusOK, "GET", "/status-updates?status=under_evaluation", b.sRO, nil, &feed)
		require.Len(t, feed.Data, 1)
		b.call(t, http.StatusOK, "GET", "/status-updates?source=manual", b.sRO, nil, &feed)
		require.Empty(t, feed.Data)
		future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		b.call(t, http.StatusOK, "GET", "/status-updates?dateFrom="+future, b.sRO, nil, &feed)
		require.Empty(t, feed.Data)
		b.call(t, http.StatusOK, "GET", "/status-updates?limit=1&page=2", b.rRO, nil, &feed)
		require.Equal(t, api.LifecycleStatus("under_evaluation"), feed.Data[0].Status)

		b.callErr(t, http.StatusBadRequest, "validation_error", "GET", "/status-updates?cursor=garbage", b.rRO, nil)
		b.callErr(t, http.StatusBadRequest, "validation_error", "GET", "/status-updates?cursor="+feed.NextCursor+"&page=2", b.rRO, nil)
	})

	t.Run("PollTotalsCountWhatFollowsThePosition", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		b.signedCase(t)
		b.sentCase(t, b.recv)
		epoch := "updatedSince=" + url.QueryEscape(time.Unix(0, 0).UTC().Format(time.RFC3339))
		var all api.PublicStatusUpdateListResponse
		b.call(t, http.StatusOK, "GET", "/status-updates?limit=100&"+epoch, b.rRO, nil, &all)
		n := len(all.Data)
		require.Equal(t, 4, n)
		require.Equal(t, n, all.Pagination.Total)
		for i := 1; i <= n; i++ {
			// The position after the first i entries, then one page of one entry from there.
			var head, next api.PublicStatusUpdateListResponse
			b.call(t, http.StatusOK, "GET", fmt.Sprintf("/status-updates?limit=%d&%s", i, epoch), b.rRO, nil, &head)
			require.Equal(t, all.Data[i-1].Id, head.Data[len(head.Data)-1].Id)
			b.call(t, http.StatusOK, "GET", "/status-updates?limit=1&cursor="+url.QueryEscape(head.NextCursor), b.rRO, nil, &next)
			require.Equal(t, n-i, next.Pagination.Total, "after %d of %d entries", i, n)
			require.Len(t, next.Data, min(1, n-i))
			// updatedSince is exclusive: from the instant of entry i, the poll starts at entry i+1.
			since := url.QueryEscape(all.Data[i-1].CreatedAt.UTC().Format(time.RFC3339Nano))
			b.call(t, http.StatusOK, "GET", "/status-updates?limit=1&updatedSince="+since, b.rRO, nil, &next)
			require.Equal(t, n-i, next.Pagination.Total, "since entry %d of %d", i, n)
			if i < n {
				require.Equal(t, all.Data[i].Id, next.Data[0].Id)
			}
			// The filtered poll (page and count as two statements) agrees.
			b.call(t, http.StatusOK, "GET", "/status-updates?limit=1&source=api&cursor="+url.QueryEscape(head.NextCursor), b.rRO, nil, &next)
			require.Equal(t, n-i, next.Pagination.Total, "source=api, after %d of %d entries", i, n)
		}
	})

	t.Run("PollersNeverMissOrRepeatConcurrentEntries", func(t *testing.T) {
		t.Parallel()
		b := lcSetup(t)
		const writers, perWriter = 3, 8
		refs := make([]string, writers)
		for i := range refs {
			refs[i] = referralID(b.sentCase(t, b.recv))
		}
		var first api.PublicStatusUpdateListResponse
		b.call(t, http.StatusOK, "GET", "/status-updates?limit=100", b.rRO, nil, &first)
		seenCursor := map[uuid.UUID]int{}
		seenSince := map[uuid.UUID]int{}
		for _, u := range first.Data {
			seenCursor[u.Id]++
		}
		cursor := first.NextCursor
		since := time.Unix(0, 0).UTC()

		pollCursor := func() int {
			var out api.PublicStatusUpdateListResponse
			b.call(t, http.StatusOK, "GET", "/status-updates?limit=4&cursor="+url.QueryEscape(cursor), b.rRO, nil, &out)
			for _, u := range out.Data {
				seenCursor[u.Id]++
			}
			cursor = out.NextCursor
			return len(out.Data)
		}
		pollSince := func() int {
			var out api.PublicStatusUpdateListResponse
			q := "/status-updates?limit=5&updatedSince=" + url.QueryEscape(since.Format(time.RFC3339Nano))
			b.call(t, http.StatusOK, "GET", q, b.rRO, nil, &out)
			for _, u := range out.Data {
				seenSince[u.Id]++
			}
			if n := len(out.Data); n > 0 {
				since = out.Data[n-1].CreatedAt
			}
			return len(out.Data)
		}

		done := make(chan struct{})
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range perWriter {
					key := b.sStd
					if j%2 == 1 {
						key = b.rStd
					}
					r := b.h.Do("POST", pub+"/messages/send", apitest.APIKey(key), apitest.JSON(map[string]any{"id": refs[i], "message": fmt.Sprintf("m%d-%d", i, j)}))
					if r.StatusCode != http.StatusCreated {
						t.Errorf("message: %d %s", r.StatusCode, r.Body)
					}
				}
			}()
		}
		go func() { wg.Wait(); close(done) }()
		for finished := false; !finished; {
			select {
			case <-done:
				finished = true
			default:
			}
			for pollCursor() > 0 {
			}
			for pollSince() > 0 {
			}
		}

		var all api.PublicStatusUpdateListResponse
		b.call(t, http.StatusOK, "GET", "/status-updates?limit=100", b.rRO, nil, &all)
		require.Len(t, all.Data, writers*(perWriter+1))
		for _, u := range all.Data {
			require.Equal(t, 1, seenCursor[u.Id], "cursor poller, entry %s", u.Id)
			require.Equal(t, 1, seenSince[u.Id], "updatedSince poller, entry %s", u.Id)
		}
		require.Len(t, seenCursor, len(all.Data))
		require.Len(t, seenSince, len(all.Data))
		// An up-to-date poller gets an empty page and keeps its position.
		require.Zero(t, pollCursor())
		before := cursor
		require.Zero(t, pollCursor())
		require.Equal(t, before, cursor)
	})
}

func TestLifecycleEmails(t *testing.T) {
	t.Parallel()
	b := lcSetup(t)
	mail := notifytest.Start(t)
	b.h.App.Server.Notify.Mailer().Use(mail.Sender())
	require.NoError(t, b.h.App.Jobs.Start(context.WithoutCancel(t.Context())))

	c := b.sentCase(t, b.recv)
	ref := *c.Referrals[0].ReferenceNumber
	b.call(t, http.StatusOK, "POST", refPath("referrals", referralID(c), "acknowledge"), b.rStd, nil, nil)
	b.call(t, http.StatusCreated, "POST", "/messages/send", b.sStd, map[string]any{"id": ref, "message": "Thanks"}, nil)
	// A failed action sends nothing.
	b.callErr(t, http.StatusBadRequest, "invalid_state_transition", "POST", refPath("referrals", referralID(c), "acknowledge"), b.rStd, nil)

	mails := mail.Wait(t, 3, 20*time.Second)
	// Every e-mail job has run, so the refused action would have been mailed by now.
	jobstest.WaitDone(t, b.h.Pool, 20*time.Second, notify.EmailJobKind)
	require.Len(t, mail.Mails(), 3)
	byTo := map[string][]string{}
	for _, m := range mails {
		for _, to := range m.To {
			byTo[to] = append(byTo[to], m.Subject)
		}
		require.NotContains(t, m.Text, "Adaeze", "no client data in e-mail")
	}
	require.ElementsMatch(t, []string{
		"New referral " + ref + " from " + b.sender.Name,
		"New message about referral " + ref,
	}, byTo[b.recv.Admin.Email])
	require.Equal(t, []string{"Referral " + ref + " is now under evaluation"}, byTo[b.sender.Admin.Email])
}
