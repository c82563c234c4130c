package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

const importHeader = "title,caseType,jurisdiction,clientFirstName,clientLastName,incidentDate,tier,cmsId,notes\n"

func importCSV(t *testing.T, h *apitest.Harness, key, path string, csv []byte) *apitest.Response {
	t.Helper()
	ct, body := multipartForm(t, formPart{name: "file", fileName: "cases.csv", contentType: "text/csv", data: csv})
	return h.Do("POST", path, apitest.APIKey(key), apitest.Body(ct, body))
}

func importOK(t *testing.T, h *apitest.Harness, key, path string, csv string) api.CaseImportResult {
	t.Helper()
	r := importCSV(t, h, key, path, []byte(csv))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var out api.CaseImportResponse
	r.Decode(&out)
	res := out.Data
	require.Equal(t, res.TotalRows, res.Created+res.Updated+res.Skipped+res.Failed, "counts add up")
	return res
}

// rowErr is a row error flattened for comparison.
type rowErr struct {
	Row    int
	Column string
}

func rowErrs(res api.CaseImportResult) []rowErr {
	var out []rowErr
	for _, e := range res.Errors {
		c := ""
		if e.Column != nil {
			c = *e.Column
		}
		out = append(out, rowErr{e.Row, c})
	}
	return out
}

// sentCase is the part of a sent case the import tests look at.
type sentCase struct {
	ID              uuid.UUID `json:"id"`
	ReferenceNumber string    `json:"referenceNumber"`
	Title           string    `json:"title"`
	CmsID           *string   `json:"cmsId"`
	Notes           *string   `json:"notes"`
	Tier            *int      `json:"tier"`
	IncidentDate    *string   `json:"incidentDate"`
	ClientFirstName *string   `json:"clientFirstName"`
}

func sentCases(t *testing.T, h *apitest.Harness, key string) []sentCase {
	t.Helper()
	r := h.Do("GET", "/api/public/v1/sent-cases", apitest.APIKey(key), apitest.Query("limit", "100"))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var list struct {
		Data []sentCase `json:"data"`
	}
	r.Decode(&list)
	return list.Data
}

func getSentCase(t *testing.T, h *apitest.Harness, key string, id uuid.UUID) sentCase {
	t.Helper()
	r := h.Do("GET", apitest.Path("/api/public/v1/sent-cases", id.String()), apitest.APIKey(key))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var out struct {
		Data sentCase `json:"data"`
	}
	r.Decode(&out)
	return out.Data
}

