package stream

import (
	"context"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
)

func sharedStore(db *checkpointtest.FakeDynamo, node string, now func() time.Time) *checkpoint.DynamoStore {
	return checkpoint.NewDynamoStore(db, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: node, Now: now})
}

// TestSharedStoreChildAfterRemoteParent: node a drains the parent; node b,
// which never saw it, reads the child only because the state table says
// the parent is done, and continues the parent's version clock.
func TestSharedStoreChildAfterRemoteParent(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "parent", closed: true}, {id: "child", parent: "parent"}}, unlisted: map[string]bool{"child": true}}
	f.put("parent", "INSERT", "a", "1", 100)
	f.put("parent", "MODIFY", "a", "2", 100)
	f.put("child", "MODIFY", "a", "3", 100)
	db := checkpointtest.NewFakeDynamo()
	a := sharedStore(db, "a", time.Now)
	ra := &recorder{}
	err := runUntil(t, newTestSource(t, f, a, "TRIM_HORIZON"), ra.write, func() bool {
		p, _, _ := a.Get(context.Background(), "stream/t/shard/parent")
		return p.Done
	})
	if err != nil || len(ra.snapshot()) != 2 {
		t.Fatalf("node a: %v, %d events", err, len(ra.snapshot()))
	}
	f.mu.Lock()
	f.unlisted = nil
	f.mu.Unlock()
	b := sharedStore(db, "b", time.Now)
	rb := &recorder{}
	if err := runUntil(t, newTestSource(t, f, b, "TRIM_HORIZON"), rb.write, func() bool { return len(rb.snapshot()) == 1 }); err != nil {
		t.Fatal(err)
	}
	if got := rb.snapshot(); got[0].Version != 100_000_002 {
		t.Fatalf("child on node b: version %d, want 100000002 (the parent's clock from the state table)", got[0].Version)
	}
}

// TestSharedStoreLostLeaseStopsShardQuietly: another node takes the shard
// (a's lease looks expired to it); a's next checkpoint write is fenced, a
// stops that shard without an error and never moves the checkpoint.
func TestSharedStoreLostLeaseStopsShardQuietly(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
	f.put("s1", "INSERT", "a", "1", 100)
	db := checkpointtest.NewFakeDynamo()
	a := sharedStore(db, "a", time.Now)
	b := sharedStore(db, "b", func() time.Time { return time.Now().Add(time.Minute) })
	src := newTestSource(t, f, a, "TRIM_HORIZON")
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- src.Run(ctx, rec.write) }()
	waitFor(t, func() bool { p, _, _ := a.Get(ctx, "stream/t/shard/s1"); return p.Sequence != "" })
	_, stolen, _, err := b.Acquire(ctx, "stream/t/shard/s1")
	if err != nil {
		t.Fatalf("steal: %v", err)
	}
	f.put("s1", "MODIFY", "a", "2", 101)
	waitFor(t, func() bool { return len(a.Held()) == 0 })
	if p, _, _ := b.Get(ctx, "stream/t/shard/s1"); p.Sequence != stolen.Sequence {
		t.Fatalf("the fenced node moved the checkpoint from %s to %s", stolen.Sequence, p.Sequence)
	}
	select {
	case err := <-errc:
		t.Fatalf("Run ended on a lost lease: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v", err)
	}
}
