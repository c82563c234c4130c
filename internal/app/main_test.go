package app_test

import (
	"testing"

	"github.com/casexchange/server/internal/httpapi/apitest"
)

// TestMain provides the PostgreSQL server for pgtest databases; their template includes the
// job queue's tables (apitest.Main sets that up, and prints the security summary line).
func TestMain(m *testing.M) { apitest.Main(m) }
