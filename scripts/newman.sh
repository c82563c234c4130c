#!/usr/bin/env bash
# Our own Postman collection (postman/collection.json, generated from the contract) against a
# fresh server with demo data on a free port (scripts/newman-run.js). Needs DATABASE_URL (make
# newman provides a private cluster). Prints one line "newman: N requests, M assertions, F failed".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-server.sh
# Webhook subscriptions point back at this server over plain http, which only
# CX_WEBHOOKS_ALLOW_PRIVATE permits.
start_demo_server newman CX_WEBHOOKS_ALLOW_PRIVATE=true
status=0
node scripts/newman-run.js --base-url "http://127.0.0.1:$port" --mail-dir "$data/mail" "$@" || status=$?
if [ "$status" -ne 0 ] && [ -s "$data/server.log" ]; then
  echo "--- server log (errors)"; grep -iE 'error|warn|panic' "$data/server.log" | tail -40 || true
  echo "--- background jobs not completed"
  psql "$DATABASE_URL" -Atc "SELECT kind, state, attempt, scheduled_at, left(errors::text, 300) FROM river_job
    WHERE state <> 'completed' AND kind NOT LIKE 'webhook%' ORDER BY id DESC LIMIT 20" || true
fi
exit "$status"
