// Package config reads the server's configuration from environment variables, once, for the
// whole process: cmd/casexchange calls Load and passes the typed Config down, so no other
// package reads the environment. Every setting is listed in Settings (name, default, meaning,
// whether it is a secret), which docs/configuration.md is generated from.
//
// Load has no side effects: it creates no directory and no file, so `casexchange --help` and
// the operator tools stay harmless. Secrets that were not configured are filled in by
// ResolveSecrets.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/storage"
)

// Defaults of the Internal API budgets per window.
const (
	DefaultRateSession = 600
	DefaultRateIP      = 3000
)

// MinSecretLength is the shortest accepted CX_JWT_SECRET and CX_DOWNLOAD_LINK_SECRET, in
// characters (32 random bytes written as 64 hex characters is a good value).
const MinSecretLength = 32

// Client address headers accepted by CX_CLIENT_IP_HEADER.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
)

// DefaultGCPercent is serve's garbage-collection target when GOGC is unset. The server's live
// heap is small (tens of MB) and its allocation rate high (a page allocates its rows and its
// JSON), so Go's default of 100 spent about 8% of the CPU of a list page in collections; 200
// measured 15-24% more list requests/s at concurrency 64, for a larger heap between collections.
const DefaultGCPercent = 200

// DefaultFeeNetDays is the default payment term of fee ledger entries, in days.
const DefaultFeeNetDays = 30

