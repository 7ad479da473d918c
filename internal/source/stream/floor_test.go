package stream

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
)

// TestFloorRaisesRunningReader: Raise returns only once the running reader
// applied the floor at a batch boundary and saved the raised clock; the
// next record of the same second gets a version above the floor, and a
// restart keeps it.
func TestFloorRaisesRunningReader(t *testing.T) {
	const sec = 1_700_000_000
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
	f.put("s1", "INSERT", "a", "1", sec)
	store := memStore(t)
	src := newTestSource(t, f, store, "TRIM_HORIZON")
	floor := NewFloor(0)
	src.table.Floor = floor
	rec := &recorder{}

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- src.Run(ctx, rec.write) }()
	waitFor(t, func() bool { return len(rec.snapshot()) == 1 })

	const F = sec*change.PerSecond + 500
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	got, err := floor.Raise(rctx, F)
	rcancel()
	if err != nil || got != F {
		t.Fatalf("Raise = %d %v", got, err)
	}
	// Applied means saved: a replay from this checkpoint starts above F.
	p, _, _ := store.Get(ctx, src.table.shardKey("s1"))
	if p.Clock != (change.Clock{Second: sec, Count: 501}) || p.Sequence == "" {
		t.Fatalf("checkpoint after Raise: %+v", p)
	}
	// A change in the same second as the corrupted document's version.
	f.put("s1", "MODIFY", "a", "2", sec)
	waitFor(t, func() bool { return len(rec.snapshot()) == 2 })
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	evs := rec.snapshot()
	if evs[0].Version != sec*change.PerSecond || evs[1].Version != F+1 {
		t.Fatalf("versions %d, %d; want %d then %d", evs[0].Version, evs[1].Version, sec*change.PerSecond, F+1)
	}

	// Restart: the next record continues above the floor.
	f.put("s1", "MODIFY", "a", "3", sec)
	src2 := newTestSource(t, f, store, "TRIM_HORIZON")
	src2.table.Floor = NewFloor(F)
	rec2 := &recorder{}
	if err := runUntil(t, src2, rec2.write, func() bool { return len(rec2.snapshot()) == 1 }); err != nil {
		t.Fatal(err)
	}
	if v := rec2.snapshot()[0].Version; v != F+2 {
		t.Fatalf("after restart: version %d, want %d", v, F+2)
	}
}

// TestFloorWaitsForBatchInFlight: a reader whose batch is not acknowledged
// has not applied the floor; Raise waits (here until its deadline), and a
// floor of an older generation moves nothing.
func TestFloorWaitsForBatchInFlight(t *testing.T) {
	const sec = 1_700_000_000
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
	f.put("s1", "INSERT", "a", "1", sec)
	src := newTestSource(t, f, memStore(t), "TRIM_HORIZON")
	src.table.Generation = 1
	floor := NewFloor(0)
	src.table.Floor = floor
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	h := func(ctx context.Context, evs []change.Event) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- src.Run(ctx, h) }()
	<-entered
	rctx, rcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := floor.Raise(rctx, change.GenerationSpan+5)
	rcancel()
	if err == nil || !strings.Contains(err.Error(), "still finishing a batch") {
		t.Fatalf("Raise with a batch in flight: %v", err)
	}
	close(release)
	rctx, rcancel = context.WithTimeout(ctx, 5*time.Second)
	got, err := floor.Raise(rctx, 7) // never lowers the floor
	rcancel()
	if err != nil || got != change.GenerationSpan+5 {
		t.Fatalf("Raise = %d %v", got, err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// The floor's part in generation 1 (5) is below the clock: nothing moved.
	if p, _, _ := src.store.Get(context.Background(), src.table.shardKey("s1")); p.Clock != (change.Clock{Second: sec, Count: 1}) {
		t.Fatalf("clock %+v", p.Clock)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
