package app_test

import (
	"testing"

	"github.com/casexchange/server/internal/jobs"
	"github.com/casexchange/server/internal/postgres/pgtest"
)

// TestMain provides the PostgreSQL server for pgtest databases; their template includes the
// job queue's tables.
func TestMain(m *testing.M) {
	pgtest.AfterMigrate.Name = "river"
	pgtest.AfterMigrate.Fn = jobs.Migrate
	pgtest.Main(m)
}
