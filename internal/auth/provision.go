package auth

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
)

// ProvisionInput describes an active user created by an operator (seed data, the CLI, tests).
type ProvisionInput struct {
	FirmID    uuid.UUID
	Email     string
	FirstName string
	LastName  string
	Role      Role
	Password  string
}

// ProvisionUser creates an active user with a password, or returns the existing user with that
// e-mail (so seeding is idempotent). Errors: ErrValidation (role, password policy).
func (s *Service) ProvisionUser(ctx context.Context, in ProvisionInput) (User, error) {
	if !in.Role.Valid() {
		return User{}, apperr.Field("role", "unknown role")
	}
	if err := CheckPasswordPolicy("password", in.Password, in.Email); err != nil {
		return User{}, err
	}
	email := normalizeEmail(in.Email)
	if existing, err := s.q.UserGetByEmail(ctx, email); err == nil {
		return s.Me(ctx, UserPrincipal{UserID: existing.ID, FirmID: existing.FirmID})
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	row, err := s.q.UserCreate(ctx, db.UserCreateParams{
		FirmID:          in.FirmID,
		Email:           email,
		FirstName:       strings.TrimSpace(in.FirstName),
		LastName:        strings.TrimSpace(in.LastName),
		Role:            string(in.Role),
		PasswordHash:    &hash,
		IsActive:        true,
		ActivationState: "active",
	})
	if err != nil {
		return User{}, postgres.InterpretError(err)
	}
	return s.Me(ctx, UserPrincipal{UserID: row.ID, FirmID: row.FirmID})
}
