package documents

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Accepted content types: the allow-list of uploadDocument.
const (
	MimePDF  = "application/pdf"
	MimeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	MimeDOC  = "application/msword"
	MimeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	MimeJPEG = "image/jpeg"
	MimePNG  = "image/png"
	MimeHEIC = "image/heic"
	MimeText = "text/plain"
)

// AcceptedTypes lists the allow-list in the order the error message names it.
var AcceptedTypes = []string{"PDF", "DOCX", "DOC", "XLSX", "JPEG", "PNG", "HEIC", "plain text (UTF-8)"}

// SniffLen is how much of the file Sniff wants to see: enough for net/http's detector (512
// bytes) and for the first entries of an Office Open XML zip.
const SniffLen = 64 << 10

var oleHeader = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// Sniff decides the content type of a file from its first bytes (head, up to SniffLen) and
// returns "" when the type is not on the allow-list. The file name is consulted only to tell
// DOCX from XLSX when the container is clearly Office Open XML but its first entries do not say
// which; it never makes an unaccepted file acceptable.
func Sniff(head []byte, fileName string) string {
	if len(head) == 0 {
		return ""
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return sniffOOXML(head, fileName)
	case bytes.HasPrefix(head, oleHeader):
		// Compound File Binary: the container of Word 97-2003 documents.
		return MimeDOC
	case isHEIC(head):
		return MimeHEIC
	}
	ct := http.DetectContentType(head)
	switch ct {
	case MimePDF, MimeJPEG, MimePNG:
		return ct
	case "text/plain; charset=utf-8":
		// DetectContentType only checks for binary bytes: insist on valid UTF-8 (the last rune
		// may be cut off by the end of head) and on no control characters besides whitespace.
		if textLike(head) {
			return MimeText
		}
	}
	return ""
}

// sniffOOXML decides between DOCX and XLSX for a zip archive. An Office Open XML package has a
// [Content_Types].xml entry and keeps its main part at word/document.xml (DOCX) or
// xl/workbook.xml (XLSX). Entry names are stored in the clear in the local file headers, which
// come early in the archive: the local headers in head are walked, and names behind an entry
// whose size is only known after its data (bit 3) are searched for.
func sniffOOXML(head []byte, fileName string) string {
	var contentTypes, word, xl, other bool
	note := func(name string) {
		switch {
		case name == "[Content_Types].xml":
			contentTypes = true
		case strings.HasPrefix(name, "word/"):
			word = true
		case strings.HasPrefix(name, "xl/"):
			xl = true
		case strings.HasPrefix(name, "ppt/"), strings.HasPrefix(name, "visio/"):
			other = true
		}
	}
	rest := head
	walked := true
	for len(rest) >= 30 && bytes.HasPrefix(rest, []byte("PK\x03\x04")) {
		flags := binary.LittleEndian.Uint16(rest[6:])
		compSize := int(binary.LittleEndian.Uint32(rest[18:]))
		nameLen := int(binary.LittleEndian.Uint16(rest[26:]))
		extraLen := int(binary.LittleEndian.Uint16(rest[28:]))
		if 30+nameLen > len(rest) {
			break
		}
		note(string(rest[30 : 30+nameLen]))
		next := 30 + nameLen + extraLen + compSize
		if flags&0x8 != 0 || next > len(rest) || next <= 0 {
			walked = false
			break
		}
		rest = rest[next:]
	}
	if !walked {
		for _, name := range []string{"[Content_Types].xml", "word/document.xml", "xl/workbook.xml", "ppt/presentation.xml"} {
			if bytes.Contains(head, []byte(name)) {
				note(name)
			}
		}
	}
	switch {
	case !contentTypes || other:
		return "" // a plain zip archive, or another kind of Office package
	case word && !xl:
		return MimeDOCX
	case xl && !word:
		return MimeXLSX
	case word && xl:
		return ""
	}
	switch strings.ToLower(path.Ext(fileName)) {
	case ".docx":
		return MimeDOCX
	case ".xlsx":
		return MimeXLSX
	}
	return ""
}

// heicBrands are the ISO-BMFF brands of HEIF images coded with HEVC.
var heicBrands = map[string]bool{
	"heic": true, "heix": true, "hevc": true, "hevx": true,
	"heim": true, "heis": true, "hevm": true, "hevs": true,
}

// isHEIC reads the leading ftyp box: its major brand, or for the generic HEIF brands (mif1,
// msf1) one of its compatible brands, must name HEVC-coded HEIF.
func isHEIC(head []byte) bool {
	if len(head) < 16 || string(head[4:8]) != "ftyp" {
		return false
	}
	size := int(binary.BigEndian.Uint32(head[0:4]))
	if size < 16 || size > len(head) {
		size = min(len(head), 256)
	}
	major := string(head[8:12])
	if heicBrands[major] {
		return true
	}
	if major != "mif1" && major != "msf1" {
		return false
	}
	for i := 16; i+4 <= size; i += 4 {
		if heicBrands[string(head[i:i+4])] {
			return true
		}
	}
	return false
}

func textLike(head []byte) bool {
	// Drop a rune cut off at the end of head.
	for i := 0; i < utf8.UTFMax && len(head) > 0; i++ {
		r, size := utf8.DecodeLastRune(head)
		if r != utf8.RuneError || size != 1 {
			break
		}
		if len(head) < SniffLen {
			// The whole file is here: a bad last byte is really bad.
			return false
		}
		head = head[:len(head)-1]
	}
	if !utf8.Valid(head) {
		return false
	}
	for _, r := range string(head) {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' && r != '\f' {
			return false
		}
	}
	return true
}

// SanitizeFileName keeps the last path component of a client-supplied name (either slash),
// drops control characters and invalid UTF-8, trims spaces and cuts the name to 255
// characters. An empty result becomes "document".
func SanitizeFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		name = ""
	}
	if utf8.RuneCountInString(name) > 255 {
		// Keep the extension when cutting.
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 20 {
			ext = ""
		}
		runes := []rune(strings.TrimSuffix(name, ext))
		name = string(runes[:255-utf8.RuneCountInString(ext)]) + ext
	}
	if name == "" {
		return "document"
	}
	return name
}
