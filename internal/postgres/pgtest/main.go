package pgtest

import (
	"io/fs"
	"testing"

	"github.com/casexchange/server/db"
)

// defaultMigrations is the project's migration set.
var defaultMigrations fs.FS = db.Migrations

// Main runs the package's tests (call it from TestMain) with test databases migrated by the
// project's migrations (db.Migrations); see MainFS.
func Main(m *testing.M) {
	MainFS(m, db.Migrations)
}

// Run is Main for a TestMain with work of its own: it returns the exit code instead of
// exiting.
func Run(m *testing.M) int {
	return RunFS(m, db.Migrations)
}
