#!/usr/bin/env bash
# Contract gates: the spec lints clean, makes no breaking change against the reference release,
# and regenerating code from it changes nothing. Prints one summary line per gate.
set -euo pipefail
cd "$(dirname "$0")/.."
spec=api-reference/openapi.yml
npx=node_modules/.bin
fail=0

if node_modules/.bin/spectral lint --fail-severity error --ruleset .spectral.yaml "$spec" > /tmp/cx-spectral.log 2>&1; then
  echo "spectral: 0 errors ($(grep -c 'warning' /tmp/cx-spectral.log || true) warnings)"
else
  cat /tmp/cx-spectral.log; echo "spectral: errors found"; fail=1
fi

if "$npx"/redocly lint --config redocly.yaml "$spec" > /tmp/cx-redocly.log 2>&1; then
  echo "redocly: 0 errors"
else
  cat /tmp/cx-redocly.log; echo "redocly: errors found"; fail=1
fi

ref=../shared/reference/openapi-2026-04-01.yml
if [ -f "$ref" ]; then
  tmp=$(mktemp -d)
  go run ./internal/tools/refprefix "$ref" /api/public/v1 > "$tmp/ref.yml"
  if go tool -modfile=tools/codegen.mod oasdiff breaking --fail-on ERR "$tmp/ref.yml" "$spec" > "$tmp/breaking.txt" 2>&1; then
    echo "oasdiff: 0 breaking changes against openapi-2026-04-01 ($(grep -c '^warning' "$tmp/breaking.txt" || true) warnings)"
  else
    cat "$tmp/breaking.txt"; echo "oasdiff: breaking changes found"; fail=1
  fi
  rm -rf "$tmp"
else
  echo "oasdiff: skipped: ../shared/reference is absent (it holds the reference release to compare with)"
fi

# Hand-written and generated Go code is gofmt-formatted.
unformatted=$(gofmt -l $(git ls-files '*.go') cmd internal bench 2>/dev/null | sort -u)
if [ -z "$unformatted" ]; then
  echo "gofmt: every Go file is formatted"
else
  echo "$unformatted"; echo "gofmt: files need gofmt -w"; fail=1
fi

# The SDKs (make sdk: sdk/go, sdk/ts) are what the contract generates, byte for byte, and the
# TypeScript one type-checks with its smoke flow (mk/sdk.mk; make sdk-smoke runs both for real).
if make -s sdk-verify > /tmp/cx-sdk.log 2>&1; then
  tail -n 1 /tmp/cx-sdk.log
else
  cat /tmp/cx-sdk.log; echo "sdk: errors found"; fail=1
fi

if make -s verify > /tmp/cx-verify.log 2>&1; then
  echo "generate: tree clean"
else
  cat /tmp/cx-verify.log; echo "generate: regeneration changed tracked files"; fail=1
fi
exit $fail
