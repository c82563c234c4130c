#!/usr/bin/env bash
# oasdiff breaking-change check of our spec against the reference release (prefixed like our paths).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go run ./internal/tools/refprefix ../shared/reference/openapi-2026-04-01.yml /api/public/v1 > "$tmp/ref.yml"
go tool -modfile=tools/codegen.mod oasdiff breaking --fail-on ERR "$tmp/ref.yml" api-reference/openapi.yml
