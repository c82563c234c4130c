package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/casexchange/server/gen/api"
)

func TestExportCases(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		*lcBundle
		sent, recvd api.SentCaseDetail
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := &testBundle{lcBundle: lcSetup(t)}
		body := caseBody(b.recv)
		body["title"] = "=HYPERLINK(\"http://evil\")"
		var sc api.SentCaseResponse
		b.call(t, http.StatusCreated, "POST", "/sent-cases", b.sStd, body, &sc)
		b.sent = sc.Data
		// A case the receiver gets from the other direction, unacknowledged.
		b.relate(t, b.recv, b.sender)
		body = caseBody(b.sender)
		body["clientFirstName"], body["clientLastName"], body["title"] = "Mirela", "Stan", "Return case"
		// A fresh response: decoding into sc again would reuse b.sent's Referrals array.
		var rc api.SentCaseResponse
		b.call(t, http.StatusCreated, "POST", "/sent-cases", b.rStd, body, &rc)
		b.recvd = rc.Data
		return b
	}
	rowsByPerspective := func(t *testing.T, records [][]string) map[string][]string {
		t.Helper()
		out := map[string][]string{}
		for _, r := range records[1:] {
			out[r[0]] = r
		}
		return out
	}
	col := func(name string) int {
		for i, c := range []string{
			"perspective", "id", "referenceNumber", "cmsId", "salesforceId", "title", "caseType", "jurisdiction",
			"county", "status", "closingStatus", "sendingFirmName", "receivingFirmName", "clientFirstName",
			"clientLastName", "tier", "ratedTier", "source", "isRetainerSigned", "createdAt", "updatedAt",
		} {
			if c == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}

	t.Run("CSVMasksReceivedRowsAndNeutralizesFormulas", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.call(t, http.StatusOK, "GET", "/cases/export", b.sRO, nil, nil)
		require.Equal(t, "text/csv", r.Header.Get("Content-Type"))
		require.Equal(t, "false", r.Header.Get("X-Export-Truncated"))
		require.Regexp(t, `^attachment; filename="cases-\d{4}-\d{2}-\d{2}\.csv"$`, r.Header.Get("Content-Disposition"))
		require.Contains(t, string(r.Body), "\r\n", "CRLF line ends")
		records, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 3)
		require.Equal(t, "perspective", records[0][0])
		rows := rowsByPerspective(t, records)

		sent := rows["sent"]
		require.Equal(t, b.sent.Id.String(), sent[col("id")])
		require.Equal(t, `'=HYPERLINK("http://evil")`, sent[col("title")])
		require.Equal(t, "Adaeze", sent[col("clientFirstName")])
		require.Equal(t, b.recv.Name, sent[col("receivingFirmName")])
		require.Equal(t, "3", sent[col("tier")])
		require.Equal(t, "false", sent[col("isRetainerSigned")])

		recvd := rows["received"]
		require.Equal(t, b.recvd.Referrals[0].Id.String(), recvd[col("id")])
		require.Equal(t, "", recvd[col("clientFirstName")], "masked until acknowledged")
		require.Equal(t, "", recvd[col("clientLastName")])
		require.Equal(t, b.recv.Name, recvd[col("sendingFirmName")])

		// After acknowledging, the names appear.
		b.call(t, http.StatusOK, "POST", refPath("received-referrals", b.recvd.Referrals[0].Id.String(), "acknowledge"), b.sStd, nil, nil)
		r = b.call(t, http.StatusOK, "GET", "/cases/export?view=received", b.sRO, nil, nil)
		records, err = csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 2)
		require.Equal(t, "Mirela", records[1][col("clientFirstName")])
	})

	t.Run("OneRowPerReceivedReferral", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// The receiver acknowledges the sender's case, declines it, is sent it again and
		// acknowledges that one too: two referrals of one case, the first masked again by its
		// rejection, the second readable.
		first := b.sent.Referrals[0].Id.String()
		b.call(t, http.StatusOK, "POST", refPath("received-referrals", first, "acknowledge"), b.rStd, nil, nil)
		b.call(t, http.StatusOK, "POST", refPath("received-referrals", first, "reject"), b.rStd, map[string]any{"reason": "Conflict of interest"}, nil)
		var sc api.SentCaseResponse
		b.call(t, http.StatusOK, "POST", refPath("sent-cases", b.sent.Id.String(), "refer"), b.sStd, map[string]any{"referentFirmId": b.recv.ID}, &sc)
		require.Len(t, sc.Data.Referrals, 2)
		second := sc.Data.Referrals[1].Id.String()
		b.call(t, http.StatusOK, "POST", refPath("received-referrals", second, "acknowledge"), b.rStd, nil, nil)

		r := b.call(t, http.StatusOK, "GET", "/cases/export?view=received&sort=status&order=asc", b.rRO, nil, nil)
		records, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		require.NoError(t, err)
		byID := map[string][]string{}
		for _, rec := range records[1:] {
			require.Equal(t, "received", rec[col("perspective")])
			byID[rec[col("id")]] = rec
		}
		require.Len(t, records, 3, "one row per received referral: %v", records)
		require.Contains(t, byID, first)
		require.Contains(t, byID, second)
		require.Equal(t, "rejected", byID[first][col("status")])
		require.Equal(t, "under_evaluation", byID[second][col("status")])
		require.Equal(t, *sc.Data.Referrals[0].ReferenceNumber, byID[first][col("referenceNumber")])
		require.Equal(t, *sc.Data.Referrals[1].ReferenceNumber, byID[second][col("referenceNumber")])
		// Each row is masked by its own referral.
		require.Equal(t, "", byID[first][col("clientFirstName")], "masked again once declined, though acknowledged before")
		require.Equal(t, "", byID[first][col("clientLastName")])
		require.Equal(t, "Adaeze", byID[second][col("clientFirstName")], "acknowledged and active")
		require.Equal(t, "Okafor", byID[second][col("clientLastName")])
		require.Equal(t, "rejected", records[1][col("status")], "sorted by each row's status")

		// Filters apply to each row's own referral.
		r = b.call(t, http.StatusOK, "GET", "/cases/export?view=received&status=rejected", b.rRO, nil, nil)
		records, err = csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 2)
		require.Equal(t, first, records[1][col("id")])
		// The client's name finds only the row the receiver may read it on.
		r = b.call(t, http.StatusOK, "GET", "/cases/export?view=received&search=Adaeze", b.rRO, nil, nil)
		records, err = csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 2)
		require.Equal(t, second, records[1][col("id")])

		// The sender still has one row for the case.
		r = b.call(t, http.StatusOK, "GET", "/cases/export?view=sent", b.sRO, nil, nil)
		records, err = csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 2)
		require.Equal(t, b.sent.Id.String(), records[1][col("id")])
		require.Equal(t, "under_evaluation", records[1][col("status")])
	})

	t.Run("FiltersApply", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.call(t, http.StatusOK, "GET", "/cases/export?view=sent&status=draft", b.sRO, nil, nil)
		records, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 1, "header only")
		r = b.call(t, http.StatusOK, "GET", "/cases/export?search=return", b.sRO, nil, nil)
		records, err = csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 2)
		require.Equal(t, "received", records[1][0])
		b.callErr(t, http.StatusUnauthorized, "invalid_api_key", "GET", "/cases/export", "", nil)
	})

	t.Run("XLSXHasTheSameRows", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.call(t, http.StatusOK, "GET", "/cases/export?format=xlsx&sort=referenceNumber&order=asc", b.sRO, nil, nil)
		require.Equal(t, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", r.Header.Get("Content-Type"))
		require.Regexp(t, `\.xlsx"$`, r.Header.Get("Content-Disposition"))
		f, err := excelize.OpenReader(bytes.NewReader(r.Body))
		require.NoError(t, err)
		defer f.Close()
		rows, err := f.GetRows("Sheet1")
		require.NoError(t, err)
		require.Len(t, rows, 3)
		require.Equal(t, "perspective", rows[0][0])
		byPerspective := rowsByPerspective(t, rows)
		require.Equal(t, `'=HYPERLINK("http://evil")`, byPerspective["sent"][col("title")])
		require.Equal(t, "", byPerspective["received"][col("clientFirstName")])
	})
}
