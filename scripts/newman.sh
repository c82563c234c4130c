#!/usr/bin/env bash
# Start a fresh server with demo data on a free port and run the published Postman collection
# against it (test/newman/run.js). Needs DATABASE_URL (make newman provides a private cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must be set (run through: go run ./cmd/devdb -ephemeral -- scripts/newman.sh)}"
db="newman_$$"
admin_url="$DATABASE_URL"
psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db" >/dev/null
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
base="${DATABASE_URL%%\?*}"; base="${base%/*}"
export DATABASE_URL="$base/$db"
[ -x bin/casexchange ] || make -s build
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d)
CX_HTTP_ADDR=127.0.0.1:$port CX_DATA_DIR=$data CX_LOG_LEVEL=warn bin/casexchange serve > "$data/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/api/public/v1/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/server.log"; echo "newman: server did not start"; exit 1; }
  sleep 0.5
done
node test/newman/run.js --base-url "http://127.0.0.1:$port" "$@"
