//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	shared "github.com/ddbsync/ddbsync/test/e2e"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// TestServerlessModeConverges runs a pipeline whose sink says
// aws: {serverless: true} (with the blueprint's document_version lines,
// which serverless mode ignores) against the stack's OpenSearch, which
// accepts the aoss signatures without checking them. It proves the
// serverless write path — plain index/delete actions without versions,
// no refresh, no legacy template, HEAD <index> as the start-up probe — keeps
// the index equal to the table through a scan backfill, the hostile
// workload (hot keys, deletes and re-inserts) and a restart. It proves
// nothing about a real Serverless collection (see README).
func TestServerlessModeConverges(t *testing.T) {
	e := newE2E(t, "aoss", "", "")
	for i := 0; i < 50; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("before-%d", i)), "v": n(fmt.Sprint(i))})
	}
	e.writePipeline("scan:\n  segments: 2\nstream:\n  start_position: LATEST", "aws:\n  region: us-east-1\n  serverless: true")
	e.start()
	e.converge(60 * time.Second)
	e.hostileFor(workload.Config{Keys: 200}, 5*time.Second)
	e.converge(60 * time.Second)
	if code := e.stop(); code != 0 {
		e.dumpLog()
		t.Fatalf("graceful stop exit code %d", code)
	}
	// A restart continues from the checkpoints, still without versions.
	e.start()
	e.hostileFor(workload.Config{Keys: 200}, 3*time.Second)
	e.converge(60 * time.Second)
	if code := e.stop(); code != 0 {
		e.dumpLog()
		t.Fatalf("graceful stop exit code %d", code)
	}

	// Every document carries an internal version (no external version was
	// sent): ddbsync's external versions are above 10^15.
	docs, err := shared.IndexDocs(e.ctx, e.os, e.index)
	if err != nil {
		t.Fatal(err)
	}
	for id, d := range docs {
		if d.Version > 1_000_000 {
			t.Fatalf("document %s has version %d: an external version was sent", id, d.Version)
		}
	}
	// No legacy number-mapping template was installed.
	resp, err := http.Get(e.os + "/_template/" + strings.TrimSuffix(e.index, "-") + "-ddbsync-numbers")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("legacy template lookup answered %d, want 404 (serverless mode installs none)", resp.StatusCode)
	}
}
