package portal_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/postman"
)

// TestPortalServesPostmanFiles fetches our Postman collection and environment from a running
// server: JSON with a JSON content type, byte for byte the committed files, and linked from the
// portal's index.
func TestPortalServesPostmanFiles(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	get := func(t *testing.T, path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(h.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}
	for path, want := range map[string][]byte{
		"/docs/postman/collection.json":  postman.Collection,
		"/docs/postman/environment.json": postman.Environment,
	} {
		t.Run(path, func(t *testing.T) {
			resp, b := get(t, path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			require.NotEmpty(t, resp.Header.Get("ETag"))
			require.Equal(t, want, b)
			var v map[string]any
			require.NoError(t, json.Unmarshal(b, &v))
		})
	}
	t.Run("the collection is a Postman v2.1 collection", func(t *testing.T) {
		var c struct {
			Info struct {
				Schema string `json:"schema"`
			} `json:"info"`
			Item []json.RawMessage `json:"item"`
		}
		require.NoError(t, json.Unmarshal(postman.Collection, &c))
		require.Equal(t, "https://schema.getpostman.com/json/collection/v2.1.0/collection.json", c.Info.Schema)
		require.NotEmpty(t, c.Item)
	})
	t.Run("the portal links to both", func(t *testing.T) {
		resp, b := get(t, "/docs")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, string(b), `href="/docs/postman/collection.json"`)
		require.Contains(t, string(b), `href="/docs/postman/environment.json"`)
	})
}
