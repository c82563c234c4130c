// Package auth authenticates the two kinds of callers: dashboard users, who log in with an
// e-mail and a password and then carry a short-lived JWT plus a rotating refresh token, and
// integrations, which send a Public API key. It also administers a firm's keys.
//
// Nothing here knows about HTTP: callers pass plain strings (token, key, client address) and
// get domain values or *apperr.Error values with the specific codes of the contract.
package auth

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// Error codes of the authentication contract. They travel in apperr.Error.Code.
const (
	CodeNoToken                     = "no_token"
	CodeTokenExpired                = "token_expired"
	CodeTokenInvalid                = "token_invalid"
	CodeInvalidCredentials          = "invalid_credentials"
	CodeAccountNotFullyActivated    = "account_not_fully_activated"
	CodeAccountInactiveLoginAttempt = "account_inactive_login_attempt"
	CodeAccountInactive             = "account_inactive"
	CodeRateLimitedEmail            = "rate_limited_email"
	CodeRateLimitedIP               = "rate_limited_ip"
	CodeInvalidAPIKey               = "invalid_api_key"
	CodeInvalidCurrentPassword      = "invalid_current_password"
	CodeAPIKeyLimitReached          = "api_key_limit_reached"
)

// Role is a user's role. The Public API spells roles in upper case; the older Internal API
// spells the same values in lower case, which is the HTTP layer's concern.
type Role string

// Roles.
const (
	RoleAdmin          Role = "ADMIN" // CaseXchange staff
	RoleAccountManager Role = "ACCOUNT_MANAGER"
	RoleFirmAdmin      Role = "FIRM_ADMIN"
	RoleMember         Role = "MEMBER"
	RoleViewer         Role = "VIEWER"
)

// Roles lists every role, in decreasing order of privilege.
var Roles = []Role{RoleAdmin, RoleAccountManager, RoleFirmAdmin, RoleMember, RoleViewer}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// CanManageFirm reports whether r may administer its firm (API keys, users, profile).
// System administrators may do everything a firm administrator may.
func (r Role) CanManageFirm() bool { return r == RoleFirmAdmin || r == RoleAdmin }

// Tier is the access tier of a Public API key.
type Tier string

// Tiers, from least to most privileged.
const (
	TierReadOnly Tier = "READ_ONLY"
	TierStandard Tier = "STANDARD"
	TierFull     Tier = "FULL"
)

// Tiers lists every tier from least to most privileged.
var Tiers = []Tier{TierReadOnly, TierStandard, TierFull}

func (t Tier) rank() int {
	switch t {
	case TierReadOnly:
		return 1
	case TierStandard:
		return 2
	case TierFull:
		return 3
	}
	return 0
}

// ParseTier reads a key tier (READ_ONLY, STANDARD, FULL) or an x-access-tier value of the spec
// (read_only, standard, full); anything else is the empty, invalid tier.
func ParseTier(s string) Tier {
	switch strings.ToLower(s) {
	case "read_only", "readonly":
		return TierReadOnly
	case "standard":
		return TierStandard
	case "full":
		return TierFull
	}
	return ""
}

// Label is t as the spec writes it (read_only, standard, full), for messages; "none" when
// invalid.
func (t Tier) Label() string {
	if !t.Valid() {
		return "none"
	}
	return strings.ToLower(string(t))
}

// Valid reports whether t is one of Tiers.
func (t Tier) Valid() bool { return t.rank() > 0 }

// Allows reports whether a key of tier t may call an operation that requires tier required.
// An unknown tier allows nothing and is allowed by nothing.
func (t Tier) Allows(required Tier) bool {
	return t.rank() > 0 && required.rank() > 0 && t.rank() >= required.rank()
}

// UserPrincipal is a caller authenticated by an access token.
type UserPrincipal struct {
	UserID    uuid.UUID
	FirmID    uuid.UUID
	Role      Role
	SessionID uuid.UUID // the refresh-token family the access token was issued for
	ExpiresAt time.Time
}

// KeyPrincipal is a caller authenticated by a Public API key.
type KeyPrincipal struct {
	KeyID  uuid.UUID
	FirmID uuid.UUID
	Tier   Tier
	Prefix string
	Name   string
}

// User is a user as the login flow shows it.
type User struct {
	ID          uuid.UUID
	FirmID      uuid.UUID
	FirmName    string
	Email       string
	FirstName   string
	LastName    string
	Role        Role
	IsActive    bool
	Activated   bool // has set a password at least once
	Phone       string
	LastLoginAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Tokens are the credentials handed out by a login or a refresh.
type Tokens struct {
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	SessionID        uuid.UUID
}

// Session is one logged-in device or browser: a refresh-token family.
type Session struct {
	ID         uuid.UUID
	StartedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	IP         string
	Current    bool // the session of the caller's access token
}
