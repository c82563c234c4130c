package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// client sends the drills' API requests. No retries: every request counts as it went.
var client = &http.Client{
	Timeout:   15 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
}

// reply is the outcome of one request.
type reply struct {
	status     int
	body       []byte
	err        error
	start, end time.Time
}

func (r reply) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

func (r reply) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	b := r.body
	if len(b) > 300 {
		b = b[:300]
	}
	return fmt.Sprintf("%d %s", r.status, b)
}

// call sends one request with an API key; body is JSON unless contentType says otherwise.
func call(ctx context.Context, method, url, key string, body any, contentType string) reply {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
		contentType = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return reply{err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	r := reply{start: time.Now()}
	resp, err := client.Do(req)
	if err != nil {
		r.err, r.end = err, time.Now()
		return r
	}
	r.body, r.err = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	r.status, r.end = resp.StatusCode, time.Now()
	return r
}

// field extracts a string at a dotted path of a JSON body ("data.id").
func field(body []byte, path string) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// firm is one demo firm as the workload uses it.
type firm struct {
	slug, id, key string
}

// loadFirm looks up the firm of a key.
func loadFirm(ctx context.Context, base, slug, key string) (*firm, error) {
	r := call(ctx, "GET", base+"/api/public/v1/firms/me", key, nil, "")
	if !r.ok() {
		return nil, fmt.Errorf("firms/me of %s: %s", slug, r)
	}
	return &firm{slug: slug, id: field(r.body, "data.id"), key: key}, nil
}

// caseRec is one case the workload created, with what the server acknowledged about it.
type caseRec struct {
	id             string
	owner, partner *firm
	createdAt      time.Time // when the 201 arrived
	ackState       string    // "acked" (200), "unknown" (request failed), "" (not tried)
	ackAt          time.Time // when the acknowledgment's 200 arrived
	docs           []*docRec
}

// docRec is one uploaded document and the digest of its bytes.
type docRec struct {
	caseID, id string
	sum        [32]byte
	size       int
	ackedAt    time.Time
}

// sample is one request of the workload: when, through what and whether it failed.
type sample struct {
	via        string // "lb" or a replica name
	write      bool
	start, end time.Time
	failed     bool
	what       string
}

// workload runs the mixed lifecycle load and keeps its ledger.
type workload struct {
	firms [2]*firm
	// target picks the base URL of a step: "lifecycle" (create, acknowledge) or the upload and
	// link steps "upload" and "link" (given the upload's replica, so that the link comes from
	// another one). It returns the URL and a name for the statistics.
	target func(step, avoid string) (url, via string)
	docs   bool // upload a document to every case and download it through a link
	logf   func(string, ...any)

	mu        sync.Mutex
	cases     []*caseRec
	samples   []sample
	crossLink int // links issued by one replica for a file uploaded through another, bytes checked
	badBytes  []string
	seq       atomic.Int64
}

func (w *workload) record(via string, write bool, r reply, what string) {
	w.mu.Lock()
	w.samples = append(w.samples, sample{via: via, write: write, start: r.start, end: r.end, failed: !r.ok(), what: what + ": " + r.String()})
	w.mu.Unlock()
}

// run starts n workers until ctx ends and waits for them.
func (w *workload) run(ctx context.Context, n int) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				w.iteration(ctx, i)
			}
		}()
	}
	wg.Wait()
}

