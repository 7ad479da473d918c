#!/usr/bin/env bash
# make demo: start the local stack, create a demo table, run ddbsync with the
# repository's pipeline.yaml, and write one change per second while printing
# what OpenSearch holds. Ctrl-C stops ddbsync cleanly (the stack stays up;
# `make stack-down` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/stack/stack-up.sh
. test/stack/env.sh
created=$(go run ./test/demo create)
echo "$created"
mkdir -p .ddbsync
# DynamoDB Local is in memory: a new demo table has a new stream, so the
# checkpoints of an earlier demo no longer apply.
case "$created" in created*) rm -f .ddbsync/checkpoints.json ;; esac
./bin/ddbsync run -f pipeline.yaml --state-dir .ddbsync 2> .ddbsync/demo.log &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; echo "ddbsync stopped (exit $?); log: .ddbsync/demo.log"' EXIT
echo "ddbsync running (pid $pid, log .ddbsync/demo.log, metrics http://127.0.0.1:4900/metrics). Ctrl-C stops."
go run ./test/demo || true
