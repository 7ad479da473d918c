# shellcheck shell=bash
# shellcheck disable=SC2034 # the paths below are used by the scripts that source this file
# Helpers shared by stack-up.sh and stack-down.sh; sourced after env.sh (needs DDBSYNC_ROOT).

cache="$DDBSYNC_ROOT/.cache"
stack="$DDBSYNC_ROOT/.stack"
pids="$stack/pids"
logs="$stack/logs"
data="$stack/data"
build="$stack/build"

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# fail_with_log WHAT LOGFILE: report WHAT with the tail of LOGFILE, then exit non-zero.
fail_with_log() {
  log "FAILED: $1; last lines of ${2#"$DDBSYNC_ROOT"/}:"
  tail -n 40 "$2" >&2 2>/dev/null || true
  exit 1
}

# One stack-up/stack-down at a time per checkout.
lock_stack() {
  mkdir -p "$stack"
  exec 9>"$stack/lock"
  flock -w 600 9 || die "another stack-up/stack-down holds $stack/lock"
}

http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true; }

# all_files_exist CLASSPATH: every ':'-separated entry is an existing file.
all_files_exist() {
  local f
  local IFS=:
  for f in $1; do [ -f "$f" ] || return 1; done
}

# alive PID: the process exists and is not a zombie (an exited child of this script still
# answers kill -0 until it is reaped).
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [ -n "$stat" ] && [ "${stat%% *}" != Z ]
}

# server_running NAME: NAME's PID file names a live process that is ours — its command line
# mentions this checkout's .stack directory — so a recycled PID is never taken for a server.
server_running() {
  local pid
  pid="$(cat "$pids/$1.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$stack/"
}

# require_free_port NAME PORT_VAR: fails unless nothing listens on 127.0.0.1:$PORT_VAR.
require_free_port() {
  local port="${!2}"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "$1: port $port is already in use by another program; choose another with $2=..."
  fi
}

# start_server NAME PORT PORT_VAR CMD...: starts CMD in the background, logging to
# .stack/logs/NAME.log, and records its PID in .stack/pids/NAME.pid.
start_server() {
  local name="$1" port="$2" var="$3"
  shift 3
  require_free_port "$name" "$var"
  log "starting $name on 127.0.0.1:$port"
  nohup "$@" </dev/null >"$logs/$name.log" 2>&1 9>&- & # 9: the lock, not for servers
  echo $! >"$pids/$name.pid"
}

# wait_ready NAME CHECK_FN TIMEOUT_SECONDS
wait_ready() {
  local name="$1" check="$2" deadline=$((SECONDS + $3))
  until "$check"; do
    if ! server_running "$name"; then
      rm -f "$pids/$name.pid"
      fail_with_log "$name exited before it was ready" "$logs/$name.log"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      stop_server "$name"
      fail_with_log "$name not ready after $3s (stopped it)" "$logs/$name.log"
    fi
    sleep 0.5
  done
}

# stop_server NAME: TERM the PID in NAME's PID file (KILL after 30 s), wait for it to exit.
stop_server() {
  local name="$1" pid i
  [ -f "$pids/$name.pid" ] || return 0
  pid="$(cat "$pids/$name.pid")"
  if server_running "$name"; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
      alive "$pid" || break
      sleep 0.5
    done
    if alive "$pid"; then
      log "$name (pid $pid) ignored TERM for 30s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        alive "$pid" || break
        sleep 0.2
      done
    fi
  fi
  rm -f "$pids/$name.pid"
}
