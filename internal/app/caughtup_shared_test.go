package app

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
	"github.com/ddbsync/ddbsync/internal/metrics"
)

// TestCaughtUpWaitsForOtherNodesBackfill: with a shared state table a
// table is not caught up while another node still loads a backfill
// partition, even when this node's own phase says done; the answer names
// the partition and the node, and the check passes once the backfill
// record is done.
func TestCaughtUpWaitsForOtherNodesBackfill(t *testing.T) {
	ctx := context.Background()
	db := checkpointtest.NewFakeDynamo()
	store := func(node string) *checkpoint.DynamoStore {
		return checkpoint.NewDynamoStore(db, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: node})
	}
	a, b := store("a"), store("b")
	meta := checkpoint.Progress{Meta: map[string]string{"kind": "scan", "time": "1700000000"}}
	if _, _, err := b.Create(ctx, "backfill/t/meta", meta); err != nil {
		t.Fatal(err)
	}
	if err := a.Complete(ctx, "backfill/t/scan/0-of-2", checkpoint.Progress{}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := b.Acquire(ctx, "backfill/t/scan/1-of-2"); err != nil {
		t.Fatal(err)
	}
	prog := metrics.NewProgress(time.Now)
	prog.Phase("t", metrics.PhaseDone)
	c := &caughtUp{progress: prog, health: metrics.NewHealth(time.Minute, time.Now), log: slog.New(slog.DiscardHandler), poll: 10 * time.Millisecond}
	ref := &countRefresh{}
	c.add(watchedTable{name: "t", store: a, sink: ref, pipeline: "p"})
	c.start()

	r, err := c.check(ctx, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.CaughtUp || len(r.Behind) != 1 || r.Behind[0].Node != "b" || !strings.Contains(r.Behind[0].Why, "backfill in progress: scan/1-of-2 is loaded by node b") {
		t.Fatalf("b still scans a segment: %+v", r)
	}
	if err := b.Complete(ctx, "backfill/t/scan/1-of-2", checkpoint.Progress{}); err != nil {
		t.Fatal(err)
	}
	r, _ = c.check(ctx, time.Now(), nil)
	if r.CaughtUp || !strings.Contains(r.Behind[0].Why, "backfill in progress") {
		t.Fatalf("every segment done, the backfill record not yet: %+v", r)
	}
	if err := b.Complete(ctx, "backfill/t/meta", meta); err != nil {
		t.Fatal(err)
	}
	r, err = c.wait(ctx, time.Now(), nil, time.Now())
	if err != nil || !r.CaughtUp || ref.n != 1 {
		t.Fatalf("backfill done on every node: %+v %v (refreshed %d)", r, err, ref.n)
	}
}

// fakeShared is a shared state with fixed records.
type fakeShared []checkpoint.Partition

func (f fakeShared) Partitions(context.Context, string) ([]checkpoint.Partition, error) {
	return f, nil
}

func TestBackfillBehind(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	live, dead := now.Add(5*time.Second), now.Add(-time.Second)
	meta := func(done bool, owner string, exp time.Time) checkpoint.Partition {
		return checkpoint.Partition{Key: "backfill/t/meta", Progress: checkpoint.Progress{Done: done}, Owner: owner, Expires: exp}
	}
	file := func(done bool, owner string, exp time.Time) checkpoint.Partition {
		return checkpoint.Partition{Key: "backfill/t/export/data/f1.json.gz", Progress: checkpoint.Progress{Done: done}, Owner: owner, Expires: exp}
	}
	tests := []struct {
		name  string
		parts fakeShared
		why   string // "" = not behind
		node  string
	}{
		{"no backfill", nil, "", ""},
		{"done on every node", fakeShared{meta(true, "", time.Time{}), file(true, "", time.Time{})}, "", ""},
		{"a stale partition after the backfill finished", fakeShared{meta(true, "", time.Time{}), file(false, "b", dead)}, "", ""},
		{"a data file loaded by another node", fakeShared{meta(false, "", time.Time{}), file(false, "b", live)}, "export/data/f1.json.gz is loaded by node b", "b"},
		{"a data file whose node died", fakeShared{meta(false, "", time.Time{}), file(false, "b", dead)}, "the lease of node b expired", "b"},
		{"a data file released", fakeShared{meta(false, "", time.Time{}), file(false, "", time.Time{})}, "waits for a node", ""},
		{"the export being started", fakeShared{meta(false, "c", live)}, "node c prepares it", "c"},
		{"partitions not started yet", fakeShared{meta(false, "", time.Time{}), file(true, "", time.Time{})}, "not every partition is started", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			behind, err := backfillBehind(context.Background(), tt.parts, "t", now)
			if err != nil {
				t.Fatal(err)
			}
			if tt.why == "" {
				if len(behind) > 0 {
					t.Fatalf("behind %+v, want caught up", behind)
				}
				return
			}
			if len(behind) != 1 || !strings.Contains(behind[0].Why, tt.why) || !strings.Contains(behind[0].Why, "backfill in progress") || behind[0].Node != tt.node {
				t.Fatalf("behind %+v, want one reason with %q (node %q)", behind, tt.why, tt.node)
			}
		})
	}
}
