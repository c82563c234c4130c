// Command postmangen writes our own Postman collection (v2.1) and its environment from the
// contract: a walk of every operation of api-reference/openapi.yml, in the order of the
// workflows (walk.go), with each request's expected status and the JSON Schema of its response
// (converted from the contract) embedded in its test script, and ids chained between requests
// through environment variables. `make generate` runs it; the output is committed and the same
// for the same contract, byte for byte.
//
//	go run ./internal/tools/postmangen -spec api-reference/openapi.yml -out postman
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	specPath := flag.String("spec", "api-reference/openapi.yml", "the contract")
	out := flag.String("out", "postman", "directory the collection and environment are written to")
	flag.Parse()
	spec, err := LoadSpec(*specPath)
	if err != nil {
		log.Fatal(err)
	}
	col, env, err := Build(spec)
	if err != nil {
		log.Fatal(err)
	}
	if missing := Missing(spec); len(missing) > 0 {
		// Not fatal, so that `make generate` still works while a new operation waits for its
		// step; the package's test and `make newman` fail until the walk covers it.
		fmt.Fprintf(os.Stderr, "postmangen: warning: %d operations of the contract are not walked: %s\n", len(missing), strings.Join(missing, ", "))
	}
	for name, v := range map[string]any{"collection.json": col, "environment.json": env} {
		b, err := Marshal(v)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	n, reqs := 0, 0
	for _, f := range Walk() {
		reqs += len(f.Steps)
		n++
	}
	fmt.Printf("postmangen: %d operations, %d requests in %d folders\n", len(spec.Order)-len(Missing(spec)), reqs, n)
}

