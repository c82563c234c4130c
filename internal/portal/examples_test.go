package portal_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	apireference "github.com/casexchange/server/api-reference"
)

// examplesFile is api-reference/examples.json, as far as these tests read it.
type examplesFile struct {
	Operations map[string]struct {
		Request *struct {
			Value any `json:"value"`
		} `json:"request"`
		Responses map[string]struct {
			Value any `json:"value"`
		} `json:"responses"`
	} `json:"operations"`
}

func loadExamples(t *testing.T) examplesFile {
	raw, err := os.ReadFile(filepath.Join("..", "..", "api-reference", "examples.json"))
	require.NoError(t, err)
	var f examplesFile
	require.NoError(t, json.Unmarshal(raw, &f))
	return f
}

// requestID is meta.requestId of a JSON response example, or "".
func requestID(v any) string {
	m, _ := v.(map[string]any)
	meta, _ := m["meta"].(map[string]any)
	rid, _ := meta["requestId"].(string)
	return rid
}

// recordedRequestID is the requestId of the recorded response of operation id with status code.
func recordedRequestID(t *testing.T, id, code string) string {
	rid := requestID(loadExamples(t).Operations[id].Responses[code].Value)
	require.NotEmpty(t, rid, "a recorded %s response of %s", code, id)
	return rid
}

// distinctive matches strings that survive the reference's embedding unescaped.
var distinctive = regexp.MustCompile(`^[A-Za-z0-9 ,.@_:-]{10,}$`)

// TestReferenceShowsRecordedExamples: the rendered reference holds the examples that make
// examples recorded (api-reference/examples.json): the requestId of every JSON response example
// (unique to its exchange), and for every request example a string of its body that the
// contract itself does not contain. A reference.html not regenerated after make examples fails.
func TestReferenceShowsRecordedExamples(t *testing.T) {
	t.Parallel()
	html, err := os.ReadFile(filepath.Join("site", "reference.html"))
	require.NoError(t, err)
	f := loadExamples(t)
	page, spec := string(html), string(apireference.YAML)

	var missing []string
	reqs, resps := 0, 0
	for id, o := range f.Operations {
		for code, r := range o.Responses {
			rid := requestID(r.Value)
			if rid == "" {
				continue
			}
			resps++
			if !strings.Contains(page, rid) {
				missing = append(missing, id+" response "+code)
			}
		}
		if o.Request == nil {
			continue
		}
		var candidates []string
		leaves(o.Request.Value, func(s string) {
			if distinctive.MatchString(s) && !strings.Contains(spec, s) {
				candidates = append(candidates, s)
			}
		})
		if len(candidates) == 0 {
			continue
		}
		sort.Strings(candidates)
		reqs++
		if !strings.Contains(page, candidates[0]) {
			missing = append(missing, id+" request ("+candidates[0]+")")
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "recorded examples not in site/reference.html (run make examples or make generate)")
	require.Greater(t, resps, 100, "response examples looked for")
	require.Greater(t, reqs, 20, "request examples looked for")
	t.Logf("reference.html holds %d recorded response examples and %d request examples (by a string of each)", resps, reqs)
}

func leaves(v any, fn func(string)) {
	switch t := v.(type) {
	case string:
		fn(t)
	case []any:
		for _, x := range t {
			leaves(x, fn)
		}
	case map[string]any:
		for _, x := range t {
			leaves(x, fn)
		}
	}
}
