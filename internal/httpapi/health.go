package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

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

// GetOpenApiYaml serves the embedded contract as YAML.
func (s *Server) GetOpenApiYaml(ctx context.Context, _ api.GetOpenApiYamlRequestObject) (api.GetOpenApiYamlResponseObject, error) {
	s.loadSpecDocs()
	if s.specYAML == nil {
		return nil, errors.New("openapi document unavailable")
	}
	return api.GetOpenApiYaml200ApplicationyamlResponse{
		Body:          bytes.NewReader(s.specYAML),
		ContentLength: int64(len(s.specYAML)),
	}, nil
}

// GetOpenApiJson serves the embedded contract as JSON, as embedded (no re-encoding).
func (s *Server) GetOpenApiJson(ctx context.Context, _ api.GetOpenApiJsonRequestObject) (api.GetOpenApiJsonResponseObject, error) {
	s.loadSpecDocs()
	if s.specJSON == nil {
		return nil, errors.New("openapi document unavailable")
	}
	return rawJSONResponse(s.specJSON), nil
}

// loadSpecDocs renders both documents once. The embedded spec is JSON; decoding it into a YAML
// node tree (JSON is YAML) and encoding that keeps every key in the same order.
func (s *Server) loadSpecDocs() {
	s.specOnce.Do(func() {
		raw, err := api.GetSpecJSON()
		if err != nil {
			s.log.Error("load embedded openapi document", "error", err.Error())
			return
		}
		s.specJSON = raw
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			s.log.Error("convert openapi document to YAML", "error", err.Error())
			return
		}
		clearStyle(&doc)
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(&doc); err != nil {
			s.log.Error("encode openapi document as YAML", "error", err.Error())
			return
		}
		_ = enc.Close()
		s.specYAML = buf.Bytes()
	})
}

// clearStyle drops the flow and quoting styles inherited from the JSON source so that the YAML
// comes out in block style; strings that need quotes get them from the encoder.
func clearStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		clearStyle(c)
	}
}

// rawJSONResponse writes pre-encoded JSON.
type rawJSONResponse []byte

func (r rawJSONResponse) VisitGetOpenApiJsonResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(r)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r)
	return err
}