func TestImportCases(t *testing.T) {
	t.Parallel()
	const path = "/api/public/v1/import/cases"

	type testBundle struct {
		h    *apitest.Harness
		firm *apitest.Firm
		full string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		f := h.NewFirm(apitest.FirmOpts{})
		return &testBundle{h: h, firm: f, full: h.Key(f, apitest.Full)}
	}

	t.Run("TemplateListsTheColumns", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("GET", "/api/public/v1/import/cases/template", apitest.APIKey(b.h.Key(b.firm, apitest.ReadOnly)))
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.Equal(t, "text/csv", r.Header.Get("Content-Type"))
		require.Equal(t, `attachment; filename="case-import-template.csv"`, r.Header.Get("Content-Disposition"))
		require.Equal(t, "title,caseType,jurisdiction,clientFirstName,clientLastName,description,county,clientEmail,"+
			"clientPhone,clientDateOfBirth,incidentDate,tier,source,notes,cmsId,salesforceId,salesforceObjectType,"+
			"isRetainerSigned,referenceNumber\n", string(r.Body))
	})

	t.Run("GoodRowsCreateDraftCases", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := importOK(t, b.h, b.full, path, "\ufeff"+
			" Title ,CASETYPE,jurisdiction,clientFirstName,clientLastName,incidentDate,tier,unknownColumn,county,isRetainerSigned\n"+
			"Slip at grocery store,personal_injury,WA,Ana,Ruiz,2026-02-21,3,ignored,King,yes\n"+
			"\"Dog bite, park\",Personal Injury,or,Ben,Ode,3/7/2026,,x,,\n"+
			"Truck collision,Personal Injury,CA,Cy,Park,,5,,,0\n")
		require.Equal(t, api.CaseImportResult{TotalRows: 3, Created: 3, Errors: []api.CaseImportRowError{}}, res)
		cases := sentCases(t, b.h, b.full)
		require.Len(t, cases, 3)
		titles := []string{cases[0].Title, cases[1].Title, cases[2].Title}
		require.ElementsMatch(t, []string{"Slip at grocery store", "Dog bite, park", "Truck collision"}, titles)
	})

	t.Run("BadRowsAreReportedAndGoodRowsStillWritten", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := importOK(t, b.h, b.full, path, importHeader+
			"Good one,Personal Injury,WA,Ana,Ruiz,2026-01-02,1,,\n"+
			"Bad place,Personal Injury,ZZ,Ben,Ode,2026-13-40,9,,\n"+
			",Personal Injury,WA,,Ode,,,,\n"+
			"Unknown type,Underwater Basket Law,WA,Cy,Park,,,,\n"+
			"Good two,Personal Injury,WA,Di,Fox,,,,\n")
		require.Equal(t, 5, res.TotalRows)
		require.Equal(t, 2, res.Created)
		require.Equal(t, 3, res.Failed)
		require.Equal(t, []rowErr{
			{3, "jurisdiction"}, {3, "incidentDate"}, {3, "tier"},
			{4, "title"}, {4, "clientFirstName"},
			{5, "caseType"},
		}, sortedByRowThenColumn(rowErrs(res)))
		for _, e := range res.Errors {
			require.NotEmpty(t, e.Message)
		}
		require.Contains(t, res.Errors[0].Message+res.Errors[1].Message+res.Errors[2].Message, `unknown jurisdiction code "ZZ"`)
		require.Len(t, sentCases(t, b.h, b.full), 2, "no partially written row")
	})

	t.Run("UpsertByExternalIDUpdatesThenSkips", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := importOK(t, b.h, b.full, path, importHeader+"First title,Personal Injury,WA,Ana,Ruiz,,2,EXT-1,intake note\n")
		require.Equal(t, 1, res.Created)
		id := sentCases(t, b.h, b.full)[0].ID

		res = importOK(t, b.h, b.full, path, importHeader+
			"New title,Personal Injury,WA,Ana,Ruiz,2026-02-01,4,EXT-1,\n"+
			"New title,,,,,,,EXT-1,\n"+
			"Other,Premises Liability,WA,Ana,Ruiz,,,EXT-1,\n")
		require.Equal(t, api.CaseImportResult{TotalRows: 3, Updated: 1, Skipped: 1, Failed: 1,
			Errors: res.Errors}, res)
		require.Equal(t, []rowErr{{4, "caseType"}}, rowErrs(res))
		c := getSentCase(t, b.h, b.full, id)
		require.Equal(t, "New title", c.Title)
		require.Equal(t, 4, *c.Tier)
		require.True(t, strings.HasPrefix(*c.IncidentDate, "2026-02-01"), *c.IncidentDate)
		require.Equal(t, "EXT-1", *c.CmsID)
		require.Len(t, sentCases(t, b.h, b.full), 1, "the external id matched: nothing was created")
	})

	t.Run("BlankRowsAreSkipped", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := importOK(t, b.h, b.full, path, importHeader+",,,,,,,,\nA,Personal Injury,WA,Ana,Ruiz,,,,\n , ,,,,,,,\n")
		require.Equal(t, api.CaseImportResult{TotalRows: 3, Created: 1, Skipped: 2, Errors: []api.CaseImportRowError{}}, res)
	})

	t.Run("HeaderOnlyFileImportsNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := importOK(t, b.h, b.full, path, importHeader)
		require.Equal(t, api.CaseImportResult{Errors: []api.CaseImportRowError{}}, res)
	})

	t.Run("WholeFileProblemsAre400AndWriteNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		good := "A,Personal Injury,WA,Ana,Ruiz,,,,\n"
		for name, csv := range map[string]string{
			"empty file":       "",
			"missing headers":  "title,caseType,clientFirstName\nA,Personal Injury,Ana\n",
			"duplicate header": "title,Title,caseType,jurisdiction,clientFirstName,clientLastName\n",
			"latin-1 encoding": importHeader + good + "Caf\xe9 fall,Personal Injury,WA,Jos\xe9,Ruiz,,,,\n",
			"utf-16":           "\xff\xfet\x00i\x00t\x00l\x00e\x00\n\x00",
			"binary":           "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
			"broken quoting":   importHeader + good + "\"unterminated,Personal Injury,WA,Ana,Ruiz,,,,\nnext\"x,\n",
		} {
			r := importCSV(t, b.h, b.full, path, []byte(csv))
			require.Equal(t, http.StatusBadRequest, r.StatusCode, "%s: %.300s", name, r.Body)
			require.Equal(t, "validation_error", r.ErrorCode(), name)
			require.Equal(t, []string{"body.file"}, errorFields(t, r), name)
		}
		require.Empty(t, sentCases(t, b.h, b.full))
	})

	t.Run("FileOver20MBIs413", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		big := bytes.Repeat([]byte("A,Personal Injury,WA,Ana,Ruiz,,,,"+strings.Repeat(" ", 60)+"\n"), 20<<20/90+100)
		r := importCSV(t, b.h, b.full, path, append([]byte(importHeader), big...))
		require.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode, "%.300s", r.Body)
		require.Empty(t, sentCases(t, b.h, b.full))
	})

	t.Run("NeedsAFullKeyAndAFile", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := importCSV(t, b.h, b.h.Key(b.firm, apitest.Standard), path, []byte(importHeader))
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "insufficient_tier", r.ErrorCode())
		ct, body := multipartForm(t, formPart{name: "other", data: []byte("x")})
		r = b.h.Do("POST", path, apitest.APIKey(b.full), apitest.Body(ct, body))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
	})

	// How fast is measured by benchmarks, not here (a loaded machine would make a timed
	// assertion flaky): this checks that a file at the documented row limit goes through whole.
	t.Run("TenThousandRowsImportInOneRequest", func(t *testing.T) {
		if testing.Short() {
			t.Skip("writes 10,000 cases")
		}
		t.Parallel()
		b := setup(t)
		var sb strings.Builder
		sb.WriteString("title,caseType,jurisdiction,clientFirstName,clientLastName,clientEmail,incidentDate,tier,cmsId,description\n")
		for i := range 10_000 {
			fmt.Fprintf(&sb, "Case %d,Personal Injury,WA,Client%d,Last%d,c%d@example.org,2026-01-%02d,%d,BULK-%d,Imported in bulk\n",
				i, i, i, i, i%28+1, i%5+1, i)
		}
		start := time.Now()
		res := importOK(t, b.h, b.full, path, sb.String())
		elapsed := time.Since(start)
		t.Logf("10,000-row import (%d bytes): %v", sb.Len(), elapsed)
		require.Equal(t, 10_000, res.Created, "%v", res.Errors)
	})
}

