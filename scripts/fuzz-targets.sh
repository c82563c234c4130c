#!/usr/bin/env bash
# Short coverage-guided runs of every `func FuzzXxx` under internal/, so that make test finds new crashers on every run.
#
# `go test -fuzz` takes one target per invocation, so each package's test binary is built once
# with fuzzing instrumentation (`go test -c -fuzz=.`) and run once per target from the package
# directory, exactly as `go test` would: seeds and testdata/fuzz are the starting corpus, the
# generated corpus lives in $(go env GOCACHE)/fuzz, and a new failing input is written to the
# package's testdata/fuzz/<Target>/ (commit it: from then on plain `go test` replays it).
# Packages whose fuzz targets need PostgreSQL (they start the whole server) run under
# cmd/devdb -ephemeral.
#
# Knobs: FUZZTIME (per target, default 4s), FUZZTIME_DB (per target needing the database,
# default 30s: each worker first builds its own server and fixtures), FUZZ_DB=0 skips those,
# FUZZ_WORKERS (default 2), FUZZ_PKGS (space-separated package dirs, default: all with targets).
# Database targets start from their seeds and testdata/fuzz only (a fresh cache directory):
# replaying a grown cached corpus costs a request per entry before fuzzing starts, which would
# eat the whole short budget; FUZZ_DB_CACHE=shared uses go's cache for them too.
#
# Prints one line: fuzz-targets: N targets x Ts, E execs, F failures. A failing target's whole
# output is printed and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-4s}
FUZZTIME_DB=${FUZZTIME_DB:-30s}
FUZZ_DB=${FUZZ_DB:-1}
FUZZ_WORKERS=${FUZZ_WORKERS:-2}
FUZZ_DB_CACHE=${FUZZ_DB_CACHE:-fresh}
GO=${GO:-go}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$PWD
cache=$($GO env GOCACHE)/fuzz

# seconds turns a Go duration of whole seconds or minutes ("4s", "1m") into seconds.
seconds() {
  case $1 in
    *m) echo $(( ${1%m} * 60 )) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
  esac
}

if [ -n "${FUZZ_PKGS:-}" ]; then
  pkgs=$FUZZ_PKGS
else
  pkgs=$(grep -rlE --include='*_test.go' '^func Fuzz[A-Z][A-Za-z0-9_]*\(f \*testing\.F\)' internal | xargs -n1 dirname | sort -u)
fi

targets=0 execs=0 failures=0 dbskipped=0
dbnames=()
failed=()
for dir in $pkgs; do
  names=$(grep -hoE '^func Fuzz[A-Z][A-Za-z0-9_]*\(f \*testing\.F\)' "$dir"/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' | sort)
  [ -n "$names" ] || continue
  # A package whose fuzz files start the server (apitest) or open a test database needs PostgreSQL.
  db=0
  if grep -lE --include='*_test.go' '^func Fuzz' -r "$dir" | xargs grep -qE 'apitest\.|pgtest\.NewDB|newMxWorld'; then
    db=1
  fi
  time=$FUZZTIME
  if [ "$db" = 1 ]; then
    if [ "$FUZZ_DB" = 0 ]; then
      dbskipped=$(( dbskipped + $(echo "$names" | wc -l) ))
      continue
    fi
    time=$FUZZTIME_DB
    for name in $names; do dbnames+=("$name"); done
  fi

  pkg=$($GO list "./$dir")
  bin="$work/$(echo "$dir" | tr / _).test"
  if ! $GO test -c -fuzz=. -o "$bin" "./$dir" > "$work/build.log" 2>&1; then
    cat "$work/build.log"
    echo "fuzz-targets: $dir does not build"
    exit 1
  fi
  run=("$bin")
  pkgcache="$cache/$pkg"
  if [ "$db" = 1 ]; then
    [ "$FUZZ_DB_CACHE" = shared ] || pkgcache="$work/cache/$pkg"
    [ -x "$work/devdb" ] || $GO build -o "$work/devdb" ./cmd/devdb
    run=("$work/devdb" -ephemeral -- "$bin")
  fi

  for name in $names; do
    targets=$(( targets + 1 ))
    log="$work/$name.log"
    # The limit leaves room for setup and for minimizing a failing input (up to a minute).
    limit=$(( $(seconds "$time") + 180 ))
    # On a busy machine go's fuzzing coordinator can stop a worker at the end of fuzztime and
    # report "context deadline exceeded" without any failing input (nothing is written to
    # testdata/fuzz): that run proved nothing either way, so it is run once more.
    for attempt in 1 2; do
      status=0
      (cd "$root/$dir" && timeout --signal=INT --kill-after=10 "$limit" "${run[@]}" \
        -test.run='^$' -test.fuzz="^${name}\$" -test.fuzztime="$time" \
        -test.fuzzcachedir="$pkgcache" -test.parallel="$FUZZ_WORKERS" -test.v) > "$log" 2>&1 || status=$?
      if [ "$status" != 0 ] && [ "$attempt" = 1 ] && grep -q 'context deadline exceeded' "$log" \
        && ! grep -q 'Failing input written' "$log" \
        && [ -z "$(git -C "$root" status --porcelain -- "$dir/testdata/fuzz/$name")" ]; then
        echo "($dir $name: the fuzzing engine timed out without a failing input; running it again)"
        continue
      fi
      break
    done
    # The coordinator prints "fuzz: elapsed: 4s, execs: 5482 (1348/sec), ..." every few
    # seconds and once at the end: the last one is the target's total.
    n=$(grep -oE '^fuzz: elapsed: [0-9]+s, execs: [0-9]+' "$log" | tail -1 | sed -E 's/.*execs: //' || true)
    execs=$(( execs + ${n:-0} ))
    if [ "$status" != 0 ] || grep -q -- '--- FAIL' "$log"; then
      failures=$(( failures + 1 ))
      failed+=("$dir:$name")
      echo "=== $dir $name failed (exit $status):"
      grep -v ' level=INFO \| INFO ' "$log" || true
      git -C "$root" status --porcelain -- "$dir/testdata/fuzz/$name" || true
    else
      note=""
      if [ -z "$n" ]; then
        knob=FUZZTIME
        [ "$db" = 0 ] || knob=FUZZTIME_DB
        note=" (still replaying its corpus when time ran out: raise $knob)"
      fi
      printf '%-20s %-22s %s execs%s\n' "$dir" "$name" "${n:-0}" "$note"
    fi
  done
done

line="fuzz-targets: $targets targets x $FUZZTIME"
if [ "${#dbnames[@]}" -gt 0 ]; then
  line+=" (${dbnames[*]} with the database x $FUZZTIME_DB)"
elif [ "$dbskipped" -gt 0 ]; then
  line+=" ($dbskipped database targets skipped)"
fi
line+=", $execs execs, $failures failures"
echo "$line"
if [ -n "${CX_TEST_SUMMARY:-}" ]; then
  echo "$line" >> "$CX_TEST_SUMMARY"
fi
if [ "$failures" -gt 0 ]; then
  echo "failing: ${failed[*]} (new failing inputs are in the packages' testdata/fuzz; re-run with go test -run=<Target>/<file>)"
  exit 1
fi
