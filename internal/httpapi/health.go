package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	apireference "github.com/casexchange/server/api-reference"
	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/buildinfo"
)

// readyTimeout bounds the database probe of the health check.
const readyTimeout = time.Second

// GetHealth reports whether the database answers and publishes the rate-limit policy. The body
// is not wrapped in data; a failed check answers 503 with the same shape.
func (s *Server) GetHealth(ctx context.Context, _ api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	db := api.HealthChecksDatabaseOk
	if s.ready != nil {
		rctx, cancel := context.WithTimeout(ctx, readyTimeout)
		err := s.ready(rctx)
		cancel()
		if err != nil {
			s.log.WarnContext(ctx, "health check: database unavailable", "error", err.Error(), "request_id", RequestIDFrom(ctx))
			db = api.HealthChecksDatabaseUnavailable
		}
	}
	m := meta(ctx)
	body := api.HealthResponse{
		Status:    api.HealthResponseStatusOk,
		Timestamp: m.Timestamp,
		Version:   buildinfo.Version(),
		RateLimits: api.HealthRateLimits{
			WindowSeconds: int(s.limits.Window / time.Second),
			RequestsPerWindow: api.HealthRateLimitTiers{
				ReadOnly: s.limits.ReadOnly,
				Standard: s.limits.Standard,
				Full:     s.limits.Full,
			},
		},
		Checks: api.HealthChecks{Database: db},
		Meta:   m,
	}
	if db != api.HealthChecksDatabaseOk {
		body.Status = api.HealthResponseStatusUnavailable
		return api.GetHealth503JSONResponse{Body: body}, nil
	}
	return api.GetHealth200JSONResponse{Body: body}, nil
}

// GetOpenApiYaml serves the contract as written: the bytes of api-reference/openapi.yml, in
// their source order, with a strong ETag; If-None-Match with that tag answers 304.
func (s *Server) GetOpenApiYaml(ctx context.Context, req api.GetOpenApiYamlRequestObject) (api.GetOpenApiYamlResponseObject, error) {
	s.loadSpecDocs()
	return specDocument{body: apireference.YAML, contentType: "application/yaml", etag: s.specYAMLTag, ifNoneMatch: deref(req.Params.IfNoneMatch)}, nil
}

// GetOpenApiJson serves the contract as JSON with the source's key order (converted once from
// the YAML node tree, never through a map), with its own strong ETag.
func (s *Server) GetOpenApiJson(ctx context.Context, req api.GetOpenApiJsonRequestObject) (api.GetOpenApiJsonResponseObject, error) {
	s.loadSpecDocs()
	if s.specJSON == nil {
		return nil, errors.New("openapi document unavailable")
	}
	return specDocument{body: s.specJSON, contentType: "application/json", etag: s.specJSONTag, ifNoneMatch: deref(req.Params.IfNoneMatch)}, nil
}

// loadSpecDocs converts the embedded YAML to JSON once and computes both tags.
func (s *Server) loadSpecDocs() {
	s.specOnce.Do(func() {
		s.specYAMLTag = strongTag(apireference.YAML)
		var doc yaml.Node
		if err := yaml.Unmarshal(apireference.YAML, &doc); err != nil {
			s.log.Error("parse embedded openapi document", "error", err.Error())
			return
		}
		var buf bytes.Buffer
		if err := writeOrderedJSON(&buf, &doc); err != nil {
			s.log.Error("convert openapi document to JSON", "error", err.Error())
			return
		}
		s.specJSON = buf.Bytes()
		s.specJSONTag = strongTag(s.specJSON)
	})
}

func strongTag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// writeOrderedJSON writes a YAML node tree as JSON, keeping mapping keys in document order.
func writeOrderedJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("document with %d roots", len(n.Content))
		}
		return writeOrderedJSON(buf, n.Content[0])
	case yaml.AliasNode:
		return writeOrderedJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, err := json.Marshal(n.Content[i].Value)
			if err != nil {
				return err
			}
			buf.Write(k)
			buf.WriteByte(':')
			if err := writeOrderedJSON(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeOrderedJSON(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		switch n.ShortTag() {
		case "!!str", "!!binary", "!!timestamp":
			v = n.Value
		default:
			if err := n.Decode(&v); err != nil {
				return err
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf.Write(b)
	default:
		return fmt.Errorf("unexpected YAML node kind %d", n.Kind)
	}
	return nil
}

// specDocument writes one rendering of the contract. Both are public and the same for every
// caller, so shared caches may keep them, revalidating with the ETag each time.
type specDocument struct {
	body        []byte
	contentType string
	etag        string
	ifNoneMatch string
}

func (d specDocument) visit(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("ETag", d.etag)
	h.Set(headerCacheControl, "public, no-cache")
	if d.ifNoneMatch != "" && matchesIfNoneMatch([]string{d.ifNoneMatch}, d.etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", d.contentType)
	h.Set("Content-Length", strconv.Itoa(len(d.body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(d.body)
	return err
}

// VisitGetOpenApiYamlResponse implements api.GetOpenApiYamlResponseObject.
func (d specDocument) VisitGetOpenApiYamlResponse(w http.ResponseWriter) error { return d.visit(w) }

// VisitGetOpenApiJsonResponse implements api.GetOpenApiJsonResponseObject.
func (d specDocument) VisitGetOpenApiJsonResponse(w http.ResponseWriter) error { return d.visit(w) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
