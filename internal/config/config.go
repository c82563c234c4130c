// Package config reads the server's configuration from environment variables. Every setting has
// a safe default so `make run` works on a fresh machine; the README lists them all.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults of the Internal API budgets per window.
const (
	DefaultRateSession = 600
	DefaultRateIP      = 3000
)

// DefaultFeeNetDays is the default payment term of fee ledger entries, in days.
const DefaultFeeNetDays = 30

// Config is the whole runtime configuration.
type Config struct {
	HTTPAddr        string        // CX_HTTP_ADDR
	PublicBaseURL   string        // CX_PUBLIC_BASE_URL: absolute URL clients reach us at (signed links)
	DatabaseURL     string        // DATABASE_URL: empty starts a private cluster under DataDir
	DataDir         string        // CX_DATA_DIR
	JWTSecret       []byte        // CX_JWT_SECRET, else generated once and kept in DataDir/jwt-secret
	AccessTokenTTL  time.Duration // CX_ACCESS_TOKEN_TTL
	RefreshTokenTTL time.Duration // CX_REFRESH_TOKEN_TTL
	SecureCookies   bool          // CX_SECURE_COOKIES
	RateWindow      time.Duration // CX_RATE_LIMIT_WINDOW
	RateReadOnly    int           // CX_RATE_LIMIT_READ_ONLY
	RateStandard    int           // CX_RATE_LIMIT_STANDARD
	RateFull        int           // CX_RATE_LIMIT_FULL
	RateStore       string        // CX_RATE_LIMIT_STORE: memory | postgres
	LogLevel        slog.Level    // CX_LOG_LEVEL
	Seed            bool          // CX_SEED
	ShutdownTimeout time.Duration // CX_SHUTDOWN_TIMEOUT

	// RateFirm is the Public API budget per window of a whole firm, across all its keys
	// (issue 15, finding 10), so that creating more keys does not multiply the rate limit.
	RateFirm int // CX_RATE_LIMIT_FIRM (default 2 x RateFull)
	// RateSession and RateIP are the Internal API budgets per window of one session and of
	// one client address (anonymous requests such as login included).
	RateSession   int // CX_RATE_LIMIT_SESSION
	RateIP        int // CX_RATE_LIMIT_IP
	MaxActiveKeys int // CX_MAX_API_KEYS_PER_FIRM: active (not revoked, not expired) keys per firm

	// Connection deadlines (issue 15, finding 5). BodyReadTimeout bounds reading a request
	// body (UploadReadTimeout for document uploads and imports); WriteTimeout bounds handling
	// a request and writing an ordinary response; a streamed export or download may take
	// longer as long as each write makes progress within StreamWriteTimeout.
	BodyReadTimeout    time.Duration // CX_BODY_READ_TIMEOUT
	UploadReadTimeout  time.Duration // CX_UPLOAD_READ_TIMEOUT
	WriteTimeout       time.Duration // CX_WRITE_TIMEOUT
	StreamWriteTimeout time.Duration // CX_STREAM_WRITE_TIMEOUT

	// FeeNetDays is the payment term of a fee ledger entry (issue 19): the entry of a referral
	// closed won is due this many days after the closing date.
	FeeNetDays int // CX_FEE_NET_DAYS

	// JobRetryDelay, when positive, retries failed background jobs after this fixed delay
	// instead of River's exponential backoff. Tests set it (with JobPollInterval) so that
	// a retry happens within the test; no environment variable sets it.
	JobRetryDelay time.Duration
	// JobPollInterval, when positive, replaces the job queue's 1 s poll for due jobs.
	JobPollInterval time.Duration
}