// Config is the whole runtime configuration.
type Config struct {
	HTTPAddr        string        // CX_HTTP_ADDR
	PublicBaseURL   string        // CX_PUBLIC_BASE_URL: absolute URL clients reach us at (signed links)
	DatabaseURL     string        // DATABASE_URL: empty starts a private cluster under DataDir
	DataDir         string        // CX_DATA_DIR
	JWTSecret       []byte        // CX_JWT_SECRET (see ResolveSecrets when unset)
	AccessTokenTTL  time.Duration // CX_ACCESS_TOKEN_TTL
	RefreshTokenTTL time.Duration // CX_REFRESH_TOKEN_TTL
	SecureCookies   bool          // CX_SECURE_COOKIES
	RateWindow      time.Duration // CX_RATE_LIMIT_WINDOW
	RateReadOnly    int           // CX_RATE_LIMIT_READ_ONLY
	RateStandard    int           // CX_RATE_LIMIT_STANDARD
	RateFull        int           // CX_RATE_LIMIT_FULL
	RateStore       string        // CX_RATE_LIMIT_STORE: memory | postgres
	LogLevel        slog.Level    // CX_LOG_LEVEL
	// Seed loads the demo data on serve: by default only into the private cluster (DATABASE_URL
	// unset), never into a database someone else runs unless CX_SEED=true says so.
	Seed            bool          // CX_SEED
	ShutdownTimeout time.Duration // CX_SHUTDOWN_TIMEOUT
	// DrainDelay is how long serve keeps answering, with /readyz at 503, after SIGTERM and
	// before it closes the listener, so that a load balancer stops sending first.
	DrainDelay time.Duration // CX_DRAIN_DELAY

	// RateFirm is the Public API budget per window of a whole firm, across all its keys, so
	// that creating more keys does not multiply the rate limit.
	RateFirm int // CX_RATE_LIMIT_FIRM (default 2 x RateFull)
	// RateSession and RateIP are the Internal API budgets per window of one session and of
	// one client address (anonymous requests such as login included).
	RateSession   int // CX_RATE_LIMIT_SESSION
	RateIP        int // CX_RATE_LIMIT_IP
	MaxActiveKeys int // CX_MAX_API_KEYS_PER_FIRM: active (not revoked, not expired) keys per firm

	// Connection deadlines. BodyReadTimeout bounds reading a request body (UploadReadTimeout
	// for document uploads and imports); WriteTimeout bounds handling a request and writing an
	// ordinary response; a streamed export or download may take longer as long as each write
	// makes progress within StreamWriteTimeout.
	BodyReadTimeout    time.Duration // CX_BODY_READ_TIMEOUT
	UploadReadTimeout  time.Duration // CX_UPLOAD_READ_TIMEOUT
	WriteTimeout       time.Duration // CX_WRITE_TIMEOUT
	StreamWriteTimeout time.Duration // CX_STREAM_WRITE_TIMEOUT

	// MetricsAddr is the listen address of the Prometheus /metrics endpoint; empty serves no
	// metrics. It is never the API listener.
	MetricsAddr string // CX_METRICS_ADDR
	// MetricsPprof adds Go's profiling endpoints (/debug/pprof/) to the metrics listener.
	MetricsPprof bool // CX_METRICS_PPROF
	// TrustedProxies are the peers whose client address headers are believed; the client IP
	// (login throttle, IP rate limits, logs) is the rightmost address not in them.
	TrustedProxies []netip.Prefix // CX_TRUSTED_PROXIES
	// ClientIPHeader is the header those proxies write: X-Forwarded-For or Forwarded.
	ClientIPHeader string // CX_CLIENT_IP_HEADER

	Mail                 notify.Config  // CX_SMTP_*
	Storage              storage.Config // CX_STORAGE, CX_S3_*, CX_DOWNLOAD_LINK_SECRET
	WebhooksAllowPrivate bool           // CX_WEBHOOKS_ALLOW_PRIVATE

	// Account links. AppURL is the firm-facing application, if one is deployed:
	// invitation and password reset e-mails link to its /accept-invitation and
	// /reset-password pages instead of the pages this server serves. InvitationTTL is how long
	// an invitation link works.
	AppURL        string        // CX_APP_URL
	InvitationTTL time.Duration // CX_INVITATION_TTL
	// ResetRequestsPerIP, when positive, replaces the budget of password reset requests per
	// client address and hour (users.ResetPerIP). Tests set it; no environment variable does.
	ResetRequestsPerIP int
	// FeeNetDays is the payment term of a fee ledger entry: the entry of a referral closed
	// won is due this many days after the closing date.
	FeeNetDays int // CX_FEE_NET_DAYS
	// GCPercent is the garbage-collection target serve sets (DefaultGCPercent), or 0 when GOGC
	// is set and the Go runtime has already applied it.
	GCPercent int

	// JobRetryDelay, when positive, retries failed background jobs after this fixed delay
	// instead of River's exponential backoff. Tests set it (with JobPollInterval) so that
	// a retry happens within the test; no environment variable sets it.
	JobRetryDelay time.Duration
	// JobPollInterval, when positive, replaces the job queue's 1 s poll for due jobs.
	JobPollInterval time.Duration
}

// Lookup reads one variable, like os.LookupEnv.
type Lookup func(name string) (string, bool)

// Load reads the process environment; see LoadFrom.
func Load() (Config, error) { return LoadFrom(os.LookupEnv) }

