//go:build integration

// Package compat is the compatibility suite (issue 12): the core
// end-to-end scenarios — stream with deletes and shard rollovers, export
// and scan backfill, a mapping rejection to the dead-letter queue, an
// ingest pipeline (present, missing, deleted under a run), a closed index,
// index templates (v1 and index-template) and `ddbsync verify` — against
// the search server at $COMPAT_SEARCH_URL (default $OPENSEARCH_URL, the
// stack's OpenSearch 2.19). make test runs it against OpenSearch 2.19,
// OpenSearch 3.x and Elasticsearch 7.10.2 in turn
// (test/stack/compat-server.sh starts the extra servers). Every scenario runs on the one end-to-end harness
// (test/e2e) and compares every item with every document.
package compat

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/test/e2e"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// server is the base URL of the search server under test.
func server(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv("COMPAT_SEARCH_URL"); u != "" {
		return u
	}
	return e2e.Env(tb, "OPENSEARCH_URL")
}

// newHarness is a scenario on the server under test, in a DynamoDB Local
// namespace of its own (ns zero) or the given one.
func newHarness(t *testing.T, name string, ns e2e.Namespace) *e2e.Harness {
	t.Helper()
	t.Parallel() // each scenario has its own namespace, table and index
	h := e2e.New(t, e2e.Options{Prefix: "compat", Name: name, NS: ns, OpenSearch: server(t)}, 0)
	t.Logf("server %s: %s", h.OpenSearch, serverVersion(t, h))
	return h
}

// serverVersion is "opensearch 3.8.0" or "elasticsearch 7.10.2".
func serverVersion(t *testing.T, h *e2e.Harness) string {
	t.Helper()
	st, b := e2e.Do(h.Ctx, h.OpenSearch, "GET", "/", nil)
	if st != 200 {
		t.Fatalf("GET %s/: %d %s", h.OpenSearch, st, b)
	}
	var r struct {
		Version struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("GET /: %v", err)
	}
	if r.Version.Distribution == "" {
		r.Version.Distribution = "elasticsearch"
	}
	return r.Version.Distribution + " " + r.Version.Number
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// put writes one item through DynamoDB Local.
func put(t *testing.T, h *e2e.Harness, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := h.DDB.PutItem(h.Ctx, &dynamodb.PutItemInput{TableName: aws.String(h.Table), Item: item}); err != nil {
		t.Fatalf("put: %v", err)
	}
}

// del deletes the item with partition key pk.
func del(t *testing.T, h *e2e.Harness, pk string) {
	t.Helper()
	key := map[string]types.AttributeValue{"pk": s(pk)}
	if _, err := h.DDB.DeleteItem(h.Ctx, &dynamodb.DeleteItemInput{TableName: aws.String(h.Table), Key: key}); err != nil {
		t.Fatalf("delete %s: %v", pk, err)
	}
}

// hostileFor runs the hostile workload for d and fails on a write error.
func hostileFor(t *testing.T, h *e2e.Harness, cfg workload.Config, d time.Duration) {
	t.Helper()
	if err := h.Workload(cfg).RunFor(h.Ctx, d); err != nil {
		t.Fatalf("workload: %v", err)
	}
}

// plainItems writes count small items pk "<prefix><i>".
func plainItems(t *testing.T, h *e2e.Harness, prefix string, count int) {
	t.Helper()
	for i := 0; i < count; i++ {
		put(t, h, map[string]types.AttributeValue{"pk": s(fmt.Sprintf("%s%d", prefix, i)), "n": n(fmt.Sprint(i)), "tag": s(fmt.Sprintf("t%d", i%3))})
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
