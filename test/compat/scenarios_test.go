//go:build integration

package compat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/test/e2e"
	"github.com/ddbsync/ddbsync/test/e2e/workload"
)

// TestCompatStreamDeletesRollover: inserts, updates and deletes, then the
// hostile workload, across two shard rollovers; every item equals every
// document.
func TestCompatStreamDeletesRollover(t *testing.T) {
	h := newHarness(t, "stream", e2e.Namespace{})
	h.WritePipeline(e2e.Pipeline{})
	h.Start()
	plainItems(t, h, "a", 30)
	for i := 0; i < 30; i += 3 {
		del(t, h, fmt.Sprintf("a%d", i))
	}
	h.TestControl("ACTION", "ROLLOVER")
	for i := 1; i < 30; i += 3 {
		put(t, h, map[string]types.AttributeValue{"pk": s(fmt.Sprintf("a%d", i)), "n": n("-1"), "after": s("rollover")})
	}
	run := h.StartWorkload(h.Workload(workload.Config{Keys: 150}))
	e2e.Sleep(h.Ctx, 2*time.Second)
	h.TestControl("ACTION", "ROLLOVER")
	e2e.Sleep(h.Ctx, 2*time.Second)
	if err := run.Stop(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	h.Converge(90 * time.Second)
	if !strings.Contains(h.AllLogs(), "shard drained") {
		t.Fatalf("no shard was drained after ROLLOVER; log:\n%s", e2e.Tail(h.Log(), 4000))
	}
}

// TestCompatExportBackfill: a table of hostile items is backfilled from a
// PITR export (the export emulator writes it to S3), then streamed.
func TestCompatExportBackfill(t *testing.T) {
	h := newHarness(t, "export", e2e.StackNamespace(t, e2e.StackRegion(t, "compat")))
	load(t, h, 2000)
	h.EnablePITR()
	h.WritePipeline(e2e.Pipeline{TableBlock: fmt.Sprintf("export:\n  s3_bucket: %s\n  s3_region: us-east-1\n  s3_prefix: compat/%s\nstream:\n  start_position: LATEST",
		e2e.Env(t, "DDBSYNC_EXPORT_BUCKET"), h.Table)})
	h.Start()
	h.MustLog(3*time.Minute, "export backfill complete")
	hostileFor(t, h, workload.Config{Keys: 2000, Pad: -1, Depth: 2}, 2*time.Second)
	h.Converge(90 * time.Second)
}

// TestCompatScanBackfill: the same by a parallel Scan.
func TestCompatScanBackfill(t *testing.T) {
	h := newHarness(t, "scan", e2e.Namespace{})
	load(t, h, 2000)
	h.WritePipeline(e2e.Pipeline{TableBlock: "scan:\n  segments: 4\n  page_size: 250\nstream:\n  start_position: LATEST"})
	h.Start()
	h.MustLog(3*time.Minute, "scan backfill complete")
	hostileFor(t, h, workload.Config{Keys: 2000, Pad: -1, Depth: 2}, 2*time.Second)
	h.Converge(90 * time.Second)
}

// load writes count hostile items (and the special keys) with BatchWriteItem.
func load(t *testing.T, h *e2e.Harness, count int) {
	t.Helper()
	if err := h.Workload(workload.Config{Keys: count, Pad: -1, Depth: 2, Writers: 4}).Load(h.Ctx, count); err != nil {
		t.Fatalf("load: %v", err)
	}
}

// TestCompatMappingRejectionDLQ: a document the server refuses for good
// (an object field given a string) goes to the dead-letter queue with what
// a redrive needs; everything else goes on, and a later valid change of
// the item converges.
func TestCompatMappingRejectionDLQ(t *testing.T) {
	h := newHarness(t, "dlq", e2e.Namespace{})
	dlq := filepath.Join(h.Dir, "dlq.jsonl")
	h.WritePipeline(e2e.Pipeline{SinkExtra: "dlq_file: " + dlq})
	h.Start()
	obj := func(v string) types.AttributeValue {
		return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n(v)}}
	}
	put(t, h, map[string]types.AttributeValue{"pk": s("good"), "f": obj("1")})
	h.Converge(30 * time.Second)
	put(t, h, map[string]types.AttributeValue{"pk": s("bad"), "f": s("not an object")})
	put(t, h, map[string]types.AttributeValue{"pk": s("after"), "f": obj("2")})
	err := e2e.Poll(h.Ctx, 30*time.Second, 300*time.Millisecond, func(ctx context.Context) (bool, error) {
		d, err := h.Compare()
		if err != nil {
			return false, err
		}
		return len(d.Missing) == 1 && d.Missing[0].ID == "bad" && len(d.Extra)+len(d.Stale) == 0, nil
	})
	if err != nil {
		d, _ := h.Compare()
		t.Fatalf("want exactly 'bad' missing: %v: %s", err, d)
	}
	entries := dlqEntries(t, dlq)
	if len(entries) != 1 {
		t.Fatalf("%d dead letters, want 1: %v", len(entries), entries)
	}
	en := entries[0]
	doc, _ := json.Marshal(en["document"])
	if en["id"] != "bad" || en["action"] != "index" || en["version"] == nil || !strings.Contains(string(doc), "not an object") {
		t.Fatalf("dead letter lacks what a redrive needs: %v", en)
	}
	put(t, h, map[string]types.AttributeValue{"pk": s("bad"), "f": obj("3")})
	h.Converge(30 * time.Second)
}

// dlqEntries reads a dead-letter file (missing = none).
func dlqEntries(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("dead letter is not JSON: %s", sc.Text())
		}
		out = append(out, m)
	}
	return out
}
