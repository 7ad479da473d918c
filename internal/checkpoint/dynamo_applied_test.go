package checkpoint

import (
	"context"
	"testing"
	"time"
)

// TestPublishApplied: a reader's "applied up to" moment reaches the state
// table only through the lease's own fenced writes (save, renewal,
// release), never moves back, and is never written once the lease is lost.
func TestPublishApplied(t *testing.T) {
	ctx := context.Background()
	_, clock, n := newNodes(t, "a", "b")
	a, b := n[0], n[1]
	t0 := clock.Now()
	applied := func(who *DynamoStore) time.Time {
		t.Helper()
		parts, err := who.Partitions(ctx, "stream/t/shard/")
		if err != nil || len(parts) != 1 {
			t.Fatalf("partitions: %+v %v", parts, err)
		}
		return parts[0].Applied
	}
	mustAcquire(t, a, shard)
	PublishApplied(a, shard, t0.Add(time.Second))
	if got := applied(b); !got.IsZero() {
		t.Fatalf("published before any write of the lease: %s", got)
	}
	if err := a.Save(ctx, shard, Progress{Sequence: "100"}); err != nil {
		t.Fatal(err)
	}
	if got := applied(b); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("after a save: applied %s", got)
	}
	PublishApplied(a, shard, t0.Add(3*time.Second))
	PublishApplied(a, shard, t0.Add(2*time.Second)) // older: ignored
	a.Beat(ctx)
	if got := applied(b); !got.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("after a renewal: applied %s", got)
	}
	PublishApplied(a, shard, t0.Add(4*time.Second))
	if err := a.Release(ctx, shard); err != nil {
		t.Fatal(err)
	}
	parts, _ := b.Partitions(ctx, "stream/t/shard/")
	if p := parts[0]; !p.Applied.Equal(t0.Add(4*time.Second)) || p.Owner != "" || p.Held(clock.Now()) {
		t.Fatalf("after the release: %+v", p)
	}

	// a takes it again, pauses past the expiry; b steals it: a's later
	// moment is never written (its lease is gone), b's is.
	mustAcquire(t, a, shard)
	clock.Add(testTimeout + time.Millisecond)
	mustAcquire(t, b, shard)
	PublishApplied(a, shard, t0.Add(time.Hour))
	a.Beat(ctx) // the renewal finds b: a's lease is lost
	_ = a.Save(ctx, shard, Progress{Sequence: "999"})
	PublishApplied(a, shard, t0.Add(time.Hour))
	a.Beat(ctx)
	if got := applied(b); !got.Equal(t0.Add(4 * time.Second)) {
		t.Fatalf("a published after losing the lease: applied %s", got)
	}
	PublishApplied(b, shard, t0.Add(5*time.Second))
	b.Beat(ctx)
	if got := applied(a); !got.Equal(t0.Add(5 * time.Second)) {
		t.Fatalf("b's moment: applied %s", got)
	}
}

// TestPartitionsPrefix: a prefix must name a kind and a table; records of
// another kind, table or pipeline are not listed.
func TestPartitionsPrefix(t *testing.T) {
	ctx := context.Background()
	db, clock, n := newNodes(t, "a")
	other := NewDynamoStore(db, DynamoOptions{Table: "state", Pipeline: "q", Node: "a", LeaseTimeout: testTimeout, Now: clock.Now})
	for _, k := range []string{"stream/t/shard/s1", "stream/t/shard/s2", "stream/t/meta", "stream/t2/shard/x", "backfill/t/scan/0-of-2"} {
		if _, _, err := n[0].Create(ctx, k, Progress{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := other.Create(ctx, "stream/t/shard/s9", Progress{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"stream/t/shard/", []string{"stream/t/shard/s1", "stream/t/shard/s2"}},
		{"stream/t/", []string{"stream/t/meta", "stream/t/shard/s1", "stream/t/shard/s2"}},
		{"backfill/t/", []string{"backfill/t/scan/0-of-2"}},
		{"backfill/none/", nil},
	}
	for _, tt := range tests {
		parts, err := n[0].Partitions(ctx, tt.prefix)
		if err != nil {
			t.Fatalf("%s: %v", tt.prefix, err)
		}
		var got []string
		for _, p := range parts {
			got = append(got, p.Key)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%s: %v, want %v", tt.prefix, got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Fatalf("%s: %v, want %v", tt.prefix, got, tt.want)
			}
		}
	}
	if _, err := n[0].Partitions(ctx, "stream/"); err == nil {
		t.Fatal("a prefix without a table was accepted")
	}
}
