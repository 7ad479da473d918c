package stream

import (
	"sync"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
)

// Share is one node's fair share of one pipeline's stream shards, across
// every table of the pipeline (DESIGN §7 balance): the node aims for
// ceil(readable shards of all the tables / live nodes). A pipeline of many
// small tables has one open shard per table, so a share counted per table
// (ceil(1 / nodes) = 1) would let the first node take them all.
//
// Every table's coordinator reports, at each listing, how many of its
// shards are readable (read by any node, or waiting for a reader) and how
// many this node reads. A table takes a shard only while the node reads
// fewer than its share. When the node reads more (another node joined),
// one table — the one reading most, ties by name — releases one shard per
// listing, so the nodes converge without a stampede. When the shares
// cannot all be equal (4 shards, 3 nodes: a share of 2), a node reading
// two more than another live node releases one too, as the other nodes'
// heartbeats report their counts (a joining node would otherwise wait
// forever beside two nodes at their share).
//
// One Share per pipeline per node, passed to every table's Source in
// Options.Share; its methods are safe for concurrent use.
type Share struct {
	live  func() int // live nodes (1 when the state is not shared)
	peers peers      // nil: the other nodes' counts are unknown
	hold  time.Duration
	now   func() time.Time

	mu      sync.Mutex
	members map[*shareMember]struct{}
	joined  int
	// heldUntil: after a shard was released to even the spread, this node
	// takes none until then, so the node reading fewer gets it; holdFor
	// doubles while that node does not take it (it may be unable to).
	heldUntil time.Time
	holdFor   time.Duration
	// evenAfter: the other nodes' counts are judged only from then on, a
	// hold after this node's last release (their heartbeats may not show
	// what they took yet).
	evenAfter time.Time
}

// peers is what a Share learns about the other nodes from the state
// store's heartbeats (a *checkpoint.DynamoStore).
type peers interface {
	Node() string
	Loads() map[string]int
}

// maxHoldFactor bounds how far the hold after an uneven-spread release
// grows while the other node does not take the shard.
const maxHoldFactor = 32

// NewShare returns the share of the pipeline whose state is in store.
// hold is how long, after releasing a shard to a node reading two fewer,
// this node takes no shard itself (give it the lease timeout: the other
// node's next heartbeat shows whether it took the shard).
func NewShare(store checkpoint.Store, hold time.Duration) *Share {
	s := newShare(func() int { return checkpoint.LiveNodes(store) })
	if p, ok := store.(peers); ok {
		s.peers = p
	}
	if hold > 0 {
		s.hold = hold
	}
	s.holdFor = s.hold
	return s
}

// newShare is a share that knows only the live nodes: a Source without a
// pipeline's Share counts its own table alone.
func newShare(live func() int) *Share {
	return &Share{live: live, hold: 10 * time.Second, holdFor: 10 * time.Second, now: time.Now, members: map[*shareMember]struct{}{}}
}

// shareMember is one table's part of a Share, used by its coordinator
// only.
type shareMember struct {
	share *Share
	table string
	seq   int // join order: ties between two runs of one table
	// readable is the table's readable shards at its last listing;
	// running the shards this node reads (or has reserved to take).
	readable, running int
}

// join adds a table's coordinator to the share.
func (s *Share) join(table string) *shareMember {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.joined++
	m := &shareMember{share: s, table: table, seq: s.joined}
	s.members[m] = struct{}{}
	return m
}

// leave removes the table from the share (its Source stopped).
func (m *shareMember) leave() {
	m.share.mu.Lock()
	defer m.share.mu.Unlock()
	delete(m.share.members, m)
}

// report is a listing's count: readable shards of the table (read by any
// node, being released, or waiting for a reader) and those this node
// reads.
func (m *shareMember) report(readable, running int) {
	m.share.mu.Lock()
	defer m.share.mu.Unlock()
	m.readable, m.running = readable, running
}

