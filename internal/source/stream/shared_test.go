package stream

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
)

func sharedStore(db *checkpointtest.FakeDynamo, node string, now func() time.Time) *checkpoint.DynamoStore {
	return checkpoint.NewDynamoStore(db, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: node, Now: now, EventPoll: 5 * time.Millisecond})
}

// TestSharedStoreChildAfterRemoteParent: node a drains the parent; node b,
// which never saw it, reads the child only because the state table says
// the parent is done, and continues the parent's version clock.
func TestSharedStoreChildAfterRemoteParent(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "parent", closed: true}, {id: "child", parent: "parent"}}, unlisted: map[string]bool{"child": true}}
	f.put("parent", "INSERT", "a", "1", 100)
	f.put("parent", "MODIFY", "a", "2", 100)
	f.put("child", "MODIFY", "a", "3", 100)
	db := checkpointtest.NewFakeDynamo()
	a := sharedStore(db, "a", time.Now)
	ra := &recorder{}
	err := runUntil(t, newTestSource(t, f, a, "TRIM_HORIZON"), ra.write, func() bool {
		p, _, _ := a.Get(context.Background(), "stream/t/shard/parent")
		return p.Done
	})
	if err != nil || len(ra.snapshot()) != 2 {
		t.Fatalf("node a: %v, %d events", err, len(ra.snapshot()))
	}
	f.mu.Lock()
	f.unlisted = nil
	f.mu.Unlock()
	b := sharedStore(db, "b", time.Now)
	rb := &recorder{}
	if err := runUntil(t, newTestSource(t, f, b, "TRIM_HORIZON"), rb.write, func() bool { return len(rb.snapshot()) == 1 }); err != nil {
		t.Fatal(err)
	}
	if got := rb.snapshot(); got[0].Version != 100_000_002 {
		t.Fatalf("child on node b: version %d, want 100000002 (the parent's clock from the state table)", got[0].Version)
	}
}

