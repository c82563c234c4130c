#!/usr/bin/env bash
# Expand-then-contract check: during a rolling upgrade the previous release keeps running on the
# schema the new release migrated, so a new migration must not drop or rename a table or column,
# nor change a column's type, that the previous release reads. New migrations are those not in
# the previous release: the last git tag (or MIGRATION_BASE=<git ref>); with no release yet,
# every migration is checked. A contract step is allowed when its up file says which earlier
# expand it completes, with a line
#     -- contract-of: NNNN <why the previous release no longer reads it>
# where NNNN is a migration already in the previous release (the expand shipped one release
# before its contract; before the first release, any earlier migration). Prints one summary line `migration-compat: ...`.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${MIGRATIONS_DIR:-db/migrations}
base=${MIGRATION_BASE:-$(git describe --tags --abbrev=0 2>/dev/null || true)}

declare -A released=()
if [[ -n $base ]]; then
  while read -r f; do
    [[ $f == *.up.sql ]] && released[$(basename "$f" | cut -d_ -f1)]=1
  done < <(git ls-tree --name-only "$base" -- "$dir/" 2>/dev/null || true)
fi

# Statements that break the previous release: DROP TABLE, DROP COLUMN, RENAME TO / RENAME
# COLUMN, ALTER COLUMN ... TYPE. Comments are stripped first.
breaking='\bdrop\s+(table|column)\b|\brename\s+(to|column)\b|\balter\s+(column\s+)?\S+\s+(set\s+data\s+)?type\b'
checked=0 contracts=0 failures=0
for f in "$dir"/*.up.sql; do
  n=$(basename "$f" | cut -d_ -f1)
  [[ -n ${released[$n]:-} ]] && continue
  checked=$((checked + 1))
  hits=$(sed -e 's/--.*$//' "$f" | grep -n -i -P "$breaking" || true)
  [[ -z $hits ]] && continue
  of=$(grep -o -P '^--\s*contract-of:\s*\K[0-9]{4}' "$f" | head -1 || true)
  # Before the first release, any earlier migration may be the expand.
  if [[ -n $of && ( -n ${released[$of]:-} || ( -z $base && $of < $n && -n $(compgen -G "$dir/${of}_*.up.sql") ) ) ]]; then
    contracts=$((contracts + 1))
    continue
  fi
  failures=$((failures + 1))
  echo "migration-compat: $f drops, renames or retypes what the previous release (${base:-none}) may read:" >&2
  echo "$hits" | sed 's/^/    line /' >&2
  if [[ -n $of ]]; then
    echo "  its contract-of: $of is not a migration of the previous release: ship the expand one release earlier" >&2
  else
    echo "  write it expand-then-contract (add the new column/table, dual-write, drop the old one a release later" >&2
    echo "  with a '-- contract-of: NNNN' line naming the expand); see docs/operations.md#upgrades" >&2
  fi
done
if ((failures > 0)); then
  echo "migration-compat: $failures of $checked new migrations break the previous release (${base:-no release yet})"
  exit 1
fi
echo "migration-compat: $checked migrations new since ${base:-the first release (no tag yet)} checked, 0 drop/rename/retype what the previous release reads, $contracts annotated contract steps"
