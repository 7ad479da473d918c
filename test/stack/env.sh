# shellcheck shell=bash
# Environment for the local test stack (DESIGN.md §5). Source it from any directory:
#
#   . test/stack/env.sh
#
# Ports already set in the environment win over the defaults, which are deliberately not the
# servers' usual ports (other programs may hold 8000/9000/9200). The AWS settings are fixed local
# test values and point every SDK at the stack only: the shared AWS config files and any profile
# or session token of the calling shell are masked, so nothing here can reach a real account.

DDBSYNC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export DDBSYNC_ROOT

export DDB_PORT="${DDB_PORT:-18000}"
# The export emulator (test/exportemu), a proxy in front of DynamoDB Local that adds the PITR and
# export calls: AWS_ENDPOINT_URL_DYNAMODB points here; DynamoDB Streams calls go to DDB_PORT.
export DDB_PROXY_PORT="${DDB_PROXY_PORT:-18001}"
export OPENSEARCH_PORT="${OPENSEARCH_PORT:-19200}"
export S3_PORT="${S3_PORT:-19000}"
# Extra search servers for the compatibility suite (test/compat), started one at a time by
# compat-server.sh, never by stack-up.sh. Each node's transport port is its HTTP port + 100.
export OPENSEARCH3_PORT="${OPENSEARCH3_PORT:-19230}"
export ELASTICSEARCH7_PORT="${ELASTICSEARCH7_PORT:-19270}"

export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=ddbsynclocal
export AWS_SECRET_ACCESS_KEY=ddbsynclocalsecret
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true

# Service-specific endpoints, read by aws-sdk-go-v2's config.LoadDefaultConfig and the AWS CLI.
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${DDB_PROXY_PORT}"
export AWS_ENDPOINT_URL_DYNAMODB_STREAMS="http://127.0.0.1:${DDB_PORT}"
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:${S3_PORT}"
# The S3 server needs path-style addressing. No SDK reads this variable: clients built for the
# stack must set it themselves (aws-sdk-go-v2: s3.Options.UsePathStyle = true).
export AWS_S3_USE_PATH_STYLE=true
export DDBSYNC_EXPORT_BUCKET="${DDBSYNC_EXPORT_BUCKET:-ddbsync-export}"

export OPENSEARCH_URL="http://127.0.0.1:${OPENSEARCH_PORT}"
export OPENSEARCH3_URL="http://127.0.0.1:${OPENSEARCH3_PORT}"
export ELASTICSEARCH7_URL="http://127.0.0.1:${ELASTICSEARCH7_PORT}"
