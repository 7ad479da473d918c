#!/usr/bin/env bash
# make test: vet + unit tests, then the integration suite against the real
# local stack, which this script starts and always stops again, then the
# compatibility suite against OpenSearch 2.19 (the stack's), OpenSearch 3.x
# and Elasticsearch 7.10.2, one server at a time.
#   --integration-only  the suites only, against a stack that is already up
#   --compat-only       the compatibility suite only (stack already up)
set -euo pipefail
cd "$(dirname "$0")/.."

integration_only=false compat_only=false
case "${1:-}" in
  --integration-only) integration_only=true ;;
  --compat-only) integration_only=true compat_only=true ;;
esac

if ! $integration_only; then
  echo "== go vet"
  go vet ./...
  go vet -tags integration ./test/...
  echo "== unit tests (race detector on)"
  go test -race -count=1 ./...
  # The end-to-end harness's own tests (the comparison's classes) need no stack.
  go test -race -count=1 -tags integration ./test/e2e/...
fi

echo "== build"
make --no-print-directory build

started_stack=false
if ! $integration_only; then
  echo "== local stack"
  out=$(bash test/stack/stack-up.sh 2>&1) || { echo "$out"; exit 1; }
  echo "$out"
  # Stop the stack afterwards only when this run started it.
  case "$out" in *"already up"*) ;; *) started_stack=true ;; esac
fi
# Extra search servers this run started (compat), stopped again on any exit.
compat_started=()
cleanup() {
  local s
  for s in "${compat_started[@]}"; do bash test/stack/compat-server.sh down "$s" || true; done
  if $started_stack; then bash test/stack/stack-down.sh || true; fi
}
trap cleanup EXIT

# shellcheck source=stack/env.sh
. test/stack/env.sh
export DDBSYNC_BIN="$PWD/bin/ddbsync"
# failure_details LOG: what each failed top-level test printed (its assertion
# lines and the harness's log tail), so a CI log says why, not only which.
failure_details() {
  for t in $(grep -oE '^--- FAIL: [A-Za-z0-9_]+' "$1" | awk '{print $3}' | sort -u); do
    echo "---- output of $t (up to 150 lines):"
    awk -v t="$t" '
      $0 ~ "^=== (RUN|CONT|PAUSE)[[:space:]]+" t "([/[:space:]]|$)" { on = 1 }
      $0 ~ "^=== (RUN|CONT)[[:space:]]+" && $0 !~ "[[:space:]]" t "([/[:space:]]|$)" { on = 0 }
      on { print }
      $0 ~ "^--- (FAIL|PASS): " t " " { on = 0 }
    ' "$1" | grep -v 'WARN failed to close HTTP response body' | head -150
  done
}

# run_suite NAME ARGS...: go test with the log kept in .stack/NAME.log and a
# short summary on the console; returns go test's status.
run_suite() {
  local name=$1 status; shift
  echo "== $name"
  set +e
  go test -tags integration -count=1 "$@" > ".stack/$name.log" 2>&1
  status=$?
  set -e
  grep -E '^(--- |ok |FAIL|panic:|\| )|^\s+--- ' ".stack/$name.log" | grep -v -- '--- PASS: .*/' || true
  if [ $status -ne 0 ]; then
    echo "$name FAILED (exit $status)"
    failure_details ".stack/$name.log"
    echo "the last lines of .stack/$name.log:"
    tail -40 ".stack/$name.log"
  fi
  return $status
}

# compat_suite NAME URL: the compatibility suite against the server at URL.
compat_suite() {
  local start=$SECONDS status=0
  COMPAT_SEARCH_URL="$2" run_suite "compat-$1" -timeout 15m -parallel 3 -v ./test/compat/ || status=$?
  echo "compat-$1: $((SECONDS - start)) s"
  return $status
}

# compat_server NAME URL: starts the extra server NAME alone, runs the
# compatibility suite against it and stops it (unless it was up before).
compat_server() {
  local server=$1 url=$2 out status=0 start=$SECONDS
  echo "== start $server"
  out=$(bash test/stack/compat-server.sh up "$server" 2>&1) || { echo "$out"; echo "$server did not start"; return 1; }
  echo "$out"
  case "$out" in *"already running"*) ;; *) compat_started+=("$server") ;; esac
  compat_suite "$server" "$url" || status=$?
  if [ ${#compat_started[@]} -gt 0 ] && [ "${compat_started[-1]}" = "$server" ]; then
    bash test/stack/compat-server.sh down "$server" || true
    unset 'compat_started[-1]'
  fi
  echo "$server: $((SECONDS - start)) s with start and stop"
  return $status
}

failed=0
if ! $compat_only; then
  run_suite integration -timeout 45m -v ./test/integration/ || failed=1
  run_suite faults-short -short -timeout 20m -v ./test/faults/ || failed=1
fi
compat_start=$SECONDS
compat_suite opensearch-2.19 "$OPENSEARCH_URL" || failed=1
compat_server opensearch3 "$OPENSEARCH3_URL" || failed=1
compat_server elasticsearch7 "$ELASTICSEARCH7_URL" || failed=1
echo "compatibility suite, 3 servers: $((SECONDS - compat_start)) s"
if [ $failed -ne 0 ]; then
  echo "make test: FAILED"
  exit 1
fi
echo "make test: all tests passed"
