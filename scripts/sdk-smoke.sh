#!/usr/bin/env bash
# Drive each SDK (sdk/go, sdk/ts) against a fresh server with demo data: sign in, mint a Public
# API key, list sent cases, create a case, read it back, find it by search, and decode a 404.
# Needs DATABASE_URL (make sdk-smoke provides a private cluster). Prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bin/sdk-smoke
rm -rf "$out" && mkdir -p "$out/ts"

# The Go smoke program is built inside the SDK's own module, from the module cache only: the SDK
# requires nothing that the server's go.mod does not already pin at the same version.
# The README's example (example_test.go) is compiled too, never run.
(cd sdk/go && export GOFLAGS=-mod=readonly GOPROXY=off &&
  go build -o "../../$out/go-smoke" ./internal/smoke && go test -c -vet=off -o "../../$out/go-example.test" .)
# The TypeScript SDK and its smoke flow, compiled with the pinned tsc; openapi-fetch resolves from
# the root node_modules. The output is ES modules, as the package is.
node_modules/.bin/tsc -p sdk/ts/test --noEmit false --outDir "$out/ts"
echo '{"type":"module"}' > "$out/ts/package.json"

. scripts/demo-server.sh
start_demo_server sdk_smoke
base="http://127.0.0.1:$port"
go_line=$("$out/go-smoke" -base-url "$base")
ts_line=$(CX_BASE_URL="$base" node "$out/ts/test/smoke.js")
echo "sdk-smoke: $go_line, $ts_line"
