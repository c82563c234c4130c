package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
)

// APIKey is a stored Public API key; the plaintext is never kept.
type APIKey struct {
	ID           uuid.UUID
	FirmID       uuid.UUID
	Name         string
	Tier         Tier
	Prefix       string // first KeyDisplayPrefixLength characters of the key
	CreatedBy    *uuid.UUID
	CreatedAt    time.Time
	ExpiresAt    *time.Time
	LastUsedAt   *time.Time
	RevokedAt    *time.Time
	RequestCount int64
	// Creator is the user who created the key, filled by ListKeys and CreateKey; nil for keys
	// made from the command line or whose creator no longer exists.
	Creator *KeyCreator
}

// KeyCreator is the user who created a key, as key listings show them.
type KeyCreator struct {
	ID        uuid.UUID
	FirstName string
	LastName  string
	Email     string
}

// Revoked reports whether the key was revoked.
func (k APIKey) Revoked() bool { return k.RevokedAt != nil }

// CreatedKey is a new key together with its plaintext, which is shown exactly once.
type CreatedKey struct {
	APIKey
	Key string
}

// KeyInput describes a key to create.
type KeyInput struct {
	Name      string
	Tier      Tier
	ExpiresAt *time.Time // optional
}

// KeyUsage is the request history of a key.
type KeyUsage struct {
	Key   APIKey
	Since time.Time  // first day covered (UTC midnight)
	Days  []DayCount // one entry per day from Since to today, zero days included
	Total int64      // requests over the whole life of the key
}

// DayCount is the number of requests on one UTC day.
type DayCount struct {
	Date  string // YYYY-MM-DD
	Count int64
}

// Key usage windows.
const (
	DefaultUsageDays = 30
	MaxUsageDays     = 90
)

const maxKeyNameLength = 100

// AuthenticateKey resolves a presented Public API key. The shape is checked first, so garbage
// never reaches the database; a well-formed key is looked up by its hash, which is safe to do
// with an ordinary index because keys are long random strings. Keys that authenticate are
// cached by hash while the key listener runs (keycache.go), so a repeated key costs no round
// trip; the checks below run on every use, cached or not. A successful use is counted (in
// memory, flushed by RunUsageFlusher).
//
// Errors: ErrUnauthenticated with CodeInvalidAPIKey for a missing, malformed, unknown,
// revoked or expired key, or one whose firm is deactivated.
func (s *Service) AuthenticateKey(ctx context.Context, key string) (KeyPrincipal, error) {
	tier, ok := ParseKeyTier(key)
	if !ok {
		return KeyPrincipal{}, invalidKey()
	}
	hash := HashKey(key)
	row, cached, gen, err := s.lookupKey(ctx, hash)
	if err != nil {
		if err = postgres.InterpretError(err); errors.Is(err, apperr.ErrNotFound) {
			return KeyPrincipal{}, invalidKey()
		}
		return KeyPrincipal{}, fmt.Errorf("look up api key: %w", err)
	}
	now := time.Now()
	switch {
	case row.RevokedAt != nil, row.ExpiresAt != nil && !row.ExpiresAt.After(now), !row.FirmIsActive:
		return KeyPrincipal{}, invalidKey()
	// The prefix names the tier, but the stored tier decides; a mismatch means a tampered row.
	case Tier(row.Tier) != tier,
		subtle.ConstantTimeCompare([]byte(row.KeyPrefix), []byte(DisplayPrefix(key))) != 1:
		return KeyPrincipal{}, invalidKey()
	}
	if !cached {
		s.keys.put(hash, row, gen)
	}
	s.usage.record(row.ID, now)
	return KeyPrincipal{KeyID: row.ID, FirmID: row.FirmID, Tier: tier, Prefix: row.KeyPrefix, Name: row.Name}, nil
}

func invalidKey() *apperr.Error {
	return apperr.Unauthenticated(CodeInvalidAPIKey, "The API key is missing, invalid or revoked")
}

// canManageKeys is the permission check of the key administration methods.
func canManageKeys(p UserPrincipal) error {
	if !p.Role.CanManageFirm() {
		return apperr.Permission("Only firm administrators can manage API keys")
	}
	return nil
}

