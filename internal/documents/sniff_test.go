package documents

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

func zipOf(t *testing.T, method uint16, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: method})
		require.NoError(t, err)
		_, _ = w.Write([]byte("<x/>"))
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestSniff(t *testing.T) {
	t.Parallel()
	ooxml := func(part string) []string { return []string{"[Content_Types].xml", "_rels/.rels", part} }
	for name, tc := range map[string]struct {
		head     []byte
		fileName string
		want     string
	}{
		"pdf":                      {[]byte("%PDF-1.4\n%âãÏÓ\n"), "x", MimePDF},
		"png":                      {[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "x", MimePNG},
		"jpeg":                     {[]byte("\xff\xd8\xff\xdb\x00\x43\x00"), "x", MimeJPEG},
		"utf-8 text":               {[]byte("Dr. Núñez, 4/2\r\n\tfollow-up"), "x", MimeText},
		"doc (ole)":                {append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 64)...), "x", MimeDOC},
		"heic major brand":         {[]byte("\x00\x00\x00\x14ftypheix\x00\x00\x00\x00mif1"), "x", MimeHEIC},
		"heif generic with hevc":   {[]byte("\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1hevc"), "x", MimeHEIC},
		"avif":                     {[]byte("\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1miaf"), "x", ""},
		"mp4":                      {[]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), "x", ""},
		"docx deflated":            {zipOf(t, zip.Deflate, ooxml("word/document.xml")...), "x", MimeDOCX},
		"docx stored":              {zipOf(t, zip.Store, ooxml("word/document.xml")...), "x", MimeDOCX},
		"xlsx":                     {zipOf(t, zip.Deflate, ooxml("xl/workbook.xml")...), "x", MimeXLSX},
		"pptx":                     {zipOf(t, zip.Deflate, ooxml("ppt/presentation.xml")...), "deck.docx", ""},
		"ooxml unknown, by name":   {zipOf(t, zip.Store, "[Content_Types].xml", "_rels/.rels"), "a.XLSX", MimeXLSX},
		"ooxml unknown, no name":   {zipOf(t, zip.Store, "[Content_Types].xml", "_rels/.rels"), "a.zip", ""},
		"plain zip named docx":     {zipOf(t, zip.Deflate, "word/document.xml"), "a.docx", ""},
		"gif":                      {[]byte("GIF89a"), "a.pdf", ""},
		"html":                     {[]byte("<html><body>x</body></html>"), "a.txt", ""},
		"latin-1":                  {[]byte("caf\xe9"), "a.txt", ""},
		"utf-16 bom":               {[]byte("\xff\xfea\x00"), "a.txt", ""},
		"control characters":       {[]byte("a\x01b"), "a.txt", ""},
		"empty":                    {nil, "a.txt", ""},
		"elf binary":               {[]byte("\x7fELF\x02\x01\x01"), "a.pdf", ""},
		"rune cut at sniff window": {append(bytes.Repeat([]byte("a"), SniffLen-1), 0xc3), "a.txt", MimeText},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Sniff(tc.head, tc.fileName))
		})
	}
}

func TestSanitizeFileName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"report.pdf":                       "report.pdf",
		"../../etc/passwd":                 "passwd",
		`C:\Users\pat\bill.pdf`:            "bill.pdf",
		"a\x00b\x1fc\x7f.txt":              "abc.txt",
		"  padded  ":                       "padded",
		"":                                 "document",
		"..":                               "document",
		"dir/":                             "document",
		"bad\xffutf8.txt":                  "badutf8.txt",
		"résumé.pdf":                       "résumé.pdf",
		strings.Repeat("é", 300):           strings.Repeat("é", 255),
		strings.Repeat("n", 260) + ".docx": strings.Repeat("n", 250) + ".docx",
	} {
		got := SanitizeFileName(in)
		require.Equal(t, want, got, "%q", in)
	}
}

func TestUTF8Checker(t *testing.T) {
	t.Parallel()
	read := func(data []byte) ([]byte, bool) {
		c := &utf8Checker{r: iotest.OneByteReader(bytes.NewReader(data))}
		out, err := io.ReadAll(c)
		return out, err == nil && !c.bad
	}
	t.Run("MultiByteRunesSplitAcrossReadsPass", func(t *testing.T) {
		t.Parallel()
		in := []byte("añb€c😀d")
		out, ok := read(in)
		require.True(t, ok)
		require.Equal(t, in, out)
	})
	t.Run("InvalidBytesFail", func(t *testing.T) {
		t.Parallel()
		_, ok := read([]byte("abc\xffdef"))
		require.False(t, ok)
	})
	t.Run("TruncatedRuneAtEOFFails", func(t *testing.T) {
		t.Parallel()
		_, ok := read([]byte("abc\xe2\x82"))
		require.False(t, ok)
	})
}

func TestLimitedReader(t *testing.T) {
	t.Parallel()
	l := &limitedReader{r: bytes.NewReader(make([]byte, 11)), left: 10}
	_, err := io.ReadAll(l)
	require.ErrorIs(t, err, errTooLarge)
	require.True(t, l.over)

	l = &limitedReader{r: bytes.NewReader(make([]byte, 10)), left: 10}
	b, err := io.ReadAll(l)
	require.NoError(t, err)
	require.Len(t, b, 10)
	require.False(t, l.over)
}
