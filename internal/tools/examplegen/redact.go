package main

import (
	"reflect"
	"regexp"
	"strings"
)

// What must not be published, and how it is replaced. Secrets keep their published prefix (cxp_full_,
// whsec_, ...) and have the rest replaced by as many x's (0's for a hexadecimal secret), so that a placeholder is obvious to a
// reader, keeps the shape the contract describes (lengths, patterns) and cannot be mistaken for a
// working credential.

// DemoPassword is the one password left as recorded: the published password of the demo users
// (README, quickstart, internal/seed.DemoPassword), which a reader needs to log in to a demo server.
const demoPassword = "casexchange-demo"

// passwordPlaceholder replaces every other password.
const passwordPlaceholder = "<a passphrase of your own>"

// publicBaseURL replaces the address of the recording server (a random port) in bodies and paths.
const publicBaseURL = "http://127.0.0.1:8080"

// secretKeys are object keys whose string values are secrets whatever they look like.
var secretKeys = map[string]bool{
	"accesstoken": true, "refreshtoken": true, "token": true, "plainkey": true, "plaintoken": true,
	"secret": true, "echotoken": true, "signature": true,
}

// passwordKeys are object keys holding passwords.
var passwordKeys = map[string]bool{"password": true, "currentpassword": true, "newpassword": true}

// secretPatterns find secrets inside any string (a URL, a header value echoed back, a list of
// keys): group 1 is kept, group 2 is the secret part.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`\b(cxp_[a-z]+_)([A-Za-z0-9_-]{16,})`),                     // API keys
	regexp.MustCompile(`\b(cxsf_)([A-Za-z0-9_-]{16,})`),                           // Salesforce integration tokens
	regexp.MustCompile(`\b(whsec_)([A-Za-z0-9_-]{16,})`),                          // webhook signing secrets
	regexp.MustCompile(`\b(echo_)([A-Za-z0-9_-]{16,})`),                           // webhook echo tokens
	regexp.MustCompile(`\b(eyJ[A-Za-z0-9_-]+\.)([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)`), // JWTs: the header is kept
	regexp.MustCompile(`([?&]token=)([^&"\s]+)`),                                  // e-mailed and download links
	regexp.MustCompile(`(\bv1=)([0-9a-f]{32,})`),                                  // webhook signatures
}

// xs is the placeholder of a secret part: as many 0's when it is hexadecimal (so that it keeps
// the contract's pattern), x's otherwise; a JWT's dots are kept.
func xs(s string) string {
	hex := strings.Trim(s, "0123456789abcdef") == ""
	return strings.Map(func(r rune) rune {
		switch {
		case r == '.':
			return '.'
		case hex:
			return '0'
		}
		return 'x'
	}, s)
}

// redactString replaces the secrets found in s and the recording server's address.
func redactString(s, baseURL string) string {
	if baseURL != "" {
		s = strings.ReplaceAll(s, baseURL, publicBaseURL)
	}
	for _, re := range secretPatterns {
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			g := re.FindStringSubmatch(m)
			return g[1] + xs(g[2])
		})
	}
	return s
}

// redact returns v with secrets replaced; key is the object key v is the value of ("" at the top
// and in arrays).
func redact(v any, key, baseURL string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = redact(x, k, baseURL)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = redact(x, key, baseURL)
		}
		return out
	case string:
		k := strings.ToLower(key)
		switch {
		case passwordKeys[k]:
			if t == demoPassword {
				return t
			}
			return passwordPlaceholder
		case secretKeys[k] && t != "":
			for _, re := range secretPatterns {
				if re.MatchString(t) {
					return redactString(t, baseURL)
				}
			}
			return xs(t) // no known prefix: the whole value goes
		}
		return redactString(t, baseURL)
	}
	return v
}

// redacted reports whether v has nothing left to redact (redact is idempotent: what it made
// stays as it is).
func redacted(v any) bool {
	return reflect.DeepEqual(redact(v, "", ""), v)
}
