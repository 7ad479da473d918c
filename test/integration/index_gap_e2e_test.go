//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	shared "github.com/ddbsync/ddbsync/test/e2e"
)

// TestIndexDeletedStops: the index deleted under a running pipeline with
// on_gap: stop makes run exit 3 with an INDEX GAP error, instead of
// writing on into the index OpenSearch recreates (issue 8 class 6).
func TestIndexDeletedStops(t *testing.T) {
	e := newE2E(t, "idxstop", "", "")
	e.writePipeline("stream:\n  start_position: TRIM_HORIZON\n  on_gap: stop", "")
	e.start()
	for i := 0; i < 20; i++ {
		e.put(map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%d", i)), "v": n("1")})
	}
	e.converge(30 * time.Second)
	if st, b := e.osDo("DELETE", "/"+e.index, nil); st != 200 {
		t.Fatalf("delete index: %d %s", st, b)
	}
	// The next write recreates the index with only this document.
	e.put(map[string]types.AttributeValue{"pk": s("after"), "v": n("1")})
	code := e.wait(60 * time.Second)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (gap); log:\n%s", code, shared.Tail(e.log(), 4000))
	}
	for _, want := range []string{"STREAM GAP", "INDEX GAP", e.index} {
		if !strings.Contains(e.log(), want) {
			t.Fatalf("log lacks %q:\n%s", want, shared.Tail(e.log(), 4000))
		}
	}
}

// TestIndexDeletedRebackfills: with on_gap: rebackfill and a scan, the
// index deleted mid-stream while writes go on is re-backfilled, orphans
// are swept, and the index converges to the table with the process still
// running; the gap is counted.
func TestIndexDeletedRebackfills(t *testing.T) {
	e := newE2E(t, "idxrebf", "", "")
	e.metricsAddr = freeAddr(t)
	e.load(300)
	e.writePipeline("scan:\n  segments: 2\nstream:\n  start_position: LATEST\n  on_gap: rebackfill", "")
	e.start()
	e.waitLog("scan backfill complete", time.Minute)
	e.converge(60 * time.Second)
	stop := make(chan struct{})
	wg := e.churn(300, stop)
	time.Sleep(2 * time.Second)
	if st, b := e.osDo("DELETE", "/"+e.index, nil); st != 200 {
		t.Fatalf("delete index: %d %s", st, b)
	}
	e.waitLog("re-backfill complete", 2*time.Minute)
	time.Sleep(2 * time.Second) // writes go on after the recovery
	close(stop)
	wg.Wait()
	e.converge(90 * time.Second)
	select {
	case err := <-e.procDone:
		t.Fatalf("ddbsync exited: %v\n%s", err, shared.Tail(e.log(), 4000))
	default:
	}
	if !strings.Contains(e.log(), "INDEX GAP") {
		t.Fatal("log lacks INDEX GAP")
	}
	m := httpGet(t, e.metricsAddr, "/metrics").body
	want := fmt.Sprintf(`ddbsync_stream_gaps_total{reason="index_recreated",table="%s"} 1`, e.table)
	if !strings.Contains(m, want) {
		t.Fatalf("/metrics lacks %q:\n%s", want, grepLines(m, "gaps"))
	}
	if a := httpGet(t, e.metricsAddr, "/readyz"); a.status != 200 {
		t.Fatalf("/readyz after recovery %d %s", a.status, a.body)
	}
}
