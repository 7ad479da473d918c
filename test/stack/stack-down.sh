#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stops the local test stack started by stack-up.sh: kills only the PIDs recorded in .stack/pids/
# (TERM, then KILL after 30 s), waits for them to exit and removes the servers' data. Idempotent.
# Logs (.stack/logs/), compiled wrappers (.stack/build/) and downloads (.cache/) are kept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
. "$here/env.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"

[ -d "$stack" ] || { log "already down"; exit 0; }
lock_stack

stopped=0
for f in "$pids"/*.pid; do
  [ -e "$f" ] || continue # no PID files
  stop_server "$(basename "$f" .pid)"
  stopped=$((stopped + 1))
done
rm -rf "$data"

if [ "$stopped" -eq 0 ]; then log "already down"; else log "down"; fi
