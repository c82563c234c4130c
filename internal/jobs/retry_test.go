package jobs_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/jobs"
)

func TestFixedRetry(t *testing.T) {
	t.Parallel()
	p := jobs.FixedRetry(300 * time.Millisecond)
	for _, attempt := range []int{1, 2, 9} {
		before := time.Now()
		next := p.NextRetry(&rivertype.JobRow{Attempt: attempt})
		require.WithinRange(t, next, before.Add(300*time.Millisecond), time.Now().Add(300*time.Millisecond), "attempt %d", attempt)
	}
}
