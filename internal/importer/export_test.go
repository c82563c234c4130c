package importer

import (
	"context"

	"github.com/google/uuid"
)

// WorkJob runs (or resumes) an import job as the queue worker would.
func (s *Service) WorkJob(ctx context.Context, id uuid.UUID, last bool) error {
	return s.work(ctx, id, last)
}
