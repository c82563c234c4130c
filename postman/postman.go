// Package postman holds our own Postman collection and its environment, generated from the
// contract by internal/tools/postmangen (make generate) and committed. The portal serves them at
// /docs/postman/collection.json and /docs/postman/environment.json; make newman runs the
// collection against a fresh demo server (scripts/newman.sh). files/ holds the sample uploads
// the collection's multipart requests send.
package postman

import _ "embed" // the generated files

// Collection is postman/collection.json (Postman collection format v2.1).
//
//go:embed collection.json
var Collection []byte

// Environment is postman/environment.json, the variables the collection expects.
//
//go:embed environment.json
var Environment []byte
