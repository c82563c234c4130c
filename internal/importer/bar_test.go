package importer_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/importer"
)

func TestProgressBar(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	bar := importer.ProgressBar(&buf, 10)
	for i := 0; i <= 200; i++ {
		bar(i, 200)
	}
	out := buf.String()
	require.Equal(t, 101, strings.Count(out, "\r"), "one redraw per percent")
	require.True(t, strings.HasSuffix(out, "\r[##########] 200/200 rows 100%\n"), "%q", out[len(out)-40:])
	require.Contains(t, out, "\r[#####-----] 100/200 rows  50%")

	buf.Reset()
	firms := importer.ProgressBarOf(&buf, 10, "firms")
	firms(3, 3)
	require.Equal(t, "\r[##########] 3/3 firms 100%\n", buf.String())
}

func TestWriteReport(t *testing.T) {
	t.Parallel()
	col := "jurisdiction"
	var buf bytes.Buffer
	importer.WriteReport(&buf, importer.Result{TotalRows: 3, Created: 1, Skipped: 1, Failed: 1, Errors: []importer.RowError{
		{Row: 4, Column: &col, Message: `unknown jurisdiction code "ZZ"`}, {Row: 4, Message: "whole row"},
	}})
	require.Equal(t, "3 rows: 1 created, 0 updated, 1 skipped, 1 failed\n"+
		"row 4, jurisdiction: unknown jurisdiction code \"ZZ\"\nrow 4: whole row\n", buf.String())
}
