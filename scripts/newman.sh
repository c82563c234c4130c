#!/usr/bin/env bash
# Start a fresh server with demo data on a free port and run the published Postman collection
# against it (test/newman/run.js). Needs DATABASE_URL (make newman provides a private cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-server.sh
start_demo_server newman
node test/newman/run.js --base-url "http://127.0.0.1:$port" "$@"
