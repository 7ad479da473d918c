package scan

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// TestSharedStoreSplitsSegments: two nodes on one shared state table scan
// each segment once between them, fix one scan time (the first node's),
// and both finish only when every segment is done.
func TestSharedStoreSplitsSegments(t *testing.T) {
	db := checkpointtest.NewFakeDynamo()
	table := backfill.Table{Name: "t", Key: ddbjson.Key{Partition: "pk"}, Overlap: time.Minute}
	f := &fakeScan{n: 60}
	sinks := []*sink{{}, {}}
	cutoffs := make([]int64, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, node := range []string{"a", "b"} {
		store := checkpoint.NewDynamoStore(db, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: node})
		now := func() time.Time { return time.Unix(int64(5000+1000*i), 0) }
		sc := New(f, store, table, slog.New(slog.DiscardHandler), Options{Segments: 6, PageSize: 2, Now: now, LeaseRecheck: 5 * time.Millisecond})
		wg.Add(1)
		go func() {
			defer wg.Done()
			cutoffs[i], errs[i] = sc.Run(context.Background(), sinks[i].write)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	if cutoffs[0] != cutoffs[1] {
		t.Fatalf("nodes disagree on the scan time: cutoffs %v", cutoffs)
	}
	seen := map[string]int{}
	for _, s := range sinks {
		for _, id := range s.ids {
			seen[id]++
		}
	}
	if len(seen) != 60 {
		t.Fatalf("%d distinct items, want 60", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times: a segment was scanned twice", id, n)
		}
	}
	store := checkpoint.NewDynamoStore(db, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: "c"})
	if meta, _, _ := store.Get(context.Background(), backfill.MetaKey("t")); !meta.Done {
		t.Fatal("backfill not marked done")
	}
}
