package app

import (
	"context"
	"log/slog"
	"testing"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/processor"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

type recordingSink struct {
	batches [][]change.Event
	dead    []opensearch.FailedEvent
}

func (r *recordingSink) Write(_ context.Context, evs []change.Event) error {
	r.batches = append(r.batches, evs)
	return nil
}
func (r *recordingSink) Close() error { return nil }
func (r *recordingSink) DeadLetterEvents(_ context.Context, f []opensearch.FailedEvent) error {
	r.dead = append(r.dead, f...)
	return nil
}

func TestProcessingSink(t *testing.T) {
	chain, probs := processor.Compile([]processor.Spec{
		{Name: "drop_events", Options: map[string]any{"drop_when": `/status == "gone"`}},
		{Name: "convert_entry_type", Options: map[string]any{"key": "qty", "type": "integer"}},
	})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	rec := &recordingSink{}
	s := withProcessors(chain, rec, fanout{rec}, slog.New(slog.DiscardHandler))
	in := []change.Event{
		{Table: "t", ID: "a", Op: change.OpIndex, Doc: []byte(`{"pk":"a","qty":"2"}`)},
		{Table: "t", ID: "b", Op: change.OpIndex, Doc: []byte(`{"pk":"b","qty":"two"}`)},
		{Table: "t", ID: "c", Op: change.OpIndex, Doc: []byte(`{"pk":"c","status":"gone"}`)},
	}
	if err := s.Write(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if string(in[0].Doc) != `{"pk":"a","qty":"2"}` {
		t.Errorf("the caller's batch was changed: %s", in[0].Doc)
	}
	if len(rec.batches) != 1 || len(rec.batches[0]) != 3 {
		t.Fatalf("written %v, want one batch of 3", rec.batches)
	}
	if got := string(rec.batches[0][0].Doc); got != `{"pk":"a","qty":2}` {
		t.Errorf("processed doc %s", got)
	}
	// The failed item's earlier document must go too: it has no processed one.
	if ev := rec.batches[0][1]; ev.ID != "b" || ev.Op != change.OpDelete {
		t.Errorf("failed event reaches the sink as %s %s, want a delete of b", ev.Op, ev.ID)
	}
	if ev := rec.batches[0][2]; ev.ID != "c" || ev.Op != change.OpDelete {
		t.Errorf("dropped event reaches the sink as %s %s, want a delete of c", ev.Op, ev.ID)
	}
	if len(rec.dead) != 1 || rec.dead[0].Event.ID != "b" || string(rec.dead[0].Event.Doc) != `{"pk":"b","qty":"two"}` ||
		rec.dead[0].Reason != `processor[1] convert_entry_type: qty: cannot convert string "two" to integer` {
		t.Errorf("dead letters %+v", rec.dead)
	}
	if withProcessors(nil, rec, nil, nil) != Sink(rec) {
		t.Error("no processors must leave the sink as it is")
	}
}
