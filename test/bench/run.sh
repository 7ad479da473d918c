#!/usr/bin/env bash
# make bench-<name>: start the local stack if needed, run the benchmark program.
# make bench (run.sh all): every benchmark, short by default, then one table
# of every row they printed. BENCH_STREAM_ARGS, BENCH_CATCHUP_ARGS,
# BENCH_BACKFILL_ARGS, BENCH_SHARDS_ARGS and BENCH_TAKEOVER_ARGS lengthen them (e.g. BENCH_STREAM_ARGS="-rounds 5 -samples 30").
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/stack/env.sh
# A stack already answering (perhaps started from another checkout) is used as is.
if ! curl -sf -o /dev/null "$OPENSEARCH_URL" || ! curl -s -o /dev/null "http://127.0.0.1:$DDB_PORT"; then
	bash test/stack/stack-up.sh
fi
if [ "$1" != all ]; then
	go run "./test/bench/$1" -bin bin/ddbsync "${@:2}"
	exit
fi
BENCH_ROWS="$(mktemp)"
export BENCH_ROWS
trap 'rm -f "$BENCH_ROWS"' EXIT
start=$(date +%s)
# shellcheck disable=SC2086 # the ARGS are word lists
go run ./test/bench/stream -bin bin/ddbsync ${BENCH_STREAM_ARGS:-}
go run ./test/bench/catchup -bin bin/ddbsync ${BENCH_CATCHUP_ARGS:--n 10000}
go run ./test/bench/backfill -bin bin/ddbsync ${BENCH_BACKFILL_ARGS:--items 20000}
go run ./test/bench/shards -bin bin/ddbsync ${BENCH_SHARDS_ARGS:--tables 50,200 -rounds 2 -measure 10s}
go run ./test/bench/takeover -bin bin/ddbsync ${BENCH_TAKEOVER_ARGS:--shards 100 -rounds 2 -measure 10s}
echo
echo "make bench: $(( $(date +%s) - start )) s on $(nproc) CPUs; value = median (min–max) of interleaved runs unless marked pooled; latencies pooled over all rounds (per-round min–max)"
{
	printf 'benchmark\tcase\tmetric\tA\tB\tratio\tachieved\tload\n'
	cat "$BENCH_ROWS"
} | column -t -s $'\t' -o ' | '
