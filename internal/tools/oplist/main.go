// Command oplist lists every operation of the contract with its access tier. With -readme it
// rewrites the section of README.md between the oplist markers, so the README cannot drift from
// the spec (make verify fails when it does).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	readme := flag.String("readme", "", "README to update between <!-- oplist:begin --> and <!-- oplist:end -->")
	flag.Parse()
	spec, err := openapi3.NewLoader().LoadFromFile("api-reference/openapi.yml")
	if err != nil {
		log.Fatal(err)
	}
	type row struct{ method, path, op, tier string }
	var rows []row
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			tier, _ := op.Extensions["x-access-tier"].(string)
			if tier == "" {
				tier = "-"
			}
			rows = append(rows, row{method, path, op.OperationID, tier})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].path != rows[j].path {
			return rows[i].path < rows[j].path
		}
		return rows[i].method < rows[j].method
	})
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>%d operations</summary>\n\n| method | path | operationId | tier |\n|---|---|---|---|\n", len(rows))
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", r.method, r.path, r.op, r.tier)
	}
	b.WriteString("\n</details>\n")
	if *readme == "" {
		fmt.Print(b.String())
		return
	}
	raw, err := os.ReadFile(*readme)
	if err != nil {
		log.Fatal(err)
	}
	const begin, end = "<!-- oplist:begin -->", "<!-- oplist:end -->"
	s := string(raw)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		log.Fatalf("%s: markers %s ... %s not found", *readme, begin, end)
	}
	s = s[:i+len(begin)] + "\n" + b.String() + s[j:]
	if err := os.WriteFile(*readme, []byte(s), 0o644); err != nil {
		log.Fatal(err)
	}
}
