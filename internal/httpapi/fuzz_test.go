package httpapi_test

// Bad input: a generator driven by the embedded spec sends every operation
// requests that are wrong in one way each (wrong types, values outside bounds and enums, empty,
// huge, unicode and NUL strings, nulls for required fields, malformed and deeply nested JSON,
// wrong content types, bad page/limit, path ids that name nothing) with the owner's valid
// credentials and resources, so that whatever the validator lets through reaches the handlers
// with real data behind it. Every answer must be a 4xx error envelope (never a 5xx), and no
// request may change stored data: a checksum of the application tables is taken before and after
// each operation's batch.

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/testsummary"
)

// fzReq is one generated request.
type fzReq struct {
	what   string // what is wrong with it
	method string
	path   string
	opts   []apitest.Opt
	// strict: the request is invalid by the contract or a documented rule, so it must be refused
	// with a 4xx. Otherwise (odd but legal values of free-text query parameters) any non-5xx
	// answer will do, but it must still change nothing.
	strict bool
}

const fzMiB = 1 << 20

// fzBadIDs are path parameter values that name nothing: not UUIDs, reference numbers or
// external ids of any resource.
var fzBadIDs = []fzValue{
	{"not a uuid", "not-a-uuid"},
	{"nil uuid", "00000000-0000-0000-0000-000000000000"},
	{"negative", "-1"},
	{"huge number", "99999999999999999999999999"},
	{"SQL", "' OR '1'='1"},
	{"dot segments", "../../etc/passwd"},
	{"unicode", "ünïcødé-✓-🚀"},
	{"NUL byte", "a\x00b"},
	{"invalid UTF-8", "a\xff\xfeb"},
	{"4K characters", strings.Repeat("x", 4096)},
	{"unknown reference number", "CX-2026-999999"},
	{"percent sign", "%"},
}

// fzGen generates the requests of one operation.
type fzGen struct {
	w     *mxWorld
	op    mxOp
	base  mxTarget
	creds []apitest.Opt
	out   []fzReq
}

func (g *fzGen) add(what string, strict bool, method, path string, opts ...apitest.Opt) {
	all := append(append([]apitest.Opt{}, g.creds...), opts...)
	g.out = append(g.out, fzReq{what: what, method: method, path: path, opts: all, strict: strict})
}

// path builds the operation's path from params, with one parameter possibly replaced.
func (g *fzGen) path(params map[string]string) string {
	return mxParam.ReplaceAllStringFunc(g.op.path, func(s string) string {
		return url.PathEscape(params[s[1:len(s)-1]])
	})
}

func (g *fzGen) query(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func (g *fzGen) baseQuery() url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(g.base.query); i += 2 {
		q.Add(g.base.query[i], g.base.query[i+1])
	}
	return q
}

// baseBody returns the options carrying the operation's valid base body (nil for none).
func (g *fzGen) baseBody() []apitest.Opt {
	switch {
	case g.base.json != nil:
		return []apitest.Opt{apitest.Body("application/json", mxMust(json.Marshal(g.base.json)))}
	case g.base.form != nil:
		return []apitest.Opt{g.base.form(g.w).opt()}
	}
	return nil
}

func (g *fzGen) method() string { return strings.ToUpper(g.op.method) }

// params lists the operation's parameters (the contract declares none at the path level).
func (g *fzGen) params() []*openapi3.Parameter {
	var out []*openapi3.Parameter
	for _, p := range g.op.op.Parameters {
		out = append(out, p.Value)
	}
	return out
}

