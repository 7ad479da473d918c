package stream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
)

// raiseThrough raises the table's floor through node st the way run's
// admin endpoint does: its own readers, the state store, then every node.
func raiseThrough(ctx context.Context, st *checkpoint.DynamoStore, fl *Floor, v int64, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	eff, err := fl.Raise(ctx, v)
	if err != nil {
		return err
	}
	if eff, err = checkpoint.RaiseFloor(ctx, st, "t", eff); err != nil {
		return err
	}
	return fl.AwaitNodes(ctx, eff, 5*time.Millisecond)
}

// TestSharedFloorOtherNodesReaderAppliesBeforeTheAnswer: node b reads the
// table's only shard; the floor raised through node a (which reads
// nothing) is in effect only once b's reader applied it at a batch
// boundary and saved its raised clock, so b's next record of the same
// second is versioned above the floor. Without b following the saved
// floor, the raise through a times out naming b.
func TestSharedFloorOtherNodesReaderAppliesBeforeTheAnswer(t *testing.T) {
	const sec = 1_700_000_000
	const F = sec*change.PerSecond + 500
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name   string
		follow bool
	}{
		{"b follows the saved floor", true},
		{"b never acknowledges", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
			f.put("s1", "INSERT", "a", "1", sec)
			db := checkpointtest.NewFakeDynamo()
			a, b := sharedStore(db, "a", time.Now), sharedStore(db, "b", time.Now)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a.Beat(ctx)
			b.Beat(ctx)
			fa, fb := NewSharedFloor(0, "t", a, a), NewSharedFloor(0, "t", b, b)
			src := newTestSource(t, f, b, "TRIM_HORIZON")
			src.table.Floor = fb
			rec := &recorder{}
			errc := make(chan error, 2)
			go func() { errc <- src.Run(ctx, rec.write) }()
			if tc.follow {
				go func() { _ = b.Run(ctx) }() // reads the raise a announces
				go func() { errc <- fb.Follow(ctx, 5*time.Millisecond, log) }()
			}
			waitFor(t, func() bool { return len(rec.snapshot()) == 1 })

			err := raiseThrough(ctx, a, fa, F, 300*time.Millisecond)
			if !tc.follow {
				if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "node(s) b") {
					t.Fatalf("raise with b not following: %v, want a deadline naming b", err)
				}
				if p, _, _ := b.Get(ctx, src.table.shardKey("s1")); p.Clock.Second != sec || p.Clock.Count != 1 {
					t.Fatalf("b's clock moved without following: %+v", p.Clock)
				}
				return
			}
			if err != nil {
				t.Fatalf("raise through a: %v", err)
			}
			// Answered means b's reader applied and saved it.
			if p, _, _ := b.Get(ctx, src.table.shardKey("s1")); p.Clock != (change.Clock{Second: sec, Count: 501}) {
				t.Fatalf("b's checkpoint when a answered: %+v", p)
			}
			f.put("s1", "MODIFY", "a", "2", sec)
			waitFor(t, func() bool { return len(rec.snapshot()) == 2 })
			if v := rec.snapshot()[1].Version; v != F+1 {
				t.Fatalf("b's next record: version %d, want %d", v, F+1)
			}
		})
	}
}

// TestSharedFloorReaderStartedLaterStartsAbove: a node whose floor was
// read at its start (0) and that follows nothing takes over a shard after
// the floor was raised through another node: its reader reads the saved
// floor before its first record.
func TestSharedFloorReaderStartedLaterStartsAbove(t *testing.T) {
	const sec = 1_700_000_000
	const F = sec*change.PerSecond + 500
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
	f.put("s1", "INSERT", "a", "1", sec)
	db := checkpointtest.NewFakeDynamo()
	a, b := sharedStore(db, "a", time.Now), sharedStore(db, "b", time.Now)
	fb := NewSharedFloor(0, "t", b, b) // b started before the raise
	if err := raiseThrough(context.Background(), a, NewSharedFloor(0, "t", a, a), F, time.Second); err != nil {
		t.Fatal(err)
	}
	src := newTestSource(t, f, b, "TRIM_HORIZON")
	src.table.Floor = fb
	rec := &recorder{}
	if err := runUntil(t, src, rec.write, func() bool { return len(rec.snapshot()) == 1 }); err != nil {
		t.Fatal(err)
	}
	if v := rec.snapshot()[0].Version; v != F+1 {
		t.Fatalf("first record of a reader started after the raise: version %d, want %d", v, F+1)
	}
}
