#!/usr/bin/env bash
# make bench-<name>: start the local stack if needed, run the benchmark program.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/stack/stack-up.sh
. test/stack/env.sh
go run "./test/bench/$1" -bin bin/ddbsync "${@:2}"
