// Command examplegen turns one recorded walk of our Postman collection on a fresh demo server
// into the examples of the API reference (api-reference/examples.json), and checks that file
// against the contract.
//
//	examplegen build -spec api-reference/openapi.yml -in recording.json -out api-reference/examples.json
//	examplegen check -spec api-reference/openapi.yml -examples api-reference/examples.json
//
// build reads the file that `node scripts/newman-run.js --record FILE` writes (make examples runs
// both). For each operation it takes the walk's first successful exchange: the request body
// when it is JSON, and for each success status the walk got, the response body (JSON up to 32 KB with
// every list cut to its first 3 items, or text up to 4 KB). Secrets are replaced by placeholders (redact.go); ids, names and timestamps stay
// as that run made them. What is not recorded is listed under the operation's "skipped".
//
// check validates every request example against its operation's request schema and every
// response example against its response schema, fails on a secret left unredacted, and prints
// one line "examples: ...".
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/casexchange/server/internal/tools/examplegen/examples"
)

const about = "Recorded by `make examples`: one walk of postman/collection.json on a fresh demo server " +
	"(scripts/newman.sh). Ids, names and timestamps are that run's (the demo seed makes new ids on each " +
	"database), so use the ids your own calls return. API keys, tokens, secrets and passwords are " +
	"replaced by placeholders of x's or 0's (the demo users' published password is kept); the server address " +
	"is written as " + publicBaseURL + ". Lists in responses are cut to their first 3 items."

