// Package webhookstest helps test webhook deliveries: a real HTTPS receiver that records what it
// gets and checks every body against its event's schema in the contract, a settable clock, and a
// resolver that answers what the test says.
package webhookstest

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/casexchange/server/internal/jobs/jobstest"
	"github.com/casexchange/server/internal/webhooks"
)

// Request is one request the receiver got.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Receiver is an HTTPS server on 127.0.0.1 that records requests and answers with the status
// the test chooses (200 by default).
type Receiver struct {
	Server *httptest.Server

	mu      sync.Mutex
	reqs    []Request
	respond func(n int, r *http.Request, w http.ResponseWriter) bool
	changed chan struct{}
}

// NewReceiver starts a receiver, closed when the test ends. Then every request it received is
// checked against the contract (see Schemas.Validate and checkHeaders): a body that does not
// match the schema of its event fails the test.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{changed: make(chan struct{}, 1)}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	// Cleanups run last registered first: the server is closed (no request still arriving)
	// before what it got is checked.
	t.Cleanup(func() { r.validate(t) })
	t.Cleanup(r.Server.Close)
	return r
}

// validate checks every request received so far against the contract.
func (r *Receiver) validate(t testing.TB) {
	t.Helper()
	s, err := LoadSchemas()
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	for i, req := range r.Requests() {
		event, err := s.Validate(req.Body)
		if err == nil {
			err = checkHeaders(req.Header, req.Body)
		}
		if err != nil {
			t.Errorf("webhookstest: delivery %d (%s) breaks the contract: %v\nbody: %s", i+1, event, err, req.Body)
			continue
		}
		count(event)
	}
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, Request{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body})
	n, respond := len(r.reqs), r.respond
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	if respond != nil && respond(n, req, w) {
		return
	}
	w.WriteHeader(http.StatusOK)
}

// URL is the endpoint to subscribe.
func (r *Receiver) URL() string { return r.Server.URL + "/hook" }

// RootCAs trusts the receiver's certificate.
func (r *Receiver) RootCAs() *x509.CertPool {
	return r.Server.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
}

// Status makes the receiver answer every request with code.
func (r *Receiver) Status(code int) {
	r.Handle(func(_ int, _ *http.Request, w http.ResponseWriter) bool {
		w.WriteHeader(code)
		return true
	})
}

// Handle sets how requests are answered: fn gets the request's number (from 1) and returns true
// when it wrote the answer (false: 200).
func (r *Receiver) Handle(fn func(n int, req *http.Request, w http.ResponseWriter) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.respond = fn
}

// Requests returns what was received so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Wait returns the requests once there are at least n, failing the test after timeout.
func (r *Receiver) Wait(t testing.TB, n int, timeout time.Duration) []Request {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if reqs := r.Requests(); len(reqs) >= n {
			return reqs
		}
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("webhookstest: got %d requests, want %d", len(r.Requests()), n)
		}
	}
}

// WaitSettled waits until every webhook delivery in the database is final (DELIVERED or
// EXHAUSTED) and no delivery job is left to run, failing the test after timeout. Once it
// returns, no request for what has been committed so far can still reach a receiver, so a test
// can assert that nothing more arrived without sleeping.
func WaitSettled(t testing.TB, db jobstest.Querier, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var open int
		if err := db.QueryRow(context.Background(),
			`SELECT count(*) FROM webhook_deliveries WHERE status NOT IN ('DELIVERED', 'EXHAUSTED')`).Scan(&open); err != nil {
			t.Fatalf("webhookstest: read the delivery state: %v", err)
		}
		jobs := jobstest.Pending(t, db, webhooks.DeliveryJobKind)
		if open == 0 && jobs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhookstest: %d deliveries not final and %d delivery jobs left after %s", open, jobs, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Resolver answers lookups from a table the test fills; unknown hosts fail.
type Resolver struct {
	mu    sync.Mutex
	hosts map[string][]netip.Addr
}

// NewResolver returns an empty resolver.
func NewResolver() *Resolver { return &Resolver{hosts: map[string][]netip.Addr{}} }

// Set makes host resolve to addrs.
func (r *Resolver) Set(host string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	r.hosts[host] = out
}

// LookupNetIP implements webhooks.Resolver.
func (r *Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.hosts[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

var _ webhooks.Resolver = (*Resolver)(nil)

// Trust configures svc for deliveries to recv: private addresses allowed (the receiver is on
// 127.0.0.1) and its certificate trusted. clock may be nil.
func Trust(svc *webhooks.Service, recv *Receiver, clock *Clock) {
	svc.Configure(func(c *webhooks.Config) {
		c.AllowPrivate = true
		c.RootCAs = recv.RootCAs()
		if clock != nil {
			c.Now = clock.Now
		}
	})
}

// String describes a request for failure messages.
func (r Request) String() string {
	return fmt.Sprintf("%s %s %s", r.Method, r.Path, r.Body)
}
