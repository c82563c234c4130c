package webhookstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	apireference "github.com/casexchange/server/api-reference"
	"github.com/casexchange/server/internal/testsummary"
	"github.com/casexchange/server/pkg/webhookverify"
)

// Schemas checks webhook bodies against the contract: each event type is described in its
// x-webhooks section by a POST whose request body is the event's component schema.
type Schemas struct {
	// ByEvent is the schema of each event type, as x-webhooks names it.
	ByEvent map[string]*openapi3.SchemaRef
	// Refs is the $ref of each event type's schema in x-webhooks.
	Refs map[string]string
	// Examples are the examples x-webhooks gives for an event next to its schema.
	Examples map[string]map[string]any

	doc    *openapi3.T
	masked *openapi3.SchemaRef
}

var (
	schemasOnce sync.Once
	schemas     *Schemas
	schemasErr  error
)

// LoadSchemas reads the event schemas from the embedded contract (once per process).
func LoadSchemas() (*Schemas, error) {
	schemasOnce.Do(func() { schemas, schemasErr = loadSchemas() })
	return schemas, schemasErr
}

const schemaPrefix = "#/components/schemas/"

func loadSchemas() (*Schemas, error) {
	doc, err := openapi3.NewLoader().LoadFromData(apireference.YAML)
	if err != nil {
		return nil, fmt.Errorf("webhookstest: load the contract: %w", err)
	}
	s := &Schemas{ByEvent: map[string]*openapi3.SchemaRef{}, Refs: map[string]string{}, Examples: map[string]map[string]any{}, doc: doc}
	if s.masked, err = s.Component("MaskedStatusChangeData"); err != nil {
		return nil, err
	}
	hooks, ok := doc.Extensions["x-webhooks"].(map[string]any)
	if !ok || len(hooks) == 0 {
		return nil, errors.New("webhookstest: the contract has no x-webhooks section")
	}
	for event, item := range hooks {
		media, _ := dig(item, "post", "requestBody", "content", "application/json").(map[string]any)
		ref, _ := dig(media, "schema", "$ref").(string)
		if ref == "" {
			return nil, fmt.Errorf("webhookstest: x-webhooks %q has no POST with a JSON body schema ($ref)", event)
		}
		sch, err := s.Component(strings.TrimPrefix(ref, schemaPrefix))
		if err != nil {
			return nil, fmt.Errorf("webhookstest: x-webhooks %q: %w", event, err)
		}
		s.ByEvent[event], s.Refs[event] = sch, ref
		if exs, ok := media["examples"].(map[string]any); ok {
			s.Examples[event] = map[string]any{}
			for name, ex := range exs {
				s.Examples[event][name] = dig(ex, "value")
			}
		}
	}
	return s, nil
}

// Component returns the component schema name.
func (s *Schemas) Component(name string) (*openapi3.SchemaRef, error) {
	sch := s.doc.Components.Schemas[name]
	if sch == nil || sch.Value == nil {
		return nil, fmt.Errorf("webhookstest: no component schema %q", name)
	}
	return sch, nil
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

var validationOpts = []openapi3.SchemaValidationOption{
	openapi3.MultiErrors(),
	openapi3.VisitAsResponse(),
	openapi3.DisableSchemaErrorDetails(), // the reason and the path, without the schema dumped
	openapi3.WithStringFormatValidator("uuid", openapi3.NewCallbackValidator(func(v string) error {
		_, err := uuid.Parse(v)
		return err
	})),
}

// Validate checks one delivery body against the schema of the event it names, and returns that
// event. It fails when the body is not a JSON object, names an event x-webhooks does not
// describe, does not match the schema, carries a property the schema does not declare (so
// that a field added to a payload without the contract fails too), or says piiMasked while its
// data is not masked (or the reverse).
func (s *Schemas) Validate(body []byte) (string, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("not JSON: %w", err)
	}
	return s.ValidateValue(v)
}

