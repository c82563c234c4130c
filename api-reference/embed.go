// Package apireference embeds the contract exactly as written, so that the server can serve it
// in its source order (the copy embedded by oapi-codegen in gen/api is re-serialised JSON with
// sorted keys).
package apireference

import _ "embed"

// YAML is api-reference/openapi.yml, byte for byte.
//
//go:embed openapi.yml
var YAML []byte
