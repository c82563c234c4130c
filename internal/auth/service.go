package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
)

// Defaults of Config.
const (
	DefaultRefreshTTL       = 7 * 24 * time.Hour
	DefaultEmailFailures    = 5
	DefaultIPFailures       = 20
	DefaultThrottleWindow   = 15 * time.Minute
	DefaultUsageFlushPeriod = 10 * time.Second
	DefaultMaxActiveKeys    = 25
)

// Config configures a Service. Only JWTSecret is required.
type Config struct {
	JWTSecret  []byte        // HS256 key, at least MinJWTSecretLength bytes
	AccessTTL  time.Duration // default DefaultAccessTTL
	RefreshTTL time.Duration // default DefaultRefreshTTL

	// Password hashing cost; the zero value means DefaultPasswordParams.
	Password PasswordParams

	// Login throttling: more than EmailFailures failed attempts for one e-mail, or IPFailures
	// from one client address, within ThrottleWindow block further attempts until the oldest
	// failure leaves the window.
	EmailFailures  int
	IPFailures     int
	ThrottleWindow time.Duration

	// MaxActiveKeys caps the active (not revoked, not expired) Public API keys of one firm;
	// zero means DefaultMaxActiveKeys.
	MaxActiveKeys int

	// Now is the clock of token issuing and verification; nil means time.Now.
	Now func() time.Time

	// API key cache (keycache.go): at most KeyCacheSize keys (default DefaultKeyCacheSize;
	// negative disables the cache), none kept longer than KeyCacheTTL (DefaultKeyCacheTTL);
	// a key change waits up to KeyAckTimeout (DefaultKeyAckTimeout) for every process to
	// apply it.
	KeyCacheSize  int
	KeyCacheTTL   time.Duration
	KeyAckTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.AccessTTL <= 0 {
		c.AccessTTL = DefaultAccessTTL
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = DefaultRefreshTTL
	}
	if c.EmailFailures <= 0 {
		c.EmailFailures = DefaultEmailFailures
	}
	if c.IPFailures <= 0 {
		c.IPFailures = DefaultIPFailures
	}
	if c.ThrottleWindow <= 0 {
		c.ThrottleWindow = DefaultThrottleWindow
	}
	if c.MaxActiveKeys <= 0 {
		c.MaxActiveKeys = DefaultMaxActiveKeys
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.KeyCacheSize == 0 {
		c.KeyCacheSize = DefaultKeyCacheSize
	}
	if c.KeyCacheTTL <= 0 {
		c.KeyCacheTTL = DefaultKeyCacheTTL
	}
	if c.KeyAckTimeout <= 0 {
		c.KeyAckTimeout = DefaultKeyAckTimeout
	}
}

// Service is the auth domain: logins, sessions, access tokens and Public API keys.
type Service struct {
	pool    *pgxpool.Pool
	q       *db.Queries // non-transactional statements on the pool
	cfg     Config
	hasher  *Hasher
	signer  *TokenSigner
	usage   *usageRecorder
	keys    *keyCache
	onError func(error) // reports background failures (usage flushes); may be nil

	dialListener func(context.Context, *pgx.ConnConfig) (*pgx.Conn, error) // nil: pgx.ConnectConfig
}

// Option customizes a Service.
type Option func(*Service)

// WithErrorHandler sets the function told about failures that have no caller to return to,
// such as a failed flush of key usage counters. By default they are dropped.
func WithErrorHandler(fn func(error)) Option { return func(s *Service) { s.onError = fn } }

// New returns a Service on pool. It fails when the configuration is unusable (short secret).
func New(pool *pgxpool.Pool, cfg Config, opts ...Option) (*Service, error) {
	cfg.setDefaults()
	signer, err := NewTokenSigner(cfg.JWTSecret, cfg.AccessTTL, cfg.Now)
	if err != nil {
		return nil, err
	}
	s := &Service{
		pool:   pool,
		q:      db.New(pool),
		cfg:    cfg,
		hasher: NewHasher(cfg.Password),
		signer: signer,
		usage:  newUsageRecorder(),
		keys:   newKeyCache(cfg.KeyCacheSize, cfg.KeyCacheTTL, cfg.Now),
	}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Hasher returns the password hasher, for seeds and the CLI that create users.
func (s *Service) Hasher() *Hasher { return s.hasher }

// Signer returns the access-token signer.
func (s *Service) Signer() *TokenSigner { return s.signer }

// Cleanup deletes sessions that expired before olderThan ago and login attempts older than
// the throttle window (or olderThan, if longer). It is meant for a periodic maintenance job.
func (s *Service) Cleanup(ctx context.Context, olderThan time.Duration) error {
	now := time.Now()
	if _, err := s.q.SessionDeleteExpired(ctx, now.Add(-olderThan)); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	keep := max(olderThan, s.cfg.ThrottleWindow)
	if _, err := s.q.LoginAttemptDeleteBefore(ctx, now.Add(-keep)); err != nil {
		return fmt.Errorf("delete old login attempts: %w", err)
	}
	return nil
}

func (s *Service) report(err error) {
	if s.onError != nil && err != nil && !errors.Is(err, context.Canceled) {
		s.onError(err)
	}
}
