package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// methods are the HTTP methods an OpenAPI path item may hold, in the order operations are listed.
var methods = []string{"get", "put", "post", "patch", "delete"}

// Spec is the part of the contract the generator reads.
type Spec struct {
	doc map[string]any
	// Ops maps each operationId to its operation.
	Ops map[string]*Operation
	// Order lists the operationIds in the order of the document.
	Order []string
}

// Operation is one operation of the contract.
type Operation struct {
	ID, Method, Path, Summary string
	// Security is the name of the first security scheme the operation accepts ("" when anonymous).
	Security string
	raw      map[string]any
}

// LoadSpec reads the contract at path.
func LoadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &Spec{doc: doc, Ops: map[string]*Operation{}}
	paths, _ := doc["paths"].(map[string]any)
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, p := range keys {
		item, _ := paths[p].(map[string]any)
		for _, m := range methods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			id, _ := op["operationId"].(string)
			if id == "" {
				return nil, fmt.Errorf("%s %s has no operationId", strings.ToUpper(m), p)
			}
			o := &Operation{ID: id, Method: strings.ToUpper(m), Path: p, raw: op}
			o.Summary, _ = op["summary"].(string)
			o.Security = s.security(op)
			s.Ops[id] = o
			s.Order = append(s.Order, id)
		}
	}
	return s, nil
}

func (s *Spec) security(op map[string]any) string {
	sec, ok := op["security"].([]any)
	if !ok {
		sec, _ = s.doc["security"].([]any)
	}
	for _, req := range sec {
		m, _ := req.(map[string]any)
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		if len(names) > 0 {
			return names[0]
		}
	}
	return ""
}

// lookup resolves a local reference such as "#/components/responses/NotFound".
func (s *Spec) lookup(ref string) (map[string]any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("unsupported reference %q", ref)
	}
	var cur any = s.doc
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("reference %q does not resolve", ref)
		}
		cur = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("reference %q does not resolve", ref)
	}
	return m, nil
}

func (s *Spec) deref(m map[string]any) (map[string]any, error) {
	for i := 0; i < 10; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		var err error
		if m, err = s.lookup(ref); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("reference chain too long")
}

// SuccessCodes returns the operation's 2xx response codes, in ascending order.
func (o *Operation) SuccessCodes() []string {
	resp, _ := o.raw["responses"].(map[string]any)
	var out []string
	for c := range resp {
		if strings.HasPrefix(c, "2") {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// Response is what the contract says of one response of an operation.
type Response struct {
	// ContentTypes lists the declared media types (sorted).
	ContentTypes []string
	// Schema is the JSON Schema (draft 7, for the Ajv of the Postman sandbox) of the
	// application/json body, or nil.
	Schema map[string]any
	// SchemaName names the component the body refers to, if any.
	SchemaName string
}

// Response describes the response with status code of operation o.
func (s *Spec) Response(o *Operation, code string) (*Response, error) {
	resps, _ := o.raw["responses"].(map[string]any)
	r, ok := resps[code].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s declares no %s response", o.ID, code)
	}
	r, err := s.deref(r)
	if err != nil {
		return nil, err
	}
	out := &Response{}
	content, _ := r["content"].(map[string]any)
	for ct := range content {
		out.ContentTypes = append(out.ContentTypes, ct)
	}
	sort.Strings(out.ContentTypes)
	mt, ok := content["application/json"].(map[string]any)
	if !ok {
		return out, nil
	}
	schema, _ := mt["schema"].(map[string]any)
	if ref, ok := schema["$ref"].(string); ok {
		out.SchemaName = ref[strings.LastIndex(ref, "/")+1:]
	}
	conv := &converter{spec: s, defs: map[string]any{}}
	root, err := conv.convert(schema)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", o.ID, code, err)
	}
	rm, _ := root.(map[string]any)
	if rm == nil {
		rm = map[string]any{}
	}
	if len(conv.defs) > 0 {
		rm["definitions"] = conv.defs
	}
	out.Schema = rm
	return out, nil
}

// PathParams returns the names of the path parameters in the order of the path.
func (o *Operation) PathParams() []string {
	var out []string
	rest := o.Path
	for {
		i := strings.Index(rest, "{")
		if i < 0 {
			return out
		}
		j := strings.Index(rest[i:], "}")
		out = append(out, rest[i+1:i+j])
		rest = rest[i+j+1:]
	}
}

// converter turns OpenAPI 3.0 schemas into JSON Schema draft 7 as Ajv 6 (the validator of
// pm.response.to.have.jsonSchema) reads it: components become definitions, `nullable` becomes a
// null type, annotations are dropped and only the formats Ajv knows are kept.
type converter struct {
	spec *Spec
	defs map[string]any
}

// ajvFormats are the formats Ajv 6 validates; an unknown format would make it throw.
var ajvFormats = map[string]bool{
	"date": true, "time": true, "date-time": true, "uri": true, "uri-reference": true, "email": true,
	"hostname": true, "ipv4": true, "ipv6": true, "uuid": true,
}

// dropped are keywords that only annotate (or that Ajv would misread) and make the embedded
// schemas larger without checking anything.
var dropped = map[string]bool{
	"description": true, "example": true, "examples": true, "discriminator": true, "xml": true,
	"externalDocs": true, "deprecated": true, "readOnly": true, "writeOnly": true, "title": true,
	"nullable": true, "default": true,
}

func (c *converter) convert(v any) (any, error) {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			var err error
			if out[i], err = c.convert(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		return c.convertSchema(t)
	default:
		return v, nil
	}
}

func (c *converter) convertSchema(m map[string]any) (any, error) {
	if ref, ok := m["$ref"].(string); ok {
		const prefix = "#/components/schemas/"
		if !strings.HasPrefix(ref, prefix) {
			return nil, fmt.Errorf("unsupported schema reference %q", ref)
		}
		name := ref[len(prefix):]
		if _, seen := c.defs[name]; !seen {
			c.defs[name] = true // placeholder against cycles
			target, err := c.spec.lookup(ref)
			if err != nil {
				return nil, err
			}
			d, err := c.convertSchema(target)
			if err != nil {
				return nil, err
			}
			c.defs[name] = d
		}
		return map[string]any{"$ref": "#/definitions/" + name}, nil
	}
	out := map[string]any{}
	for k, v := range m {
		if dropped[k] || strings.HasPrefix(k, "x-") {
			continue
		}
		switch k {
		case "format":
			if f, _ := v.(string); ajvFormats[f] {
				out[k] = v
			}
		case "properties", "patternProperties":
			props, _ := v.(map[string]any)
			cp := map[string]any{}
			for name, ps := range props {
				cv, err := c.convert(ps)
				if err != nil {
					return nil, err
				}
				cp[name] = cv
			}
			out[k] = cp
		case "items", "additionalProperties", "not", "allOf", "oneOf", "anyOf":
			cv, err := c.convert(v)
			if err != nil {
				return nil, err
			}
			out[k] = cv
		default:
			out[k] = v
		}
	}
	if nullable, _ := m["nullable"].(bool); nullable {
		switch t := out["type"].(type) {
		case string:
			out["type"] = []any{t, "null"}
			if e, ok := out["enum"].([]any); ok {
				out["enum"] = append(append([]any{}, e...), nil)
			}
		default:
			return map[string]any{"anyOf": []any{out, map[string]any{"type": "null"}}}, nil
		}
	}
	return out, nil
}