// ValidateValue is Validate for a decoded body (an example of the contract).
func (s *Schemas) ValidateValue(v any) (string, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return "", errors.New("not a JSON object")
	}
	event, _ := obj["event"].(string)
	sch := s.ByEvent[event]
	if sch == nil {
		return event, fmt.Errorf("event %q is not described in x-webhooks", event)
	}
	if err := sch.Value.VisitJSON(v, validationOpts...); err != nil {
		return event, fmt.Errorf("%s does not match %s: %w", event, s.Refs[event], err)
	}
	var extra []string
	undeclared(sch, v, "", &extra)
	if len(extra) > 0 {
		sort.Strings(extra)
		return event, fmt.Errorf("%s carries properties %s does not declare: %s", event, s.Refs[event], strings.Join(extra, ", "))
	}
	if m, ok := obj["piiMasked"].(bool); ok {
		if looks := s.masked.Value.VisitJSON(obj["data"], validationOpts...) == nil; looks != m {
			return event, fmt.Errorf("%s has piiMasked %v but its data is %s", event, m, map[bool]string{true: "masked", false: "not masked"}[looks])
		}
	}
	return event, nil
}

// undeclared appends the path of every object property in v that sch (through allOf, and the
// oneOf or anyOf branch v matches) does not declare, unless the schema allows other properties.
func undeclared(sch *openapi3.SchemaRef, v any, path string, out *[]string) {
	if sch == nil || sch.Value == nil {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.SchemaRef{}
		open := false
		collect(sch.Value, x, props, &open)
		for k, e := range x {
			p, ok := props[k]
			if !ok {
				if !open {
					*out = append(*out, path+"."+k)
				}
				continue
			}
			undeclared(p, e, path+"."+k, out)
		}
	case []any:
		items := itemsOf(sch.Value, x)
		for i, e := range x {
			undeclared(items, e, fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

func collect(s *openapi3.Schema, v any, props map[string]*openapi3.SchemaRef, open *bool) {
	for _, m := range s.AllOf {
		if m.Value != nil {
			collect(m.Value, v, props, open)
		}
	}
	for _, branches := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		for _, b := range branches {
			if b.Value != nil && b.Value.VisitJSON(v, validationOpts...) == nil {
				collect(b.Value, v, props, open)
				break
			}
		}
	}
	for k, p := range s.Properties {
		if _, seen := props[k]; !seen {
			props[k] = p
		}
	}
	if ap := s.AdditionalProperties; (ap.Has != nil && *ap.Has) || ap.Schema != nil {
		*open = true
	}
}

func itemsOf(s *openapi3.Schema, v any) *openapi3.SchemaRef {
	if s.Items != nil {
		return s.Items
	}
	for _, m := range s.AllOf {
		if m.Value != nil {
			if it := itemsOf(m.Value, v); it != nil {
				return it
			}
		}
	}
	return nil
}

// checkHeaders compares the delivery headers with the body: the event header names the body's
// event, the event id header its eventId (test deliveries have none in the body), and the
// signature header parses.
func checkHeaders(h http.Header, body []byte) error {
	var env struct {
		Event   string `json:"event"`
		EventID string `json:"eventId"`
	}
	_ = json.Unmarshal(body, &env)
	if got := h.Get(webhookverify.EventHeader); got != env.Event {
		return fmt.Errorf("%s is %q, the body's event %q", webhookverify.EventHeader, got, env.Event)
	}
	if got := h.Get(webhookverify.EventIDHeader); env.EventID != "" && got != env.EventID {
		return fmt.Errorf("%s is %q, the body's eventId %q", webhookverify.EventIDHeader, got, env.EventID)
	}
	if !strings.HasPrefix(h.Get(webhookverify.SignatureHeader), "t=") {
		return fmt.Errorf("%s is %q", webhookverify.SignatureHeader, h.Get(webhookverify.SignatureHeader))
	}
	return nil
}

// tally counts what the receivers of this process validated, for the summary line.
var tally struct {
	mu    sync.Mutex
	n     int
	kinds map[string]int
}

func count(event string) {
	tally.mu.Lock()
	defer tally.mu.Unlock()
	if tally.kinds == nil {
		tally.kinds = map[string]int{}
	}
	tally.n++
	tally.kinds[event]++
}

// PrintSummary prints the "webhook-payloads:" summary line of the deliveries this process's
// receivers validated (nothing when there were none). TestMain calls it after the tests.
func PrintSummary() {
	tally.mu.Lock()
	defer tally.mu.Unlock()
	if tally.n == 0 {
		return
	}
	testsummary.Printf("webhook-payloads: %d deliveries of %d event kinds validated against their schemas (%s tests)",
		tally.n, len(tally.kinds), strings.TrimSuffix(filepath.Base(os.Args[0]), ".test"))
}