// ListKeys returns the keys of the caller's firm, newest first; revoked keys only when
// includeRevoked. Errors: ErrPermission unless the caller administers the firm.
func (s *Service) ListKeys(ctx context.Context, p UserPrincipal, includeRevoked bool) ([]APIKey, error) {
	if err := canManageKeys(p); err != nil {
		return nil, err
	}
	rows, err := s.q.ApiKeyListByFirm(ctx, db.ApiKeyListByFirmParams{FirmID: p.FirmID, IncludeRevoked: includeRevoked})
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", postgres.InterpretError(err))
	}
	out := make([]APIKey, 0, len(rows))
	for _, r := range rows {
		out = append(out, keyFromRow(r))
	}
	if err := s.fillCreators(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// fillCreators sets the Creator of keys, looking each user up once.
func (s *Service) fillCreators(ctx context.Context, keys []APIKey) error {
	seen := map[uuid.UUID]*KeyCreator{}
	for i := range keys {
		id := keys[i].CreatedBy
		if id == nil {
			continue
		}
		c, ok := seen[*id]
		if !ok {
			row, err := s.q.UserGetByID(ctx, *id)
			switch err = postgres.InterpretError(err); {
			case errors.Is(err, apperr.ErrNotFound):
			case err != nil:
				return fmt.Errorf("key creator: %w", err)
			default:
				u := userFromRow(row)
				c = &KeyCreator{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email}
			}
			seen[*id] = c
		}
		keys[i].Creator = c
	}
	return nil
}

// CreateKey creates a key for the caller's firm and returns its plaintext, once. The key is the
// caller's responsibility: it is revoked when the caller is deactivated or stops being a
// FIRM_ADMIN (RevokeUserKeysTx).
// Errors: ErrPermission unless the caller administers the firm; ErrValidation for a blank or
// long name (field name), an unknown tier (field tier) or an expiry in the past (field expiresAt);
// ErrConflict (CodeAPIKeyLimitReached) when the firm already holds Config.MaxActiveKeys active keys.
func (s *Service) CreateKey(ctx context.Context, p UserPrincipal, in KeyInput) (CreatedKey, error) {
	if err := canManageKeys(p); err != nil {
		return CreatedKey{}, err
	}
	createdBy := p.UserID
	created, err := s.createKey(ctx, p.FirmID, &createdBy, in)
	if err != nil {
		return CreatedKey{}, err
	}
	keys := []APIKey{created.APIKey}
	if err := s.fillCreators(ctx, keys); err != nil {
		return CreatedKey{}, err
	}
	created.APIKey = keys[0]
	return created, nil
}

// CreateKeyForFirm creates a key without a user, for the command line and seeds.
// Errors: ErrValidation and ErrConflict as for CreateKey; ErrValidation too when the firm does
// not exist.
func (s *Service) CreateKeyForFirm(ctx context.Context, firmID uuid.UUID, in KeyInput) (CreatedKey, error) {
	return s.createKey(ctx, firmID, nil, in)
}

func (s *Service) createKey(ctx context.Context, firmID uuid.UUID, createdBy *uuid.UUID, in KeyInput) (CreatedKey, error) {
	return s.createKeyOfKind(ctx, firmID, createdBy, in, kindPublic, nil)
}

// Kinds of stored keys (api_keys.kind).
const (
	kindPublic     = "public"
	kindSalesforce = "salesforce"
)

func (s *Service) createKeyOfKind(ctx context.Context, firmID uuid.UUID, createdBy *uuid.UUID, in KeyInput, kind string, connection *uuid.UUID) (CreatedKey, error) {
	name := strings.TrimSpace(in.Name)
	var details []apperr.FieldError
	switch {
	case name == "":
		details = append(details, apperr.FieldError{Field: "name", Message: "is required"})
	case utf8.RuneCountInString(name) > maxKeyNameLength:
		details = append(details, apperr.FieldError{Field: "name", Message: fmt.Sprintf("must be at most %d characters", maxKeyNameLength)})
	}
	if !in.Tier.Valid() {
		details = append(details, apperr.FieldError{Field: "tier", Message: "must be one of READ_ONLY, STANDARD, FULL"})
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(time.Now()) {
		details = append(details, apperr.FieldError{Field: "expiresAt", Message: "must be in the future"})
	}
	if len(details) > 0 {
		return CreatedKey{}, apperr.Validation("", details...)
	}
	var plain string
	var err error
	if kind == kindSalesforce {
		plain, err = GenerateSalesforceToken()
	} else {
		plain, err = GenerateKey(in.Tier)
	}
	if err != nil {
		return CreatedKey{}, err
	}
	// The cap on active keys is checked under a lock on the firm row:
	// every key has its own rate limit, so unlimited keys would mean an unlimited budget.
	row, err := postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (db.ApiKey, error) {
		if _, err := q.ApiKeyLockFirm(ctx, firmID); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return db.ApiKey{}, apperr.Field("firmId", "no such firm")
			}
			return db.ApiKey{}, err
		}
		if limit := s.cfg.MaxActiveKeys; limit > 0 {
			n, err := q.ApiKeyCountActive(ctx, firmID)
			if err != nil {
				return db.ApiKey{}, err
			}
			if n >= int64(limit) {
				return db.ApiKey{}, apperr.New(apperr.ErrConflict, CodeAPIKeyLimitReached, fmt.Sprintf(
					"The firm already has %d active API keys, the most it may hold; revoke one before creating another", limit))
			}
		}
		return q.ApiKeyCreate(ctx, db.ApiKeyCreateParams{
			FirmID:    firmID,
			Name:      name,
			Tier:      string(in.Tier),
			KeyHash:   HashKey(plain),
			KeyPrefix: DisplayPrefix(plain),
			CreatedBy: createdBy,
			ExpiresAt: in.ExpiresAt,
			Kind:      kind,

			SalesforceConnectionID: connection,
		})
	})
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return CreatedKey{}, err
		}
		if err = postgres.InterpretError(err); errors.Is(err, apperr.ErrNotFound) && createdBy != nil {
			// The creator stopped administering the firm after the request was authenticated.
			return CreatedKey{}, apperr.Permission("Only firm administrators can manage API keys")
		}
		return CreatedKey{}, fmt.Errorf("create api key: %w", err)
	}
	return CreatedKey{APIKey: keyFromRow(row), Key: plain}, nil
}

