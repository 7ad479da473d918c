package stream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

type recorder struct {
	mu     sync.Mutex
	events []change.Event
	fail   error
}

func (r *recorder) write(_ context.Context, evs []change.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.events = append(r.events, evs...)
	return nil
}

func (r *recorder) snapshot() []change.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]change.Event(nil), r.events...)
}

func newTestSource(t *testing.T, api API, store checkpoint.Store, start string) *Source {
	t.Helper()
	table := Table{Name: "t", StreamARN: "arn:stream", Key: ddbjson.Key{Partition: "pk"}, StartPosition: start, ViewOnRemove: "NEW_IMAGE"}
	return New(api, store, table, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil,
		Options{PollMin: time.Millisecond, PollMax: 5 * time.Millisecond, ListEvery: 5 * time.Millisecond, FastList: time.Millisecond, TrimmedBound: 100 * time.Millisecond})
}

// runUntil runs the source until cond holds, then stops it.
func runUntil(t *testing.T, s *Source, h Handler, cond func() bool) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, h) }()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case err := <-errc:
			cancel()
			return err
		case <-deadline:
			cancel()
			t.Fatal("condition not reached in 5s")
		case <-time.After(2 * time.Millisecond):
		}
	}
	cancel()
	return <-errc
}

func memStore(t *testing.T) *checkpoint.FileStore {
	s, err := checkpoint.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestLineageOrderAndClockHandOff: a child shard is read only after its
// parent is drained, and continues the parent's version clock mid-second.
func TestLineageOrderAndClockHandOff(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "child", parent: "parent"}, {id: "parent", closed: true}}}
	f.put("parent", "INSERT", "a", "1", 100)
	f.put("parent", "MODIFY", "a", "2", 100)
	f.put("parent", "MODIFY", "a", "3", 100)
	f.put("child", "MODIFY", "a", "4", 100) // same second, continues in the child
	f.put("child", "REMOVE", "a", "", 99)   // clock skew: clamped
	store := memStore(t)
	rec := &recorder{}
	err := runUntil(t, newTestSource(t, f, store, "TRIM_HORIZON"), rec.write, func() bool { return len(rec.snapshot()) == 5 })
	if err != nil {
		t.Fatal(err)
	}
	got := rec.snapshot()
	wantVersions := []int64{100_000_000, 100_000_001, 100_000_002, 100_000_003, 100_000_004}
	for i, ev := range got {
		if ev.Version != wantVersions[i] {
			t.Fatalf("event %d (%s %s): version %d, want %d", i, ev.EventName, ev.Doc, ev.Version, wantVersions[i])
		}
	}
	if got[4].Op != change.OpDelete || got[4].ID != "a" {
		t.Fatalf("last event %+v", got[4])
	}
	p, _, _ := store.Get(context.Background(), "stream/t/shard/parent")
	if !p.Done || p.Clock != (change.Clock{Second: 100, Count: 3}) {
		t.Fatalf("parent checkpoint %+v", p)
	}
}

// TestRestartResumesAfterCheckpoint: a second run continues after the saved
// sequence with the saved clock, computing the same versions.
func TestRestartResumesAfterCheckpoint(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
	f.put("s1", "INSERT", "a", "1", 50)
	f.put("s1", "MODIFY", "a", "2", 50)
	store := memStore(t)
	rec := &recorder{}
	if err := runUntil(t, newTestSource(t, f, store, "TRIM_HORIZON"), rec.write, func() bool { return len(rec.snapshot()) == 2 }); err != nil {
		t.Fatal(err)
	}
	// Wait for the save that follows the acknowledgement.
	f.put("s1", "MODIFY", "a", "3", 50)
	rec2 := &recorder{}
	if err := runUntil(t, newTestSource(t, f, store, "TRIM_HORIZON"), rec2.write, func() bool { return len(rec2.snapshot()) >= 1 }); err != nil {
		t.Fatal(err)
	}
	got := rec2.snapshot()
	if len(got) != 1 || got[0].Version != 50_000_002 {
		t.Fatalf("after restart: %+v", got)
	}
	last := f.calls[len(f.calls)-1]
	if last[:len("s1 AFTER_SEQUENCE_NUMBER")] != "s1 AFTER_SEQUENCE_NUMBER" {
		t.Fatalf("restart used %q", last)
	}
}

// TestFailedWriteDoesNotAdvance: a handler error stops the source and
// leaves the checkpoint where it was.
func TestFailedWriteDoesNotAdvance(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
	f.put("s1", "INSERT", "a", "1", 50)
	store := memStore(t)
	boom := errors.New("opensearch down")
	rec := &recorder{fail: boom}
	err := newTestSource(t, f, store, "TRIM_HORIZON").Run(context.Background(), rec.write)
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the write error", err)
	}
	p, _, _ := store.Get(context.Background(), "stream/t/shard/s1")
	if p.Sequence != "" {
		t.Fatalf("checkpoint advanced past an unacknowledged record: %+v", p)
	}
}

