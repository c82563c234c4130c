// Package portal serves the developer portal under /docs: the API reference rendered at build
// time from the contract (site/reference.html, by redocly build-docs), the guides written in
// guides/*.md and rendered once at startup, the lifecycle picture generated from the transition
// table (site/lifecycle.svg), the error-code table generated from the contract's x-error-codes,
// the changelog, and our Postman collection and environment (package postman). Everything is
// embedded: the portal works offline and its pages load nothing from another host (the
// Content-Security-Policy says so to the browser too).
package portal

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"gopkg.in/yaml.v3"

	apireference "github.com/casexchange/server/api-reference"
	"github.com/casexchange/server/postman"
)

//go:embed guides/*.md
var guideFiles embed.FS

//go:embed site
var siteFiles embed.FS

// Guide is one page of the portal written in markdown.
type Guide struct {
	Slug  string // file name without .md; the page is /docs/guides/<slug>
	Title string // the first heading
	Order int    // from the file name prefix
	HTML  []byte
}

// CSP allows only the server itself: scripts, styles and fonts inline or same-origin, no
// connection anywhere else.
const CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'none'"

type page struct {
	body []byte
	ct   string
	etag string
}

// Portal holds the rendered pages.
type Portal struct {
	pages  map[string]page // by path under /docs
	guides []Guide
}

var (
	once    sync.Once
	shared  *Portal
	loadErr error
)

// Load renders the portal once (guides, error table, index) and returns it.
func Load() (*Portal, error) {
	once.Do(func() { shared, loadErr = build() })
	return shared, loadErr
}

// Guides lists the guide pages in portal order.
func (p *Portal) Guides() []Guide { return p.guides }

// Paths lists every page the portal serves, sorted.
func (p *Portal) Paths() []string {
	out := make([]string, 0, len(p.pages))
	for k := range p.pages {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var fileName = regexp.MustCompile(`^(\d+)-([a-z0-9-]+)\.md$`)

func build() (*Portal, error) {
	p := &Portal{pages: map[string]page{}}
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
	)
	errorTable, err := ErrorTable()
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(guideFiles, "guides")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("portal: guide file %q is not named NN-slug.md", e.Name())
		}
		src, err := guideFiles.ReadFile("guides/" + e.Name())
		if err != nil {
			return nil, err
		}
		src = bytes.ReplaceAll(src, []byte("<!-- error-table -->"), []byte(errorTable))
		var buf bytes.Buffer
		if err := md.Convert(src, &buf); err != nil {
			return nil, fmt.Errorf("portal: render %s: %w", e.Name(), err)
		}
		title := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(src), "\n", 2)[0], "# "))
		order, _ := strconv.Atoi(m[1]) // digits: the pattern matched them
		p.guides = append(p.guides, Guide{Slug: m[2], Title: title, Order: order, HTML: buf.Bytes()})
	}
	sort.Slice(p.guides, func(i, j int) bool { return p.guides[i].Order < p.guides[j].Order })

	for _, g := range p.guides {
		p.add("/docs/guides/"+g.Slug, layout(g.Title, g.Slug, p.guides, g.HTML), "text/html; charset=utf-8")
	}
	// The changelog, when make generate found a CHANGELOG.md to copy; otherwise a page saying so.
	cl, err := siteFiles.ReadFile("site/CHANGELOG.md")
	if err != nil {
		cl = []byte("# Changelog\n\nThis build carries no changelog yet: `make generate` copies the repository's `CHANGELOG.md` here once it exists.\n")
	}
	{
		var buf bytes.Buffer
		if err := md.Convert(cl, &buf); err != nil {
			return nil, err
		}
		p.add("/docs/changelog", layout("Changelog", "changelog", p.guides, buf.Bytes()), "text/html; charset=utf-8")
	}
	var idx bytes.Buffer
	idx.WriteString(`<h1>CaseXchange developer portal</h1>
<p>Everything you need to integrate with this server, served by the server itself.</p>
<ul class="cards">
<li><a href="/docs/reference">API reference</a>: every operation of the contract, its access tier, its errors and examples.</li>
<li><a href="/api/public/v1/openapi.yml">openapi.yml</a> and <a href="/api/public/v1/openapi.json">openapi.json</a>: the contract as written, for generating clients.</li>
`)
	idx.WriteString(`<li><a href="/docs/postman/collection.json">Postman collection</a> and <a href="/docs/postman/environment.json">environment</a>: ` +
		`every operation in workflow order, generated from the contract, with ids chained between requests and each response checked ` +
		`against its schema. Import both into Postman, select the environment and run the folders in order against <code>make run</code>.</li>` + "\n")
	idx.WriteString(`<li><a href="/docs/changelog">Changelog</a>: what changed in each release.</li>` + "\n")
	idx.WriteString("</ul>\n<h2>Guides</h2>\n<ol>\n")
	for _, g := range p.guides {
		fmt.Fprintf(&idx, `<li><a href="/docs/guides/%s">%s</a></li>`+"\n", g.Slug, html.EscapeString(g.Title))
	}
	idx.WriteString("</ol>\n")
	p.add("/docs", layout("Developer portal", "", p.guides, idx.Bytes()), "text/html; charset=utf-8")

	// Static files generated at build time.
	for name, ct := range map[string]string{
		"reference.html": "text/html; charset=utf-8",
		"lifecycle.svg":  "image/svg+xml",
	} {
		b, err := siteFiles.ReadFile("site/" + name)
		if err != nil {
			return nil, fmt.Errorf("portal: %s missing (run make generate): %w", name, err)
		}
		path := "/docs/" + strings.TrimSuffix(name, ".html")
		p.add(path, b, ct)
	}
	// Our own Postman collection, generated from the contract (package postman).
	p.add("/docs/postman/collection.json", postman.Collection, "application/json")
	p.add("/docs/postman/environment.json", postman.Environment, "application/json")
	return p, nil
}

