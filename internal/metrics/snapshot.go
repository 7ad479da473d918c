package metrics

import (
	"sort"
	"time"
)

// TableSnapshot is one table's live state, as `/status` reports it.
type TableSnapshot struct {
	Table    string          `json:"table"`
	Phase    string          `json:"phase"`
	Since    time.Time       `json:"phase_since"`
	LagSec   *float64        `json:"lag_seconds,omitempty"` // nil while starting or backfilling
	Backfill *BackfillCount  `json:"backfill,omitempty"`
	Shards   []ShardSnapshot `json:"shards,omitempty"`
}

// BackfillCount is a backfill's item counts so far.
type BackfillCount struct {
	Kind      string    `json:"kind"` // export | scan
	Done      int64     `json:"items_done"`
	Total     int64     `json:"items_total"` // 0 when unknown (a scan's estimate may be missing)
	Started   time.Time `json:"started"`
	UpdatedAt time.Time `json:"updated"`
}

// ShardSnapshot is one stream shard's live state.
type ShardSnapshot struct {
	Shard  string   `json:"shard"`
	Done   bool     `json:"done"`
	LagSec *float64 `json:"lag_seconds,omitempty"` // now − tip; nil for a done shard
	// SinceRead is the time since the reader's last acknowledged GetRecords.
	SinceReadSec float64 `json:"since_read_seconds"`
}

// Backfill records a backfill's item counts (the table's export or scan).
func (p *Progress) Backfill(table, kind string, done, total int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.table(table)
	now := p.now()
	if t.backfill == nil || t.backfill.Kind != kind {
		t.backfill = &BackfillCount{Kind: kind, Started: now}
	}
	t.backfill.Done, t.backfill.Total, t.backfill.UpdatedAt = done, total, now
}

// Snapshot returns every tracked table's state, in table and shard order.
func (p *Progress) Snapshot() []TableSnapshot {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	out := make([]TableSnapshot, 0, len(p.tables))
	for name, t := range p.tables {
		ts := TableSnapshot{Table: name, Phase: t.phase, Since: t.since}
		if t.backfill != nil {
			b := *t.backfill
			ts.Backfill = &b
		}
		var worst float64
		for id, s := range t.shards {
			ss := ShardSnapshot{Shard: id, Done: s.done}
			last := s.lastRead
			if last.IsZero() {
				last = s.started
			}
			ss.SinceReadSec = now.Sub(last).Seconds()
			if !s.done {
				from := s.tip
				if from.IsZero() {
					from = s.started
				}
				lag := now.Sub(from).Seconds()
				ss.LagSec = &lag
				worst = max(worst, lag)
			}
			ts.Shards = append(ts.Shards, ss)
		}
		if t.phase == PhaseStream || t.phase == PhaseDone {
			ts.LagSec = &worst
		}
		sort.Slice(ts.Shards, func(i, j int) bool { return ts.Shards[i].Shard < ts.Shards[j].Shard })
		out = append(out, ts)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out
}