// RevokeKey revokes a key of the caller's firm and returns once every server process has
// dropped it from its key cache (KeyNotice.Await). Revoking a revoked key succeeds and returns it
// unchanged. Errors: ErrPermission unless the caller administers the firm; ErrNotFound when
// the firm has no such key (keys of other firms included).
func (s *Service) RevokeKey(ctx context.Context, p UserPrincipal, id uuid.UUID) (APIKey, error) {
	if err := canManageKeys(p); err != nil {
		return APIKey{}, err
	}
	revokedBy := p.UserID
	return s.revokeKey(ctx, p.FirmID, id, &revokedBy)
}

// RevokeKeyForFirm is RevokeKey for the command line. A process without a running key
// listener (RunKeyListener) cannot see acknowledgements: the servers then drop the key when
// the notification reaches them (milliseconds) rather than before this returns.
func (s *Service) RevokeKeyForFirm(ctx context.Context, firmID, id uuid.UUID) (APIKey, error) {
	return s.revokeKey(ctx, firmID, id, nil)
}

// revokeKey revokes in one transaction with the key cache notification, and answers once
// every process has evicted the key (KeyNotice.Await), so the next request anywhere is refused.
func (s *Service) revokeKey(ctx context.Context, firmID, id uuid.UUID, by *uuid.UUID) (APIKey, error) {
	var notice *KeyNotice
	row, err := postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (db.ApiKey, error) {
		row, err := q.ApiKeyRevoke(ctx, db.ApiKeyRevokeParams{ID: id, FirmID: firmID, RevokedBy: by})
		if err != nil {
			return row, err
		}
		notice, err = s.NotifyKeysChangedTx(ctx, q, KeyChanged(row.ID))
		return row, err
	})
	if err == nil {
		notice.Await(ctx)
		return keyFromRow(row), nil
	}
	if err = postgres.InterpretError(err); !errors.Is(err, apperr.ErrNotFound) {
		return APIKey{}, fmt.Errorf("revoke api key: %w", err)
	}
	// No row: either not this firm's key, or already revoked.
	cur, err := s.q.ApiKeyGetForFirm(ctx, db.ApiKeyGetForFirmParams{ID: id, FirmID: firmID})
	if err != nil {
		if err = postgres.InterpretError(err); errors.Is(err, apperr.ErrNotFound) {
			return APIKey{}, apperr.NotFound("API key")
		}
		return APIKey{}, fmt.Errorf("reload api key: %w", err)
	}
	return keyFromRow(cur), nil
}

// KeyUsage returns the daily request counts of a key of the caller's firm over the last days
// days (today included; 0 means DefaultUsageDays, at most MaxUsageDays). Counts are flushed
// from memory periodically, so the last seconds of traffic may be missing.
// Errors: ErrPermission unless the caller administers the firm; ErrNotFound for a key of
// another firm or none; ErrValidation (field days) outside 0..MaxUsageDays.
func (s *Service) KeyUsage(ctx context.Context, p UserPrincipal, id uuid.UUID, days int) (KeyUsage, error) {
	if err := canManageKeys(p); err != nil {
		return KeyUsage{}, err
	}
	if days == 0 {
		days = DefaultUsageDays
	}
	if days < 1 || days > MaxUsageDays {
		return KeyUsage{}, apperr.Field("days", fmt.Sprintf("must be between 1 and %d", MaxUsageDays))
	}
	key, err := s.q.ApiKeyGetForFirm(ctx, db.ApiKeyGetForFirmParams{ID: id, FirmID: p.FirmID})
	if err != nil {
		if err = postgres.InterpretError(err); errors.Is(err, apperr.ErrNotFound) {
			return KeyUsage{}, apperr.NotFound("API key")
		}
		return KeyUsage{}, fmt.Errorf("load api key: %w", err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -(days - 1))
	rows, err := s.q.ApiKeyUsage(ctx, db.ApiKeyUsageParams{ApiKeyID: id, Since: since})
	if err != nil {
		return KeyUsage{}, fmt.Errorf("load api key usage: %w", postgres.InterpretError(err))
	}
	byDay := make(map[string]int64, len(rows))
	for _, r := range rows {
		byDay[r.Day] = r.Count
	}
	out := KeyUsage{Key: keyFromRow(key), Since: since, Days: make([]DayCount, 0, days), Total: key.RequestCount}
	for d := since; !d.After(today); d = d.AddDate(0, 0, 1) {
		date := d.Format(time.DateOnly)
		out.Days = append(out.Days, DayCount{Date: date, Count: byDay[date]})
	}
	return out, nil
}