// LoadFrom reads the configuration through lookup. An empty value counts as unset. It returns
// every malformed value at once, each error naming its variable. It touches no file.
func LoadFrom(lookup Lookup) (Config, error) {
	r := reader{lookup: lookup}
	c := Config{
		HTTPAddr:      r.str("CX_HTTP_ADDR"),
		DatabaseURL:   r.str("DATABASE_URL"),
		DataDir:       r.str("CX_DATA_DIR"),
		RateStore:     r.str("CX_RATE_LIMIT_STORE"),
		PublicBaseURL: strings.TrimRight(r.str("CX_PUBLIC_BASE_URL"), "/"),
		MetricsAddr:   r.str("CX_METRICS_ADDR"),
		AppURL:        strings.TrimRight(r.str("CX_APP_URL"), "/"),
	}
	c.AccessTokenTTL = r.duration("CX_ACCESS_TOKEN_TTL")
	c.RefreshTokenTTL = r.duration("CX_REFRESH_TOKEN_TTL")
	c.RateWindow = r.duration("CX_RATE_LIMIT_WINDOW")
	c.ShutdownTimeout = r.duration("CX_SHUTDOWN_TIMEOUT")
	c.DrainDelay = r.duration("CX_DRAIN_DELAY")
	c.RateReadOnly = r.integer("CX_RATE_LIMIT_READ_ONLY")
	c.RateStandard = r.integer("CX_RATE_LIMIT_STANDARD")
	c.RateFull = r.integer("CX_RATE_LIMIT_FULL")
	c.RateFirm = r.integerOr("CX_RATE_LIMIT_FIRM", 2*c.RateFull)
	c.RateSession = r.integer("CX_RATE_LIMIT_SESSION")
	c.RateIP = r.integer("CX_RATE_LIMIT_IP")
	c.MaxActiveKeys = r.integer("CX_MAX_API_KEYS_PER_FIRM")
	c.BodyReadTimeout = r.duration("CX_BODY_READ_TIMEOUT")
	c.UploadReadTimeout = r.duration("CX_UPLOAD_READ_TIMEOUT")
	c.WriteTimeout = r.duration("CX_WRITE_TIMEOUT")
	c.StreamWriteTimeout = r.duration("CX_STREAM_WRITE_TIMEOUT")
	c.InvitationTTL = r.duration("CX_INVITATION_TTL")
	c.FeeNetDays = r.integer("CX_FEE_NET_DAYS")
	if _, set := r.value("GOGC"); !set {
		c.GCPercent = DefaultGCPercent
	}
	c.Seed = r.booleanOr("CX_SEED", c.DatabaseURL == "")
	c.SecureCookies = r.boolean("CX_SECURE_COOKIES")
	c.MetricsPprof = r.boolean("CX_METRICS_PPROF")
	c.WebhooksAllowPrivate = r.boolean("CX_WEBHOOKS_ALLOW_PRIVATE")
	if err := c.LogLevel.UnmarshalText([]byte(r.str("CX_LOG_LEVEL"))); err != nil {
		r.fail("CX_LOG_LEVEL", "want debug, info, warn or error, got %q", r.str("CX_LOG_LEVEL"))
	}
	if c.RateStore != "memory" && c.RateStore != "postgres" {
		r.fail("CX_RATE_LIMIT_STORE", "want memory or postgres, got %q", c.RateStore)
	}
	if c.PublicBaseURL == "" {
		c.PublicBaseURL = "http://" + c.HTTPAddr
	}
	c.TrustedProxies = r.prefixes("CX_TRUSTED_PROXIES")
	switch h := r.str("CX_CLIENT_IP_HEADER"); {
	case strings.EqualFold(h, HeaderXForwardedFor):
		c.ClientIPHeader = HeaderXForwardedFor
	case strings.EqualFold(h, HeaderForwarded):
		c.ClientIPHeader = HeaderForwarded
	default:
		r.fail("CX_CLIENT_IP_HEADER", "want %s or %s, got %q", HeaderXForwardedFor, HeaderForwarded, h)
	}
	if c.AppURL != "" && !strings.HasPrefix(c.AppURL, "https://") && !strings.HasPrefix(c.AppURL, "http://") {
		r.fail("CX_APP_URL", "want an absolute http(s) URL, got %q", c.AppURL)
	}
	if c.JWTSecret = []byte(r.str("CX_JWT_SECRET")); len(c.JWTSecret) == 0 {
		c.JWTSecret = nil
	} else if len(c.JWTSecret) < MinSecretLength {
		r.fail("CX_JWT_SECRET", "must be at least %d characters", MinSecretLength)
	}

	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	c.Mail = r.mail(c.DataDir)
	c.Storage = r.storage(c.DataDir)
	if len(r.errs) > 0 {
		return c, errors.Join(r.errs...)
	}
	return c, nil
}