// TestSharedStoreLostLeaseStopsShardQuietly: another node takes the shard
// (a's lease looks expired to it); a's next checkpoint write is fenced, a
// stops that shard without an error and never moves the checkpoint.
func TestSharedStoreLostLeaseStopsShardQuietly(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
	f.put("s1", "INSERT", "a", "1", 100)
	db := checkpointtest.NewFakeDynamo()
	a := sharedStore(db, "a", time.Now)
	b := sharedStore(db, "b", func() time.Time { return time.Now().Add(time.Minute) })
	src := newTestSource(t, f, a, "TRIM_HORIZON")
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- src.Run(ctx, rec.write) }()
	waitFor(t, func() bool { p, _, _ := a.Get(ctx, "stream/t/shard/s1"); return p.Sequence != "" })
	_, stolen, _, err := b.Acquire(ctx, "stream/t/shard/s1")
	if err != nil {
		t.Fatalf("steal: %v", err)
	}
	f.put("s1", "MODIFY", "a", "2", 101)
	waitFor(t, func() bool { return len(a.Held()) == 0 })
	if p, _, _ := b.Get(ctx, "stream/t/shard/s1"); p.Sequence != stolen.Sequence {
		t.Fatalf("the fenced node moved the checkpoint from %s to %s", stolen.Sequence, p.Sequence)
	}
	select {
	case err := <-errc:
		t.Fatalf("Run ended on a lost lease: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// TestSharedStoreBalancesWhenANodeJoins: node a took all four open shards
// alone; when b joins, a releases its surplus after the batch in flight
// and each ends up with its fair share of two, every record delivered.
func TestSharedStoreBalancesWhenANodeJoins(t *testing.T) {
	f := &fakeStreams{}
	for i := range 4 {
		id := fmt.Sprintf("s%d", i)
		f.shards = append(f.shards, &fakeShard{id: id})
		f.put(id, "INSERT", "k"+id, "1", 100)
	}
	db := checkpointtest.NewFakeDynamo()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g errgroup.Group
	defer func() { cancel(); _ = g.Wait() }()
	start := func(node string) (*checkpoint.DynamoStore, *recorder) {
		st := checkpoint.NewDynamoStore(db, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: node, LeaseTimeout: 300 * time.Millisecond})
		st.Beat(ctx)
		src := newTestSource(t, f, st, "TRIM_HORIZON")
		src.opts.LeaseRecheck = 10 * time.Millisecond
		rec := &recorder{}
		g.Go(func() error { return st.Run(ctx) })
		g.Go(func() error { return src.Run(ctx, rec.write) })
		return st, rec
	}
	a, ra := start("a")
	waitFor(t, func() bool { return len(a.Held()) == 4 })
	b, rb := start("b")
	waitFor(t, func() bool { return len(a.Held()) == 2 && len(b.Held()) == 2 })
	for i := range 4 {
		f.put(fmt.Sprintf("s%d", i), "MODIFY", fmt.Sprintf("ks%d", i), "2", 101)
	}
	waitFor(t, func() bool { return len(ra.snapshot())+len(rb.snapshot()) >= 8 })
	seen := map[string]int{}
	for _, ev := range append(ra.snapshot(), rb.snapshot()...) {
		seen[fmt.Sprintf("%s@%d", ev.ID, ev.Version)]++
	}
	if len(seen) != 8 {
		t.Fatalf("records delivered %v, want 8 distinct", seen)
	}
}

// shardReads counts one node's reads of a shard's record.
type shardReads struct {
	*checkpointtest.FakeDynamo
	key string
	mu  sync.Mutex
	n   int
}

func (c *shardReads) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if sk, ok := in.Key["sk"].(*types.AttributeValueMemberS); ok && sk.Value == c.key {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return c.FakeDynamo.GetItem(ctx, in, opts...)
}

func (c *shardReads) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestSharedStoreHeldShardWaitsForExpiryOrRelease: a node waiting for a
// shard another node reads does not read its record again before the
// holder's lease expires (a recheck every 10 ms would read it about a
// hundred times in the second watched); when the holder stops and
// releases the lease, the waiting node takes it at once, not at expiry.
func TestSharedStoreHeldShardWaitsForExpiryOrRelease(t *testing.T) {
	f := &fakeStreams{shards: []*fakeShard{{id: "s1"}}}
	f.put("s1", "INSERT", "a", "1", 100)
	db := checkpointtest.NewFakeDynamo()
	const timeout = 30 * time.Second // expiry far past the test: only the release can free it
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g errgroup.Group
	defer func() { cancel(); _ = g.Wait() }()
	start := func(ctx context.Context, api checkpoint.DynamoAPI, node string) *checkpoint.DynamoStore {
		st := checkpoint.NewDynamoStore(api, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: node, LeaseTimeout: timeout})
		st.Beat(ctx)
		src := newTestSource(t, f, st, "TRIM_HORIZON")
		src.opts.LeaseRecheck = 10 * time.Millisecond
		g.Go(func() error { return st.Run(ctx) })
		g.Go(func() error { return src.Run(ctx, (&recorder{}).write) })
		return st
	}
	actx, stopA := context.WithCancel(ctx)
	a := start(actx, db, "a")
	waitFor(t, func() bool { return len(a.Held()) == 1 })
	reads := &shardReads{FakeDynamo: db, key: "stream/t/shard/s1"}
	b := start(ctx, reads, "b")
	waitFor(t, func() bool { return reads.count() >= 2 }) // b's first look: refused
	before := reads.count()
	time.Sleep(time.Second)
	if got := reads.count() - before; got > 2 {
		t.Fatalf("b read the held shard's record %d times in a second, want it left alone until the lease expires", got)
	}
	if len(b.Held()) != 0 {
		t.Fatal("b took a shard a holds")
	}
	stopA()
	released := time.Now()
	waitFor(t, func() bool { return len(b.Held()) == 1 })
	if took := time.Since(released); took > 5*time.Second {
		t.Fatalf("b took the released shard after %s, want about a second", took)
	}
}