// generate builds every bad request of the operation.
func (g *fzGen) generate() {
	basePath := g.path(g.base.params)
	q := g.baseQuery()
	path := basePath + g.query(q)

	// Path parameters that name nothing; the others keep naming the owner's resources.
	for _, name := range slices.Sorted(maps.Keys(g.base.params)) {
		for _, bad := range fzBadIDs {
			p := map[string]string{}
			for k, v := range g.base.params {
				p[k] = v
			}
			p[name] = bad.v.(string)
			g.add(fmt.Sprintf("path %s: %s", name, bad.what), true, g.method(), g.path(p)+g.query(q), g.baseBody()...)
		}
	}

	for _, prm := range g.params() {
		switch prm.In {
		case openapi3.ParameterInQuery:
			g.queryParam(basePath, q, prm)
		case openapi3.ParameterInHeader:
			g.headerParam(path, prm)
		}
	}
	g.credentials(path)

	if rb := g.op.op.RequestBody; rb != nil && rb.Value != nil {
		for ct, mt := range rb.Value.Content {
			switch {
			case ct == "application/json":
				g.jsonBody(path, rb.Value.Required, mt.Schema.Value)
			case strings.HasPrefix(ct, "multipart/"):
				g.multipartBody(path)
			}
		}
	}
}