// setRunning is the table's count of shards read here after a reader ended.
func (m *shareMember) setRunning(running int) {
	m.share.mu.Lock()
	defer m.share.mu.Unlock()
	m.running = running
}

// reserve counts one more shard for the table if the node is below its
// share; the caller takes the shard's lease, or calls unreserve.
func (m *shareMember) reserve() bool {
	s := m.share
	s.mu.Lock()
	defer s.mu.Unlock()
	if !m.roomLocked() {
		return false
	}
	m.running++
	return true
}

// room reports whether the node is below its share (reserve would count
// one more shard).
func (m *shareMember) room() bool {
	m.share.mu.Lock()
	defer m.share.mu.Unlock()
	return m.roomLocked()
}

func (m *shareMember) roomLocked() bool {
	s := m.share
	st := s.stateLocked()
	return st.nodes < 2 || !s.now().Before(s.heldUntil) && st.running < st.target
}

// unreserve undoes a reserve whose lease was not taken.
func (m *shareMember) unreserve() {
	m.share.mu.Lock()
	defer m.share.mu.Unlock()
	m.running--
}

// shed reports whether this table releases one shard now: the node reads
// more than its share and this table is among those reading most, or the
// node reads two more than another live node and this table reads the
// most (ties by name). The shard is counted out at once. held and share
// are the node's counts before, for the log.
func (m *shareMember) shed() (held, share int, even, ok bool) {
	s := m.share
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stateLocked()
	if st.nodes < 2 || m.running == 0 {
		return st.running, st.target, false, false
	}
	top := s.shedder()
	now := s.now()
	switch {
	case st.running > st.target && m.running >= top.running:
		// Over the share: every table among those reading most gives one
		// at its next check (counted out at once, so the node stops at its
		// share): a node joining 100 one-shard tables gets its half within
		// a check or two, not one shard per check.
	case top != m:
		return st.running, st.target, false, false
	case !now.Before(s.evenAfter) && s.uneven(st.running):
		if now.Before(s.heldUntil.Add(s.holdFor)) {
			// The last release was not taken up: the other node may be
			// unable to read (starting, or its table stopped).
			s.holdFor = min(2*s.holdFor, maxHoldFactor*s.hold)
		} else {
			s.holdFor = s.hold
		}
		s.heldUntil = now.Add(s.holdFor)
		even = true
	default:
		return st.running, st.target, false, false
	}
	s.evenAfter = now.Add(s.hold)
	if s.heldUntil.After(s.evenAfter) {
		s.evenAfter = s.heldUntil
	}
	m.running--
	return st.running, st.target, even, true
}

// shareState is the node's counts across the tables.
type shareState struct {
	readable, running, target, nodes int
}

func (s *Share) stateLocked() shareState {
	var st shareState
	for m := range s.members {
		st.readable += m.readable
		st.running += m.running
	}
	st.nodes = max(s.live(), 1)
	st.target = ceilDiv(st.readable, st.nodes)
	return st
}

// shedder is the member that releases the node's next shard: the one
// reading most, ties by table name, then join order.
func (s *Share) shedder() *shareMember {
	var best *shareMember
	for m := range s.members {
		switch {
		case best == nil, m.running > best.running:
		case m.running < best.running:
			continue
		case m.table < best.table, m.table == best.table && m.seq < best.seq:
		default:
			continue
		}
		best = m
	}
	return best
}

// uneven reports whether another live node reads at least two shards
// fewer than this node's running, and this node is the one to give (it
// reads the most, ties by node id), as the last heartbeats tell.
func (s *Share) uneven(running int) bool {
	if s.peers == nil {
		return false
	}
	self := s.peers.Node()
	low := false
	for node, n := range s.peers.Loads() {
		if n > running || n == running && node < self {
			return false // a node reading more (or as much, first by id) gives
		}
		low = low || n <= running-2
	}
	return low
}
