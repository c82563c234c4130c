package firms

import (
	"context"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/postgres"
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

// Summary is a firm as the operator listing shows it.
type Summary struct {
	ID       uuid.UUID
	Name     string
	Slug     string // empty when the firm has none
	IsActive bool
}

// ListAll returns every firm, active or not, by slug (operator tools; the firms table is small).
func (s *Service) ListAll(ctx context.Context) ([]Summary, error) {
	rows, err := s.q.FirmListAll(ctx)
	if err != nil {
		return nil, postgres.InterpretError(err)
	}
	out := make([]Summary, 0, len(rows))
	for _, r := range rows {
		sum := Summary{ID: r.ID, Name: r.Name, IsActive: r.IsActive}
		if r.Slug != nil {
			sum.Slug = *r.Slug
		}
		out = append(out, sum)
	}
	return out, nil
}
