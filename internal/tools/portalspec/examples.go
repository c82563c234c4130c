package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/casexchange/server/internal/tools/examplegen/examples"
)

// exampleName is the key of a recorded example under a media type's examples.
const exampleName = "demo"

// addExamples puts the recorded examples of one operation on its request body and success
// responses, as `examples: {demo: ...}` of the recorded media type, wherever the contract has
// neither `example` nor `examples` there. A request body or response the operation takes by $ref
// is first copied into the operation, so that the shared component stays as written. It returns
// how many request bodies and responses got an example.
func addExamples(root, op *yaml.Node, path string, e examples.Operation) (req, resp int) {
	if e.Request != nil {
		if rb := inlineRef(root, op, "requestBody"); rb != nil {
			if addExample(get(rb, "content"), *e.Request, "Sent on the demo data", describe(path, e)) {
				req++
			}
		}
	}
	if len(e.Responses) == 0 {
		return req, resp
	}
	responses := get(op, "responses")
	codes := make([]string, 0, len(e.Responses))
	for c := range e.Responses {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		r := inlineRef(root, responses, c)
		if r == nil {
			continue
		}
		if addExample(get(r, "content"), e.Responses[c], "Answered on the demo data", describe(path, e)) {
			resp++
		}
	}
	return req, resp
}

// describe is the description of a recorded example: where it comes from, what in it is that
// run's, and the path as called when it holds ids.
func describe(path string, e examples.Operation) string {
	d := "Recorded by `make examples` on a fresh demo server: ids are that run's, secrets are placeholders " +
		"([about these examples](/docs/guides/responses#the-examples-in-the-reference))."
	if e.Path != path {
		d = "Called as `" + e.Method + " " + e.Path + "`. " + d
	}
	return d
}

// addExample adds one example under content's media type b.ContentType, unless that media type
// is missing or already has an example.
func addExample(content *yaml.Node, b examples.Body, summary, description string) bool {
	mt := get(content, b.ContentType)
	if mt == nil || mt.Kind != yaml.MappingNode || get(mt, "example") != nil || get(mt, "examples") != nil {
		return false
	}
	ex := mapping("summary", str(summary), "description", str(description), "value", valueNode(b.Value))
	mt.Content = append(mt.Content, key("examples"), mapping(exampleName, ex))
	return true
}

// inlineRef returns the value of m[k], first replacing a {$ref: '#/components/...'} there by a
// copy of what it points to.
func inlineRef(root, m *yaml.Node, k string) *yaml.Node {
	v := get(m, k)
	ref := get(v, "$ref")
	if ref == nil {
		return v
	}
	target := root
	for _, part := range strings.Split(strings.TrimPrefix(ref.Value, "#/"), "/") {
		target = get(target, part)
	}
	if target == nil {
		return nil
	}
	cp := deepCopy(target)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			m.Content[i+1] = cp
		}
	}
	return cp
}

func deepCopy(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = deepCopy(x)
	}
	return &c
}

func key(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
}

func mapping(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Content = append(m.Content, key(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return m
}

// valueNode is a decoded JSON value (numbers as json.Number) as YAML, object keys sorted.
func valueNode(v any) *yaml.Node {
	switch t := v.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t)}
	case string:
		return str(t)
	case []any:
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, x := range t {
			s.Content = append(s.Content, valueNode(x))
		}
		return s
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range keys {
			m.Content = append(m.Content, key(k), valueNode(t[k]))
		}
		return m
	}
	return str(fmt.Sprint(v))
}
