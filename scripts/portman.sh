#!/usr/bin/env bash
# Contract tests generated from our own spec: start a fresh server with demo data on a free port,
# generate a Postman collection from api-reference/openapi.yml with portman (contract tests per
# operation and variation tests for invalid bodies, test/portman/portman-config.json) and run it
# with newman (test/portman/run.js). Needs DATABASE_URL (make portman provides a private cluster).
# Prints one line "portman: N requests, M assertions, F failed (V variation tests)".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-server.sh
# The run sends several hundred Public API requests with one key within a minute: lift the rate
# limit so that no request meets 429 (the limiter has tests of its own). Webhooks point back at
# this server over plain http, which only CX_WEBHOOKS_ALLOW_PRIVATE permits.
start_demo_server portman CX_RATE_LIMIT_FULL=1000000 CX_WEBHOOKS_ALLOW_PRIVATE=true
status=0
node test/portman/run.js --base-url "http://127.0.0.1:$port" --work-dir "$data" "$@" || status=$?
if [ "$status" -ne 0 ] && [ -s "$data/server.log" ]; then
  echo "--- server log (errors)"; grep -iE 'error|warn|panic' "$data/server.log" | tail -40 || true
fi
exit "$status"
