package verify

import (
	"context"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/processor"
)

// TestCheckWithProcessors: the expected document is the processed item, and
// an item the processors drop must have no document (repair deletes it).
func TestCheckWithProcessors(t *testing.T) {
	chain, probs := processor.Compile([]processor.Spec{
		{Name: "drop_events", Options: map[string]any{"drop_when": `/v > 2`}},
		{Name: "add_entries", Options: map[string]any{"entries": []any{map[string]any{"key": "tag", "value": "x"}}}},
	})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	tab := newFakeTable(item("a", "1"), item("b", "2"), item("c", "3"))
	idx := &fakeIndex{}
	old := now.Add(-time.Hour).Unix() * 1_000_000
	idx.set("t", "a", `{"pk":"a","tag":"x","v":1}`, old) // processed: equal
	idx.set("t", "b", docOf(t, item("b", "2")), old)     // unprocessed: stale
	idx.set("t", "c", `{"pk":"c","tag":"x","v":3}`, old) // dropped item: extra
	tg := target()
	tg.Processing = chain
	rep, err := Check(context.Background(), tab, idx, tg, repairOpts(idx))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stale != 1 || rep.Extra != 1 || rep.Missing != 0 || rep.Remaining != 0 || rep.Repair.Indexed != 1 || rep.Repair.Deleted != 1 {
		t.Fatalf("report %+v repair %+v", rep, rep.Repair)
	}
	if d, _ := idx.doc("t", "b"); d.src != `{"pk":"b","tag":"x","v":2}` {
		t.Errorf("repaired b = %s", d.src)
	}
	if _, ok := idx.doc("t", "c"); ok {
		t.Error("the dropped item's document was not deleted")
	}
}
