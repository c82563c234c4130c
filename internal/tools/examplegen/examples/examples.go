// Package examples is the format of api-reference/examples.json: for each operation of the
// contract, the request body and the success responses that one walk of our Postman collection
// sent and got on a fresh demo server (make examples records it; internal/tools/examplegen writes
// it; internal/tools/portalspec merges it into the portal's copy of the contract).
package examples

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// File is the whole data file.
type File struct {
	// About says where the examples come from and what was changed in them.
	About string `json:"about"`
	// Operations by operationId.
	Operations map[string]Operation `json:"operations"`
}

// Operation is what was recorded for one operation.
type Operation struct {
	// Method and Path are the request as called (the path with the demo run's ids; tokens in it
	// are replaced by placeholders).
	Method string `json:"method"`
	Path   string `json:"path"`
	// Request is the request body, when it was JSON.
	Request *Body `json:"request,omitempty"`
	// Responses are the success responses that have a body we publish, by status code.
	Responses map[string]Body `json:"responses,omitempty"`
	// Skipped says, for each part not recorded, why (a multipart upload, a binary download, a
	// response without a body).
	Skipped []string `json:"skipped,omitempty"`
}

// Body is one example body: the media type of the contract it belongs to, and its value (a JSON
// value, or a string for a text media type).
type Body struct {
	ContentType string `json:"contentType"`
	Value       any    `json:"value"`
}

// Load reads a data file. With useNumber, JSON numbers stay json.Number (so that their literal
// is kept when re-encoded); otherwise they are float64, as a JSON schema validator expects.
func Load(path string, useNumber bool) (File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return File{}, err
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(raw))
	if useNumber {
		dec.UseNumber()
	}
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Encode is the file as committed: indented, keys sorted, no HTML escaping.
func Encode(f File) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
