package checkpoint

import (
	"context"
	"maps"
	"testing"
	"time"
)

// TestHeartbeatPublishesShardCounts: each node record carries how many
// stream shards the node holds (not its export files or table steps), and
// a heartbeat reads the other live nodes' counts, for the balance of the
// nodes' shares; a node whose heartbeat expired is left out.
func TestHeartbeatPublishesShardCounts(t *testing.T) {
	ctx := context.Background()
	_, clock, nodes := newNodes(t, "a", "b", "c")
	a, b, c := nodes[0], nodes[1], nodes[2]
	mustAcquire(t, a, "stream/t/shard/s1")
	mustAcquire(t, a, "stream/u/shard/s1")
	mustAcquire(t, a, "backfill/t/export/f1")
	mustAcquire(t, b, "stream/t/shard/s2")
	c.Beat(ctx)
	a.Beat(ctx)
	b.Beat(ctx)
	if got, want := b.Loads(), map[string]int{"a": 2, "c": 0}; !maps.Equal(got, want) {
		t.Fatalf("b sees %v, want %v", got, want)
	}
	clock.Add(testTimeout / 2)
	a.Beat(ctx)
	b.Beat(ctx)
	clock.Add(testTimeout/2 + time.Millisecond) // c's heartbeat expired
	b.Beat(ctx)
	if got, want := b.Loads(), map[string]int{"a": 2}; !maps.Equal(got, want) {
		t.Fatalf("b sees %v after c stopped, want %v", got, want)
	}
}
