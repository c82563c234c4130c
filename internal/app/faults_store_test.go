package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/config"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/storage"
	"github.com/casexchange/server/internal/testsummary"
)

// ---- an S3 server that can go down and come back -----------------------------------------------

// fakeS3 serves an in-memory S3 (gofakes3) over HTTP on a fixed loopback address. Stop closes the
// listener and every connection, as a store going down would; Start serves the same buckets
// again on the same address.
type fakeS3 struct {
	Addr    string
	mem     *s3mem.Backend
	handler http.Handler

	mu  sync.Mutex
	srv *http.Server // nil while stopped
}

const faultBucket = "cx-faults"

func startFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	mem := s3mem.New()
	require.NoError(t, mem.CreateBucket(faultBucket))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeS3{Addr: ln.Addr().String(), mem: mem, handler: gofakes3.New(mem).Server()}
	f.serve(ln)
	t.Cleanup(f.Stop)
	return f
}

func (f *fakeS3) serve(ln net.Listener) {
	srv := &http.Server{Handler: f.handler, ReadHeaderTimeout: 10 * time.Second}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Stop takes the store down.
func (f *fakeS3) Stop() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Start brings the store back on its address.
func (f *fakeS3) Start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", f.Addr)
	require.NoError(t, err)
	f.serve(ln)
}

// Keys lists the objects of the bucket, read from the backend (so it works while stopped).
func (f *fakeS3) Keys(t *testing.T) []string {
	t.Helper()
	list, err := f.mem.ListBucket(faultBucket, nil, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	sort.Strings(keys)
	return keys
}

// ---- helpers -----------------------------------------------------------------------------------

var faultPDF = []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")

// pdfForm is a multipart body with one file part.
func pdfForm(t *testing.T, name string) apitest.Opt {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", "application/pdf")
	w, err := mw.CreatePart(h)
	require.NoError(t, err)
	_, err = w.Write(faultPDF)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return apitest.Body(mw.FormDataContentType(), buf.Bytes())
}

// docFixture is a firm with a case of its own to attach documents to.
type docFixture struct {
	h      *apitest.Harness
	key    string
	caseID uuid.UUID
}

func newDocFixture(t *testing.T, h *apitest.Harness) docFixture {
	t.Helper()
	f := h.NewFirm(apitest.FirmOpts{})
	key := h.Key(f, apitest.Full)
	r := h.Do("POST", "/api/public/v1/sent-cases", apitest.APIKey(key), apitest.JSON(map[string]any{
		"title": "Slip and fall at a grocery store", "caseType": "Personal Injury", "jurisdiction": "WA",
		"clientFirstName": "Ada", "clientLastName": "Okafor",
	}))
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	var out struct {
		Data struct {
			ID uuid.UUID `json:"id"`
		} `json:"data"`
	}
	r.Decode(&out)
	return docFixture{h: h, key: key, caseID: out.Data.ID}
}

func (d docFixture) path(rest ...string) string {
	return apitest.Path("/api/public/v1/cases", append([]string{d.caseID.String(), "documents"}, rest...)...)
}

func (d docFixture) upload(t *testing.T, name string) *apitest.Response {
	return d.h.Do("POST", d.path(), apitest.APIKey(d.key), pdfForm(t, name))
}

// uploadOK uploads a file and returns the new document's id.
func (d docFixture) uploadOK(t *testing.T, name string) uuid.UUID {
	t.Helper()
	r := d.upload(t, name)
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	var out struct {
		Data struct {
			ID uuid.UUID `json:"id"`
		} `json:"data"`
	}
	r.Decode(&out)
	return out.Data.ID
}

// link asks for a download link and returns the response and the URL (empty unless 200).
func (d docFixture) link(t *testing.T, docID uuid.UUID) (*apitest.Response, string) {
	t.Helper()
	r := d.h.Do("GET", d.path(docID.String(), "download"), apitest.APIKey(d.key))
	if r.StatusCode != http.StatusOK {
		return r, ""
	}
	var out struct {
		Data struct {
			URL string `json:"url"`
		} `json:"data"`
	}
	r.Decode(&out)
	return r, out.Data.URL
}

// rows counts the document rows of the case, read directly from the database.
func (d docFixture) rows(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, d.h.Pool.QueryRow(context.Background(), `SELECT count(*) FROM documents WHERE base_case_id = $1`, d.caseID).Scan(&n))
	return n
}