func sortedByRowThenColumn(in []rowErr) []rowErr {
	// Errors come ordered by row; within a row, in the order the columns were checked.
	order := map[string]int{}
	for i, c := range []string{"title", "caseType", "jurisdiction", "clientFirstName", "clientLastName",
		"description", "county", "clientEmail", "clientPhone", "clientDateOfBirth", "incidentDate", "tier"} {
		order[c] = i
	}
	out := append([]rowErr(nil), in...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && (out[j].Row < out[j-1].Row || out[j].Row == out[j-1].Row && order[out[j].Column] < order[out[j-1].Column]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestImportCasesUpdate(t *testing.T) {
	t.Parallel()
	const path = "/api/public/v1/import/cases/update"

	t.Run("SenderUpdatesByReferenceNumberOrExternalID", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		ext := newCase(t, f.h, f.ownerStd, nil, map[string]any{"salesforceId": "SF-77"})
		c := getSentCase(t, f.h, f.ownerFull, f.caseID)

		res := importOK(t, f.h, f.ownerFull, path, "referenceNumber,salesforceId,title,tier,caseType\n"+
			c.ReferenceNumber+",,Renamed by reference,2,Personal Injury\n"+
			",SF-77,Renamed by external id,,\n"+
			c.ReferenceNumber+",,Renamed by reference,2,\n"+
			"CX-1999-999999,,Nobody,,\n"+
			",SF-NONE,Nobody,,\n"+
			",,No identity,,\n"+
			c.ReferenceNumber+",,,,Premises Liability\n")
		require.Equal(t, 7, res.TotalRows)
		require.Zero(t, res.Created)
		require.Equal(t, 2, res.Updated)
		require.Equal(t, 1, res.Skipped)
		require.Equal(t, 4, res.Failed)
		require.Equal(t, []rowErr{{5, "referenceNumber"}, {6, "salesforceId"}, {7, "referenceNumber"}, {8, "caseType"}}, rowErrs(res))
		require.Equal(t, "Renamed by reference", getSentCase(t, f.h, f.ownerFull, f.caseID).Title)
		require.Equal(t, "Renamed by external id", getSentCase(t, f.h, f.ownerFull, ext).Title)
	})

	t.Run("SenderSetsExternalIDWhenFoundByReference", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		c := getSentCase(t, f.h, f.ownerFull, f.caseID)
		res := importOK(t, f.h, f.ownerFull, path, "referenceNumber,cmsId\n"+c.ReferenceNumber+",CMS-9\n")
		require.Equal(t, 1, res.Updated, "%v", res.Errors)
		require.Equal(t, "CMS-9", *getSentCase(t, f.h, f.ownerFull, f.caseID).CmsID)
	})

	t.Run("NotesBelongToTheReceivingFirm", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		receivedAction(t, f.h, f.recvStd, f.caseID, "acknowledge", nil)
		ref := getSentCase(t, f.h, f.ownerFull, f.caseID).ReferenceNumber

		res := importOK(t, f.h, f.ownerFull, path, "referenceNumber,notes\n"+ref+",sender note\n")
		require.Equal(t, []rowErr{{2, "notes"}}, rowErrs(res))

		res = importOK(t, f.h, f.recvFull, path, "referenceNumber,notes,title\n"+
			ref+",Client retained us,\n"+
			ref+",Client retained us,\n"+
			ref+",,Receiver renames\n")
		require.Equal(t, 1, res.Updated, "%v", res.Errors)
		require.Equal(t, 1, res.Skipped)
		require.Equal(t, []rowErr{{4, "title"}}, rowErrs(res))

		r := f.h.Do("GET", apitest.Path("/api/public/v1/received-referrals", f.caseID.String()), apitest.APIKey(f.recvStd))
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.Contains(t, string(r.Body), "Client retained us")

		res = importOK(t, f.h, f.h.Key(f.out, apitest.Full), path, "referenceNumber,notes\n"+ref+",snooping\n")
		require.Equal(t, []rowErr{{2, "referenceNumber"}}, rowErrs(res), "outsiders do not find the case")
	})

	t.Run("HeaderWithoutIdentifyingColumnIs400", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		r := importCSV(t, f.h, f.ownerFull, path, []byte("title,tier\nA,1\n"))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, []string{"body.file"}, errorFields(t, r))
	})
}

