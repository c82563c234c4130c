package auth

import (
	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
)

// userFromRow converts a user row. UserGetByEmailRow has the same columns and converts to
// db.UserGetByIDRow directly.
func userFromRow(r db.UserGetByIDRow) User {
	return User{
		ID:          r.ID,
		FirmID:      r.FirmID,
		FirmName:    r.FirmName,
		Email:       r.Email,
		FirstName:   r.FirstName,
		LastName:    r.LastName,
		Role:        Role(r.Role),
		IsActive:    r.IsActive,
		Activated:   r.ActivationState == "active",
		Phone:       deref(r.Phone),
		LastLoginAt: r.LastLoginAt,
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
	}
}

func sessionFromRow(r db.SessionListActiveByUserRow, current uuid.UUID) Session {
	return Session{
		ID:         r.FamilyID,
		StartedAt:  r.StartedAt,
		LastUsedAt: r.LastUsedAt,
		ExpiresAt:  r.ExpiresAt,
		UserAgent:  deref(r.UserAgent),
		IP:         deref(r.Ip),
		Current:    r.FamilyID == current,
	}
}

func keyFromRow(r db.ApiKey) APIKey {
	return APIKey{
		ID:           r.ID,
		FirmID:       r.FirmID,
		Name:         r.Name,
		Tier:         Tier(r.Tier),
		Prefix:       r.KeyPrefix,
		CreatedBy:    r.CreatedBy,
		CreatedAt:    r.CreatedAt,
		ExpiresAt:    r.ExpiresAt,
		LastUsedAt:   r.LastUsedAt,
		RevokedAt:    r.RevokedAt,
		RequestCount: r.RequestCount,
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