// outcome is one request made while a dependency was down.
type outcome struct {
	status int
	code   string
	took   time.Duration
}

// concurrently runs n calls of fn on workers goroutines and returns what each answered. fn must
// not fail the test itself (it runs off the test goroutine).
func concurrently(n, workers int, fn func(i int) *apitest.Response) []outcome {
	out := make([]outcome, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				r := fn(i)
				out[i] = outcome{status: r.StatusCode, code: r.ErrorCode(), took: time.Since(start)}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// requireAll503 checks that every outcome is a prompt 503 service_unavailable and returns the
// slowest.
func requireAll503(t *testing.T, what string, outs []outcome, limit time.Duration) time.Duration {
	t.Helper()
	var slowest time.Duration
	for i, o := range outs {
		require.Equal(t, http.StatusServiceUnavailable, o.status, "%s #%d", what, i)
		require.Equal(t, "service_unavailable", o.code, "%s #%d", what, i)
		require.Less(t, o.took, limit, "%s #%d took %s", what, i, o.took)
		slowest = max(slowest, o.took)
	}
	return slowest
}

// ---- the test ----------------------------------------------------------------------------------

// TestFaultObjectStore takes the document store away under the API: the S3 backend's server is
// stopped and started again on the same address, and the local backend's directory is made
// unwritable and writable again. Uploads meanwhile answer 503 service_unavailable promptly and
// leave neither a row nor an object; the server serves again without a restart.

func TestFaultObjectStore(t *testing.T) {
	const uploads = 24
	const prompt = 5 * time.Second // the bound for any answer while the store is down
	var s3Line, localLine string

	t.Run("S3ServerDown", func(t *testing.T) {
		s3 := startFakeS3(t)
		h := apitest.New(t, apitest.Options{Config: func(c *config.Config) {
			c.Storage = storage.Config{Backend: storage.BackendS3, S3: storage.S3Config{
				Endpoint: "http://" + s3.Addr, Bucket: faultBucket, AccessKey: "cx-test", SecretKey: "cx-test-secret",
				Region: "us-east-1", PathStyle: true,
			}}
		}})
		d := newDocFixture(t, h)
		existing := d.uploadOK(t, "before-the-outage.pdf")
		keysBefore := s3.Keys(t)
		require.Equal(t, []string{"cases/" + d.caseID.String() + "/" + existing.String()}, keysBefore)
		require.Equal(t, 1, d.rows(t))

		s3.Stop()

		outs := concurrently(uploads, 4, func(i int) *apitest.Response { return d.upload(t, fmt.Sprintf("during-%02d.pdf", i)) })
		slowest := requireAll503(t, "upload while the store is down", outs, prompt)
		require.Equal(t, 1, d.rows(t), "an upload that failed left a row")
		require.Equal(t, keysBefore, s3.Keys(t), "an upload that failed left an object")

		// Reading the list needs only the database.
		r := h.Do("GET", d.path(), apitest.APIKey(d.key))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))

		// A download link is a pre-signed URL computed here without asking the store, so it is
		// issued; the store itself refuses the fetch until it is back (fetched below).
		r, linkURL := d.link(t, existing)
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		_, err := http.Get(linkURL)
		require.Error(t, err, "the store answered while stopped")

		// Deleting needs the store: 503, and the document stays whole.
		delStart := time.Now()
		r = h.Do("DELETE", d.path(existing.String()), apitest.APIKey(d.key))
		delTook := time.Since(delStart)
		require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, string(r.Body))
		require.Equal(t, "service_unavailable", r.ErrorCode())
		require.Less(t, delTook, prompt)
		require.Equal(t, 1, d.rows(t), "a failed delete removed the row")
		require.Equal(t, keysBefore, s3.Keys(t), "a failed delete removed the object")

		// Back on the same address: the same server uploads and serves again.
		s3.Start(t)
		upAt := time.Now()
		var recovered time.Duration
		for {
			r := d.upload(t, "after-the-outage.pdf")
			if r.StatusCode == http.StatusCreated {
				recovered = time.Since(upAt)
				break
			}
			require.Equal(t, http.StatusServiceUnavailable, r.StatusCode, string(r.Body))
			require.Less(t, time.Since(upAt), 10*time.Second, "uploads did not recover")
			time.Sleep(100 * time.Millisecond)
		}
		require.Equal(t, 2, d.rows(t))
		require.Len(t, s3.Keys(t), 2)
		resp, err := http.Get(linkURL) // the link issued during the outage works now
		require.NoError(t, err)
		body := new(bytes.Buffer)
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, faultPDF, body.Bytes())

		s3Line = fmt.Sprintf("s3 down: %d uploads -> %d x 503 (slowest %s), %d rows, %d objects left; delete 503 in %s with the document kept; link issued offline and served after restart; recovered %s after restart",
			uploads, len(outs), slowest.Round(time.Millisecond), d.rows(t)-2, len(s3.Keys(t))-2, delTook.Round(time.Millisecond), recovered.Round(time.Millisecond))
	})

	t.Run("LocalDirectoryUnwritable", func(t *testing.T) {
		h := apitest.New(t)
		d := newDocFixture(t, h)
		existing := d.uploadOK(t, "before.pdf")
		dir := filepath.Join(h.App.Config.DataDir, "objects")
		filesBefore := regularFiles(t, dir)
		restore := makeUnwritable(t, dir)

		outs := concurrently(uploads, 4, func(i int) *apitest.Response { return d.upload(t, fmt.Sprintf("during-%02d.pdf", i)) })
		slowest := requireAll503(t, "upload into an unwritable directory", outs, prompt)
		require.Equal(t, 1, d.rows(t), "an upload that failed left a row")
		require.Equal(t, filesBefore, regularFiles(t, dir), "an upload that failed left a file")

		// Existing files are still served: reading needs no write access.
		r, linkURL := d.link(t, existing)
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		r = h.Do("GET", strings.TrimPrefix(linkURL, h.URL))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Equal(t, faultPDF, r.Body)

		restore()
		d.uploadOK(t, "after.pdf")
		require.Equal(t, 2, d.rows(t))

		localLine = fmt.Sprintf("local dir unwritable: %d uploads -> %d x 503 (slowest %s), 0 rows, 0 files left; downloads 200; recovered without restart",
			uploads, len(outs), slowest.Round(time.Millisecond))
	})

	if s3Line != "" && localLine != "" {
		testsummary.Printf("faults-store: %s; %s\n", s3Line, localLine)
	}
}

