// Command portalspec writes the copy of the contract that the portal's API reference is rendered
// from: the contract with each operation's access tier (x-access-tier, or the Internal API's
// session) stated at the top of its description, so that the rendered reference shows it, and
// with the examples recorded by make examples (api-reference/examples.json) added to the request
// bodies and success responses that the contract gives no example of. The contract itself is not
// changed.
//
//	go run ./internal/tools/portalspec [-examples api-reference/examples.json] api-reference/openapi.yml > /tmp/portal-spec.yml
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/casexchange/server/internal/tools/examplegen/examples"
)

var methods = map[string]bool{"get": true, "put": true, "post": true, "patch": true, "delete": true, "head": true, "options": true}

func main() {
	exFile := flag.String("examples", "", "examples to add where the contract has none (api-reference/examples.json)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: portalspec [-examples FILE] SPEC.yml > OUT.yml")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	var ex examples.File
	if *exFile != "" {
		var err error
		if ex, err = examples.Load(*exFile, true); err != nil {
			log.Fatal(err)
		}
	}
	raw, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		log.Fatal(err)
	}
	root := doc.Content[0]
	paths := get(root, "paths")
	n, reqEx, respEx := 0, 0, 0
	for i := 0; i+1 < len(paths.Content); i += 2 {
		path, item := paths.Content[i].Value, paths.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			if !methods[item.Content[j].Value] {
				continue
			}
			op := item.Content[j+1]
			badge := tierNote(path, op)
			desc := get(op, "description")
			if desc == nil {
				op.Content = append(op.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "description"}, &yaml.Node{Kind: yaml.ScalarNode, Value: badge})
			} else {
				desc.Value = badge + "\n\n" + desc.Value
				desc.Style = yaml.LiteralStyle
			}
			n++
			if id := get(op, "operationId"); id != nil {
				if e, ok := ex.Operations[id.Value]; ok {
					r, s := addExamples(root, op, path, e)
					reqEx += r
					respEx += s
				}
			}
		}
	}
	enc := yaml.NewEncoder(os.Stdout)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "portalspec: %d operations annotated with their tier\n", n)
	if *exFile != "" {
		fmt.Fprintf(os.Stderr, "portalspec: recorded examples added to %d request bodies and %d success responses\n", reqEx, respEx)
	}
}

func tierNote(path string, op *yaml.Node) string {
	if t := get(op, "x-access-tier"); t != nil {
		return fmt.Sprintf("**Access tier: `%s`** (`X-API-Key` of tier `%s` or above; a lower tier gets `403 insufficient_tier`).", t.Value, t.Value)
	}
	if sec := get(op, "security"); sec != nil && len(sec.Content) == 0 {
		return "**Access: anonymous** (no credentials needed)."
	}
	if strings.HasPrefix(path, "/api/v1/") {
		return "**Access: signed-in session** (Internal API: a JWT access token as `Authorization: Bearer` or the `auth_token` cookie)."
	}
	return "**Access: see Authorization below.**"
}

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
