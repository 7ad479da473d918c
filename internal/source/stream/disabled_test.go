package stream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
)

// TestDisabledStreamIsDrainedThenEnds: a disabled stream's closed shards
// are read to their ends, in lineage order, and only then does Run return
// an *EndedError; a restart on the drained stream ends at once without
// applying anything again. A disabled stream is not a gap.
func TestDisabledStreamIsDrainedThenEnds(t *testing.T) {
	f := &fakeStreams{disabled: true, shards: []*fakeShard{{id: "child", parent: "parent", closed: true}, {id: "parent", closed: true}}}
	now := time.Now().Unix()
	f.put("parent", "INSERT", "a", "1", now)
	f.put("parent", "MODIFY", "a", "2", now)
	f.put("child", "MODIFY", "a", "3", now)
	f.put("child", "INSERT", "b", "1", now)
	store := memStore(t)
	rec := &recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := newTestSource(t, f, store, "TRIM_HORIZON").Run(ctx, rec.write)
	var ended *EndedError
	if !errors.As(err, &ended) || ended.StreamARN != "arn:stream" {
		t.Fatalf("Run: %v, want an EndedError for arn:stream", err)
	}
	var got []string
	for _, e := range rec.snapshot() {
		got = append(got, e.Sequence)
	}
	if len(got) != 4 {
		t.Fatalf("applied %d events (%v), want all 4 records", len(got), got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			t.Fatalf("applied out of order: %v", got)
		}
	}
	again := &recorder{}
	if err := newTestSource(t, f, store, "TRIM_HORIZON").Run(ctx, again.write); !errors.As(err, &ended) {
		t.Fatalf("second Run: %v, want an EndedError", err)
	}
	if n := len(again.snapshot()); n != 0 {
		t.Fatalf("second Run applied %d events again", n)
	}
}

// TestEarlierGenerationRecordsAreNotReused: shard records written in an
// earlier version generation (by a node that had not yet seen a
// re-backfill move it) are not this generation's: a done parent and a
// child's checkpoint are read again from the start, and the events carry
// the new generation.
func TestEarlierGenerationRecordsAreNotReused(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "parent", closed: true}, {id: "child", parent: "parent"}}}
	now := time.Now().Unix()
	f.put("parent", "INSERT", "a", "1", now)
	f.put("child", "MODIFY", "a", "2", now)
	store := memStore(t)
	ctx := context.Background()
	last := f.shard("child").records[0].Dynamodb.SequenceNumber
	if err := store.Complete(ctx, "stream/t/shard/parent", checkpoint.Progress{}); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, "stream/t/shard/child", checkpoint.Progress{Parent: "parent", Sequence: *last}); err != nil {
		t.Fatal(err)
	}
	src := newTestSource(t, f, store, "TRIM_HORIZON")
	src.table.Generation = 1
	rec := &recorder{}
	if err := runUntil(t, src, rec.write, func() bool { return len(rec.snapshot()) == 2 }); err != nil {
		t.Fatal(err)
	}
	for _, e := range rec.snapshot() {
		if e.Version < change.GenerationSpan {
			t.Fatalf("event %s has version %d, not in generation 1", e.Sequence, e.Version)
		}
	}
	p, _, _ := store.Get(ctx, "stream/t/shard/child")
	if p.Generation != 1 || p.Sequence != *last {
		t.Fatalf("child record %+v, want generation 1 at %s", p, *last)
	}
}
