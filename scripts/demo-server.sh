# Sourced by scripts/newman.sh and scripts/portman.sh: start a fresh server with demo data on a
# free port, against a new database of the cluster DATABASE_URL points at, and remove both on
# exit. Call start_demo_server NAME [ENV=VALUE ...]; it sets port, pid and data (a temporary
# directory holding server.log). Extra ENV=VALUE pairs are passed to the server.
# shellcheck shell=bash
psql() { PGOPTIONS=--client-min-messages=warning command psql "$@"; }

start_demo_server() {
  local name=$1; shift
  : "${DATABASE_URL:?DATABASE_URL must be set (run through: go run ./cmd/devdb -ephemeral -- scripts/$name.sh)}"
  demo_db="${name}_$$"
  demo_admin_url="$DATABASE_URL"
  psql "$demo_admin_url" -qc "DROP DATABASE IF EXISTS $demo_db" >/dev/null
  psql "$demo_admin_url" -qc "CREATE DATABASE $demo_db" >/dev/null
  local base="${DATABASE_URL%%\?*}"; base="${base%/*}"
  export DATABASE_URL="$base/$demo_db"
  [ -x bin/casexchange ] || make -s build
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  data=$(mktemp -d)
  # DATABASE_URL is set, so the demo data and the secrets must be asked for explicitly.
  env CX_HTTP_ADDR="127.0.0.1:$port" CX_DATA_DIR="$data" CX_LOG_LEVEL=warn CX_SEED=true \
    CX_JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    CX_DOWNLOAD_LINK_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    "$@" bin/casexchange serve > "$data/server.log" 2>&1 &
  pid=$!
  trap stop_demo_server EXIT
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/api/public/v1/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$data/server.log"; echo "$name: server did not start"; exit 1; }
    sleep 0.5
  done
  echo "$name: server did not answer its health check"; exit 1
}

stop_demo_server() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  psql "$demo_admin_url" -qc "DROP DATABASE IF EXISTS $demo_db" >/dev/null 2>&1 || true
  rm -rf "$data"
}
