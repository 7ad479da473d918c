package stream

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
	"github.com/ddbsync/ddbsync/internal/metrics"
)

// TestCaughtUpAcrossNodes: two nodes share a stream, each reading one
// shard. Node a, asked about the whole table, is not caught up while b's
// shard has no reader, and is caught up only once b's reader published,
// through the state table, that it applied past the moment: by then every
// record of both shards was handed to a sink.
func TestCaughtUpAcrossNodes(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}, {id: "s2"}}}
	f.put("s1", "INSERT", "a", "1", 100)
	f.put("s2", "INSERT", "b", "1", 100)
	f.put("s2", "MODIFY", "b", "2", 101)
	db := checkpointtest.NewFakeDynamo()
	opts := func(node string) checkpoint.DynamoOptions {
		return checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: node, LeaseTimeout: 600 * time.Millisecond}
	}
	a, b := checkpoint.NewDynamoStore(db, opts("a")), checkpoint.NewDynamoStore(db, opts("b"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g errgroup.Group
	defer func() { cancel(); _ = g.Wait() }()
	b.Beat(ctx)
	a.Beat(ctx) // both see two live nodes: a fair share of one shard each
	g.Go(func() error { return a.Run(ctx) })
	g.Go(func() error { return b.Run(ctx) })

	at := time.Now()
	pa, pb := metrics.NewProgress(time.Now), metrics.NewProgress(time.Now)
	table := Table{Name: "t", StreamARN: "arn:stream"}
	ask := func() (bool, []metrics.Behind) {
		listed, err := Listing(ctx, f, a, table, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return pa.CaughtUp("t", at, listed)
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	srcA := newTestSource(t, f, a, "TRIM_HORIZON")
	srcA.opts.Progress = pa
	ra := &recorder{}
	g.Go(func() error { return srcA.Run(ctx, ra.write) })
	eventually("node a reads its shard past the moment", func() bool {
		ok, _ := pa.CaughtUp("t", at, pa.Known("t"))
		return ok && len(pa.Known("t")) == 1
	})
	ok, behind := ask()
	if ok || len(behind) != 1 || !strings.Contains(behind[0].Why, "not read yet") {
		t.Fatalf("the other shard has no reader: caught up %v, behind %+v", ok, behind)
	}
	mine := pa.Known("t")[0].ID

	srcB := newTestSource(t, f, b, "TRIM_HORIZON")
	srcB.opts.Progress = pb
	rb := &recorder{}
	g.Go(func() error { return srcB.Run(ctx, rb.write) })
	eventually("node a answers for both shards", func() bool { ok, _ := ask(); return ok })
	if n := len(ra.snapshot()) + len(rb.snapshot()); n != 3 {
		t.Fatalf("caught up with %d of 3 events applied", n)
	}
	if known := pa.Known("t"); len(known) != 1 || known[0].ID != mine {
		t.Fatalf("node a read %+v itself: it should have answered for b's shard from the state table", known)
	}
}
