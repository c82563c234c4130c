package pgcluster

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHighestDebianBinDir(t *testing.T) {
	t.Parallel()

	root := t.TempDir()
	mk := func(version string, binaries ...string) {
		dir := filepath.Join(root, version, "bin")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for _, b := range binaries {
			require.NoError(t, os.WriteFile(filepath.Join(dir, b), []byte("#!/bin/sh\n"), 0o755))
		}
	}
	mk("9.6", "initdb", "postgres")
	mk("13", "initdb", "postgres")
	mk("16", "psql") // client only: not a server installation
	mk("notaversion", "initdb", "postgres")

	require.Equal(t, filepath.Join(root, "13", "bin"), highestDebianBinDir(root))
	require.Empty(t, highestDebianBinDir(filepath.Join(root, "missing")))
}

func TestErrNoBinariesSaysHowToInstall(t *testing.T) {
	t.Parallel()
	require.Contains(t, ErrNoBinaries.Error(), "apt-get install postgresql")
	require.Contains(t, ErrNoBinaries.Error(), "DATABASE_URL")
}