func (r *reader) mail(dataDir string) notify.Config {
	m := notify.Config{
		SMTPAddr: strings.TrimSpace(r.str("CX_SMTP_ADDR")),
		Username: r.str("CX_SMTP_USERNAME"),
		Password: r.str("CX_SMTP_PASSWORD"),
		From:     strings.TrimSpace(r.str("CX_SMTP_FROM")),
		StartTLS: r.boolean("CX_SMTP_STARTTLS"),
		MailDir:  filepath.Join(dataDir, "mail"),
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		r.fail("CX_SMTP_FROM", "%q is not an e-mail address: %v", m.From, err)
	}
	if m.SMTPAddr == "" {
		return m
	}
	host, _, err := net.SplitHostPort(m.SMTPAddr)
	if err != nil {
		r.fail("CX_SMTP_ADDR", "want host:port, got %q", m.SMTPAddr)
		return m
	}
	// Credentials never cross the network in clear text; a relay on this machine is fine.
	if m.Username != "" && !m.StartTLS && !notify.IsLoopback(host) {
		r.errs = append(r.errs, errors.New("CX_SMTP_USERNAME is set but CX_SMTP_STARTTLS is not true: the password would be sent unencrypted"))
	}
	return m
}

func (r *reader) storage(dataDir string) storage.Config {
	s := storage.Config{
		Backend:    strings.ToLower(strings.TrimSpace(r.str("CX_STORAGE"))),
		LocalDir:   filepath.Join(dataDir, "objects"),
		LinkSecret: []byte(r.str("CX_DOWNLOAD_LINK_SECRET")),
		S3: storage.S3Config{
			Endpoint:  r.str("CX_S3_ENDPOINT"),
			Bucket:    r.str("CX_S3_BUCKET"),
			AccessKey: r.str("CX_S3_ACCESS_KEY"),
			SecretKey: r.str("CX_S3_SECRET_KEY"),
			Region:    r.str("CX_S3_REGION"),
			PathStyle: r.boolean("CX_S3_USE_PATH_STYLE"),
			Insecure:  r.boolean("CX_S3_INSECURE"),
		},
	}
	if _, set := r.value("CX_STORAGE"); !set && s.S3.Bucket != "" {
		s.Backend = storage.BackendS3
	}
	switch s.Backend {
	case storage.BackendLocal:
	case storage.BackendS3:
		if s.S3.Bucket == "" {
			r.fail("CX_S3_BUCKET", "required when CX_STORAGE is s3")
		}
		if s.S3.AccessKey == "" || s.S3.SecretKey == "" {
			r.errs = append(r.errs, errors.New("CX_S3_ACCESS_KEY and CX_S3_SECRET_KEY: required when CX_STORAGE is s3"))
		}
		if e := s.S3.Endpoint; strings.Contains(e, "://") && !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
			r.fail("CX_S3_ENDPOINT", "want host[:port] or an http(s) URL, got %q", e)
		}
	default:
		r.fail("CX_STORAGE", "want local or s3, got %q", s.Backend)
	}
	if len(s.LinkSecret) == 0 {
		s.LinkSecret = nil
	} else if len(s.LinkSecret) < MinSecretLength {
		r.fail("CX_DOWNLOAD_LINK_SECRET", "must be at least %d characters", MinSecretLength)
	}
	return s
}

// MissingSecrets names the secret variables that must be set, and are not, for this
// configuration: CX_JWT_SECRET always, CX_DOWNLOAD_LINK_SECRET when documents are kept on
// local disk (the S3 backend signs its links with the S3 credentials).
func (c Config) MissingSecrets() []string {
	var missing []string
	if len(c.JWTSecret) == 0 {
		missing = append(missing, "CX_JWT_SECRET")
	}
	if c.Storage.Backend == storage.BackendLocal && len(c.Storage.LinkSecret) == 0 {
		missing = append(missing, "CX_DOWNLOAD_LINK_SECRET")
	}
	return missing
}