// Load reads the environment. It creates DataDir and, when no JWT secret is given, a persistent
// random one inside it.
func Load() (Config, error) {
	c := Config{
		HTTPAddr:      env("CX_HTTP_ADDR", "127.0.0.1:8080"),
		DatabaseURL:   os.Getenv("DATABASE_URL"),
		DataDir:       env("CX_DATA_DIR", ".data"),
		RateStore:     env("CX_RATE_LIMIT_STORE", "memory"),
		PublicBaseURL: strings.TrimRight(os.Getenv("CX_PUBLIC_BASE_URL"), "/"),
	}
	var errs []error
	c.AccessTokenTTL = duration("CX_ACCESS_TOKEN_TTL", 15*time.Minute, &errs)
	c.RefreshTokenTTL = duration("CX_REFRESH_TOKEN_TTL", 7*24*time.Hour, &errs)
	c.RateWindow = duration("CX_RATE_LIMIT_WINDOW", time.Minute, &errs)
	c.ShutdownTimeout = duration("CX_SHUTDOWN_TIMEOUT", 20*time.Second, &errs)
	c.RateReadOnly = integer("CX_RATE_LIMIT_READ_ONLY", 300, &errs)
	c.RateStandard = integer("CX_RATE_LIMIT_STANDARD", 600, &errs)
	c.RateFull = integer("CX_RATE_LIMIT_FULL", 1200, &errs)
	c.RateFirm = integer("CX_RATE_LIMIT_FIRM", 2*c.RateFull, &errs)
	c.RateSession = integer("CX_RATE_LIMIT_SESSION", DefaultRateSession, &errs)
	c.RateIP = integer("CX_RATE_LIMIT_IP", DefaultRateIP, &errs)
	c.MaxActiveKeys = integer("CX_MAX_API_KEYS_PER_FIRM", 25, &errs)
	c.BodyReadTimeout = duration("CX_BODY_READ_TIMEOUT", 30*time.Second, &errs)
	c.UploadReadTimeout = duration("CX_UPLOAD_READ_TIMEOUT", 10*time.Minute, &errs)
	c.WriteTimeout = duration("CX_WRITE_TIMEOUT", time.Minute, &errs)
	c.StreamWriteTimeout = duration("CX_STREAM_WRITE_TIMEOUT", 30*time.Second, &errs)
	c.FeeNetDays = integer("CX_FEE_NET_DAYS", DefaultFeeNetDays, &errs)
	c.Seed = boolean("CX_SEED", true, &errs)
	c.SecureCookies = boolean("CX_SECURE_COOKIES", false, &errs)
	if err := c.LogLevel.UnmarshalText([]byte(env("CX_LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("CX_LOG_LEVEL: %w", err))
	}
	if c.RateStore != "memory" && c.RateStore != "postgres" {
		errs = append(errs, fmt.Errorf("CX_RATE_LIMIT_STORE: want memory or postgres, got %q", c.RateStore))
	}
	if c.PublicBaseURL == "" {
		c.PublicBaseURL = "http://" + c.HTTPAddr
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return c, err
	}
	c.DataDir = abs
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return c, fmt.Errorf("create data dir: %w", err)
	}
	if s := os.Getenv("CX_JWT_SECRET"); s != "" {
		if len(s) < 32 {
			return c, errors.New("CX_JWT_SECRET: must be at least 32 characters")
		}
		c.JWTSecret = []byte(s)
	} else if c.JWTSecret, err = persistentSecret(filepath.Join(c.DataDir, "jwt-secret")); err != nil {
		return c, err
	}
	return c, nil
}

// persistentSecret reads a secret file, creating it with 32 random bytes (hex) on first use.
func persistentSecret(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	s := hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return []byte(s), nil
}

func env(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}

func duration(k string, def time.Duration, errs *[]error) time.Duration {
	v := os.Getenv(k)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		*errs = append(*errs, fmt.Errorf("%s: want a positive duration such as 15m, got %q", k, v))
		return def
	}
	return d
}

func integer(k string, def int, errs *[]error) int {
	v := os.Getenv(k)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		*errs = append(*errs, fmt.Errorf("%s: want a positive integer, got %q", k, v))
		return def
	}
	return n
}

func boolean(k string, def bool, errs *[]error) bool {
	v := os.Getenv(k)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: want true or false, got %q", k, v))
		return def
	}
	return b
}