// regularFiles lists the regular files under dir (objects, metadata and temporary files).
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(out)
	return out
}

// makeUnwritable takes write permission away from dir and its subdirectories, and returns the
// function that gives it back (also run at cleanup). Permission bits do not stop root, so when
// they do not suffice the directories are marked immutable (chattr +i), which does; if neither
// works the test is skipped.
func makeUnwritable(t *testing.T, dir string) func() {
	t.Helper()
	var dirs []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			dirs = append(dirs, p)
		}
		return err
	}))
	for _, p := range dirs {
		require.NoError(t, os.Chmod(p, 0o555))
	}
	immutable := false
	restore := func() {
		if immutable {
			_ = exec.Command("chattr", append([]string{"-i"}, dirs...)...).Run()
			immutable = false
		}
		for _, p := range dirs {
			_ = os.Chmod(p, 0o750)
		}
	}
	t.Cleanup(restore)
	if writable(dir) {
		if err := exec.Command("chattr", append([]string{"+i"}, dirs...)...).Run(); err == nil {
			immutable = true
		}
		if writable(dir) {
			restore()
			t.Skip("cannot make a directory unwritable here (root without chattr)")
		}
	}
	return restore
}

func writable(dir string) bool {
	p := filepath.Join(dir, ".probe-"+uuid.NewString()[:8])
	f, err := os.Create(p)
	if err != nil {
		return !errors.Is(err, fs.ErrPermission)
	}
	_ = f.Close()
	_ = os.Remove(p)
	return true
}