// importAccepted posts a file that must become a job and returns it.
func importAccepted(t *testing.T, h *apitest.Harness, key, path string, csv []byte, opts ...apitest.Opt) api.CaseImportJob {
	t.Helper()
	ct, body := multipartForm(t, formPart{name: "file", fileName: "cases.csv", contentType: "text/csv", data: csv})
	r := h.Do("POST", path, append([]apitest.Opt{apitest.APIKey(key), apitest.Body(ct, body)}, opts...)...)
	require.Equal(t, http.StatusAccepted, r.StatusCode, "%.500s", r.Body)
	var out api.CaseImportJobResponse
	r.Decode(&out)
	require.Equal(t, "/api/public/v1/import/jobs/"+out.Data.Id.String(), r.Header.Get("Location"))
	require.Contains(t, []api.CaseImportJobStatus{api.CaseImportJobStatusQueued, api.CaseImportJobStatusRunning,
		api.CaseImportJobStatusSucceeded}, out.Data.Status)
	return out.Data
}

// awaitJob polls a job until it finished.
func awaitJob(t *testing.T, h *apitest.Harness, key string, id uuid.UUID) api.CaseImportJob {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		r := h.Do("GET", apitest.Path("/api/public/v1/import/jobs", id.String()), apitest.APIKey(key))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.CaseImportJobResponse
		r.Decode(&out)
		j := out.Data
		require.Equal(t, j.ProcessedRows, j.Created+j.Updated+j.Skipped+j.Failed, "counts add up while running")
		if j.Status == api.CaseImportJobStatusSucceeded || j.Status == api.CaseImportJobStatusFailed {
			require.NotNil(t, j.FinishedAt)
			require.NotNil(t, j.StartedAt)
			return j
		}
		require.True(t, time.Now().Before(deadline), "job %s still %s after 3 minutes", id, j.Status)
		time.Sleep(150 * time.Millisecond)
	}
}

