package checkpoint

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// TestRaiseFloorSharedNeverLowers: nodes raising one table's floor at the
// same time end with the highest value; a lower raise returns the floor
// in effect.
func TestRaiseFloorSharedNeverLowers(t *testing.T) {
	ctx := context.Background()
	_, _, nodes := newNodes(t, "a", "b", "c", "d")
	var wg sync.WaitGroup
	for i, s := range nodes {
		for j := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := RaiseFloor(ctx, s, "t", int64(100+10*j+i)); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	if v, err := Floor(ctx, nodes[0], "t"); err != nil || v != 143 {
		t.Fatalf("floor after racing raises: %d %v, want 143", v, err)
	}
	if v, err := RaiseFloor(ctx, nodes[1], "t", 120); err != nil || v != 143 {
		t.Fatalf("lower raise: %d %v, want 143", v, err)
	}
}

// TestFloorAcksWhoMustAcknowledge: every live node must acknowledge, with
// the floor it acknowledged (never lowered, kept by the heartbeat); a node
// whose heartbeat expired must still while it is the recorded owner of an
// open shard, until another node takes the shard over; a node that left
// is not recreated by a late acknowledgement.
func TestFloorAcksWhoMustAcknowledge(t *testing.T) {
	ctx := context.Background()
	_, clock, n := newNodes(t, "a", "b", "c")
	a, b, c := n[0], n[1], n[2]
	acks := func() string {
		t.Helper()
		got, err := a.FloorAcks(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(got)
	}
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"nobody alive", func() {}, "[]"},
		{"three live nodes", func() { a.Beat(ctx); b.Beat(ctx); c.Beat(ctx) }, "[{a 0} {b 0} {c 0}]"},
		{"acknowledged, never lowered", func() {
			must(t, a.AckFloor(ctx, "t", 50))
			must(t, b.AckFloor(ctx, "t", 70))
			must(t, b.AckFloor(ctx, "t", 60))
			must(t, b.AckFloor(ctx, "other", 90))
		}, "[{a 50} {b 70} {c 0}]"},
		{"the heartbeat keeps acknowledgements", func() { a.Beat(ctx); b.Beat(ctx) }, "[{a 50} {b 70} {c 0}]"},
		{"c reads a shard, then its heartbeat and lease expire", func() {
			mustAcquire(t, c, shard)
			clock.Add(testTimeout / 2)
			a.Beat(ctx)
			b.Beat(ctx)
			clock.Add(testTimeout/2 + time.Second)
			a.Beat(ctx)
			b.Beat(ctx)
		}, "[{a 50} {b 70} {c 0}]"},
		{"b took c's shard over", func() { mustAcquire(t, b, shard) }, "[{a 50} {b 70}]"},
		{"b released it and left", func() {
			must(t, b.Release(ctx, shard))
			b.leave(ctx)
			must(t, b.AckFloor(ctx, "t", 80))
		}, "[{a 50}]"},
	}
	for _, st := range steps {
		st.do()
		if got := acks(); got != st.want {
			t.Fatalf("%s: FloorAcks = %s, want %s", st.name, got, st.want)
		}
	}
	if got, _ := a.FloorAcks(ctx, "other"); !reflect.DeepEqual(got, []FloorAck{{Node: "a"}}) {
		t.Fatalf("another table's acknowledgements: %v", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
