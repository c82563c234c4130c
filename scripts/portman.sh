#!/usr/bin/env bash
# Contract tests generated from our own spec: start a fresh server with demo data on a free port,
# generate a Postman collection from api-reference/openapi.yml with portman (contract tests per
# operation and variation tests for invalid bodies, test/portman/portman-config.json) and run it
# with newman (test/portman/run.js). Needs DATABASE_URL (make portman provides a private cluster).
# Prints one line "portman: N requests, M assertions, F failed (V variation tests)".
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must be set (run through: go run ./cmd/devdb -ephemeral -- scripts/portman.sh)}"
db="portman_$$"
admin_url="$DATABASE_URL"
psql() { PGOPTIONS=--client-min-messages=warning command psql "$@"; }
psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db" >/dev/null
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
base="${DATABASE_URL%%\?*}"; base="${base%/*}"
export DATABASE_URL="$base/$db"
[ -x bin/casexchange ] || make -s build
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d)
# The run sends several hundred Public API requests with one key within a minute: lift the rate
# limit so that no request meets 429 (the limiter has tests of its own). Webhooks point back at
# this server over plain http, which only CX_WEBHOOKS_ALLOW_PRIVATE permits.
CX_HTTP_ADDR=127.0.0.1:$port CX_DATA_DIR=$data CX_LOG_LEVEL=warn CX_RATE_LIMIT_FULL=1000000 \
  CX_WEBHOOKS_ALLOW_PRIVATE=true bin/casexchange serve > "$data/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/api/public/v1/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/server.log"; echo "portman: server did not start"; exit 1; }
  sleep 0.5
done
status=0
node test/portman/run.js --base-url "http://127.0.0.1:$port" --work-dir "$data" "$@" || status=$?
if [ "$status" -ne 0 ] && [ -s "$data/server.log" ]; then
  echo "--- server log (errors)"; grep -iE 'error|warn|panic' "$data/server.log" | tail -40 || true
fi
exit "$status"
