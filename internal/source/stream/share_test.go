package stream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/checkpoint/checkpointtest"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// fakePeers is what the heartbeats told a node about the others.
type fakePeers struct {
	node  string
	loads map[string]int
}

func (p fakePeers) Node() string          { return p.node }
func (p fakePeers) Loads() map[string]int { return p.loads }

// TestShareArithmetic: the node's share is ceil(readable shards of every
// table / live nodes); a table takes only while the node is below it;
// above it (or two above another node) exactly one table — the one
// reading most, ties by name — releases one shard.
func TestShareArithmetic(t *testing.T) {
	tests := []struct {
		name      string
		nodes     int
		peers     *fakePeers // nil: the others' counts are unknown
		readable  []int      // per table t0, t1, …
		running   []int
		take      int  // the table that asks to take one more
		wantTake  bool // whether it may
		wantShed  int  // the table that releases one (-1: none)
		wantEven  bool // released to even the spread, not over the share
		wantShare int
	}{
		{name: "one node takes every shard", nodes: 1, readable: []int{1, 1, 1, 1}, running: []int{1, 1, 1, 0}, take: 3, wantTake: true, wantShed: -1, wantShare: 4},
		{name: "one node never sheds", nodes: 1, readable: []int{1, 1}, running: []int{1, 1}, take: 0, wantTake: true, wantShed: -1, wantShare: 2},
		{name: "two nodes, four one-shard tables: a share of two", nodes: 2, readable: []int{1, 1, 1, 1}, running: []int{1, 1, 0, 0}, take: 2, wantTake: false, wantShed: -1, wantShare: 2},
		{name: "below the share a table takes", nodes: 2, readable: []int{1, 1, 1, 1}, running: []int{1, 0, 0, 0}, take: 2, wantTake: true, wantShed: -1, wantShare: 2},
		{name: "a node that took nothing yet is below its share", nodes: 2, readable: []int{1, 1, 1, 1}, running: []int{0, 0, 0, 0}, take: 0, wantTake: true, wantShed: -1, wantShare: 2},
		{name: "the table reading most sheds", nodes: 2, readable: []int{1, 3, 1, 1}, running: []int{1, 3, 0, 0}, take: 2, wantTake: false, wantShed: 1, wantShare: 3},
		{name: "different shard counts: a share of three", nodes: 2, readable: []int{3, 1, 1, 1}, running: []int{3, 0, 0, 0}, take: 1, wantTake: false, wantShed: -1, wantShare: 3},
		{name: "never more than the share across tables", nodes: 3, readable: []int{2, 2, 2}, running: []int{2, 0, 0}, take: 1, wantTake: false, wantShed: -1, wantShare: 2},
		{name: "an odd spread: a node two above another releases one", nodes: 3, peers: &fakePeers{node: "a", loads: map[string]int{"b": 2, "c": 0}},
			readable: []int{1, 1, 1, 1}, running: []int{1, 1, 0, 0}, take: 2, wantTake: false, wantShed: 0, wantEven: true, wantShare: 2},
		{name: "an odd spread: the first node by id gives", nodes: 3, peers: &fakePeers{node: "b", loads: map[string]int{"a": 2, "c": 0}},
			readable: []int{1, 1, 1, 1}, running: []int{1, 1, 0, 0}, take: 2, wantTake: false, wantShed: -1, wantShare: 2},
		{name: "one apart is even", nodes: 2, peers: &fakePeers{node: "a", loads: map[string]int{"b": 2}},
			readable: []int{1, 1, 1, 1, 1}, running: []int{1, 1, 1, 0, 0}, take: 3, wantTake: false, wantShed: -1, wantShare: 3},
		{name: "a node that does not publish its count is not waited for", nodes: 3, peers: &fakePeers{node: "a", loads: map[string]int{"b": 2}},
			readable: []int{1, 1, 1, 1}, running: []int{1, 1, 0, 0}, take: 2, wantTake: false, wantShed: -1, wantShare: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShare(func() int { return tt.nodes })
			if tt.peers != nil {
				s.peers = tt.peers
			}
			var members []*shareMember
			for i := range tt.readable {
				m := s.join(fmt.Sprintf("t%d", i))
				m.report(tt.readable[i], tt.running[i])
				members = append(members, m)
			}
			if got := s.stateLocked().target; got != tt.wantShare {
				t.Errorf("share %d, want %d", got, tt.wantShare)
			}
			// Every other table first: none of them may shed.
			for i, m := range members {
				if i == tt.wantShed {
					continue
				}
				if _, _, _, ok := m.shed(); ok {
					t.Fatalf("table t%d shed, want %d", i, tt.wantShed)
				}
			}
			if tt.wantShed >= 0 {
				held, share, even, ok := members[tt.wantShed].shed()
				if !ok || even != tt.wantEven || held != sum(tt.running) || share != tt.wantShare {
					t.Fatalf("table t%d: shed %v even %v held %d share %d, want a release (even %v) of %d held, share %d",
						tt.wantShed, ok, even, held, share, tt.wantEven, sum(tt.running), tt.wantShare)
				}
				members[tt.wantShed].report(tt.readable[tt.wantShed], tt.running[tt.wantShed]) // undo for the take below
			}
			if got := members[tt.take].reserve(); got != tt.wantTake {
				t.Errorf("table t%d takes: %v, want %v", tt.take, got, tt.wantTake)
			}
		})
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// TestShareHoldsAfterAnEvenRelease: after releasing a shard to a node
// reading two fewer, the node takes none (not even the one it released)
// for the hold, releases no second one meanwhile, and waits longer after
// a release the other node did not take up.
func TestShareHoldsAfterAnEvenRelease(t *testing.T) {
	now := time.Unix(1000, 0)
	s := newShare(func() int { return 3 })
	s.hold, s.holdFor = time.Second, time.Second
	s.now = func() time.Time { return now }
	// Seven shards, a share of three: this node reads three, b two, c none.
	s.peers = fakePeers{node: "a", loads: map[string]int{"b": 2, "c": 0}}
	m := []*shareMember{s.join("t0"), s.join("t1"), s.join("t2")}
	for i, r := range [][2]int{{5, 2}, {1, 1}, {1, 0}} {
		m[i].report(r[0], r[1])
	}
	if _, _, even, ok := m[0].shed(); !ok || !even {
		t.Fatalf("no release to even the spread")
	}
	// Two apart from c still (its heartbeat has not told yet).
	if _, _, _, ok := m[0].shed(); ok {
		t.Fatal("released a second shard during the hold")
	}
	if m[2].reserve() {
		t.Fatal("took a shard during the hold")
	}
	now = now.Add(1100 * time.Millisecond)
	if !m[0].reserve() { // c did not take it: the node may read it again
		t.Fatal("no take after the hold")
	}
	if _, _, _, ok := m[0].shed(); !ok {
		t.Fatal("no second release after the hold")
	}
	now = now.Add(1100 * time.Millisecond)
	if m[0].reserve() {
		t.Fatal("the hold did not grow after a release nobody took up")
	}
	now = now.Add(time.Second)
	if !m[0].reserve() {
		t.Fatal("no take after the doubled hold")
	}
}

// TestShareStaleCountsAfterARelease: a node over its share releases two
// shards; the other node's count in the last heartbeat (none) is stale
// then, so it is not taken as an uneven spread until a hold later.
func TestShareStaleCountsAfterARelease(t *testing.T) {
	now := time.Unix(1000, 0)
	s := newShare(func() int { return 2 })
	s.hold, s.holdFor = time.Second, time.Second
	s.now = func() time.Time { return now }
	s.peers = fakePeers{node: "a", loads: map[string]int{"b": 0}}
	var m []*shareMember
	for i := range 4 {
		m = append(m, s.join(fmt.Sprintf("t%d", i)))
		m[i].report(1, 1)
	}
	for _, i := range []int{0, 1} {
		if _, _, even, ok := m[i].shed(); !ok || even {
			t.Fatalf("t%d: released %v (even %v), want a release over the share", i, ok, even)
		}
	}
	if _, _, _, ok := m[2].shed(); ok {
		t.Fatal("a third release on b's stale count")
	}
	now = now.Add(1100 * time.Millisecond) // b's count is still 0: it read nothing
	if _, _, even, ok := m[2].shed(); !ok || !even {
		t.Fatalf("released %v (even %v) a hold later, want a release to even the spread", ok, even)
	}
}

// shareNode is one node of a pipeline of several tables over one fake
// state table.
type shareNode struct {
	name  string
	store *checkpoint.DynamoStore
}

// startShareNode starts a node reading every table of tables through one
// Share; it stops when ctx ends.
func startShareNode(t *testing.T, ctx context.Context, g *errgroup.Group, db *checkpointtest.FakeDynamo, node string, tables map[string]*fakeStreams, rec *recorder) *shareNode {
	t.Helper()
	st := checkpoint.NewDynamoStore(db, checkpoint.DynamoOptions{Table: "state", Pipeline: "p", Node: node, LeaseTimeout: 300 * time.Millisecond})
	st.Beat(ctx)
	share := NewShare(st, 300*time.Millisecond)
	g.Go(func() error { return st.Run(ctx) })
	for name, f := range tables {
		table := Table{Name: name, StreamARN: "arn:stream:" + name, Key: ddbjson.Key{Partition: "pk"}, StartPosition: "TRIM_HORIZON", ViewOnRemove: "NEW_IMAGE"}
		src := New(f, st, table, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil, Options{
			PollMin: time.Millisecond, PollMax: 5 * time.Millisecond, ListEvery: 5 * time.Millisecond, FastList: time.Millisecond,
			TrimmedBound: 100 * time.Millisecond, LeaseRecheck: 10 * time.Millisecond, Share: share,
		})
		g.Go(func() error { return src.Run(ctx, rec.write) })
	}
	return &shareNode{name: node, store: st}
}

// singleShardTables is n tables t0… of one open shard each, each with one
// record.
func singleShardTables(n int) map[string]*fakeStreams {
	out := map[string]*fakeStreams{}
	for i := range n {
		f := &fakeStreams{shards: []*fakeShard{{id: "s"}}}
		f.put("s", "INSERT", fmt.Sprintf("k%d", i), "1", 100)
		out[fmt.Sprintf("t%d", i)] = f
	}
	return out
}

// awaitHeld waits until the nodes hold want shards each (in order), and
// that spread holds for a while (no churn).
func awaitHeld(t *testing.T, want []int, nodes ...*shareNode) {
	t.Helper()
	held := func() []int {
		out := make([]int, len(nodes))
		for i, n := range nodes {
			out[i] = len(n.store.Held())
		}
		return out
	}
	same := func() bool { return fmt.Sprint(held()) == fmt.Sprint(want) }
	deadline := time.Now().Add(10 * time.Second)
	for stable := 0; stable < 100; { // 100 samples 5ms apart: half a second unchanged
		if same() {
			stable++
		} else {
			stable = 0
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes hold %v shards, want %v", held(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestShareOverTheShareShedsDownToIt: over its share, each table among
// those reading most releases one at its check, and only until the node
// is at its share: four one-shard tables over two nodes give two up at
// once, not one per check.
func TestShareOverTheShareShedsDownToIt(t *testing.T) {
	tests := []struct {
		name              string
		readable, running []int
		wantShed          []int // the tables that release one, checked in order t0, t1, …
	}{
		{"four one-shard tables, a share of two", []int{1, 1, 1, 1}, []int{1, 1, 1, 1}, []int{0, 1}},
		{"the table reading most gives first", []int{3, 1, 1, 1}, []int{3, 1, 1, 1}, []int{0, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShare(func() int { return 2 })
			var members []*shareMember
			for i := range tt.readable {
				m := s.join(fmt.Sprintf("t%d", i))
				m.report(tt.readable[i], tt.running[i])
				members = append(members, m)
			}
			var shed []int
			for round := 0; round < 3; round++ {
				for i, m := range members {
					if _, _, _, ok := m.shed(); ok {
						shed = append(shed, i)
					}
				}
			}
			if fmt.Sprint(shed) != fmt.Sprint(tt.wantShed) {
				t.Fatalf("tables that released one: %v, want %v", shed, tt.wantShed)
			}
			if st := s.stateLocked(); st.running != st.target {
				t.Fatalf("node reads %d after shedding, share %d", st.running, st.target)
			}
		})
	}
}

// TestShareAcrossTablesWhenNodesJoin: a pipeline of four tables with one
// open shard each. Node a alone takes all four; when b joins, they end
// with two each (a share counted per table, ceil(1/2) = 1, left b with
// none); when c joins, 2/1/1 in some order. Every record is delivered.
func TestShareAcrossTablesWhenNodesJoin(t *testing.T) {
	tables := singleShardTables(4)
	db := checkpointtest.NewFakeDynamo()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g errgroup.Group
	defer func() { cancel(); _ = g.Wait() }()
	rec := &recorder{}
	a := startShareNode(t, ctx, &g, db, "a", tables, rec)
	awaitHeld(t, []int{4}, a)
	b := startShareNode(t, ctx, &g, db, "b", tables, rec)
	awaitHeld(t, []int{2, 2}, a, b)
	c := startShareNode(t, ctx, &g, db, "c", tables, rec)
	// Which of them reads two depends on whose heartbeat told first.
	var held []int
	waitFor(t, func() bool {
		held = []int{len(a.store.Held()), len(b.store.Held()), len(c.store.Held())}
		sorted := slices.Sorted(slices.Values(held))
		return slices.Equal(sorted, []int{1, 1, 2})
	})
	awaitHeld(t, held, a, b, c)
	for name, f := range tables {
		f.put("s", "MODIFY", "k"+name[1:], "2", 101)
	}
	waitFor(t, func() bool { return len(rec.snapshot()) >= 8 })
	seen := map[string]bool{}
	for _, ev := range rec.snapshot() {
		seen[fmt.Sprintf("%s@%d", ev.ID, ev.Version)] = true
	}
	if len(seen) != 8 {
		t.Fatalf("records delivered %v, want 8 distinct", seen)
	}
}

// TestShareAcrossTablesOfDifferentSizes: one table of three open shards
// and three of one: six shards, a share of three for each of two nodes
// started together, whichever tables they come from.
func TestShareAcrossTablesOfDifferentSizes(t *testing.T) {
	tables := singleShardTables(3)
	big := &fakeStreams{}
	for i := range 3 {
		id := fmt.Sprintf("s%d", i)
		big.shards = append(big.shards, &fakeShard{id: id})
		big.put(id, "INSERT", "big"+id, "1", 100)
	}
	tables["big"] = big
	db := checkpointtest.NewFakeDynamo()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g errgroup.Group
	defer func() { cancel(); _ = g.Wait() }()
	rec := &recorder{}
	a := startShareNode(t, ctx, &g, db, "a", tables, rec)
	b := startShareNode(t, ctx, &g, db, "b", tables, rec)
	awaitHeld(t, []int{3, 3}, a, b)
	waitFor(t, func() bool { return len(rec.snapshot()) >= 6 })
}

// TestShareSurvivorTakesAll: of two nodes sharing four tables, one stops
// (its leases released): the other takes all four.
func TestShareSurvivorTakesAll(t *testing.T) {
	tables := singleShardTables(4)
	db := checkpointtest.NewFakeDynamo()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var g errgroup.Group
	defer func() { cancel(); _ = g.Wait() }()
	rec := &recorder{}
	a := startShareNode(t, ctx, &g, db, "a", tables, rec)
	bctx, stopB := context.WithCancel(ctx)
	var gb errgroup.Group
	b := startShareNode(t, bctx, &gb, db, "b", tables, rec)
	awaitHeld(t, []int{2, 2}, a, b)
	stopB()
	if err := gb.Wait(); err != nil {
		t.Fatalf("node b: %v", err)
	}
	awaitHeld(t, []int{4}, a)
}
