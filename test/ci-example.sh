#!/usr/bin/env bash
# An example CI job, the way you would put ddbsync into your own pipeline:
# bring up DynamoDB Local and OpenSearch, start `ddbsync run` in the
# background, write items, call `ddbsync wait`, and assert on what search
# returns. No sleeps: `ddbsync wait` returns once every write made before it
# is applied and searchable. Run it with `bash test/ci-example.sh`; the
# integration suite runs it too (TestCIExample).
#
# In your own job, replace the stack lines with your services (a compose file
# or CI service containers) and the `ddb` helper with `aws dynamodb ...`; the
# helper only exists so this script needs nothing but curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. The servers, and ddbsync itself.
make --no-print-directory build >/dev/null
out=$(bash test/stack/stack-up.sh 2>&1) || { echo "$out"; exit 1; }
started=true
case "$out" in *"already up"*) started=false ;; esac
. test/stack/env.sh
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
  curl -s -X DELETE "$OPENSEARCH_URL/$index" >/dev/null 2>&1 || true
  if $started; then bash test/stack/stack-down.sh >/dev/null || true; fi
}
trap cleanup EXIT

# ddb ACTION JSON: one DynamoDB API call against DynamoDB Local, which reads
# the access key and region from the Authorization header and does not
# check signatures (the same call as `aws dynamodb <action>`).
export AWS_ACCESS_KEY_ID="ci$RANDOM$RANDOM"   # a DynamoDB Local namespace of our own
index=""
ddb() {
  curl -sS --fail-with-body -X POST "http://127.0.0.1:$DDB_PORT" \
    -H "X-Amz-Target: DynamoDB_20120810.$1" -H 'Content-Type: application/x-amz-json-1.0' \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=$AWS_ACCESS_KEY_ID/20260101/$AWS_REGION/dynamodb/aws4_request, SignedHeaders=host, Signature=0" \
    -d "$2"
}

# 2. A table with a stream, and a pipeline for it.
table=orders
index="orders-ci-$AWS_ACCESS_KEY_ID"   # ddbsync creates it
ddb CreateTable '{"TableName":"'$table'","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
  "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",
  "StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}' >/dev/null
cat > "$work/pipeline.yaml" <<YAML
version: "2"
ci:
  source:
    dynamodb:
      tables:
        - table_arn: "arn:aws:dynamodb:ddblocal:000000000000:table/$table"
          stream:
            start_position: TRIM_HORIZON
  sink:
    - opensearch:
        hosts: ["$OPENSEARCH_URL"]
        index: $index
        document_id: '\${getMetadata("primary_key")}'
        action: '\${getMetadata("opensearch_action")}'
        document_version: '\${getMetadata("document_version")}'
        document_version_type: external
YAML
./bin/ddbsync validate -f "$work/pipeline.yaml" >/dev/null
metrics="127.0.0.1:$((20000 + RANDOM % 20000))"
./bin/ddbsync run -f "$work/pipeline.yaml" --state-dir "$work/state" --metrics-addr "$metrics" 2> "$work/ddbsync.log" &
pid=$!

# 3. The test writes...
for i in 1 2 3; do
  ddb PutItem '{"TableName":"'$table'","Item":{"pk":{"S":"order-'$i'"},"status":{"S":"shipped"},"total":{"N":"'$i'9.99"}}}' >/dev/null
done
ddb PutItem '{"TableName":"'$table'","Item":{"pk":{"S":"order-4"},"status":{"S":"pending"}}}' >/dev/null
ddb UpdateItem '{"TableName":"'$table'","Key":{"pk":{"S":"order-3"}},"UpdateExpression":"SET #s = :p",
  "ExpressionAttributeNames":{"#s":"status"},"ExpressionAttributeValues":{":p":{"S":"pending"}}}' >/dev/null
ddb DeleteItem '{"TableName":"'$table'","Key":{"pk":{"S":"order-1"}}}' >/dev/null

# 4. ...waits until the index reflects every write above...
if ! ./bin/ddbsync wait -f "$work/pipeline.yaml" --state-dir "$work/state" --timeout 60s; then
  echo "ci-example: ddbsync did not catch up; its log:"; tail -30 "$work/ddbsync.log"; exit 1
fi

# 5. ...and asserts on search results.
fail=0
check() { # check WHAT GOT WANT
  if [ "$2" = "$3" ]; then echo "ok   $1: $2"; else echo "FAIL $1: got $2, want $3"; fail=1; fi
}
search() { curl -sS --fail-with-body "$OPENSEARCH_URL/$index/_search?q=$1" | jq -r "$2"; }
check "shipped orders" "$(search 'status:shipped' '[.hits.hits[]._id] | sort | join(",")')" "order-2"
check "pending orders" "$(search 'status:pending' '[.hits.hits[]._id] | sort | join(",")')" "order-3,order-4"
check "exact total of order-2" "$(curl -sS "$OPENSEARCH_URL/$index/_doc/order-2" | jq -r '._source.total')" "29.99"
check "deleted order-1 is gone" "$(curl -s -o /dev/null -w '%{http_code}' "$OPENSEARCH_URL/$index/_doc/order-1")" "404"
kill -TERM "$pid"; code=0; wait "$pid" || code=$?; pid=""
check "ddbsync exit on SIGTERM" "$code" "0"
[ $fail -eq 0 ] && echo "ci-example: passed" || { echo "ci-example: FAILED; ddbsync log:"; tail -30 "$work/ddbsync.log"; }
exit $fail
