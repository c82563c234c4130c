// Package webhooks delivers signed event notifications to the HTTPS endpoints firms register.
//
// Domains describe each fact as an Event and call EnqueueTx inside the transaction of the
// change. EnqueueTx applies the recipient and masking rules (Recipients), writes one delivery
// row per recipient subscription (the outbox) with the exact body to send, and enqueues a job
// per delivery on the job queue in the same transaction: a change that rolls back sends
// nothing, one that commits is delivered at least once.
//
// The delivery worker makes one attempt per job: it re-resolves the host and refuses private
// addresses (see guard.go), signs the stored body with the subscription's current secret
// (pkg/webhookverify), POSTs it without following redirects, and records the outcome. A failed
// attempt schedules the next one as a new job (waits of 30 s, 2 min, 10 min and 30 min; 5
// attempts in all); a delivery that runs out of attempts is EXHAUSTED, and 10 of those in a row
// switch the subscription off (the circuit breaker).
//
// Echo mode sends a subscription's deliveries to an endpoint of this server instead, which keeps
// the last captures for the firm to inspect while it builds its receiver.
package webhooks

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// Limits and schedules of the contract.
const (
	// MaxActiveSubscriptions is how many active subscriptions a firm may have.
	MaxActiveSubscriptions = 5
	// MaxAttempts is how many times a delivery is tried.
	MaxAttempts = 5
	// BreakerThreshold is how many deliveries in a row may run out of attempts before the
	// subscription is switched off.
	BreakerThreshold = 10
	// RecordRetention is how long delivery records are kept; PayloadRetention how long their
	// bodies are.
	RecordRetention  = 180 * 24 * time.Hour
	PayloadRetention = 30 * 24 * time.Hour
	// EchoCaptureTTL and EchoCaptureLimit bound what the echo endpoint keeps per subscription;
	// EchoMaxBody is the largest body it accepts.
	EchoCaptureTTL   = time.Hour
	EchoCaptureLimit = 50
	EchoMaxBody      = 16 << 10
	// SignatureTolerance is how far from the server's clock the echo endpoint accepts a signature.
	SignatureTolerance = 5 * time.Minute
)

// RetryWaits are the waits after failed attempts 1 to 4.
var RetryWaits = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute}

// Config tunes the service. The zero value is the production setting.
type Config struct {
	// AllowPrivate lets subscriptions use private, loopback and other non-public addresses, any
	// port, and plain http. UNSAFE: it lets API keys make this server send requests into its
	// own network. Only for local development and tests.
	AllowPrivate bool
	// Resolver looks hosts up (nil: the system resolver).
	Resolver Resolver
	// RootCAs are the certificate authorities trusted for receivers (nil: the system's).
	RootCAs *x509.CertPool
	// Now is the clock (nil: time.Now). Retries are scheduled and signatures dated with it.
	Now func() time.Time
	// IdleTimeout ends an attempt that receives nothing for that long (default 10 s);
	// TotalTimeout ends any attempt (default 30 s).
	IdleTimeout  time.Duration
	TotalTimeout time.Duration
	// BaseURL returns the public base URL of this server, for echo URLs (nil: relative URLs).
	BaseURL func() string
}

// Queue enqueues jobs inside a transaction; *jobs.Client implements it.
type Queue interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error
}

// Service manages subscriptions, enqueues events and works deliveries.
type Service struct {
	pool *pgxpool.Pool

	mu     sync.RWMutex
	cfg    Config
	queue  Queue
	client *http.Client
}

// New returns a Service. Before events can be enqueued it needs the job queue (UseQueue), whose
// workers it provides (Workers).
func New(pool *pgxpool.Pool, cfg Config) *Service {
	s := &Service{pool: pool}
	s.setConfig(cfg)
	return s
}

// UseQueue sets the job queue deliveries are enqueued on.
func (s *Service) UseQueue(q Queue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = q
}

// Configure changes the configuration (tests: the clock, trusted CAs, the resolver).
func (s *Service) Configure(fn func(*Config)) {
	s.mu.RLock()
	cfg := s.cfg
	s.mu.RUnlock()
	fn(&cfg)
	s.setConfig(cfg)
}

func (s *Service) setConfig(cfg Config) {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Second
	}
	if cfg.TotalTimeout <= 0 {
		cfg.TotalTimeout = 30 * time.Second
	}
	client := newHTTPClient(cfg)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg, s.client = cfg, client
}

func (s *Service) config() (Config, *http.Client, Queue) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg, s.client, s.queue
}

func (s *Service) now() time.Time {
	cfg, _, _ := s.config()
	if cfg.Now != nil {
		return cfg.Now()
	}
	return time.Now()
}

func (s *Service) guard() guard {
	cfg, _, _ := s.config()
	return guard{resolver: cfg.Resolver, allowPrivate: cfg.AllowPrivate}
}

func (s *Service) getQueue() (Queue, error) {
	_, _, q := s.config()
	if q == nil {
		return nil, fmt.Errorf("webhooks: no job queue (UseQueue was not called)")
	}
	return q, nil
}

// newHTTPClient builds the delivery client: every connection goes through the guard, nothing is
// proxied, redirects are returned rather than followed.
func newHTTPClient(cfg Config) *http.Client {
	g := guard{resolver: cfg.Resolver, allowPrivate: cfg.AllowPrivate}
	dialer := &net.Dialer{Timeout: cfg.IdleTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           g.dialContext(dialer),
		TLSClientConfig:       &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   cfg.IdleTimeout,
		ResponseHeaderTimeout: cfg.IdleTimeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		// Every attempt dials anew, so the host is resolved and checked before each one.
		DisableKeepAlives: true,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// newSecret returns a signing secret: "whsec_" and 64 hex digits.
func newSecret() string { return "whsec_" + randomHex(32) }

// newEchoToken returns an echo token, the secret part of an echo URL.
func newEchoToken() string { return "echo_" + randomHex(32) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
