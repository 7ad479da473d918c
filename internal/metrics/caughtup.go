package metrics

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Table phases, as Progress reports them.
const (
	PhaseStarting = "starting" // connecting, describing the table
	PhaseBackfill = "backfill" // export or scan in progress; stream events held
	PhaseStream   = "stream"   // backfill (if any) done; the stream is applied
	PhaseDone     = "done"     // a table without a stream whose backfill finished
)

// Progress tracks, per table, its phase and, per stream shard, the moment
// up to which the shard's records are applied: its "tip". It answers the
// caught-up question and the lag behind /readyz. Every method is safe on a
// nil *Progress (it then tracks nothing).
//
// A shard's tip T means: every record of the shard created before T is
// applied (acknowledged by the sink and checkpointed). A reader moves it
// after each acknowledged GetRecords call: to the call's start when the call
// returned no records (the reader was at the shard's end when the call
// began), else to the creation time of the last record it applied.
type Progress struct {
	mu     sync.Mutex
	now    func() time.Time
	tables map[string]*tableProgress
}

type tableProgress struct {
	phase    string
	since    time.Time // phase start
	shards   map[string]*shardProgress
	backfill *BackfillCount // the latest backfill's counts (nil: none in this process)
}

type shardProgress struct {
	started  time.Time // the reader began
	tip      time.Time // records created before tip are applied (zero: none known)
	lastRead time.Time // the last GetRecords that returned (liveness)
	done     bool      // read to its end and completed
}

// NewProgress returns an empty Progress using now as the clock.
func NewProgress(now func() time.Time) *Progress {
	return &Progress{now: now, tables: map[string]*tableProgress{}}
}

func (p *Progress) table(name string) *tableProgress {
	t := p.tables[name]
	if t == nil {
		t = &tableProgress{phase: PhaseStarting, since: p.now(), shards: map[string]*shardProgress{}}
		p.tables[name] = t
	}
	return t
}

func (t *tableProgress) shard(id string, now time.Time) *shardProgress {
	s := t.shards[id]
	if s == nil {
		s = &shardProgress{started: now}
		t.shards[id] = s
	}
	return s
}

// Phase sets a table's phase (PhaseStarting … PhaseDone) and forgets its
// shards: a phase starts before any reader of it (a stream that starts
// again after a re-backfill reads its shards again).
func (p *Progress) Phase(table, phase string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.table(table)
	t.phase, t.since = phase, p.now()
	t.shards = map[string]*shardProgress{}
}

// ShardStarted records that a reader began reading a shard.
func (p *Progress) ShardStarted(table, shard string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	s := p.table(table).shard(shard, now)
	s.started, s.done = now, false
}

// Applied records an acknowledged GetRecords call on a shard: every record
// created before tip is applied. A tip never moves back.
func (p *Progress) Applied(table, shard string, tip time.Time) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	s := p.table(table).shard(shard, now)
	s.lastRead = now
	if tip.After(s.tip) {
		s.tip = tip
	}
}

// ShardDone records that a shard was read to its end and completed.
func (p *Progress) ShardDone(table, shard string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.table(table).shard(shard, p.now())
	s.done, s.lastRead = true, p.now()
}

// ShardLeft forgets a shard this node stopped reading without finishing it
// (another node reads it now): it counts for neither lag nor liveness here.
func (p *Progress) ShardLeft(table, shard string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.table(table).shards, shard)
}

// ListedShard is one shard of a stream listing taken after the moment in
// question, as the caught-up check needs it.
type ListedShard struct {
	ID     string
	Parent string
	// Complete: the shard's checkpoint says it was read to its end.
	Complete bool
	// With a shared state table (several nodes), the shard's lease as the
	// table had it after the listing: Owner holds (Held) or last held it,
	// until Expires, and published Applied: every record of the shard
	// written before it is applied and checkpointed, by whichever node
	// read it. Zero values when the state is not shared.
	Owner   string
	Held    bool
	Expires time.Time
	Applied time.Time
}

// Behind is one reason a table is not caught up.
type Behind struct {
	Table string `json:"table"`
	Shard string `json:"shard,omitempty"`
	// Node is the node holding, or last holding, the shard's lease (shared
	// state only).
	Node string `json:"node,omitempty"`
	Why  string `json:"why"`
}

