package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/storage"
)

// TestDocumentsOnS3 runs the document operations with the S3 backend against an S3-protocol
// server (gofakes3, in memory, over HTTP).
func TestDocumentsOnS3(t *testing.T) {
	mem := s3mem.New()
	require.NoError(t, mem.CreateBucket("cx-documents"))
	s3srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(s3srv.Close)
	onS3 := apitest.Options{Config: func(c *config.Config) {
		c.Storage = storage.Config{Backend: storage.BackendS3, S3: storage.S3Config{
			Endpoint: s3srv.URL, Bucket: "cx-documents", AccessKey: "cx-test", SecretKey: "cx-test-secret",
			Region: "us-east-1", PathStyle: true, Insecure: true,
		}}
	}}
	objects := func() []string {
		t.Helper()
		list, err := mem.ListBucket("cx-documents", nil, gofakes3.ListBucketPage{})
		require.NoError(t, err)
		var keys []string
		for _, c := range list.Contents {
			keys = append(keys, c.Key)
		}
		return keys
	}

	f := newParties(t, onS3)
	receivedAction(t, f.h, f.recvStd, f.caseID, "acknowledge", nil)

	d := uploadOK(t, f.h, f.ownerStd, f.caseID, "police report.pdf", samplePDF)
	require.Equal(t, []string{"cases/" + f.caseID.String() + "/" + d.Id.String()}, objects())

	t.Run("DownloadLinkIsAPresignedObjectStoreURL", func(t *testing.T) {
		l := downloadLink(t, f.h, f.recvStd, f.caseID, d.Id)
		require.True(t, strings.HasPrefix(l.Url, s3srv.URL+"/cx-documents/cases/"), l.Url)
		u, err := url.Parse(l.Url)
		require.NoError(t, err)
		require.Equal(t, "900", u.Query().Get("X-Amz-Expires"))
		require.NotEmpty(t, u.Query().Get("X-Amz-Signature"))

		resp, err := http.Get(l.Url)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, samplePDF, body)
		require.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
		require.Equal(t, `attachment; filename="police report.pdf"; filename*=UTF-8''police%20report.pdf`,
			resp.Header.Get("Content-Disposition"))
	})

	t.Run("LocalLinkRouteRefusesEveryTokenWithS3", func(t *testing.T) {
		r := f.h.Do("GET", storage.DownloadPath+"eyJrIjoieCIsImUiOjF9.c2ln")
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "permission_denied", r.ErrorCode())
	})

	t.Run("FailedUploadsLeaveNoObject", func(t *testing.T) {
		big := make([]byte, 50<<20+1)
		copy(big, samplePDF)
		r := upload(t, f.h, f.ownerStd, f.caseID, "huge.pdf", big)
		require.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode, string(r.Body))
		r = upload(t, f.h, f.ownerStd, f.caseID, "virus.exe", []byte("MZ\x90\x00\x03\x00\x00\x00"))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Len(t, objects(), 1)
		require.Len(t, listDocs(t, f.h, f.ownerStd, f.caseID), 1)
	})

	t.Run("DeleteRemovesTheObject", func(t *testing.T) {
		r := f.h.Do("DELETE", docsPath(f.caseID, d.Id.String()), apitest.APIKey(f.ownerFull))
		require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.Body))
		require.Empty(t, objects())
		require.Zero(t, storedFiles(t, f.h), "nothing went to the local directory")
	})
}
