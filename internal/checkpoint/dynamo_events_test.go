package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestReleaseIsAnnounced: a taker refused a held lease learns its expiry;
// the owner's release bumps the pipeline's counter, which wakes the
// waiting node at its next poll; releases at once are all announced.
func TestReleaseIsAnnounced(t *testing.T) {
	ctx := context.Background()
	_, clock, n := newNodes(t, "a", "b")
	a, b := n[0], n[1]
	mustAcquire(t, a, shard)
	_, _, _, err := b.Acquire(ctx, shard)
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("b's take: %v, want a HeldError", err)
	}
	if want := clock.Now().Add(testTimeout); !held.Until.Equal(want) || held.Owner != "a" {
		t.Fatalf("held by %q until %s, want a until %s", held.Owner, held.Until, want)
	}
	b.readEvents(ctx)
	seen, changed := b.Releases()
	if err := a.Release(ctx, shard); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
		t.Fatal("b saw the release before reading the counter")
	default:
	}
	b.readEvents(ctx)
	select {
	case <-changed:
	default:
		t.Fatal("b's poll after the release did not signal it")
	}
	if now, _ := b.Releases(); now != seen+1 {
		t.Fatalf("release counter %d after one release, want %d", now, seen+1)
	}
	if _, _, _, err := b.Acquire(ctx, shard); err != nil {
		t.Fatalf("b could not take the released lease: %v", err)
	}

	// Many releases at once: every one is announced.
	const m = 20
	for i := range m {
		mustAcquire(t, a, fmt.Sprintf("stream/t/shard/r%02d", i))
	}
	var wg sync.WaitGroup
	for i := range m {
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.Release(ctx, fmt.Sprintf("stream/t/shard/r%02d", i)) }()
	}
	wg.Wait()
	b.readEvents(ctx)
	if now, _ := b.Releases(); now <= seen+1 {
		t.Fatalf("release counter %d after %d more releases, want more than %d", now, m, seen+1)
	}
	if a.released.announced != a.released.wanted.Load() {
		t.Fatalf("%d releases announced of %d", a.released.announced, a.released.wanted.Load())
	}
}

// TestLeavingNodeIsSeenAtTheNextEventPoll: a node that stops deletes its
// record and announces it; the others count one node less at their next
// read of the events record, not only at their next heartbeat (a third
// of the lease timeout later), so their shares take its shards at once.
func TestLeavingNodeIsSeenAtTheNextEventPoll(t *testing.T) {
	ctx := context.Background()
	_, _, n := newNodes(t, "a", "b")
	a, b := n[0], n[1]
	b.Beat(ctx)
	a.Beat(ctx)
	a.readEvents(ctx)
	if a.LiveNodes() != 2 {
		t.Fatalf("live nodes %d, want 2", a.LiveNodes())
	}
	b.leave(ctx)
	a.readEvents(ctx)
	if a.LiveNodes() != 1 {
		t.Fatalf("live nodes after b left %d, want 1 without a heartbeat", a.LiveNodes())
	}
}