// maxText is the longest text body (CSV, YAML) published as an example, maxJSON the longest JSON
// body (after lists are cut to maxItems).
const (
	maxText  = 4096
	maxJSON  = 32 << 10
	maxItems = 3
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = runBuild(os.Args[2:])
	case "check":
		err = runCheck(os.Args[2:])
	default: // -h, --help and anything else
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "examplegen:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  examplegen build -spec SPEC -in RECORDING.json -out EXAMPLES.json
  examplegen check -spec SPEC -examples EXAMPLES.json
`)
	os.Exit(2)
}

// recording is what scripts/newman-run.js --record writes.
type recording struct {
	BaseURL   string     `json:"baseUrl"`
	Exchanges []exchange `json:"exchanges"`
}

type exchange struct {
	Name                string  `json:"name"`
	OperationID         string  `json:"operationId"`
	Method              string  `json:"method"`
	URL                 string  `json:"url"`
	RequestContentType  string  `json:"requestContentType"`
	RequestBodyMode     string  `json:"requestBodyMode"`
	RequestBody         *string `json:"requestBody"`
	Status              int     `json:"status"`
	ResponseContentType string  `json:"responseContentType"`
	ResponseBody        *string `json:"responseBody"`
}

// specOp is one operation of the contract.
type specOp struct {
	method, path string
	op           *openapi3.Operation
}

func loadSpec(path string) (*openapi3.T, map[string]specOp, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", path, err)
	}
	return doc, specOps(doc), nil
}

// specOps are the operations of doc by operationId.
func specOps(doc *openapi3.T) map[string]specOp {
	ops := map[string]specOp{}
	for p, item := range doc.Paths.Map() {
		for m, op := range item.Operations() {
			if op.OperationID != "" {
				ops[op.OperationID] = specOp{method: m, path: p, op: op}
			}
		}
	}
	return ops
}

func runBuild(args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	spec := fs.String("spec", "api-reference/openapi.yml", "the contract")
	in := fs.String("in", "", "the recording of scripts/newman-run.js --record")
	out := fs.String("out", "api-reference/examples.json", "the examples file to write")
	_ = fs.Parse(args)
	if *in == "" {
		return errors.New("build: -in is required")
	}
	_, ops, err := loadSpec(*spec)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	var rec recording
	if err := json.Unmarshal(raw, &rec); err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	f, notes := build(ops, rec)
	b, err := examples.Encode(f)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(os.Stderr, "examplegen: "+n)
	}
	req, resp := 0, 0
	for _, o := range f.Operations {
		if o.Request != nil {
			req++
		}
		if len(o.Responses) > 0 {
			resp++
		}
	}
	fmt.Printf("examplegen: %d exchanges, %d operations: %d with a request example, %d with a response example -> %s\n",
		len(rec.Exchanges), len(f.Operations), req, resp, *out)
	return nil
}

// build picks, redacts and files the examples of every operation of the contract.
func build(ops map[string]specOp, rec recording) (examples.File, []string) {
	f := examples.File{About: about, Operations: map[string]examples.Operation{}}
	var notes []string
	by := map[string][]exchange{}
	for _, e := range rec.Exchanges {
		if _, ok := ops[e.OperationID]; !ok {
			notes = append(notes, fmt.Sprintf("%q: operation %q is not in the contract, ignored", e.Name, e.OperationID))
			continue
		}
		by[e.OperationID] = append(by[e.OperationID], e)
	}
	for id, so := range ops {
		o := examples.Operation{Method: so.method, Path: so.path}
		var ok []exchange
		for _, e := range by[id] {
			if e.Status >= 200 && e.Status < 300 {
				ok = append(ok, e)
			}
		}
		if len(ok) == 0 {
			o.Skipped = append(o.Skipped, "the walk has no successful request of this operation")
			notes = append(notes, id+": no successful request in the recording")
			f.Operations[id] = o
			continue
		}
		first := ok[0]
		o.Method, o.Path = first.Method, publicPath(first.URL, rec.BaseURL, so.path)
		if rb := so.op.RequestBody; rb != nil && rb.Value != nil {
			req, skip := requestExample(rb.Value.Content, first, rec.BaseURL)
			o.Request = req
			if skip != "" {
				o.Skipped = append(o.Skipped, skip)
			}
		}
		seen := map[int]bool{}
		for _, e := range ok {
			if seen[e.Status] {
				continue
			}
			seen[e.Status] = true
			body, skip := responseExample(so.op, e, rec.BaseURL)
			if skip != "" {
				o.Skipped = append(o.Skipped, skip)
				continue
			}
			if o.Responses == nil {
				o.Responses = map[string]examples.Body{}
			}
			o.Responses[strconv.Itoa(e.Status)] = *body
		}
		f.Operations[id] = o
	}
	sort.Strings(notes)
	return f, notes
}

func requestExample(content openapi3.Content, e exchange, base string) (*examples.Body, string) {
	switch e.RequestBodyMode {
	case "formdata":
		return nil, "request: multipart/form-data (a file upload) is not recorded; see the schema"
	case "raw":
	default:
		return nil, "request: the walk sends no body"
	}
	ct := e.RequestContentType
	if ct == "" {
		ct = "application/json"
	}
	key := mediaKey(content, ct)
	if key == "" || !isJSON(key) || e.RequestBody == nil {
		return nil, "request: " + baseType(ct) + " is not recorded"
	}
	var v any
	if err := json.Unmarshal([]byte(*e.RequestBody), &v); err != nil {
		return nil, "request: the body sent is not JSON"
	}
	return &examples.Body{ContentType: key, Value: redact(v, "", base)}, ""
}

func responseExample(op *openapi3.Operation, e exchange, base string) (*examples.Body, string) {
	r := op.Responses.Status(e.Status)
	if r == nil || r.Value == nil {
		return nil, fmt.Sprintf("response %d: not declared by the contract", e.Status)
	}
	if e.ResponseBody == nil || *e.ResponseBody == "" {
		return nil, fmt.Sprintf("response %d: no body", e.Status)
	}
	ct := baseType(e.ResponseContentType)
	key := mediaKey(r.Value.Content, ct)
	if key == "" {
		return nil, fmt.Sprintf("response %d: %s is not a media type of the contract", e.Status, ct)
	}
	switch {
	case isJSON(ct):
		var v any
		if err := json.Unmarshal([]byte(*e.ResponseBody), &v); err != nil {
			return nil, fmt.Sprintf("response %d: the body is not JSON", e.Status)
		}
		v = cut(redact(v, "", base))
		if b, _ := json.Marshal(v); len(b) > maxJSON {
			return nil, fmt.Sprintf("response %d: %s of %d bytes, too long to show", e.Status, ct, len(b))
		}
		return &examples.Body{ContentType: key, Value: v}, ""
	case isText(ct):
		if len(*e.ResponseBody) > maxText {
			return nil, fmt.Sprintf("response %d: %s of %d bytes, too long to show", e.Status, ct, len(*e.ResponseBody))
		}
		return &examples.Body{ContentType: key, Value: redactString(*e.ResponseBody, base)}, ""
	}
	return nil, fmt.Sprintf("response %d: %s (binary) is not recorded", e.Status, ct)
}

// cut shortens every list of a response body to its first maxItems items.
func cut(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = cut(x)
		}
	case []any:
		if len(t) > maxItems {
			t = t[:maxItems]
		}
		for i, x := range t {
			t[i] = cut(x)
		}
		return t
	}
	return v
}

// publicPath is the path (and query) called, with tokens in path parameters named *token*
// replaced and the recording server's address removed.
func publicPath(raw, base, template string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return template
	}
	segs := strings.Split(u.EscapedPath(), "/")
	tmpl := strings.Split(template, "/")
	if len(segs) == len(tmpl) {
		for i, t := range tmpl {
			if strings.HasPrefix(t, "{") && strings.Contains(strings.ToLower(t), "token") {
				if r := redactString(segs[i], ""); r != segs[i] {
					segs[i] = r
				} else {
					segs[i] = xs(segs[i])
				}
			}
		}
	}
	p := strings.Join(segs, "/")
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return redactString(p, base)
}

func baseType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

func isJSON(ct string) bool {
	ct = baseType(ct)
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}

func isText(ct string) bool {
	ct = baseType(ct)
	return strings.HasPrefix(ct, "text/") || ct == "application/yaml" || ct == "application/x-yaml"
}

// mediaKey is the media type of content that ct (as sent or answered) belongs to, or "".
func mediaKey(content openapi3.Content, ct string) string {
	ct = baseType(ct)
	if _, ok := content[ct]; ok {
		return ct
	}
	keys := make([]string, 0, len(content))
	for k := range content {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "*/*" || (strings.HasSuffix(k, "/*") && strings.HasPrefix(ct, strings.TrimSuffix(k, "*"))) {
			return k
		}
	}
	return ""
}

var validationOpts = []openapi3.SchemaValidationOption{
	openapi3.MultiErrors(),
	openapi3.DisableSchemaErrorDetails(),
	openapi3.WithStringFormatValidator("uuid", openapi3.NewCallbackValidator(func(v string) error {
		_, err := uuid.Parse(v)
		return err
	})),
}

func runCheck(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	spec := fs.String("spec", "api-reference/openapi.yml", "the contract")
	file := fs.String("examples", "api-reference/examples.json", "the examples file")
	_ = fs.Parse(args)
	_, ops, err := loadSpec(*spec)
	if err != nil {
		return err
	}
	f, err := examples.Load(*file, false)
	if err != nil {
		return err
	}
	r := check(ops, f)
	for _, p := range r.problems {
		fmt.Println("FAILED " + p)
	}
	fmt.Println(r.summary())
	if len(r.problems) > 0 {
		return fmt.Errorf("%d problems in %s", len(r.problems), *file)
	}
	return nil
}

type report struct {
	withBody, withSuccessBody int // operations of the contract with a request body, with a success response body
	req, resp                 int // operations with a request example, with a response example
	bodies                    int // example bodies validated
	problems                  []string
}

func (r report) summary() string {
	verdict := "all valid against their schemas, no secret left"
	if len(r.problems) > 0 {
		verdict = fmt.Sprintf("%d failed", len(r.problems))
	}
	return fmt.Sprintf("examples: request examples for %d of %d operations with a body, response examples for %d of %d operations with a success body; %d bodies checked, %s",
		r.req, r.withBody, r.resp, r.withSuccessBody, r.bodies, verdict)
}

func check(ops map[string]specOp, f examples.File) report {
	var r report
	for _, so := range ops {
		if so.op.RequestBody != nil {
			r.withBody++
		}
		for code, resp := range so.op.Responses.Map() {
			if strings.HasPrefix(code, "2") && resp.Value != nil && len(resp.Value.Content) > 0 {
				r.withSuccessBody++
				break
			}
		}
	}
	ids := make([]string, 0, len(f.Operations))
	for id := range f.Operations {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		o := f.Operations[id]
		so, ok := ops[id]
		if !ok {
			r.problems = append(r.problems, id+": no such operation in the contract")
			continue
		}
		if o.Request != nil {
			r.req++
			var mt *openapi3.MediaType
			if so.op.RequestBody != nil && so.op.RequestBody.Value != nil {
				mt = so.op.RequestBody.Value.Content.Get(o.Request.ContentType)
			}
			r.validate(id+" request", mt, o.Request, openapi3.VisitAsRequest())
		}
		if len(o.Responses) > 0 {
			r.resp++
		}
		codes := make([]string, 0, len(o.Responses))
		for c := range o.Responses {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, c := range codes {
			b := o.Responses[c]
			var mt *openapi3.MediaType
			if resp := so.op.Responses.Value(c); resp != nil && resp.Value != nil {
				mt = resp.Value.Content.Get(b.ContentType)
			}
			r.validate(id+" response "+c, mt, &b, openapi3.VisitAsResponse())
		}
	}
	return r
}

func (r *report) validate(what string, mt *openapi3.MediaType, b *examples.Body, as openapi3.SchemaValidationOption) {
	r.bodies++
	if mt == nil {
		r.problems = append(r.problems, fmt.Sprintf("%s: the contract has no media type %s here", what, b.ContentType))
		return
	}
	if !redacted(b.Value) {
		r.problems = append(r.problems, what+": holds a secret that is not replaced by a placeholder")
	}
	if mt.Schema == nil || mt.Schema.Value == nil {
		return
	}
	if err := mt.Schema.Value.VisitJSON(b.Value, append([]openapi3.SchemaValidationOption{as}, validationOpts...)...); err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " | ")
		if len(msg) > 600 {
			msg = msg[:600] + "…"
		}
		r.problems = append(r.problems, what+": "+msg)
	}
}