// iteration creates one case (referred to the other firm), acknowledges it as the receiver and,
// with docs, uploads a file to it and fetches the file through a link issued by another replica.
func (w *workload) iteration(ctx context.Context, worker int) {
	// Requests in flight when the load phase ends still count: they run on a context of their own.
	rctx := context.WithoutCancel(ctx)
	owner, partner := w.firms[worker%2], w.firms[(worker+1)%2]
	n := w.seq.Add(1)
	base, via := w.target("lifecycle", "")
	r := call(rctx, "POST", base+"/api/public/v1/sent-cases", owner.key, map[string]any{
		"title":           fmt.Sprintf("HA drill case %d", n),
		"caseType":        "Personal Injury",
		"jurisdiction":    "CA",
		"clientFirstName": "Dana",
		"clientLastName":  fmt.Sprintf("Drill%d", n),
		"referentFirmId":  partner.id,
	}, "")
	w.record(via, true, r, "create case")
	if !r.ok() {
		pause(ctx, r)
		return
	}
	c := &caseRec{id: field(r.body, "data.id"), owner: owner, partner: partner, createdAt: r.end}
	w.mu.Lock()
	w.cases = append(w.cases, c)
	w.mu.Unlock()

	base, via = w.target("lifecycle", "")
	r = call(rctx, "POST", base+"/api/public/v1/received-referrals/"+c.id+"/acknowledge", partner.key, nil, "")
	w.record(via, true, r, "acknowledge")
	w.mu.Lock()
	c.ackState = "unknown"
	if r.ok() {
		c.ackState, c.ackAt = "acked", r.end
	}
	w.mu.Unlock()
	if !r.ok() || !w.docs {
		pause(ctx, r)
		return
	}

	data := make([]byte, 2048+rand.IntN(4096))
	for i := range data {
		data[i] = byte('a' + rand.IntN(26))
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", fmt.Sprintf("drill-%d.txt", n))
	_, _ = fw.Write(data)
	_ = mw.WriteField("description", "HA drill upload")
	_ = mw.Close()
	upBase, upVia := w.target("upload", "")
	r = call(rctx, "POST", upBase+"/api/public/v1/cases/"+c.id+"/documents", owner.key, buf.Bytes(), mw.FormDataContentType())
	w.record(upVia, true, r, "upload")
	if !r.ok() {
		pause(ctx, r)
		return
	}
	d := &docRec{caseID: c.id, id: field(r.body, "data.id"), sum: sha256.Sum256(data), size: len(data), ackedAt: r.end}
	w.mu.Lock()
	c.docs = append(c.docs, d)
	w.mu.Unlock()

	linkBase, linkVia := w.target("link", upVia)
	got, r := fetchDocument(rctx, linkBase, partner.key, d)
	w.record(linkVia, false, r, "download")
	if r.ok() {
		w.mu.Lock()
		if got != d.sum {
			w.badBytes = append(w.badBytes, d.id)
		} else if linkVia != upVia {
			w.crossLink++
		}
		w.mu.Unlock()
	}
}

// pause slows a worker down after a failed request, as a client backing off would.
func pause(ctx context.Context, r reply) {
	if r.ok() {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(50 * time.Millisecond):
	}
}

// fetchDocument asks base for a download link and fetches the bytes behind it (from the object
// store for S3, from the server for local storage), returning their digest.
func fetchDocument(ctx context.Context, base, key string, d *docRec) ([32]byte, reply) {
	r := call(ctx, "GET", base+"/api/public/v1/cases/"+d.caseID+"/documents/"+d.id+"/download", key, nil, "")
	if !r.ok() {
		return [32]byte{}, r
	}
	url := field(r.body, "data.url")
	f := call(ctx, "GET", url, "", nil, "")
	if !f.ok() {
		f.start = r.start
		return [32]byte{}, f
	}
	f.start = r.start
	return sha256.Sum256(f.body), f
}

// verify reads back every acknowledged write through base and returns the number checked and
// the problems found: a case missing or in the wrong state, a document missing or changed.
func (w *workload) verify(ctx context.Context, base string) (checked int, problems []string) {
	w.mu.Lock()
	cases := append([]*caseRec(nil), w.cases...)
	w.mu.Unlock()
	for _, c := range cases {
		r := call(ctx, "GET", base+"/api/public/v1/sent-cases/"+c.id, c.owner.key, nil, "")
		checked++
		if !r.ok() {
			problems = append(problems, fmt.Sprintf("case %s (created %s): %s", c.id, c.createdAt.Format(time.StampMilli), r))
			continue
		}
		status := field(r.body, "data.status")
		switch c.ackState {
		case "acked":
			checked++
			if status == "sent" {
				problems = append(problems, fmt.Sprintf("case %s: acknowledgment answered 200 but status is %q", c.id, status))
			}
		case "":
			if status != "sent" {
				problems = append(problems, fmt.Sprintf("case %s: never acknowledged but status is %q", c.id, status))
			}
		}
		for _, d := range c.docs {
			checked++
			got, r := fetchDocument(ctx, base, c.owner.key, d)
			if !r.ok() {
				problems = append(problems, fmt.Sprintf("document %s of case %s: %s", d.id, c.id, r))
			} else if got != d.sum {
				problems = append(problems, fmt.Sprintf("document %s of case %s: bytes differ", d.id, c.id))
			}
		}
	}
	return checked, problems
}

// writes counts the acknowledged writes of the ledger (cases created, acknowledgments, uploads).
func (w *workload) writes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.cases {
		n++
		if c.ackState == "acked" {
			n++
		}
		n += len(c.docs)
	}
	return n
}

// failures returns the failed samples matching keep, oldest first.
func (w *workload) failures(keep func(sample) bool) []sample {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []sample
	for _, s := range w.samples {
		if s.failed && keep(s) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

func (w *workload) requests() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.samples)
}
