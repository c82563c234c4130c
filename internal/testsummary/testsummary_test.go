package testsummary_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/testsummary"
)

func TestPrintfAppendsLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary")
	t.Setenv(testsummary.EnvFile, path)
	testsummary.Printf("first: %d", 1)
	testsummary.Printf("second\n")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "first: 1\nsecond\n", string(got))
}