// CaughtUp decides whether every change written to table before moment at
// is applied. listed is the table's stream shards, listed after at (nil for
// a table without a stream). The table is caught up at `at` when
//
//   - no backfill is in progress (the phase is stream, or done for a table
//     without a stream), and
//   - every listed shard is complete (read to its end, acknowledged and
//     checkpointed), or has a tip after at: its reader acknowledged
//     everything up to a GetRecords call that started after at and found
//     no further record, or applied a record created after at. The tip is
//     this node's reader's, or the one the shard's reader on any node
//     published in the shared state table (ListedShard.Applied), whichever
//     is later: both are true statements, so the rule is the same on one
//     node and on many. A shard no node reads any more (its owner stopped
//     or died) is behind unless its last published tip is after at.
//
// Shards created after at hold only records written after at and pass
// once their reader has polled them once. The answer lists what is behind.
func (p *Progress) CaughtUp(table string, at time.Time, listed []ListedShard) (bool, []Behind) {
	if p == nil {
		return false, []Behind{{Table: table, Why: "progress is not tracked"}}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.tables[table]
	switch {
	case !ok || t.phase == PhaseStarting:
		return false, []Behind{{Table: table, Why: "starting: the table is not being replicated yet"}}
	case t.phase == PhaseBackfill:
		return false, []Behind{{Table: table, Why: fmt.Sprintf("backfill in progress for %s", p.now().Sub(t.since).Round(time.Second))}}
	case t.phase == PhaseDone:
		return true, nil
	}
	var behind []Behind
	for _, l := range listed {
		s := t.shards[l.ID]
		tip := l.Applied
		if s != nil && s.tip.After(tip) {
			tip = s.tip
		}
		b := Behind{Table: table, Shard: l.ID, Node: l.Owner}
		switch {
		case l.Complete || s != nil && s.done:
			continue
		case tip.After(at):
			continue
		case s != nil && tip.IsZero():
			b.Why = fmt.Sprintf("reading since %s; nothing acknowledged yet", s.started.UTC().Format(time.RFC3339))
		case s != nil:
			b.Why = fmt.Sprintf("applied up to %s, %s before the moment asked", tip.UTC().Format(time.RFC3339Nano), at.Sub(tip).Round(time.Millisecond))
		case l.Held && tip.IsZero():
			b.Why = fmt.Sprintf("read by node %s; it has published nothing applied yet", l.Owner)
		case l.Held:
			b.Why = fmt.Sprintf("read by node %s: applied up to %s as it last published, %s before the moment asked", l.Owner, tip.UTC().Format(time.RFC3339Nano), at.Sub(tip).Round(time.Millisecond))
		case l.Owner != "":
			b.Why = fmt.Sprintf("no node holds it: the lease of node %s expired at %s%s", l.Owner, l.Expires.UTC().Format(time.RFC3339Nano), appliedNote(tip, at))
		case !tip.IsZero():
			b.Why = "no node holds it (released)" + appliedNote(tip, at)
		case l.Parent != "":
			b.Why = "not read yet: waits for its parent " + l.Parent
		default:
			b.Why = "not read yet"
		}
		behind = append(behind, b)
	}
	return len(behind) == 0, behind
}

// appliedNote says how far a shard no node reads was applied.
func appliedNote(tip, at time.Time) string {
	if tip.IsZero() {
		return ""
	}
	return fmt.Sprintf("; applied up to %s, %s before the moment asked", tip.UTC().Format(time.RFC3339Nano), at.Sub(tip).Round(time.Millisecond))
}

// Lag is how far a table's replication is behind now, for /readyz: the
// largest now − tip over its open shards (now − start for a shard without a
// tip yet). ok is false during start-up and backfill, with why.
func (p *Progress) Lag(table string) (lag time.Duration, ok bool, why string) {
	if p == nil {
		return 0, false, "progress is not tracked"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t, found := p.tables[table]
	switch {
	case !found || t.phase == PhaseStarting:
		return 0, false, "starting"
	case t.phase == PhaseBackfill:
		return 0, false, "backfill in progress"
	}
	now := p.now()
	for _, s := range t.shards {
		if s.done {
			continue
		}
		from := s.tip
		if from.IsZero() {
			from = s.started
		}
		lag = max(lag, now.Sub(from))
	}
	return lag, true, ""
}

// Tables lists the tracked tables in name order.
func (p *Progress) Tables() []string {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.tables))
	for name := range p.tables {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// SilentShard is an open shard whose reader has not finished a
// GetRecords call (and its acknowledgement) for a while.
type SilentShard struct {
	Table, Shard string
	For          time.Duration
}

func (s SilentShard) String() string {
	return fmt.Sprintf("%s/%s: no stream read completed for %s", s.Table, s.Shard, s.For.Round(time.Second))
}

// Silent lists the open shards whose reader has not finished a GetRecords
// call and its acknowledgement for longer than bound, in table and shard
// order.
func (p *Progress) Silent(bound time.Duration) []SilentShard {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var out []SilentShard
	for name, t := range p.tables {
		if t.phase != PhaseStream {
			continue
		}
		for id, s := range t.shards {
			last := s.lastRead
			if last.IsZero() {
				last = s.started
			}
			if !s.done && now.Sub(last) > bound {
				out = append(out, SilentShard{Table: name, Shard: id, For: now.Sub(last)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Table < out[j].Table || out[i].Table == out[j].Table && out[i].Shard < out[j].Shard
	})
	return out
}

// Known returns the shards the readers of table have reported, as a
// listing: a cheap first check before a fresh stream listing.
func (p *Progress) Known(table string) []ListedShard {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.tables[table]
	if !ok {
		return nil
	}
	out := make([]ListedShard, 0, len(t.shards))
	for id := range t.shards {
		out = append(out, ListedShard{ID: id})
	}
	return out
}

// PhaseOf returns a table's phase ("" when not tracked).
func (p *Progress) PhaseOf(table string) string {
	if p == nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.tables[table]; ok {
		return t.phase
	}
	return ""
}
