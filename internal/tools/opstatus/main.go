// Command opstatus lists every operation of the contract and whether the server builds it (a
// method defined on *httpapi.Server) or still answers 501 (the generated stub). With -readme it
// rewrites the section of README.md between the opstatus markers.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	readme := flag.String("readme", "", "README to update between <!-- opstatus:begin --> and <!-- opstatus:end -->")
	flag.Parse()
	built := builtMethods("internal/httpapi")
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromFile("api-reference/openapi.yml")
	if err != nil {
		log.Fatal(err)
	}
	type row struct{ method, path, op, tier string }
	var live, stub []row
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			tier, _ := op.Extensions["x-access-tier"].(string)
			r := row{method, path, op.OperationID, tier}
			if built[strings.ToUpper(op.OperationID[:1])+op.OperationID[1:]] {
				live = append(live, r)
			} else {
				stub = append(stub, r)
			}
		}
	}
	less := func(rs []row) func(i, j int) bool {
		return func(i, j int) bool {
			if rs[i].path != rs[j].path {
				return rs[i].path < rs[j].path
			}
			return rs[i].method < rs[j].method
		}
	}
	sort.Slice(live, less(live))
	sort.Slice(stub, less(stub))
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d operations are built; the other %d answer `501 not_implemented` with the error envelope.\n\n", len(live), len(live)+len(stub), len(stub))
	section := func(title string, rs []row) {
		if len(rs) == 0 {
			return
		}
		fmt.Fprintf(&b, "<details><summary>%s (%d)</summary>\n\n| method | path | operationId | tier |\n|---|---|---|---|\n", title, len(rs))
		for _, r := range rs {
			t := r.tier
			if t == "" {
				t = "-"
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", r.method, r.path, r.op, t)
		}
		b.WriteString("\n</details>\n")
	}
	section("Built", live)
	section("Not built yet (501)", stub)
	if *readme == "" {
		fmt.Print(b.String())
		return
	}
	raw, err := os.ReadFile(*readme)
	if err != nil {
		log.Fatal(err)
	}
	const begin, end = "<!-- opstatus:begin -->", "<!-- opstatus:end -->"
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

// builtMethods returns the names of methods defined on *Server outside generated files.
func builtMethods(dir string) map[string]bool {
	out := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, ".gen.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			log.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			if star, ok := fd.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok && id.Name == "Server" {
					out[fd.Name.Name] = true
				}
			}
		}
	}
	return out
}
