// Command refprefix prints a copy of an OpenAPI document whose paths are prefixed with a base
// path and whose servers are reset to "/", so a spec with relative paths can be compared with
// ours (absolute paths) by oasdiff. Usage: refprefix SPEC PREFIX
package main

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: refprefix SPEC PREFIX")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "paths":
			m := root.Content[i+1]
			for j := 0; j+1 < len(m.Content); j += 2 {
				m.Content[j].Value = os.Args[2] + m.Content[j].Value
			}
		case "servers":
			root.Content[i+1] = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{
				Kind: yaml.MappingNode, Content: []*yaml.Node{
					{Kind: yaml.ScalarNode, Value: "url"}, {Kind: yaml.ScalarNode, Value: "/"},
				},
			}}}
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := os.Stdout.Write(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
