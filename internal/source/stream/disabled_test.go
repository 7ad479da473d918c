package stream

import (
	"context"
	"errors"
	"testing"
	"time"
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
