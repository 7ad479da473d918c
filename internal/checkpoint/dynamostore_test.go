package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const testTimeout = 10 * time.Second

func newNodes(t *testing.T, names ...string) (*checkpointtest.FakeDynamo, *fakeClock, []*DynamoStore) {
	t.Helper()
	db := checkpointtest.NewFakeDynamo()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	var out []*DynamoStore
	for _, n := range names {
		out = append(out, NewDynamoStore(db, DynamoOptions{Table: "state", Pipeline: "p", Node: n, LeaseTimeout: testTimeout, Now: clock.Now}))
	}
	return db, clock, out
}

const shard = "stream/t/shard/s1"

func TestLeaseStateMachine(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, clock *fakeClock, a, b *DynamoStore)
	}{
		{"held lease refuses another taker", func(t *testing.T, clock *fakeClock, a, b *DynamoStore) {
			mustAcquire(t, a, shard)
			clock.Add(testTimeout - time.Millisecond)
			if _, _, _, err := b.Acquire(ctx, shard); !errors.Is(err, ErrLeaseHeld) {
				t.Fatalf("b took a live lease: %v", err)
			}
		}},
		{"expiry lets another node steal, and the stale owner is fenced", func(t *testing.T, clock *fakeClock, a, b *DynamoStore) {
			lctx := mustAcquire(t, a, shard)
			if err := a.Save(ctx, shard, Progress{Sequence: "100"}); err != nil {
				t.Fatal(err)
			}
			clock.Add(testTimeout + time.Millisecond) // a is paused: no renewal
			_, p, found, err := b.Acquire(ctx, shard)
			if err != nil || !found || p.Sequence != "100" {
				t.Fatalf("steal after expiry: %+v %v %v", p, found, err)
			}
			if err := a.Save(ctx, shard, Progress{Sequence: "200"}); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("stale owner's save: %v", err)
			}
			if !errors.Is(context.Cause(lctx), ErrLeaseLost) {
				t.Fatalf("stale owner's partition context: %v", context.Cause(lctx))
			}
			if err := a.Complete(ctx, shard, Progress{Sequence: "300"}); err == nil {
				t.Fatal("stale owner completed the shard")
			}
			if got, _, _ := b.Get(ctx, shard); got.Sequence != "100" || got.Done {
				t.Fatalf("stale owner moved the checkpoint: %+v", got)
			}
		}},
		{"renewal keeps the lease past the timeout", func(t *testing.T, clock *fakeClock, a, b *DynamoStore) {
			mustAcquire(t, a, shard)
			for range 6 {
				clock.Add(testTimeout / 3)
				a.Beat(ctx)
			}
			if _, _, _, err := b.Acquire(ctx, shard); !errors.Is(err, ErrLeaseHeld) {
				t.Fatalf("b took a renewed lease: %v", err)
			}
			if err := a.Save(ctx, shard, Progress{Sequence: "5"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a lost renewal ends the partition's context", func(t *testing.T, clock *fakeClock, a, b *DynamoStore) {
			lctx := mustAcquire(t, a, shard)
			clock.Add(testTimeout + time.Second)
			mustAcquire(t, b, shard)
			a.Beat(ctx)
			if !errors.Is(context.Cause(lctx), ErrLeaseLost) {
				t.Fatalf("cause %v", context.Cause(lctx))
			}
			if len(a.Held()) != 0 {
				t.Fatalf("a still holds %v", a.Held())
			}
		}},
		{"release hands over at once", func(t *testing.T, clock *fakeClock, a, b *DynamoStore) {
			mustAcquire(t, a, shard)
			if err := a.Save(ctx, shard, Progress{Sequence: "7", Clock: change.Clock{Second: 9, Count: 2}}); err != nil {
				t.Fatal(err)
			}
			if err := a.Release(ctx, shard); err != nil {
				t.Fatal(err)
			}
			_, p, _, err := b.Acquire(ctx, shard)
			if err != nil || p.Sequence != "7" || p.Clock != (change.Clock{Second: 9, Count: 2}) {
				t.Fatalf("after release: %+v %v", p, err)
			}
		}},
		{"complete frees the lease and marks done", func(t *testing.T, clock *fakeClock, a, b *DynamoStore) {
			mustAcquire(t, a, shard)
			if err := a.Complete(ctx, shard, Progress{Sequence: "9"}); err != nil {
				t.Fatal(err)
			}
			_, p, found, err := b.Acquire(ctx, shard)
			if err != nil || !found || !p.Done || len(b.Held()) != 0 {
				t.Fatalf("done shard: %+v %v %v held %v", p, found, err, b.Held())
			}
		}},
		{"table-level write waits for a live lease holder", func(t *testing.T, clock *fakeClock, a, b *DynamoStore) {
			mustAcquire(t, a, "backfill/t/meta")
			if err := b.Save(ctx, "backfill/t/meta", Progress{Meta: map[string]string{"x": "1"}}); !errors.Is(err, ErrLeaseHeld) {
				t.Fatalf("unleased write over a live lease: %v", err)
			}
			if err := b.Save(ctx, "table/t/generation", Progress{Meta: map[string]string{"generation": "1"}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"cut off past the timeout: the node drops its lease itself", func(t *testing.T, clock *fakeClock, a, b *DynamoStore) {
			lctx := mustAcquire(t, a, shard)
			a.api.(*countedAPI).api.(*checkpointtest.FakeDynamo).SetFail(errors.New("connection refused"))
			clock.Add(testTimeout / 3)
			a.Beat(ctx)
			if lctx.Err() != nil {
				t.Fatal("dropped before the timeout")
			}
			clock.Add(testTimeout)
			a.Beat(ctx)
			if !errors.Is(context.Cause(lctx), ErrLeaseLost) {
				t.Fatalf("cause %v", context.Cause(lctx))
			}
		}},
		{"a batch acknowledged after the lease was lost is not saved over the new owner's completion", func(t *testing.T, clock *fakeClock, a, b *DynamoStore) {
			mustAcquire(t, a, shard)
			if err := a.Save(ctx, shard, Progress{Sequence: "100"}); err != nil {
				t.Fatal(err)
			}
			clock.Add(testTimeout + time.Millisecond) // a is cut off: b takes over and finishes the shard
			mustAcquire(t, b, shard)
			if err := b.Complete(ctx, shard, Progress{Sequence: "300"}); err != nil {
				t.Fatal(err)
			}
			a.Beat(ctx) // a learns it lost the lease
			if err := a.Save(ctx, shard, Progress{Sequence: "200"}); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("late save of the old owner: %v, want ErrLeaseLost", err)
			}
			if got, _, _ := b.Get(ctx, shard); got.Sequence != "300" || !got.Done {
				t.Fatalf("the old owner moved the checkpoint: %+v", got)
			}
		}},
		{"a lease dropped while cut off is not written back without a lease", func(t *testing.T, clock *fakeClock, a, b *DynamoStore) {
			lctx := mustAcquire(t, a, shard)
			if err := a.Save(ctx, shard, Progress{Sequence: "100"}); err != nil {
				t.Fatal(err)
			}
			db := a.api.(*countedAPI).api.(*checkpointtest.FakeDynamo)
			db.SetFail(errors.New("connection refused"))
			clock.Add(testTimeout * 2 / 3)
			a.Beat(ctx) // drops the lease itself
			if !errors.Is(context.Cause(lctx), ErrLeaseLost) {
				t.Fatalf("cause %v", context.Cause(lctx))
			}
			db.SetFail(nil) // back before the lease expired: the record still names a
			if err := a.Save(ctx, shard, Progress{Sequence: "200"}); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("save after the drop: %v, want ErrLeaseLost", err)
			}
			if got, _, _ := a.Get(ctx, shard); got.Sequence != "100" {
				t.Fatalf("the dropped lease's checkpoint moved: %+v", got)
			}
			clock.Add(testTimeout)
			mustAcquire(t, a, shard) // taken again: its checkpoints count again
			if err := a.Save(ctx, shard, Progress{Sequence: "200"}); err != nil {
				t.Fatalf("save after taking the lease again: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, clock, n := newNodes(t, "a", "b")
			tt.run(t, clock, n[0], n[1])
		})
	}
}

// TestUnansweredRenewalDropsTheLeaseBeforeItExpires: a table that never
// answers (a black-holed connection) must not hold the heartbeat: the
// renewal gives up at ⅔ of the lease timeout and the partition stops
// before another node may take it.
func TestUnansweredRenewalDropsTheLeaseBeforeItExpires(t *testing.T) {
	const timeout = 1500 * time.Millisecond // the drop is due at 1 s: half a second of slack for a busy machine
	db := checkpointtest.NewFakeDynamo()
	a := NewDynamoStore(db, DynamoOptions{Table: "state", Pipeline: "p", Node: "a", LeaseTimeout: timeout})
	start := time.Now()
	lctx := mustAcquire(t, a, shard)
	db.SetStall(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Beat(context.Background())
	}()
	select {
	case <-lctx.Done():
	case <-time.After(5 * timeout):
		t.Fatal("the lease was not dropped while the table did not answer")
	}
	if took := time.Since(start); took >= timeout {
		t.Fatalf("dropped after %s, at or past the lease's expiry (%s)", took, timeout)
	}
	if !errors.Is(context.Cause(lctx), ErrLeaseLost) {
		t.Fatalf("cause %v", context.Cause(lctx))
	}
	select {
	case <-done:
	case <-time.After(5 * timeout):
		t.Fatal("the heartbeat still waits for an unanswered call")
	}
}

func mustAcquire(t *testing.T, s *DynamoStore, key string) context.Context {
	t.Helper()
	lctx, _, _, err := s.Acquire(context.Background(), key)
	if err != nil {
		t.Fatalf("%s acquire %s: %v", s.Node(), key, err)
	}
	return lctx
}

func TestRacingTakersOnlyOneWins(t *testing.T) {
	for _, expired := range []bool{false, true} {
		names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
		_, clock, nodes := newNodes(t, append([]string{"old"}, names...)...)
		if expired {
			mustAcquire(t, nodes[0], shard)
			clock.Add(testTimeout + time.Second)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		for _, n := range nodes[1:] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, _, err := n.Acquire(context.Background(), shard)
				switch {
				case err == nil:
					mu.Lock()
					won = append(won, n.Node())
					mu.Unlock()
				case !errors.Is(err, ErrLeaseHeld):
					t.Errorf("%s: %v", n.Node(), err)
				}
			}()
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("expired=%v: winners %v, want exactly one", expired, won)
		}
	}
}

func TestCreateOnceForgetAndNodes(t *testing.T) {
	ctx := context.Background()
	_, clock, n := newNodes(t, "a", "b")
	a, b := n[0], n[1]
	first := Progress{Meta: map[string]string{"from": "1"}}
	if p, created, err := a.Create(ctx, "stream/t/meta", first); err != nil || !created || p.Meta["from"] != "1" {
		t.Fatalf("create: %+v %v %v", p, created, err)
	}
	if p, created, err := b.Create(ctx, "stream/t/meta", Progress{Meta: map[string]string{"from": "2"}}); err != nil || created || p.Meta["from"] != "1" {
		t.Fatalf("second create: %+v %v %v", p, created, err)
	}
	for _, k := range []string{"stream/t/shard/x", "stream/t/shard/y", "stream/u/shard/x"} {
		if err := a.Save(ctx, k, Progress{Sequence: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Forget(ctx, "stream/t/"); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"stream/t/shard/x": false, "stream/t/meta": false, "stream/u/shard/x": true} {
		if _, found, _ := a.Get(ctx, k); found != want {
			t.Errorf("after forget, %s found=%v", k, found)
		}
	}
	a.Beat(ctx)
	b.Beat(ctx)
	a.Beat(ctx)
	if a.LiveNodes() != 2 {
		t.Fatalf("live nodes %d, want 2", a.LiveNodes())
	}
	clock.Add(testTimeout - time.Second)
	if a.LiveNodes() != 2 {
		t.Fatalf("live nodes before b's record expired %d, want 2", a.LiveNodes())
	}
	clock.Add(2 * time.Second) // b's record expired; a has not beaten since
	if a.LiveNodes() != 1 || len(a.Loads()) != 0 {
		t.Fatalf("live nodes once b's record expired %d (loads %v), want 1 at once, not at a's next heartbeat", a.LiveNodes(), a.Loads())
	}
	a.Beat(ctx)
	if a.LiveNodes() != 1 {
		t.Fatalf("live nodes after b stopped %d, want 1", a.LiveNodes())
	}
	// Another pipeline in the same table sees none of it.
	other := NewDynamoStore(a.api, DynamoOptions{Table: "state", Pipeline: "q", Node: "a", Now: clock.Now})
	if _, found, _ := other.Get(ctx, "stream/u/shard/x"); found {
		t.Fatal("pipelines share keys")
	}
}

func TestGroupAndTTLKinds(t *testing.T) {
	tests := []struct {
		key, group string
		ttl        bool
	}{
		{"stream/t/shard/s1", "stream/t", true},
		{"stream/t/meta", "stream/t", false},
		{"backfill/t/export/AWSDynamoDB/1/data/x.json.gz", "backfill/t", true},
		{"backfill/t/scan/0-of-4", "backfill/t", true},
		{"backfill/t/meta", "backfill/t", false},
		{"table/t/generation", "table/t", false},
	}
	for _, tt := range tests {
		if g := group(tt.key); g != tt.group {
			t.Errorf("group(%s) = %s", tt.key, g)
		}
		if e := expiresWhenDone(tt.key); e != tt.ttl {
			t.Errorf("expiresWhenDone(%s) = %v", tt.key, e)
		}
	}
}

func TestSnapshotShowsLeases(t *testing.T) {
	ctx := context.Background()
	_, clock, n := newNodes(t, "a", "b")
	mustAcquire(t, n[0], "stream/t/shard/s1")
	mustAcquire(t, n[1], "stream/t/shard/s2")
	if err := n[0].Complete(ctx, "stream/t/shard/s0", Progress{Sequence: "5"}); err != nil {
		t.Fatal(err)
	}
	if err := n[1].Save(ctx, "backfill/t/meta", Progress{Meta: map[string]string{"kind": "scan"}}); err != nil {
		t.Fatal(err)
	}
	if err := SetGeneration(ctx, n[1], "t", 2); err != nil {
		t.Fatal(err)
	}
	clock.Add(testTimeout / 2)
	n[0].Beat(ctx) // a renews; b does not
	clock.Add(testTimeout/2 + time.Millisecond)
	parts, err := n[0].Snapshot(ctx, []string{"t"})
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]Partition{}
	for _, p := range parts {
		byKey[p.Key] = p
	}
	if len(parts) != 5 || !byKey["stream/t/shard/s0"].Progress.Done || byKey["backfill/t/meta"].Progress.Meta["kind"] != "scan" {
		t.Fatalf("partitions %+v", parts)
	}
	now := clock.Now()
	if s1 := byKey["stream/t/shard/s1"]; !s1.Held(now) || s1.Owner != "a" || !s1.Expires.Equal(now.Add(testTimeout/2-time.Millisecond)) {
		t.Errorf("s1 = %+v, want held by a for another %s", s1, testTimeout/2)
	}
	if s2 := byKey["stream/t/shard/s2"]; s2.Held(now) || s2.Owner != "b" {
		t.Errorf("s2 = %+v, want b's expired lease", s2)
	}
	if s0 := byKey["stream/t/shard/s0"]; s0.Held(now) || s0.Owner != "" {
		t.Errorf("s0 = %+v, want free (complete)", s0)
	}
}

// slowUpdates is a state table whose UpdateItem takes a while, counting
// how many are in flight at once.
type slowUpdates struct {
	*checkpointtest.FakeDynamo
	mu             sync.Mutex
	inFlight, most int
	delay          time.Duration // 0: 2 ms
}

func (s *slowUpdates) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	s.mu.Lock()
	s.inFlight++
	s.most = max(s.most, s.inFlight)
	d := s.delay
	s.mu.Unlock()
	if d == 0 {
		d = 2 * time.Millisecond
	}
	time.Sleep(d)
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	return s.FakeDynamo.UpdateItem(ctx, in, opts...)
}

// TestBeatRenewsSideBySide: a heartbeat renews its leases several at a
// time, never more than renewParallel, and every lease stays held (one
// at a time, 1,000 leases at a few ms per call outlast the round).
func TestBeatRenewsSideBySide(t *testing.T) {
	db := &slowUpdates{FakeDynamo: checkpointtest.NewFakeDynamo()}
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	a := NewDynamoStore(db, DynamoOptions{Table: "state", Pipeline: "p", Node: "a", LeaseTimeout: testTimeout, Now: clock.Now})
	b := NewDynamoStore(db, DynamoOptions{Table: "state", Pipeline: "p", Node: "b", LeaseTimeout: testTimeout, Now: clock.Now})
	const n = 4 * renewParallel
	for i := range n {
		mustAcquire(t, a, fmt.Sprintf("stream/t/shard/s%03d", i))
	}
	db.mu.Lock()
	db.most = 0
	db.mu.Unlock()
	clock.Add(testTimeout / 2)
	a.Beat(context.Background())
	if db.most < 2 || db.most > renewParallel {
		t.Fatalf("%d renewals in flight at most, want 2..%d", db.most, renewParallel)
	}
	if got := len(a.Held()); got != n {
		t.Fatalf("a holds %d leases after the heartbeat, want %d", got, n)
	}
	clock.Add(testTimeout * 3 / 4) // past the first expiry, before the renewed one
	for i := range n {
		if _, _, _, err := b.Acquire(context.Background(), fmt.Sprintf("stream/t/shard/s%03d", i)); !errors.Is(err, ErrLeaseHeld) {
			t.Fatalf("shard %d: b took a renewed lease: %v", i, err)
		}
	}
}

// TestTransientStateErrorsAreRetried: a checkpoint save, a read and a take
// that meet a transient failure (a refused connection) succeed once the
// table answers again, instead of failing the shard and so the node; a
// permanent failure is returned at once.
func TestTransientStateErrorsAreRetried(t *testing.T) {
	ctx := context.Background()
	db, clock, n := newNodes(t, "a")
	a := n[0]
	mustAcquire(t, a, shard)
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	db.SetFail(refused)
	time.AfterFunc(300*time.Millisecond, func() { db.SetFail(nil) })
	if err := a.Save(ctx, shard, Progress{Sequence: "0042"}); err != nil {
		t.Fatalf("save during a 300 ms outage: %v", err)
	}
	if p, _, err := a.Get(ctx, shard); err != nil || p.Sequence != "0042" {
		t.Fatalf("after the outage: %+v, %v", p, err)
	}
	db.SetFail(refused)
	time.AfterFunc(300*time.Millisecond, func() { db.SetFail(nil) })
	if _, _, _, err := a.Acquire(ctx, "stream/t/shard/s2"); err != nil {
		t.Fatalf("take during a 300 ms outage: %v", err)
	}
	// A lease dropped while its save is being retried: the save stops
	// with ErrLeaseLost and never lands.
	db.SetFail(refused)
	saved := make(chan error, 1)
	go func() { saved <- a.Save(ctx, shard, Progress{Sequence: "0099"}) }()
	time.Sleep(50 * time.Millisecond)
	clock.Add(testTimeout)
	a.Beat(ctx) // the renewal fails too: past ⅔ of the timeout, a drops the lease
	select {
	case err := <-saved:
		if !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("save of a lease dropped meanwhile: %v, want ErrLeaseLost", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the save went on retrying after the lease was dropped")
	}
	db.SetFail(nil)
	if p, _, _ := a.Get(ctx, shard); p.Sequence != "0042" {
		t.Fatalf("the dropped lease's save landed: %+v", p)
	}
	db.SetFail(errors.New("AccessDeniedException: not allowed"))
	defer db.SetFail(nil)
	start := time.Now()
	if err := a.Save(ctx, shard, Progress{Sequence: "0043"}); err == nil || time.Since(start) > time.Second {
		t.Fatalf("permanent failure: %v after %s, want an error at once", err, time.Since(start))
	}
}

// TestSlowRenewalsWarn: when renewing the held leases takes longer than a
// heartbeat's period, the node says so, naming the write rate it needs.
func TestSlowRenewalsWarn(t *testing.T) {
	db := &slowUpdates{FakeDynamo: checkpointtest.NewFakeDynamo()}
	var logged strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	}), nil))
	a := NewDynamoStore(db, DynamoOptions{Table: "state", Pipeline: "p", Node: "a", LeaseTimeout: 3 * time.Second, Log: log})
	for i := range 2 * renewParallel {
		mustAcquire(t, a, fmt.Sprintf("stream/t/shard/s%03d", i))
	}
	a.Beat(context.Background())
	mu.Lock()
	quick := logged.String()
	mu.Unlock()
	if strings.Contains(quick, "renewing the held leases takes longer") {
		t.Fatalf("warned after quick renewals: %s", quick)
	}
	db.mu.Lock()
	db.delay = 600 * time.Millisecond // two rounds of 16: 1.2 s, over a third of 3 s
	db.mu.Unlock()
	a.Beat(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), "renewing the held leases takes longer") || !strings.Contains(logged.String(), "writes_per_s_needed=32") {
		t.Fatalf("no slow-renewal warning naming 32 writes/s: %s", logged.String())
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestRenewalOrderOldestFirst: a heartbeat renews the lease renewed
// longest ago first, whatever the order the leases were taken in.
func TestRenewalOrderOldestFirst(t *testing.T) {
	ctx := context.Background()
	_, clock, n := newNodes(t, "a")
	a := n[0]
	for _, k := range []string{"s3", "s1", "s2", "s0"} {
		mustAcquire(t, a, "stream/t/shard/"+k)
		clock.Add(time.Second)
	}
	// s3 is saved (a fenced write renews it): now the newest.
	if err := a.Save(ctx, "stream/t/shard/s3", Progress{Sequence: "1"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range a.renewalOrder() {
		got = append(got, strings.TrimPrefix(h.key, "stream/t/shard/"))
	}
	if strings.Join(got, " ") != "s1 s2 s0 s3" {
		t.Fatalf("renewal order %v, want s1 s2 s0 s3", got)
	}
}
