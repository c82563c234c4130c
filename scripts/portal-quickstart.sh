#!/usr/bin/env bash
# Run the bash blocks of the portal's quickstart guide, as written, against a fresh demo server:
# the referral must end acknowledged (under_evaluation) on both sides.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/demo-server.sh
start_demo_server quickstart
work=$(mktemp -d)
sed -n '/^```bash$/,/^```$/p' internal/portal/guides/01-quickstart.md | grep -v '^```' > "$work/quickstart.sh"
out=$(cd "$work" && CX="http://127.0.0.1:$port" bash -euo pipefail quickstart.sh)
rm -rf "$work"
want=$'sent\nunder_evaluation\nunder_evaluation'
if [ "$out" != "$want" ]; then
  echo "portal-quickstart: unexpected output:"; echo "$out"; exit 1
fi
echo "portal-quickstart: $(grep -c . <<<"$want") checks, the referral is acknowledged by the partner firm"