func (p *Portal) add(path string, body []byte, ct string) {
	sum := sha256.Sum256(body)
	p.pages[path] = page{body: body, ct: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// ServeHTTP answers GET and HEAD for the portal's pages; anything else under /docs is 404.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == "" {
		http.Redirect(w, r, "/docs", http.StatusFound)
		return
	}
	switch path {
	case "/docs/_discard": // the reference's telemetry, pointed here at build time and dropped
		w.WriteHeader(http.StatusNoContent)
		return
	case "/favicon.ico":
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write([]byte(favicon))
		return
	}
	pg, ok := p.pages[path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("Cache-Control", "public, no-cache")
	h.Set("ETag", pg.etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, pg.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", pg.ct)
	h.Set("Content-Length", fmt.Sprint(len(pg.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(pg.body)
	}
}

const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f5fbf"/><path d="M4 8h8M9 5l3 3-3 3" stroke="#fff" stroke-width="1.6" fill="none"/></svg>`

var layoutTmpl = template.Must(template.New("layout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · CaseXchange</title>
<style>
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b2633;display:flex;min-height:100vh}
nav{width:250px;flex:none;background:#f4f6fa;border-right:1px solid #dde3ec;padding:20px 16px;font-size:14px}
nav a{display:block;color:#1b2633;text-decoration:none;padding:4px 8px;border-radius:4px}
nav a.on,nav a:hover{background:#dfe7f3}
nav .brand{font-weight:bold;font-size:16px;margin-bottom:12px}
nav h4{margin:16px 8px 4px;font-size:12px;text-transform:uppercase;color:#5b6b80}
main{max-width:880px;padding:24px 40px;overflow-x:auto}
code{background:#f1f3f6;padding:1px 4px;border-radius:3px;font-size:90%}
pre{background:#1e2430;color:#e9edf3;padding:12px 14px;border-radius:6px;overflow-x:auto}
pre code{background:none;color:inherit;padding:0}
table{border-collapse:collapse;margin:12px 0;font-size:14px}
th,td{border:1px solid #dde3ec;padding:5px 9px;text-align:left;vertical-align:top}
th{background:#f4f6fa}
img{max-width:100%}
a{color:#1f5fbf}
</style></head>
<body><nav><div class="brand"><a href="/docs">CaseXchange</a></div>
<a href="/docs/reference">API reference</a>
<h4>Guides</h4>
{{range .Guides}}<a href="/docs/guides/{{.Slug}}"{{if eq .Slug $.Current}} class="on"{{end}}>{{.Title}}</a>
{{end}}<h4>Downloads</h4>
<a href="/api/public/v1/openapi.yml">openapi.yml</a>
<a href="/api/public/v1/openapi.json">openapi.json</a>
{{if .Postman}}<a href="/docs/postman/collection.json">Postman collection</a>
<a href="/docs/postman/environment.json">Postman environment</a>
{{end}}{{if .Changelog}}<a href="/docs/changelog"{{if eq "changelog" $.Current}} class="on"{{end}}>Changelog</a>{{end}}
</nav><main>{{.Body}}</main></body></html>
`))

func layout(title, current string, guides []Guide, body []byte) []byte {
	var buf bytes.Buffer
	_ = layoutTmpl.Execute(&buf, map[string]any{
		"Title": title, "Current": current, "Guides": guides,
		"Body":      template.HTML(body), //nolint:gosec // our own rendered markdown
		"Postman":   len(postman.Collection) > 0,
		"Changelog": true,
	})
	return buf.Bytes()
}

// ErrorCode is one row of the contract's x-error-codes list.
type ErrorCode struct {
	Code    string `yaml:"code"`
	Status  int    `yaml:"status"`
	Meaning string `yaml:"meaning"`
}

// ErrorCodes reads x-error-codes from the embedded contract (components.schemas.ErrorBody.
// properties.code).
func ErrorCodes() ([]ErrorCode, error) {
	var doc struct {
		Components struct {
			Schemas struct {
				ErrorBody struct {
					Properties struct {
						Code struct {
							Codes []ErrorCode `yaml:"x-error-codes"`
						} `yaml:"code"`
					} `yaml:"properties"`
				} `yaml:"ErrorBody"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(apireference.YAML, &doc); err != nil {
		return nil, err
	}
	codes := doc.Components.Schemas.ErrorBody.Properties.Code.Codes
	if len(codes) == 0 {
		return nil, fmt.Errorf("portal: the contract has no x-error-codes")
	}
	return codes, nil
}

// ErrorTable renders x-error-codes as a markdown table, by status then code.
func ErrorTable() (string, error) {
	codes, err := ErrorCodes()
	if err != nil {
		return "", err
	}
	sort.SliceStable(codes, func(i, j int) bool { return codes[i].Status < codes[j].Status })
	var b strings.Builder
	b.WriteString("| status | code | meaning |\n|---|---|---|\n")
	for _, c := range codes {
		fmt.Fprintf(&b, "| %d | `%s` | %s |\n", c.Status, c.Code, strings.ReplaceAll(c.Meaning, "|", `\|`))
	}
	return b.String(), nil
}