func sentCaseTotal(t *testing.T, h *apitest.Harness, key string) int {
	t.Helper()
	r := h.Do("GET", "/api/public/v1/sent-cases", apitest.APIKey(key), apitest.Query("limit", "1"))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var list struct {
		Pagination api.Pagination `json:"pagination"`
	}
	r.Decode(&list)
	return list.Pagination.Total
}

func TestImportJobs(t *testing.T) {
	t.Parallel()
	const path = "/api/public/v1/import/cases"

	type testBundle struct {
		h    *apitest.Harness
		firm *apitest.Firm
		full string
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		h := apitest.New(t)
		require.NoError(t, h.App.Jobs.Start(context.WithoutCancel(t.Context())))
		f := h.NewFirm(apitest.FirmOpts{})
		return &testBundle{h: h, firm: f, full: h.Key(f, apitest.Full)}
	}

	// One run only: it writes 10,001 cases.
	t.Run("MoreThanTenThousandRowsRunAsAJob", func(t *testing.T) {
		if testing.Short() {
			t.Skip("writes 10,001 cases")
		}
		t.Parallel()
		b := setup(t)
		var buf bytes.Buffer
		buf.WriteString("title,caseType,jurisdiction,clientFirstName,clientLastName,incidentDate,tier\n")
		for i := range 10_001 {
			fmt.Fprintf(&buf, "Case %d,Personal Injury,WA,Client%d,Last%d,2026-01-%02d,%d\n", i, i, i, i%28+1, i%5+1)
		}
		job := importAccepted(t, b.h, b.full, path, buf.Bytes())
		require.Equal(t, api.CaseImportJobModeUpsert, job.Mode)
		require.Equal(t, 10_001, job.TotalRows)

		start := time.Now()
		done := awaitJob(t, b.h, b.full, job.Id)
		t.Logf("10,001-row job: %v", time.Since(start))
		require.Equal(t, api.CaseImportJobStatusSucceeded, done.Status, "%v", done.Failure)
		require.Equal(t, 10_001, done.ProcessedRows)
		require.Equal(t, 10_001, done.Created)
		require.Zero(t, done.Failed)
		require.Empty(t, done.Errors)
		require.Nil(t, done.Failure)
		require.Equal(t, 10_001, sentCaseTotal(t, b.h, b.full))
	})

	t.Run("AsyncSmallFileReportsBadRows", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		job := importAccepted(t, b.h, b.full, path, []byte(importHeader+
			"Good one,Personal Injury,WA,Ana,Ruiz,2026-01-02,1,,\n"+
			"Bad place,Personal Injury,ZZ,Ben,Ode,,,,\n"+
			",,,,,,,,\n"+
			"Good two,Personal Injury,WA,Di,Fox,,9,,\n"), apitest.Query("async", "true"))
		require.Equal(t, 4, job.TotalRows)

		done := awaitJob(t, b.h, b.full, job.Id)
		require.Equal(t, api.CaseImportJobStatusSucceeded, done.Status)
		require.Equal(t, 4, done.ProcessedRows)
		require.Equal(t, 1, done.Created)
		require.Equal(t, 1, done.Skipped)
		require.Equal(t, 2, done.Failed)
		require.Equal(t, 2, done.ErrorCount)
		require.Equal(t, []rowErr{{3, "jurisdiction"}, {5, "tier"}}, rowErrs(api.CaseImportResult{Errors: done.Errors}))
		require.Equal(t, 1, sentCaseTotal(t, b.h, b.full))
	})

	t.Run("UpdateFileRunsAsAJobToo", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := importOK(t, b.h, b.full, path, importHeader+"First,Personal Injury,WA,Ana,Ruiz,,2,EXT-9,\n")
		require.Equal(t, 1, res.Created)
		job := importAccepted(t, b.h, b.full, "/api/public/v1/import/cases/update",
			[]byte("cmsId,title\nEXT-9,Renamed in the background\nEXT-NONE,Nobody\n"), apitest.Query("async", "true"))
		require.Equal(t, api.CaseImportJobModeUpdate, job.Mode)
		done := awaitJob(t, b.h, b.full, job.Id)
		require.Equal(t, 1, done.Updated)
		require.Equal(t, 1, done.Failed)
		require.Equal(t, "Renamed in the background", sentCases(t, b.h, b.full)[0].Title)
	})

	t.Run("WholeFileProblemsAreStill400", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.h.Do("POST", path, apitest.APIKey(b.full), apitest.Query("async", "true"),
			func() apitest.Opt {
				ct, body := multipartForm(t, formPart{name: "file", fileName: "x.csv", data: []byte("title,caseType\nA,B\n")})
				return apitest.Body(ct, body)
			}())
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		require.Equal(t, []string{"body.file"}, errorFields(t, r))
		r = b.h.Do("GET", "/api/public/v1/import/jobs", apitest.APIKey(b.full))
		require.Equal(t, http.StatusOK, r.StatusCode)
		var list api.CaseImportJobListResponse
		r.Decode(&list)
		require.Empty(t, list.Data, "a rejected file makes no job")
	})

	t.Run("JobsBelongToTheFirmAndFollowTiers", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var ids []uuid.UUID
		for i := range 3 {
			j := importAccepted(t, b.h, b.full, path,
				[]byte(fmt.Sprintf("%sCase %d,Personal Injury,WA,Ana,Ruiz,,,,\n", importHeader, i)), apitest.Query("async", "true"))
			ids = append(ids, j.Id)
		}
		for _, id := range ids {
			awaitJob(t, b.h, b.full, id)
		}
		readOnly := b.h.Key(b.firm, apitest.ReadOnly)

		// Any key of the firm reads its jobs; the list is newest first and paginated.
		r := b.h.Do("GET", apitest.Path("/api/public/v1/import/jobs", ids[0].String()), apitest.APIKey(readOnly))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		r = b.h.Do("GET", "/api/public/v1/import/jobs", apitest.APIKey(readOnly), apitest.Query("limit", "2"))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var list api.CaseImportJobListResponse
		r.Decode(&list)
		require.Equal(t, api.Pagination{Page: 1, Limit: 2, Total: 3, TotalPages: 2}, list.Pagination)
		require.Equal(t, []uuid.UUID{ids[2], ids[1]}, []uuid.UUID{list.Data[0].Id, list.Data[1].Id})
		r = b.h.Do("GET", "/api/public/v1/import/jobs", apitest.APIKey(readOnly), apitest.Query("limit", "2", "page", "2"))
		require.Equal(t, http.StatusOK, r.StatusCode)
		r.Decode(&list)
		require.Equal(t, []uuid.UUID{ids[0]}, []uuid.UUID{list.Data[0].Id})

		// Starting one needs a FULL key, as the synchronous import does.
		for _, k := range []string{readOnly, b.h.Key(b.firm, apitest.Standard)} {
			r := importCSV(t, b.h, k, path+"?async=true", []byte(importHeader))
			require.Equal(t, http.StatusForbidden, r.StatusCode)
			require.Equal(t, "insufficient_tier", r.ErrorCode())
		}

		// Another firm sees neither the job nor the list entries.
		other := b.h.NewFirm(apitest.FirmOpts{})
		otherKey := b.h.Key(other, apitest.Full)
		r = b.h.Do("GET", apitest.Path("/api/public/v1/import/jobs", ids[0].String()), apitest.APIKey(otherKey))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		require.Equal(t, "resource_not_found", r.ErrorCode())
		r = b.h.Do("GET", "/api/public/v1/import/jobs", apitest.APIKey(otherKey))
		require.Equal(t, http.StatusOK, r.StatusCode)
		r.Decode(&list)
		require.Empty(t, list.Data)
		require.Equal(t, 0, list.Pagination.Total)

		r = b.h.Do("GET", apitest.Path("/api/public/v1/import/jobs", uuid.NewString()), apitest.APIKey(b.full))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		r = b.h.Do("GET", apitest.Path("/api/public/v1/import/jobs", "not-a-uuid"), apitest.APIKey(b.full))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
	})
}
