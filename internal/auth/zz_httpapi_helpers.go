package auth

import (
	"context"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/postgres"
)

// UserByID returns a user by id, whatever their firm or state; the HTTP layer uses it to show
// who created an API key. Errors: ErrNotFound.
func (s *Service) UserByID(ctx context.Context, id uuid.UUID) (User, error) {
	row, err := s.q.UserGetByID(ctx, id)
	if err != nil {
		return User{}, postgres.InterpretError(err)
	}
	return userFromRow(row), nil
}