// TestTrimmedIsAGap: trimmed data is reported as a *GapError, never skipped.
func TestTrimmedIsAGap(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}, trimmed: map[string]bool{"s1": true}}
	err := newTestSource(t, f, memStore(t), "TRIM_HORIZON").Run(context.Background(), (&recorder{}).write)
	var gap *GapError
	if !errors.As(err, &gap) || gap.Shard != "s1" {
		t.Fatalf("Run = %v, want a gap on s1", err)
	}
}

// TestVanishedParentIsAGap: after a restart, a child whose parent was never
// read and no longer exists is a gap.
func TestVanishedParentIsAGap(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
	store := memStore(t)
	f.put("s1", "INSERT", "a", "1", 50)
	rec := &recorder{}
	if err := runUntil(t, newTestSource(t, f, store, "TRIM_HORIZON"), rec.write, func() bool { return len(rec.snapshot()) == 1 }); err != nil {
		t.Fatal(err)
	}
	// While ddbsync was down: s1 closed, its child s2 closed, both trimmed; s3 is open.
	f.shards = []*fakeShard{{id: "s3", parent: "s2"}}
	err := newTestSource(t, f, store, "TRIM_HORIZON").Run(context.Background(), rec.write)
	var gap *GapError
	if !errors.As(err, &gap) {
		t.Fatalf("Run = %v, want a gap", err)
	}
}

// TestLatestSkipsHistory: LATEST on a first start ignores closed shards and
// records in the open shard created before the start.
func TestLatestSkipsHistory(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "old", closed: true}, {id: "open", parent: "old"}}}
	f.put("old", "INSERT", "a", "1", 10)
	f.put("open", "INSERT", "b", "1", 10)
	f.put("open", "INSERT", "m", "1", 960) // inside the one-minute margin
	now := time.Unix(1000, 0)
	s := newTestSource(t, f, memStore(t), "LATEST")
	s.opts.Now = func() time.Time { return now }
	f.put("open", "INSERT", "c", "1", 1000)
	rec := &recorder{}
	if err := runUntil(t, s, rec.write, func() bool { return len(rec.snapshot()) == 2 }); err != nil {
		t.Fatal(err)
	}
	if got := rec.snapshot(); got[0].ID != "m" || got[1].ID != "c" {
		t.Fatalf("LATEST delivered %+v", got)
	}
}

// TestBackfillOlderThanRetentionIsAGap: a stream that starts after a
// backfill more than 24 h old cannot be sure its records are still there.
func TestBackfillOlderThanRetentionIsAGap(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
	s := newTestSource(t, f, memStore(t), "LATEST")
	s.table.Cutoff = 1000
	s.opts.Now = func() time.Time { return time.Unix(1000+25*3600, 0) }
	err := s.Run(context.Background(), (&recorder{}).write)
	var gap *GapError
	if !errors.As(err, &gap) {
		t.Fatalf("Run = %v, want a gap", err)
	}
}

// TestTrimmedBeforeCutoffIsNotAGap: after a backfill, a closed shard read
// from TRIM_HORIZON whose records are proven trimmed (a fresh iterator
// still fails) holds only records older than the cutoff (trimming takes
// 24 h): it is done, not a gap; a shard with a checkpoint that keeps
// hitting trimmed records is still a gap.
func TestTrimmedBeforeCutoffIsNotAGap(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "old", closed: true}, {id: "new", parent: "old"}}, trimmed: map[string]bool{"old": true}}
	f.put("new", "INSERT", "a", "1", 2000)
	store := memStore(t)
	s := newTestSource(t, f, store, "LATEST")
	s.table.Cutoff = 1000
	s.opts.Now = func() time.Time { return time.Unix(3000, 0) }
	rec := &recorder{}
	if err := runUntil(t, s, rec.write, func() bool { return len(rec.snapshot()) == 1 }); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if p, _, _ := store.Get(context.Background(), "stream/t/shard/old"); !p.Done {
		t.Fatal("trimmed shard before the cutoff not completed")
	}
	// The same trimming under a checkpoint is a gap.
	f.trimmed["new"] = true
	err := newTestSource(t, f, store, "LATEST").Run(context.Background(), rec.write)
	var gap *GapError
	if !errors.As(err, &gap) || gap.Shard != "new" {
		t.Fatalf("Run = %v, want a gap on new", err)
	}
}
