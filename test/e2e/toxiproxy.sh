#!/usr/bin/env bash
# Installs the Toxiproxy server used by the end-to-end suites (test/faults, test/integration;
# started by test/e2e/toxiproxy.go) into .cache/bin with `go install` from the Go module proxy,
# and prints its path. Skips the build when the binary there already is that version. A scenario
# starts it on a free port and stops it by PID.
#
#   bash test/e2e/toxiproxy.sh           # → /…/.cache/bin/toxiproxy-server
#
# The version is pinned: the module proxy's version list stops at v2.5.0 (so @latest resolves
# there), although later v2 tags resolve by name; v2.12.0 is the newest v2 release.
set -euo pipefail

TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-v2.12.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="$root/.cache/bin/toxiproxy-server"

if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -q "mod[[:space:]]*github.com/Shopify/toxiproxy/v2[[:space:]]*$TOXIPROXY_VERSION"; then
  echo "$bin"
  exit 0
fi
echo "toxiproxy.sh: building toxiproxy $TOXIPROXY_VERSION (go install)" >&2
mkdir -p "$root/.cache/bin"
tmp="$(mktemp -d "$root/.cache/toxiproxy.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# The module's server command is cmd/server, so go install names the binary "server"; it is
# renamed to something recognisable in the shared .cache/bin.
GOBIN="$tmp" GOFLAGS='' go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION"
mv "$tmp/server" "$bin"
echo "$bin"
