package importer

import (
	"context"

	"github.com/google/uuid"
)

// WorkJob runs (or resumes) an import job as the queue worker would.
func (s *Service) WorkJob(ctx context.Context, id uuid.UUID, last bool) error {
	return s.work(ctx, id, last)
}

// OnJobProgress makes fn run each time a job records its progress (every 500 rows).
func (s *Service) OnJobProgress(fn func(n int)) { s.onJobProgress = fn }
