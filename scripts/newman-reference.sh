#!/usr/bin/env bash
# The compatibility gate: start a fresh server with demo data on a free port and run the
# published CaseXchange Postman collection (../shared/reference) against it (test/newman/run.js).
# Skips, saying so, where the reference is absent (a clone outside the project's workspace).
# Needs DATABASE_URL (make newman-reference provides a private cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
ref=../shared/reference/postman/collection-2026-04-01.json
if [ ! -f "$ref" ]; then
  echo "newman-reference: skipped: the published collection is absent ($ref)"
  exit 0
fi
. scripts/demo-server.sh
start_demo_server newman_reference
node test/newman/run.js --base-url "http://127.0.0.1:$port" "$@"
