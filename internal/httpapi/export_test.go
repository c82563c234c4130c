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
		b.call(t, http.StatusCreated, "POST", "/sent-cases", b.rStd, body, &sc)
		b.recvd = sc.Data
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
