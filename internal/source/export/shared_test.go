package export

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// TestSharedStoreStartsOneExport: three nodes on one shared state table
// start the export once (under the lease on the backfill record), load
// each data file once between them, and return the same cutoff.
func TestSharedStoreStartsOneExport(t *testing.T) {
	f := newFake(t)
	db := checkpointtest.NewFakeDynamo()
	var wg sync.WaitGroup
	cutoffs := make([]int64, 3)
	errs := make([]error, 3)
	sinks := make([]*collect, 3)
	for i, node := range []string{"a", "b", "c"} {
		st := checkpoint.NewDynamoStore(db, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: node})
		x := newExporter(t, f, st)
		x.opts.LeaseRecheck = 5 * time.Millisecond
		sinks[i] = &collect{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cutoffs[i], errs[i] = x.Run(context.Background(), sinks[i].write)
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		if cutoffs[i] != 10_001-300 {
			t.Fatalf("node %d cutoff %d", i, cutoffs[i])
		}
		for _, ev := range sinks[i].events {
			seen[ev.ID]++
		}
	}
	if f.exports != 1 {
		t.Fatalf("%d exports started, want 1", f.exports)
	}
	if len(seen) != 3 || seen["a"] != 1 || seen["b"] != 1 || seen["c"] != 1 {
		t.Fatalf("items delivered %v, want each once", seen)
	}
	st := checkpoint.NewDynamoStore(db, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: "d"})
	if meta, _, _ := st.Get(context.Background(), backfill.MetaKey("t")); !meta.Done {
		t.Fatal("backfill not marked done")
	}
}
