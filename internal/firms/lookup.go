package firms

import (
	"context"

	"github.com/google/uuid"
)

// GetBySlug returns a firm by its slug. Errors: ErrNotFound.
func (s *Service) GetBySlug(ctx context.Context, slug string) (Firm, error) {
	row, err := s.q.FirmGetBySlug(ctx, slug)
	if err != nil {
		return Firm{}, notFound(err)
	}
	return firmFromRow(row), nil
}

// Lookup returns a firm by id or slug (operator tools). Errors: ErrNotFound.
func (s *Service) Lookup(ctx context.Context, idOrSlug string) (Firm, error) {
	if id, err := uuid.Parse(idOrSlug); err == nil {
		return s.Get(ctx, id)
	}
	return s.GetBySlug(ctx, idOrSlug)
}