// queryParam sends bad values of one query parameter.
func (g *fzGen) queryParam(path string, base url.Values, prm *openapi3.Parameter) {
	send := func(what string, strict bool, v *string) {
		q := url.Values{}
		for k, vs := range base {
			q[k] = append([]string(nil), vs...)
		}
		if v == nil {
			q.Del(prm.Name)
		} else {
			q.Set(prm.Name, *v)
		}
		g.add(fmt.Sprintf("query %s: %s", prm.Name, what), strict, g.method(), path+g.query(q), g.baseBody()...)
	}
	val := func(s string) *string { return &s }
	if prm.Required {
		send("missing", true, nil)
	}
	s := prm.Schema.Value
	if s.Type.Is("array") && s.Items != nil {
		s = s.Items.Value
	}
	switch {
	case s.Type.Is("integer") || s.Type.Is("number"):
		send("not a number", true, val("abc"))
		send("too big for any integer", true, val("99999999999999999999999"))
		if s.Type.Is("integer") {
			send("fractional", true, val("1.5"))
		}
		for _, n := range []float64{-1, 0, math.MaxInt32 + 1, math.MaxInt64} {
			strict := (s.Min != nil && n < *s.Min) || (s.Max != nil && n > *s.Max)
			send(fmt.Sprintf("%.0f", n), strict, val(strconv.FormatFloat(n, 'f', -1, 64)))
		}
		if s.Max != nil {
			send("above maximum", true, val(strconv.FormatFloat(*s.Max+1, 'f', -1, 64)))
		}
	case s.Type.Is("boolean"):
		send("not a boolean", true, val("maybe"))
	case len(s.Enum) > 0:
		send("outside the enum", true, val("bogus_value"))
		send("unicode outside the enum", true, val("ünï🚀"))
		send("NUL byte", true, val("sent\x00"))
	case s.Format == "date" || s.Format == "date-time":
		send("impossible date", true, val("2024-13-45"))
		send("not a date", true, val("yesterday"))
		send("NUL byte", true, val("2024-01-01\x00"))
	case s.Format == "uuid":
		send("not a uuid", true, val("not-a-uuid"))
		send("NUL byte", true, val("\x00"))
	default:
		// Free text: odd values are legal; they must not break anything.
		long := strings.Repeat("é", 8<<10)
		send("8K characters", s.MaxLength != nil && *s.MaxLength < 8<<10, &long)
		send("NUL byte", false, val("a\x00b"))
		send("invalid UTF-8", false, val("a\xff\xfeb"))
		send("unicode", false, val("ünïcødé 🚀 \u202e"))
		send("LIKE wildcards", false, val(`%_\`))
		send("SQL", false, val("' OR 1=1 --"))
	}
}

// headerParam sends bad values of a declared header.
func (g *fzGen) headerParam(path string, prm *openapi3.Parameter) {
	switch prm.Name {
	case "Idempotency-Key":
		// The base request is valid: only the key is wrong, and it must be refused before any
		// effect.
		for what, v := range map[string]string{"non-ASCII": "ключ-🔑", "over 255 characters": strings.Repeat("k", 300), "control character": "a\tb"} {
			g.add("Idempotency-Key "+what, true, g.method(), path, append(g.baseBody(), apitest.Header(prm.Name, v))...)
		}
	case "If-None-Match":
		for what, v := range map[string]string{"8K of junk": strings.Repeat("\"junk\",", 1<<10), "weak star": `W/*`} {
			g.add("If-None-Match "+what, false, g.method(), path, apitest.Header(prm.Name, v))
		}
	}
}

// credentials sends broken credentials with an otherwise valid request.
func (g *fzGen) credentials(path string) {
	if g.op.anonymous {
		return
	}
	send := func(what string, o apitest.Opt) {
		g.out = append(g.out, fzReq{what: what, strict: true, method: g.method(), path: path, opts: append([]apitest.Opt{o}, g.baseBody()...)})
	}
	if g.op.public {
		send("X-API-Key unicode", apitest.APIKey("cxp_full_ключ🔑"))
		send("X-API-Key 8K", apitest.APIKey(strings.Repeat("cxp_full_", 1<<10)))
		return
	}
	send("Authorization unicode", apitest.Header("Authorization", "Bearer ключ🔑"))
	send("Authorization Basic", apitest.Header("Authorization", "Basic dXNlcjpwYXNz"))
	send("Authorization 8K", apitest.Bearer(strings.Repeat("e30.", 2<<10)))
	send("auth_token cookie junk", apitest.Cookie("auth_token", "eyJhbGciOiJub25lIn0.e30."))
}

// fzRawBody sends bytes with a content type ("" sends none).
func fzRawBody(contentType string, b []byte) apitest.Opt {
	return func(r *http.Request) {
		apitest.Body(contentType, b)(r)
		if contentType == "" {
			r.Header.Del("Content-Type")
		}
	}
}

// jsonBody sends whole-body and per-property mutations of a JSON body.
func (g *fzGen) jsonBody(path string, required bool, schema *openapi3.Schema) {
	send := func(what string, ct string, b []byte) {
		g.add("body: "+what, true, g.method(), path, fzRawBody(ct, b))
	}
	var base any = map[string]any{}
	if g.base.json != nil {
		base = g.base.json
	}
	baseJSON := mxMust(json.Marshal(base))

	send("malformed", "application/json", []byte(`{"title":`))
	send("trailing garbage", "application/json", append(append([]byte{}, baseJSON...), []byte(` {"x":1}`)...))
	send("byte order mark", "application/json", append([]byte("\xef\xbb\xbf"), baseJSON...))
	send("not UTF-8 at all", "application/json", []byte("\xff\xfe{}"))
	for _, top := range []string{`[]`, `"text"`, `42`, `null`, `true`} {
		send("top-level "+top, "application/json", []byte(top))
	}
	if required {
		send("empty", "application/json", nil)
	}
	send("arrays nested 100001 deep", "application/json", []byte(strings.Repeat("[", 100001)+strings.Repeat("]", 100001)))
	send("objects nested 20000 deep", "application/json", []byte(strings.Repeat(`{"a":`, 20000)+"1"+strings.Repeat("}", 20000)))
	send("3 MiB body", "application/json", []byte(`{"pad":"`+strings.Repeat("x", 3*fzMiB)+`"}`))
	for _, ct := range []string{"text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=zzz", ""} {
		send(fmt.Sprintf("content type %q", ct), ct, baseJSON)
	}
	send("content type text/plain and no body", "text/plain", nil)

	obj, ok := base.(map[string]any)
	if !ok || schema == nil {
		return
	}
	g.properties(path, "", obj, func(m map[string]any) map[string]any { return m }, schema)
}

// properties mutates each property of the object schema s found at prefix. wrap puts a mutated
// copy of the object back into a whole body.
func (g *fzGen) properties(path, prefix string, obj map[string]any, wrap func(map[string]any) map[string]any, s *openapi3.Schema) {
	s = fzFlatten(s)
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	set := func(name string, v any, del bool) []byte {
		cp := map[string]any{}
		for k, x := range obj {
			cp[k] = x
		}
		if del {
			delete(cp, name)
		} else {
			cp[name] = v
		}
		return mxMust(json.Marshal(wrap(cp)))
	}
	for _, name := range s.Required {
		g.add("body: "+prefix+name+" missing", true, g.method(), path, fzRawBody("application/json", set(name, nil, true)))
	}
	for _, name := range names {
		ps := fzFlatten(s.Properties[name].Value)
		field := prefix + name
		for _, m := range fzValueMutations(ps) {
			g.add(fmt.Sprintf("body: %s %s", field, m.what), true, g.method(), path, fzRawBody("application/json", set(name, m.v, false)))
		}
		// One level down: object properties and the first item of arrays of objects.
		switch {
		case ps.Type.Is("object") && len(ps.Properties) > 0 && prefix == "":
			inner, _ := obj[name].(map[string]any)
			if inner == nil {
				inner = fzExemplar(ps).(map[string]any)
			}
			g.properties(path, field+".", inner, func(m map[string]any) map[string]any {
				return wrap(fzMapWith(obj, name, m))
			}, ps)
		case ps.Type.Is("array") && ps.Items != nil && prefix == "":
			is := fzFlatten(ps.Items.Value)
			if is.Type.Is("object") && len(is.Properties) > 0 {
				item := fzExemplar(is).(map[string]any)
				g.properties(path, field+".0.", item, func(m map[string]any) map[string]any {
					return wrap(fzMapWith(obj, name, []any{m}))
				}, is)
			} else {
				for _, m := range fzValueMutations(is) {
					g.add(fmt.Sprintf("body: %s.0 %s", field, m.what), true, g.method(), path,
						fzRawBody("application/json", set(name, []any{m.v}, false)))
				}
			}
		}
	}
}

func fzMapWith(m map[string]any, k string, v any) map[string]any {
	cp := map[string]any{}
	for x, y := range m {
		cp[x] = y
	}
	cp[k] = v
	return cp
}

// fzFlatten merges allOf parts into one schema (the contract uses allOf only to compose objects).
func fzFlatten(s *openapi3.Schema) *openapi3.Schema {
	if s == nil || len(s.AllOf) == 0 {
		return s
	}
	out := *s
	out.Properties = openapi3.Schemas{}
	for k, v := range s.Properties {
		out.Properties[k] = v
	}
	for _, part := range s.AllOf {
		p := fzFlatten(part.Value)
		for k, v := range p.Properties {
			out.Properties[k] = v
		}
		out.Required = append(out.Required, p.Required...)
		if out.Type == nil {
			out.Type = p.Type
		}
	}
	return &out
}

// fzExemplar is a plausible valid value of a schema, used to hold a mutated nested property.
func fzExemplar(s *openapi3.Schema) any {
	s = fzFlatten(s)
	switch {
	case s == nil:
		return "x"
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Type.Is("object"):
		m := map[string]any{}
		for _, r := range s.Required {
			if p := s.Properties[r]; p != nil {
				m[r] = fzExemplar(p.Value)
			}
		}
		return m
	case s.Type.Is("array"):
		if s.Items == nil {
			return []any{}
		}
		return []any{fzExemplar(s.Items.Value)}
	case s.Type.Is("integer"), s.Type.Is("number"):
		if s.Min != nil {
			return math.Max(*s.Min, 1)
		}
		return 1
	case s.Type.Is("boolean"):
		return true
	}
	switch s.Format {
	case "uuid":
		return uuid.NewString()
	case "email":
		return "someone@example.test"
	case "date":
		return "2025-01-02"
	case "date-time":
		return "2025-01-02T03:04:05Z"
	}
	return "x"
}

type fzValue struct {
	what string
	v    any
}

// fzValueMutations are values the schema s refuses (or, for NUL bytes and 1 MiB strings in free
// text, that the server must refuse: PostgreSQL cannot store NUL, and no field is that long).
func fzValueMutations(s *openapi3.Schema) []fzValue {
	var out []fzValue
	if s == nil || s.Type == nil || s.Type.IsEmpty() {
		return nil // any value is allowed (e.g. a routing condition's value)
	}
	if !s.Nullable && s.Default == nil {
		// (null on a property with a default means the default, which is legal)
		out = append(out, fzValue{"null", nil})
	}
	switch {
	case s.Type.Is("string"):
		out = append(out, fzValue{"number for a string", 12345}, fzValue{"object for a string", map[string]any{"a": 1}},
			fzValue{"NUL byte", "a\x00b"}, fzValue{"1 MiB", strings.Repeat("x", fzMiB)})
		if s.MinLength > 0 || len(s.Enum) > 0 || slices.Contains([]string{"uuid", "email", "date", "date-time"}, s.Format) {
			out = append(out, fzValue{"empty", ""})
		}
		switch {
		case len(s.Enum) > 0:
			out = append(out, fzValue{"outside the enum", "ünï🚀"})
		case s.Format == "uuid":
			out = append(out, fzValue{"not a uuid", "1234"})
		case s.Format == "email":
			out = append(out, fzValue{"not an e-mail", "no-at-sign"})
		case s.Format == "date":
			out = append(out, fzValue{"impossible date", "2024-02-30"})
		case s.Format == "date-time":
			out = append(out, fzValue{"not a timestamp", "tomorrow"})
		case s.Format == "uri":
			out = append(out, fzValue{"not a URI", "not a uri"})
		}
	case s.Type.Is("integer"), s.Type.Is("number"):
		out = append(out, fzValue{"string for a number", "7"}, fzValue{"boolean for a number", true}, fzValue{"1e300", 1e300})
		if s.Type.Is("integer") {
			out = append(out, fzValue{"fractional", 1.5})
		}
		if s.Min != nil {
			out = append(out, fzValue{"below minimum", *s.Min - 1})
		}
		if s.Max != nil {
			out = append(out, fzValue{"above maximum", *s.Max + 1})
		}
	case s.Type.Is("boolean"):
		out = append(out, fzValue{"string for a boolean", "true"}, fzValue{"number for a boolean", 1})
	case s.Type.Is("array"):
		out = append(out, fzValue{"object for an array", map[string]any{}}, fzValue{"string for an array", "x"})
		if s.MaxItems != nil {
			items := make([]any, *s.MaxItems+1)
			for i := range items {
				items[i] = fzExemplar(s.Items.Value)
			}
			out = append(out, fzValue{"too many items", items})
		}
	case s.Type.Is("object"):
		out = append(out, fzValue{"array for an object", []any{}}, fzValue{"string for an object", "x"})
	}
	return out
}

// multipartBody sends broken uploads.
func (g *fzGen) multipartBody(path string) {
	send := func(what string, o apitest.Opt) { g.add("multipart: "+what, true, g.method(), path, o) }
	file := func(name string, data []byte, fields ...string) apitest.Opt {
		return mxFile(g.w.h, "file", name, "application/octet-stream", data, fields...).opt()
	}
	send("JSON instead of a form", fzRawBody("application/json", []byte(`{"file":"x"}`)))
	send("no boundary", fzRawBody("multipart/form-data", []byte("--x\r\n\r\n--x--\r\n")))
	send("boundary mismatch", fzRawBody("multipart/form-data; boundary=aaa", mxFile(g.w.h, "file", "a.pdf", "application/pdf", mxPDF).body))
	f := mxFile(g.w.h, "file", "a.pdf", "application/pdf", mxPDF)
	send("truncated", fzRawBody(f.contentType, f.body[:len(f.body)/2]))
	send("content type multipart/mixed", fzRawBody(strings.Replace(f.contentType, "form-data", "mixed", 1), f.body))
	send("content type text/plain", fzRawBody("text/plain", f.body))
	send("no content type", fzRawBody("", f.body))
	send("no file part", mxFile(g.w.h, "document", "a.pdf", "application/pdf", mxPDF).opt())
	send("empty file", file("empty.csv", nil))
	if strings.Contains(g.op.path, "/import/") {
		send("binary file", file("cases.csv", []byte("title,caseType\x00\x01\x02\n")))
		send("not UTF-8", file("cases.csv", []byte("title,caseType,jurisdiction,clientFirstName,clientLastName\n\xff\xfe,x,y,z,w\n")))
		send("header without the required columns", file("cases.csv", []byte("colour,size\nred,2\n")))
		send("broken CSV quoting", file("cases.csv", []byte("title,caseType,jurisdiction,clientFirstName,clientLastName,referenceNumber\n\"unterminated,x,WA,a,b,c\n")))
		send("zero byte in a cell", file("cases.csv", []byte("title,caseType,jurisdiction,clientFirstName,clientLastName\na\x00b,Personal Injury,WA,x,y\n")))
		return
	}
	// (Odd file names are not sent: the server sanitizes them by design and stores the file.)
	send("executable content", file("tool.exe", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 64)...)))
	send("isPublic not a boolean", file("a.pdf", mxPDF, "isPublic", "maybe"))
}

// fzTarget is the base request of an operation for the owner: the matrix fixture, with the real
// echo token (so that bodies reach the echo receiver).
func fzTarget(w *mxWorld, op mxOp) mxTarget {
	m := mxFixtures[op.id](w)
	switch op.id {
	case "receiveWebhookEcho":
		m.params = mxParams{"token": w.echoToken}
	case "downloadDocumentContent":
		m.params = mxParams{"token": w.downloadToken}
	}
	return m
}

// fzCredentials are the owner's: A's full key, A's admin session, or none.
func fzCredentials(w *mxWorld, op mxOp) []apitest.Opt {
	switch {
	case op.anonymous:
		return nil
	case op.internal:
		return []apitest.Opt{apitest.Bearer(w.aToken)}
	}
	return []apitest.Opt{apitest.APIKey(w.aKey[apitest.Full])}
}

// fzExcluded are tables that change on every request by design (counters, throttles, replay
// store, job queue), and columns that do.
var (
	fzExcluded = map[string]bool{
		"rate_limit_counters": true, "idempotency_keys": true, "api_key_usage_daily": true, "login_attempts": true,
		"password_reset_requests": true,
	}
	fzExcludedColumns = map[string][]string{
		"api_keys":      {"last_used_at", "request_count"},
		"auth_sessions": {"last_used_at"},
	}
)

// fzChecksum returns a checksum of every application table.
func fzChecksum(t testing.TB, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		if !fzExcluded[n] && !strings.HasPrefix(n, "river_") {
			tables = append(tables, n)
		}
	}
	require.NoError(t, rows.Err())
	out := map[string]string{}
	for _, tbl := range tables {
		cols := fzExcludedColumns[tbl]
		if cols == nil {
			cols = []string{}
		}
		var sum string
		err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(x, E'\n' ORDER BY x)), '')
			FROM (SELECT (to_jsonb(t) - $1::text[])::text AS x FROM %q t) s`, tbl), cols).Scan(&sum)
		require.NoError(t, err, tbl)
		out[tbl] = sum
	}
	return out
}

// fzKnown are server bugs the generator found that are reported and not fixed yet. Their
// requests are skipped (when they would change data) or their answers tolerated (a 5xx) so that
// the rest of the suite stays green; CX_FUZZ_KNOWN=1 runs them strictly, to check a fix. Delete
// an entry once its bug is fixed. The first matching entry applies.
var fzKnown = []struct {
	name  string
	skip  bool // sending it changes stored data
	match func(op string, rq fzReq) bool
}{
	// (None open. Fixed at the edge by contentTypeMiddleware: an upload sent as
	// multipart/mixed, and PUT /network/outbound/{firmId} sent a form body that the binder
	// dropped, wiping the settings; TestMiddlewareContentType and testdata/fuzz/FuzzRequest
	// keep them fixed.)
}

func fzKnownBug(op string, rq fzReq) (name string, skip bool) {
	for _, k := range fzKnown {
		if k.match(op, rq) {
			return k.name, k.skip
		}
	}
	return "", false
}

// TestFuzz sends the generated bad requests.
func TestFuzz(t *testing.T) {
	t.Parallel()
	start := time.Now()
	strictKnown := os.Getenv("CX_FUZZ_KNOWN") != ""
	ops := mxSpecOps(t)
	w := newMxWorld(t)
	h := w.h

	type failure struct{ op, what, detail string }
	var (
		mu        sync.Mutex
		failures  []failure
		requests  int
		fives     int
		changedOp []string
		skipped   = map[string]int{}
		tolerated = map[string][]string{}
	)
	before := fzChecksum(t, h.Pool)
	for _, op := range ops {
		if _, ok := mxFixtures[op.id]; !ok {
			t.Fatalf("%s has no fixture (see TestMatrix)", op.id)
		}
		g := &fzGen{w: w, op: op, base: fzTarget(w, op), creds: fzCredentials(w, op)}
		g.generate()

		// Four at a time: the server is the bottleneck, not the client.
		sem := make(chan struct{}, 4)
		var wg sync.WaitGroup
		for _, rq := range g.out {
			known, skip := fzKnownBug(op.id, rq)
			if strictKnown {
				known, skip = "", false
			}
			if skip {
				skipped[known]++
				continue
			}
			sem <- struct{}{}
			wg.Add(1)
			go func(rq fzReq) {
				defer func() { <-sem; wg.Done() }()
				r := h.Do(rq.method, rq.path, rq.opts...)
				mu.Lock()
				defer mu.Unlock()
				requests++
				bad := ""
				switch {
				case r.StatusCode >= 500:
					bad = "a 5xx"
				case rq.strict && (r.StatusCode < 400 || r.StatusCode > 499):
					bad = "not a 4xx"
				}
				if bad == "" {
					return
				}
				detail := fmt.Sprintf("%s: %s %.200q -> %d %.300s", bad, rq.method, rq.path, r.StatusCode, r.Body)
				if known != "" {
					tolerated[known] = append(tolerated[known], op.id+": "+rq.what+": "+detail)
					return
				}
				if r.StatusCode >= 500 {
					fives++
				}
				failures = append(failures, failure{op.id, rq.what, detail})
			}(rq)
		}
		wg.Wait()

		after := fzChecksum(t, h.Pool)
		var tables []string
		for tbl, sum := range after {
			if before[tbl] != sum {
				tables = append(tables, tbl)
			}
		}
		if len(tables) > 0 {
			sort.Strings(tables)
			changedOp = append(changedOp, op.id)
			t.Errorf("%s: bad requests changed stored data in %v", op.id, tables)
		}
		before = after
	}

	sort.Slice(failures, func(i, j int) bool {
		if failures[i].op != failures[j].op {
			return failures[i].op < failures[j].op
		}
		return failures[i].what < failures[j].what
	})
	for _, f := range failures {
		t.Errorf("%s: %s: %s", f.op, f.what, f.detail)
	}
	nTolerated, nSkipped := 0, 0
	for _, k := range fzKnown {
		if n := len(tolerated[k.name]); n > 0 {
			nTolerated += n
			sort.Strings(tolerated[k.name])
			t.Logf("known bug %q: %d answers tolerated, e.g. %s", k.name, n, tolerated[k.name][0])
		}
		if n := skipped[k.name]; n > 0 {
			nSkipped += n
			t.Logf("known bug %q: %d requests not sent", k.name, n)
		}
	}
	line := fmt.Sprintf("fuzz: %d requests, %d 5xx, %d changes (%d operations, %s)", requests, fives, len(changedOp), len(ops), time.Since(start).Round(time.Second))
	if nTolerated+nSkipped > 0 {
		line += fmt.Sprintf("; known bugs (fzKnown): %d answers tolerated, %d requests skipped", nTolerated, nSkipped)
	}
	t.Log(line)
	testsummary.Printf("%s", line)
}

// FuzzRequest sends one request built from fuzzed parts (operation, path id, raw query, body,
// content type) with the owner's credentials to the whole server, and checks what comes back:
// never a 5xx, and always an answer the contract declares (an error envelope for errors).
// Plain `go test` runs the seeds and testdata/fuzz/FuzzRequest; `go run ./cmd/devdb -ephemeral
// -- go test -run=^$ -fuzz=FuzzRequest -fuzztime=30s ./internal/httpapi` explores.
func FuzzRequest(f *testing.F) {
	f.Add("getSentCase", "", "", []byte(nil), "")
	f.Add("listCases", "", "page=2&limit=100&sort=title&order=asc&search=%25_&view=received", []byte(nil), "")
	f.Add("listAllStatusUpdates", "", "cursor=v1.bm90&updatedSince=2026-01-01T00:00:00Z", []byte(nil), "")
	f.Add("getTopLevelReferral", "CX-2026-000001", "", []byte(nil), "")
	f.Add("patchSentCase", "", "", []byte(`{"tier":6}`), "application/json")
	f.Add("createRoutingRule", "", "", []byte(`{"name":"r","targetFirmId":"00000000-0000-0000-0000-000000000000","conditions":[{"field":"tier","operator":"in","value":["1",2.5]}]}`), "application/json")
	f.Add("updateCaseStatus", "", "", []byte(`{"status":"won"}`), "application/json")
	f.Add("importCasesUpdate", "", "", []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"u.csv\"\r\n\r\nreferenceNumber,title\r\nCX-2026-000001,x\r\n--b--\r\n"), "multipart/form-data; boundary=b")
	f.Add("downloadDocumentContent", "eyJrIjoiYSIsImUiOjF9.AAAA", "", []byte(nil), "")
	f.Add("loginUser", "", "", []byte(`{"email":"a@b.test","password":""}`), "application/json")
	f.Add("evaluateRoutingRules", "", "caseType=Personal+Injury&jurisdiction=wa&tier=9&attempt=0", []byte(nil), "")
	f.Add("listFeeLedger", "", "cursor=eyJmIjoiMCIsImsiOiJpbmZpbml0eSIsImkiOiJ4IiwicCI6Mn0&limit=5&aging=over_90", []byte(nil), "")
	f.Add("exportFeeLedger", "", "format=xlsx&direction=i_owe&dueFrom=2026-02-01&dueTo=2026-01-01", []byte(nil), "")

	w := newMxWorld(f)
	// (An operation without a fixture yet is TestMatrix's failure to report, not a finding.)
	var ops []mxOp
	byID := map[string]mxOp{}
	for _, op := range mxSpecOps(f) {
		if _, ok := mxFixtures[op.id]; ok {
			ops = append(ops, op)
			byID[op.id] = op
		}
	}
	f.Fuzz(func(t *testing.T, opName, id, query string, body []byte, contentType string) {
		op, ok := byID[opName]
		if !ok {
			op = ops[int(crc32.ChecksumIEEE([]byte(opName)))%len(ops)]
		}
		if len(body) > fzMiB || len(id) > 8<<10 || len(query) > 16<<10 {
			t.Skip("too large")
		}
		m := fzTarget(w, op)
		path := mxParam.ReplaceAllStringFunc(op.path, func(s string) string {
			if id != "" {
				return url.PathEscape(id)
			}
			return url.PathEscape(m.params[s[1:len(s)-1]])
		})
		u, err := url.Parse(w.h.URL + path)
		if err != nil {
			t.Skip("not a URL")
		}
		// Re-encoded: a raw space or control byte would make the request line itself invalid,
		// which net/http refuses before the server sees it.
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Skip("not a query")
		}
		u.RawQuery = q.Encode()
		req, err := http.NewRequest(strings.ToUpper(op.method), u.String(), nil)
		if err != nil {
			t.Skip("not a request")
		}
		for _, o := range fzCredentials(w, op) {
			o(req)
		}
		if len(body) > 0 || contentType != "" {
			if strings.ContainsAny(contentType, "\r\n\x00") {
				t.Skip("not a header value")
			}
			fzRawBody(contentType, body)(req)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Skip("refused by the HTTP client: ", err)
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s -> %d %s", req.Method, req.URL, resp.StatusCode, got)
		}
		if err := w.h.Validate(req, resp, got); err != nil {
			t.Fatalf("%s %s -> %d does not match the contract: %v\n%.1000s", req.Method, req.URL, resp.StatusCode, err, got)
		}
	})
}
