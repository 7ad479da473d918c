#!/usr/bin/env bash
# make test: vet + unit tests, then the integration suite against the real
# local stack, which this script starts and always stops again.
set -euo pipefail
cd "$(dirname "$0")/.."

integration_only=false
[ "${1:-}" = "--integration-only" ] && integration_only=true

if ! $integration_only; then
  echo "== go vet"
  go vet ./...
  go vet -tags integration ./test/...
  echo "== unit tests"
  go test -count=1 ./...
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
cleanup() { if $started_stack; then bash test/stack/stack-down.sh || true; fi; }
trap cleanup EXIT

# shellcheck source=stack/env.sh
. test/stack/env.sh
export DDBSYNC_BIN="$PWD/bin/ddbsync"
echo "== integration tests"
go test -tags integration -count=1 -timeout 40m -v ./test/integration/ 2>&1 | tee .stack/integration.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic|\s+\S+_test\.go)' || true
# The pipe above hides go test's status; read it back from the log.
if grep -qE '^(FAIL|--- FAIL|panic:)' .stack/integration.log || ! grep -qE '^ok ' .stack/integration.log; then
  echo "integration tests FAILED (full log: .stack/integration.log)"
  exit 1
fi
echo "integration tests passed"
