package config

import (
	"fmt"
	"strings"
)

// Setting documents one environment variable.
type Setting struct {
	Name    string
	Default string // the value used when unset or empty, as LoadFrom parses it ("" for none)
	// Shown is the default as the documentation shows it when Default alone would mislead
	// (derived or conditional defaults); empty shows Default.
	Shown   string
	Secret  bool // keep it in a secret store; never log it
	Meaning string
}

// Settings lists every variable Load reads, in the order of docs/configuration.md.
// LoadFrom panics on a name missing from it, and a test checks that the document is
// generated from it (go test ./internal/config -run TestSettingsDocument -update).
var Settings = []Setting{
	{Name: "CX_HTTP_ADDR", Default: "127.0.0.1:8080", Meaning: "listen address of the API (Public and Internal API, /livez, /readyz)"},
	{Name: "CX_PUBLIC_BASE_URL", Shown: "`http://$CX_HTTP_ADDR`", Meaning: "absolute URL clients reach the server at (signed download links, webhook echo URLs, e-mail links)"},
	{Name: "DATABASE_URL", Secret: true, Meaning: "PostgreSQL DSN (it may hold a password); unset starts a private cluster under `$CX_DATA_DIR/postgres` and stops it on exit. When set, `serve` refuses to start without `CX_JWT_SECRET` (and `CX_DOWNLOAD_LINK_SECRET` with local storage) and seeds nothing unless `CX_SEED=true`"},
	{Name: "CX_DATA_DIR", Default: ".data", Meaning: "data directory: the private cluster, the generated secrets of a development setup, local document objects, `.eml` files"},
	{Name: "CX_JWT_SECRET", Secret: true, Shown: "generated (private cluster only)", Meaning: "HS256 key of the Internal API's access tokens, at least 32 characters, the same on every replica. Required when `DATABASE_URL` is set; without it, a development setup generates one and keeps it in `$CX_DATA_DIR/jwt-secret`"},
	{Name: "CX_DOWNLOAD_LINK_SECRET", Secret: true, Shown: "generated (private cluster only)", Meaning: "HMAC key of the local storage backend's expiring download links, at least 32 characters, the same on every replica. Required when `DATABASE_URL` is set and `CX_STORAGE` is `local`; without it, a development setup generates one and keeps it in `$CX_DATA_DIR/download-secret`. Unused with `s3`"},
	{Name: "CX_APP_URL", Meaning: "the firm-facing application, if one is deployed: invitation and password reset e-mails link to its `/accept-invitation` and `/reset-password` pages; unset links to the pages this server serves itself"},
	{Name: "CX_INVITATION_TTL", Default: "168h", Meaning: "how long an invitation link works"},
	{Name: "CX_FEE_NET_DAYS", Default: "30", Meaning: "payment term of a fee ledger entry: due this many days after the referral closed won (docs/fees.md)"},
	{Name: "CX_SEED", Shown: "`true` without `DATABASE_URL`, else `false`", Meaning: "load the demo data (three firms whose admins share the published password `casexchange-demo`) on `serve`. Only the private cluster gets it by default; a database named by `DATABASE_URL` only with an explicit `CX_SEED=true`"},
	{Name: "CX_ACCESS_TOKEN_TTL", Default: "15m", Meaning: "access token lifetime"},
	{Name: "CX_REFRESH_TOKEN_TTL", Default: "168h", Meaning: "refresh token lifetime"},
	{Name: "CX_SECURE_COOKIES", Default: "false", Meaning: "mark session cookies `Secure` (set it behind HTTPS)"},
	{Name: "CX_TRUSTED_PROXIES", Meaning: "comma-separated CIDRs (or single addresses) of the load balancers and proxies in front of the server. Only when the direct peer is in them is `CX_CLIENT_IP_HEADER` read, and the client IP is its rightmost address that is not a trusted proxy; that IP is what the login throttle, `CX_RATE_LIMIT_IP` and the request log use. Unset: the client IP is the direct peer and the header is ignored"},
	{Name: "CX_CLIENT_IP_HEADER", Default: "X-Forwarded-For", Meaning: "the header the trusted proxies write the client address into: `X-Forwarded-For` or `Forwarded` (RFC 7239 `for=`). Only that one header is read, so a client cannot smuggle an address in the other"},
	{Name: "CX_RATE_LIMIT_WINDOW", Default: "1m", Meaning: "rate-limit window"},
	{Name: "CX_RATE_LIMIT_READ_ONLY", Default: "300", Meaning: "Public API requests per window of one `READ_ONLY` key"},
	{Name: "CX_RATE_LIMIT_STANDARD", Default: "600", Meaning: "Public API requests per window of one `STANDARD` key"},
	{Name: "CX_RATE_LIMIT_FULL", Default: "1200", Meaning: "Public API requests per window of one `FULL` key"},
	{Name: "CX_RATE_LIMIT_FIRM", Shown: "2 x `CX_RATE_LIMIT_FULL` (`2400`)", Meaning: "Public API requests per window of one firm across all its keys (each key's own tier limit applies too)"},
	{Name: "CX_RATE_LIMIT_SESSION", Default: "600", Meaning: "Internal API requests per window of one session"},
	{Name: "CX_RATE_LIMIT_IP", Default: "3000", Meaning: "Internal API requests per window of one client IP (anonymous requests such as login included)"},
	{Name: "CX_RATE_LIMIT_STORE", Default: "memory", Meaning: "`memory` (one process) or `postgres` (shared by every process on the database; use it with replicas)"},
	{Name: "CX_MAX_API_KEYS_PER_FIRM", Default: "25", Meaning: "active (not revoked, not expired) Public API keys a firm may hold; one more answers `409 api_key_limit_reached`"},
	{Name: "CX_BODY_READ_TIMEOUT", Default: "30s", Meaning: "time allowed to receive a request body; a slower client gets `408 request_timeout` and the connection is closed"},
	{Name: "CX_UPLOAD_READ_TIMEOUT", Default: "10m", Meaning: "the same for document uploads and case imports"},
	{Name: "CX_WRITE_TIMEOUT", Default: "1m", Meaning: "time allowed to handle a request and write an ordinary response, counted from the end of the body deadline"},
	{Name: "CX_STREAM_WRITE_TIMEOUT", Default: "30s", Meaning: "exports and document downloads may take longer, but each write must complete within this; a stalled client is cut off"},
	{Name: "CX_SHUTDOWN_TIMEOUT", Default: "20s", Meaning: "grace period for in-flight requests after SIGTERM"},
	{Name: "CX_DRAIN_DELAY", Default: "0s", Meaning: "after SIGTERM, keep serving this long with `/readyz` answering 503 before the listener closes, so that the load balancer takes the process out first (e.g. `5s` behind a balancer that checks every 2 s)"},
	{Name: "CX_METRICS_ADDR", Meaning: "listen address of the Prometheus `/metrics` endpoint, e.g. `127.0.0.1:9090`; unset serves no metrics. Never the API port: keep it on loopback or a private network"},
	{Name: "CX_METRICS_PPROF", Default: "false", Meaning: "`true` also serves Go's profiling endpoints (`/debug/pprof/`) on the metrics listener, for an operator measuring CPU or memory; needs `CX_METRICS_ADDR`. Profiles show the process's internals: keep that listener private"},
	{Name: "CX_LOG_LEVEL", Default: "info", Meaning: "`debug`, `info`, `warn` or `error`"},
	{Name: "GOGC", Shown: "`200` for `serve`", Meaning: "Go's garbage-collection target: the heap grows this many percent over the live data between collections. Unset, `serve` uses 200 rather than Go's 100: list pages measured 15-24% more requests/s at concurrency 64 with it. Set it to choose another (Go reads it itself), and `GOMEMLIMIT` to cap the heap"},
	{Name: "CX_SMTP_ADDR", Meaning: "SMTP submission server `host:port`; unset writes each e-mail as an `.eml` file under `$CX_DATA_DIR/mail`"},
	{Name: "CX_SMTP_USERNAME", Meaning: "SMTP AUTH PLAIN user (refused over a non-local connection without STARTTLS)"},
	{Name: "CX_SMTP_PASSWORD", Secret: true, Meaning: "SMTP AUTH PLAIN password"},
	{Name: "CX_SMTP_FROM", Default: "CaseXchange <no-reply@casexchange.local>", Meaning: "sender address"},
	{Name: "CX_SMTP_STARTTLS", Default: "false", Meaning: "upgrade the SMTP connection with STARTTLS"},
	{Name: "CX_STORAGE", Default: "local", Shown: "`local` (`s3` when `CX_S3_BUCKET` is set)", Meaning: "document storage: `local` (files under `$CX_DATA_DIR/objects`, served through expiring signed links; one node only) or `s3` (any S3-compatible store; pre-signed URLs; for replicas)"},
	{Name: "CX_S3_ENDPOINT", Shown: "`s3.amazonaws.com`", Meaning: "S3-compatible endpoint, `host[:port]` or URL"},
	{Name: "CX_S3_BUCKET", Meaning: "bucket (required for `s3`)"},
	{Name: "CX_S3_ACCESS_KEY", Meaning: "access key id (required for `s3`)"},
	{Name: "CX_S3_SECRET_KEY", Secret: true, Meaning: "secret access key (required for `s3`)"},
	{Name: "CX_S3_REGION", Shown: "`us-east-1`", Meaning: "region used for signing"},
	{Name: "CX_S3_USE_PATH_STYLE", Default: "false", Meaning: "path-style addressing (MinIO and most self-hosted stores)"},
	{Name: "CX_S3_INSECURE", Default: "false", Meaning: "plain HTTP when the endpoint has no scheme"},
	{Name: "CX_WEBHOOKS_ALLOW_PRIVATE", Default: "false", Meaning: "**unsafe, development only**: let webhook URLs use plain http and private or loopback addresses"},
}

var settingByName = func() map[string]Setting {
	m := make(map[string]Setting, len(Settings))
	for _, s := range Settings {
		m[s.Name] = s
	}
	return m
}()

// SettingsTable renders Settings as the Markdown table of docs/configuration.md.
func SettingsTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | secret | meaning |\n|---|---|---|---|\n")
	for _, s := range Settings {
		def := s.Shown
		if def == "" {
			def = "unset"
			if s.Default != "" {
				def = "`" + s.Default + "`"
			}
		}
		secret := "no"
		if s.Secret {
			secret = "**yes**"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.Name, def, secret, strings.ReplaceAll(s.Meaning, "|", `\|`))
	}
	return b.String()
}
