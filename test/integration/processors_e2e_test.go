//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	sinkos "github.com/ddbsync/ddbsync/internal/sink/opensearch"
	shared "github.com/ddbsync/ddbsync/test/e2e"
)

// processorsYAML is a processor list that uses most processors at once.
const processorsYAML = `- drop_events:
    drop_when: '/status == "archived"'
- trim_string:
    with_keys: [name]
- lowercase_string:
    with_keys: [name]
- rename_keys:
    entries:
      - from_key: name
        to_key: title
- convert_entry_type:
    key: qty
    type: integer
- delete_entries:
    with_keys: [secret]
- add_entries:
    entries:
      - key: origin
        format: '${getMetadata("table_name")}/${pk}'
      - key: big_order
        value: true
        add_when: '/qty >= 10'
- date:
    match:
      - key: created
        patterns: ["yyyy-MM-dd"]
- parse_json:
    source: payload
    destination: parsed`

func procItem(pk, status, qty string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": s(pk), "name": s("  Item " + strings.ToUpper(pk) + " "), "status": s(status), "qty": s(qty),
		"secret": s("do not index"), "created": s("2024-02-29"), "payload": s(`{"n":12345678901234567890123,"tags":["a","b"]}`),
	}
}

// TestProcessorsPipeline replicates a table through a pipeline with nine
// processors, by scan backfill and then the stream: every document must
// equal its item as the chain processes it (the harness applies the same
// chain), items drop_events drops must have no document — also when a
// MODIFY makes an indexed item match drop_when — an item a processor fails
// on goes to the dead-letter queue with the reason, and verify agrees.
func TestProcessorsPipeline(t *testing.T) {
	requireStack(t)
	e := newE2E(t, "processors", "", "")
	for i := 0; i < 40; i++ {
		status := "active"
		if i%4 == 0 {
			status = "archived"
		}
		e.put(procItem(fmt.Sprintf("p%02d", i), status, fmt.Sprint(i)))
	}
	e.pipeline = e.h.WritePipeline(shared.Pipeline{Name: "e2e", Table: e.table, Index: e.index, SinkExtra: dataPrepperSink,
		TableBlock: "scan:\n  segments: 2\nstream:\n  start_position: LATEST", Processor: processorsYAML})
	if e.h.Processing.Len() != 9 {
		t.Fatalf("the harness compiled %d processors, want 9", e.h.Processing.Len())
	}
	e.start()
	d := e.converge(90 * time.Second)
	if d.items != 40 || d.docs != 30 {
		t.Fatalf("after the backfill: %d items, %d documents; want 40 and 30 (10 archived items dropped)", d.items, d.docs)
	}
	if doc := e.indexDocs()["p01"]; doc != `{"@timestamp":"2024-02-29T00:00:00.000Z","created":"2024-02-29","origin":"`+e.table+`/p01","parsed":{"n":12345678901234567890123,"tags":["a","b"]},"payload":"{\"n\":12345678901234567890123,\"tags\":[\"a\",\"b\"]}","pk":"p01","qty":1,"status":"active","title":"item p01"}` {
		t.Errorf("document p01 = %s", doc)
	}

	// Stream: an indexed item becomes archived (its document must go), an
	// archived one becomes active, one is deleted, one is inserted, and one
	// carries a qty no processor can convert (dead-lettered).
	e.put(procItem("p01", "archived", "1"))
	e.put(procItem("p04", "active", "44"))
	e.del(key1("p02"))
	e.put(procItem("p99", "active", "99"))
	e.put(procItem("bad", "active", "many"))
	d = e.converge(60 * time.Second)
	if d.items != 41 || d.docs != 30 { // p02 gone, p99 and bad new; p01 dropped, p04 back, bad dead-lettered
		t.Fatalf("after the stream: %d items, %d documents; want 41 and 30", d.items, d.docs)
	}
	if _, ok := e.indexDocs()["p01"]; ok {
		t.Error("p01 matches drop_when now; its document must be deleted")
	}
	dlq := filepath.Join(e.dir, "state", "dlq", "e2e.jsonl")
	var letters []sinkos.DeadLetter
	if err := shared.Poll(e.ctx, 30*time.Second, 200*time.Millisecond, func(context.Context) (bool, error) {
		letters = readLettersIfAny(t, dlq)
		return len(letters) > 0, nil
	}); err != nil || len(letters) != 1 {
		t.Fatalf("dead letters %+v (%v), want the item bad", letters, err)
	}
	l := letters[0]
	if l.ID != "bad" || l.Error.Type != sinkos.ErrorTypeProcessor || !strings.Contains(l.Error.Reason, `convert_entry_type: qty: cannot convert string "many" to integer`) {
		t.Errorf("dead letter %+v", l)
	}

	// Fix the item; then verify agrees with the index.
	e.put(procItem("bad", "active", "3"))
	e.converge(60 * time.Second)
	// An indexed item a processor now fails on has no processed document:
	// its earlier one goes (converge expects none), and comes back when fixed.
	e.put(procItem("bad", "active", "lots"))
	e.converge(60 * time.Second)
	if _, ok := e.indexDocs()["bad"]; ok {
		t.Error("bad fails its processors now; its earlier document must be deleted")
	}
	e.put(procItem("bad", "active", "3"))
	e.converge(60 * time.Second)
	if code, r := e.verify("--recheck-after", "0s"); code != 0 || !r.Equal || r.Tables[0].Items != 41 || r.Tables[0].Docs != 31 {
		t.Fatalf("verify: exit %d, report %+v; want equal, 41 items and 31 documents", code, r)
	}
	// With the run stopped, a document rewritten out of band with the
	// unprocessed body, and one for a dropped item, are stale and extra;
	// repair writes the processed item and deletes the other.
	if code := e.stop(); code != 0 {
		t.Errorf("run exit %d, want 0", code)
	}
	e.putDoc("p03", `{"pk":"p03","name":"raw"}`, e.docVersion("p03")+1)
	e.putDoc("p08", `{"pk":"p08","status":"archived"}`, time.Now().Unix()*1_000_000) // above its tombstone: the backfill deleted it
	if code, r := e.verify("--recheck-after", "0s"); code != 4 || r.Tables[0].Stale != 1 || r.Tables[0].Extra != 1 {
		t.Fatalf("verify after sabotage: exit %d, report %+v; want 1 stale and 1 extra", code, r)
	}
	if code, r := e.verify("--repair", "--recheck-after", "0s", "--state-dir", filepath.Join(e.dir, "state")); code != 0 || r.Tables[0].Repair == nil {
		t.Fatalf("verify --repair: exit %d, report %+v", code, r)
	}
	if d := e.compare(); !d.ok() {
		t.Fatalf("after the repair: %s", d)
	}
}

// readLettersIfAny reads the dead-letter file, or nothing when it does not
// exist yet.
func readLettersIfAny(t *testing.T, path string) []sinkos.DeadLetter {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil
	}
	return readLetters(t, path)
}