// Marshal encodes v as indented JSON with a final newline, without HTML escaping (scripts hold
// "<" and "&").
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Missing lists the operations of the contract no step of the walk sends.
func Missing(spec *Spec) []string {
	walked := map[string]bool{}
	for _, f := range Walk() {
		for _, s := range f.Steps {
			walked[s.Op] = true
		}
	}
	var out []string
	for _, id := range spec.Order {
		if !walked[id] {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// The Postman collection format v2.1, as much of it as we write.
type (
	collection struct {
		Info     info       `json:"info"`
		Auth     *auth      `json:"auth,omitempty"`
		Event    []event    `json:"event,omitempty"`
		Item     []folder   `json:"item"`
		Variable []variable `json:"variable"`
	}
	info struct {
		PostmanID   string `json:"_postman_id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Schema      string `json:"schema"`
	}
	folder struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
		Item        []item `json:"item"`
	}
	item struct {
		Name    string  `json:"name"`
		Event   []event `json:"event,omitempty"`
		Request request `json:"request"`
	}
	event struct {
		Listen string `json:"listen"`
		Script script `json:"script"`
	}
	script struct {
		Type string   `json:"type"`
		Exec []string `json:"exec"`
	}
	request struct {
		Auth        *auth  `json:"auth,omitempty"`
		Method      string `json:"method"`
		Header      []kv   `json:"header"`
		Body        *body  `json:"body,omitempty"`
		URL         url    `json:"url"`
		Description string `json:"description,omitempty"`
	}
	auth struct {
		Type   string `json:"type"`
		APIKey []kv   `json:"apikey,omitempty"`
		Bearer []kv   `json:"bearer,omitempty"`
	}
	kv struct {
		Key   string `json:"key"`
		Value string `json:"value"`
		Type  string `json:"type,omitempty"`
	}
	body struct {
		Mode     string      `json:"mode"`
		Raw      string      `json:"raw,omitempty"`
		FormData []formPart  `json:"formdata,omitempty"`
		Options  *rawOptions `json:"options,omitempty"`
	}
	formPart struct {
		Key  string `json:"key"`
		Type string `json:"type"`
		Src  string `json:"src"`
	}
	rawOptions struct {
		Raw struct {
			Language string `json:"language"`
		} `json:"raw"`
	}
	url struct {
		Raw   string   `json:"raw"`
		Host  []string `json:"host"`
		Path  []string `json:"path"`
		Query []kv     `json:"query,omitempty"`
	}
	variable struct {
		Key         string `json:"key"`
		Value       string `json:"value"`
		Type        string `json:"type,omitempty"`
		Description string `json:"description,omitempty"`
	}
	environment struct {
		ID     string     `json:"id"`
		Name   string     `json:"name"`
		Values []envValue `json:"values"`
		Scope  string     `json:"_postman_variable_scope"`
	}
	envValue struct {
		Key     string `json:"key"`
		Value   string `json:"value"`
		Type    string `json:"type"`
		Enabled bool   `json:"enabled"`
	}
)

// Build returns the collection and the environment for spec.
func Build(spec *Spec) (any, any, error) {
	col := collection{
		Info: info{
			PostmanID:   "6f1d3c52-2b8e-4c0a-9d7e-3c0000000001",
			Name:        "CaseXchange API: a walk of every operation",
			Description: collectionDescription,
			Schema:      "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
		},
		Auth: &auth{Type: "noauth"},
	}
	for _, f := range Walk() {
		fo := folder{Name: f.Name, Description: f.Description}
		for _, s := range f.Steps {
			it, err := buildItem(spec, s)
			if err != nil {
				return nil, nil, fmt.Errorf("%s / %s: %w", f.Name, s.Name, err)
			}
			fo.Item = append(fo.Item, it)
		}
		col.Item = append(col.Item, fo)
	}
	env := environment{ID: "6f1d3c52-2b8e-4c0a-9d7e-3c0000000002", Name: "CaseXchange demo server", Scope: "environment"}
	for _, v := range Inputs {
		typ := "default"
		if strings.Contains(strings.ToLower(v.Key), "password") {
			typ = "secret"
		}
		env.Values = append(env.Values, envValue{Key: v.Key, Value: v.Value, Type: typ, Enabled: true})
	}
	col.Variable = []variable{}
	return col, env, nil
}

func buildItem(spec *Spec, s Step) (item, error) {
	op, ok := spec.Ops[s.Op]
	if !ok {
		return item{}, fmt.Errorf("operation %q is not in the contract", s.Op)
	}
	name := s.Name
	if name == "" {
		name = op.Summary
	}
	it := item{Name: name}
	// URL: path parameters from the step, in the path's order.
	segs := []string{}
	for _, seg := range strings.Split(strings.TrimPrefix(op.Path, "/"), "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			p := seg[1 : len(seg)-1]
			v, ok := s.Path[p]
			if !ok {
				return item{}, fmt.Errorf("path parameter %s has no value", p)
			}
			seg = v
		}
		segs = append(segs, seg)
	}
	for p := range s.Path {
		if !strings.Contains(op.Path, "{"+p+"}") {
			return item{}, fmt.Errorf("%s has no path parameter %s", op.Path, p)
		}
	}
	u := url{Host: []string{"{{baseUrl}}"}, Path: segs}
	u.Raw = "{{baseUrl}}/" + strings.Join(segs, "/")
	if len(s.Query) > 0 {
		qs := []string{}
		for _, q := range s.Query {
			u.Query = append(u.Query, kv{Key: q[0], Value: q[1]})
			qs = append(qs, q[0]+"="+q[1])
		}
		u.Raw += "?" + strings.Join(qs, "&")
	}
	desc := fmt.Sprintf("Operation `%s`: %s %s.", op.ID, op.Method, op.Path)
	if s.Note != "" {
		desc += " " + s.Note
	}
	req := request{Method: op.Method, Header: []kv{}, URL: u, Description: desc}
	switch op.Security {
	case "apiKeyAuth":
		key := "{{apiKey}}"
		if s.As == Receiver {
			key = "{{partnerApiKey}}"
		}
		req.Auth = &auth{Type: "apikey", APIKey: []kv{{Key: "key", Value: "X-API-Key", Type: "string"}, {Key: "value", Value: key, Type: "string"}, {Key: "in", Value: "header", Type: "string"}}}
	case "bearerAuth":
		tok := "{{accessToken}}"
		if s.As == Receiver {
			tok = "{{partnerAccessToken}}"
		}
		if s.Token != "" {
			tok = "{{" + s.Token + "}}"
		}
		req.Auth = &auth{Type: "bearer", Bearer: []kv{{Key: "token", Value: tok, Type: "string"}}}
	case "":
		req.Auth = &auth{Type: "noauth"}
	default:
		return item{}, fmt.Errorf("unsupported security scheme %s", op.Security)
	}
	switch {
	case s.File != "":
		req.Body = &body{Mode: "formdata", FormData: []formPart{{Key: "file", Type: "file", Src: "files/" + s.File}}}
	case s.Body != nil:
		raw, err := json.MarshalIndent(s.Body, "", "  ")
		if err != nil {
			return item{}, err
		}
		req.Header = append(req.Header, kv{Key: "Content-Type", Value: "application/json"})
		ro := &rawOptions{}
		ro.Raw.Language = "json"
		req.Body = &body{Mode: "raw", Raw: string(raw), Options: ro}
	}
	it.Request = req

	// Expected status: the step's, or the contract's single success code.
	codes := op.SuccessCodes()
	statuses := s.Status
	if len(statuses) == 0 {
		if len(codes) != 1 {
			return item{}, fmt.Errorf("%s declares %d success codes; the step must name the expected ones", op.ID, len(codes))
		}
		n, _ := strconv.Atoi(codes[0])
		statuses = []int{n}
	}
	tests := []string{}
	if len(statuses) == 1 {
		tests = append(tests, fmt.Sprintf("pm.test(%q, function () {", fmt.Sprintf("%s answers %d", op.ID, statuses[0])),
			fmt.Sprintf("  pm.response.to.have.status(%d);", statuses[0]), "});")
	} else {
		strs := make([]string, len(statuses))
		for i, c := range statuses {
			strs[i] = strconv.Itoa(c)
		}
		tests = append(tests, fmt.Sprintf("pm.test(%q, function () {", fmt.Sprintf("%s answers %s", op.ID, strings.Join(strs, " or "))),
			fmt.Sprintf("  pm.expect(pm.response.code).to.be.oneOf([%s]);", strings.Join(strs, ", ")), "});")
	}
	// One schema per expected status, chosen by the status answered.
	jsonBody := false
	schemas := map[int]*Response{}
	for _, c := range statuses {
		r, err := spec.Response(op, strconv.Itoa(c))
		if err != nil {
			return item{}, err
		}
		schemas[c] = r
		if r.Schema != nil {
			jsonBody = true
		}
	}
	for _, c := range statuses {
		r := schemas[c]
		cond := ""
		if len(statuses) > 1 {
			cond = fmt.Sprintf("if (pm.response.code === %d) ", c)
		}
		switch {
		case r.Schema != nil:
			b, err := json.Marshal(r.Schema)
			if err != nil {
				return item{}, err
			}
			name := "the declared schema"
			if r.SchemaName != "" {
				name = r.SchemaName
			}
			tests = append(tests,
				cond+"{",
				fmt.Sprintf("  const schema%d = %s;", c, b),
				fmt.Sprintf("  pm.test(%q, function () {", fmt.Sprintf("%d body is JSON matching %s", c, name)),
				"    pm.response.to.have.header('Content-Type');",
				"    pm.expect(pm.response.headers.get('Content-Type')).to.include('application/json');",
				fmt.Sprintf("    pm.response.to.have.jsonSchema(schema%d);", c),
				"  });",
				"}")
		case len(r.ContentTypes) > 0 && r.ContentTypes[0] != "*/*":
			list, _ := json.Marshal(r.ContentTypes)
			tests = append(tests,
				cond+fmt.Sprintf("pm.test(%q, function () {", fmt.Sprintf("%d body has a declared content type", c)),
				"  const ct = (pm.response.headers.get('Content-Type') || '').split(';')[0].trim();",
				fmt.Sprintf("  pm.expect(%s).to.include(ct);", list),
				"  pm.expect(pm.response.responseSize).to.be.above(0);",
				"});")
		case len(r.ContentTypes) == 0:
			tests = append(tests,
				cond+fmt.Sprintf("pm.test(%q, function () {", fmt.Sprintf("%d has no body", c)),
				"  pm.expect(pm.response.text()).to.eql('');",
				"});")
		default:
			tests = append(tests,
				cond+fmt.Sprintf("pm.test(%q, function () {", fmt.Sprintf("%d has a body", c)),
				"  pm.expect(pm.response.responseSize).to.be.above(0);",
				"});")
		}
	}
	if len(s.Save) > 0 || len(s.Check) > 0 {
		if !jsonBody {
			return item{}, fmt.Errorf("%s: saves and checks need a JSON response", op.ID)
		}
		var names []string
		for _, sv := range s.Save {
			names = append(names, sv[0])
		}
		title := "the answer is as the walk expects"
		if len(names) > 0 {
			title = "stores " + strings.Join(names, ", ")
		}
		tests = append(tests, fmt.Sprintf("pm.test(%q, function () {", title), "  const json = pm.response.json();")
		for _, c := range s.Check {
			tests = append(tests, "  "+c)
		}
		for _, sv := range s.Save {
			tests = append(tests,
				fmt.Sprintf("  const %s = %s;", jsVar(sv[0]), sv[1]),
				fmt.Sprintf("  pm.expect(%s, %q).to.not.be.oneOf([undefined, null, '']);", jsVar(sv[0]), sv[0]),
				fmt.Sprintf("  pm.environment.set(%q, String(%s));", sv[0], jsVar(sv[0])))
		}
		tests = append(tests, "});")
	}
	it.Event = append(it.Event, event{Listen: "test", Script: script{Type: "text/javascript", Exec: tests}})
	if len(s.Pre) > 0 {
		it.Event = append([]event{{Listen: "prerequest", Script: script{Type: "text/javascript", Exec: s.Pre}}}, it.Event...)
	}
	return it, nil
}

func jsVar(name string) string { return "v_" + strings.NewReplacer(".", "_", "-", "_").Replace(name) }