// ResolveSecrets fills in the secrets that were not configured (MissingSecrets).
//   - With the private cluster (DATABASE_URL unset) each is generated once and kept in a file
//     of DataDir (jwt-secret, download-secret), which it creates, so that `make run` works on
//     a fresh machine and sessions survive a restart.
//   - With DATABASE_URL set and serving true, it returns an error naming the missing
//     variables: replicas of one database must share their secrets, and a server that made up
//     its own would log users out on every restart and refuse the links of its peers.
//   - With DATABASE_URL set and serving false (the operator commands, which issue no token and
//     sign no link) they get random values kept in memory only.
func (c *Config) ResolveSecrets(serving bool) error {
	missing := c.MissingSecrets()
	if len(missing) == 0 {
		return nil
	}
	if c.DatabaseURL != "" && serving {
		return fmt.Errorf("DATABASE_URL is set, so the secrets must be configured: set %s (at least %d characters each, the same on every replica)",
			strings.Join(missing, " and "), MinSecretLength)
	}
	fill := func(name string) ([]byte, error) {
		if c.DatabaseURL != "" {
			return randomSecret()
		}
		if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		return PersistentSecret(filepath.Join(c.DataDir, name))
	}
	var err error
	if len(c.JWTSecret) == 0 {
		if c.JWTSecret, err = fill("jwt-secret"); err != nil {
			return err
		}
	}
	if c.Storage.Backend == storage.BackendLocal && len(c.Storage.LinkSecret) == 0 {
		if c.Storage.LinkSecret, err = fill("download-secret"); err != nil {
			return err
		}
	}
	return nil
}

// PersistentSecret reads a secret file, creating it with 32 random bytes (hex) on first use.
func PersistentSecret(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= MinSecretLength {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	s, err := randomSecret()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(s, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}

func randomSecret() ([]byte, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	return []byte(hex.EncodeToString(raw[:])), nil
}

// reader reads variables through lookup, falling back to the defaults of Settings, and
// collects the errors.
type reader struct {
	lookup Lookup
	errs   []error
}

func (r *reader) value(k string) (string, bool) {
	if _, ok := settingByName[k]; !ok {
		panic("config: " + k + " is not in Settings")
	}
	if v, ok := r.lookup(k); ok && v != "" {
		return v, true
	}
	return "", false
}

func (r *reader) fail(k, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", k, fmt.Sprintf(format, args...)))
}

// str returns the value of k, or its default.
func (r *reader) str(k string) string {
	if v, ok := r.value(k); ok {
		return v
	}
	return settingByName[k].Default
}

func (r *reader) duration(k string) time.Duration {
	v := r.str(k)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || (d == 0 && settingByName[k].Default != "0s") {
		r.fail(k, "want a positive duration such as 15m, got %q", v)
		d, _ = time.ParseDuration(settingByName[k].Default)
	}
	return d
}

func (r *reader) integer(k string) int {
	n, _ := strconv.Atoi(settingByName[k].Default)
	return r.integerOr(k, n)
}

func (r *reader) integerOr(k string, def int) int {
	v, ok := r.value(k)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		r.fail(k, "want a positive integer, got %q", v)
		return def
	}
	return n
}

func (r *reader) boolean(k string) bool {
	def, _ := strconv.ParseBool(settingByName[k].Default)
	return r.booleanOr(k, def)
}

func (r *reader) booleanOr(k string, def bool) bool {
	v, ok := r.value(k)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "yes":
			return true
		case "no":
			return false
		}
		r.fail(k, "want true or false, got %q", v)
		return def
	}
	return b
}

// prefixes reads a comma-separated list of CIDRs; a bare address stands for itself alone.
func (r *reader) prefixes(k string) []netip.Prefix {
	v, ok := r.value(k)
	if !ok {
		return nil
	}
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		r.fail(k, "want comma-separated CIDRs such as 10.0.0.0/8,192.168.1.5, got %q", s)
	}
	return out
}
