// Package status builds what `ddbsync status` prints: per pipeline and
// table, the phase, backfill progress, each stream shard's checkpoint and
// lag, dead letters and the last problem, from the state store and, when a
// run is alive, from its /status answer.
package status

import (
	"sort"
	"strings"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/metrics"
)

// Report is the whole answer.
type Report struct {
	// Live is true when a running run answered; its PID and start follow.
	Live    bool          `json:"live"`
	PID     int           `json:"pid,omitempty"`
	Started *time.Time    `json:"started,omitempty"`
	LiveErr string        `json:"live_error,omitempty"` // why no run answered
	Tables  []TableReport `json:"tables"`
}

// TableReport is one table of one pipeline.
type TableReport struct {
	Pipeline string `json:"pipeline"`
	Table    string `json:"table"`
	// Phase: from the run when live; else from the state: "not started",
	// "backfill" (a backfill record not done), "stream".
	Phase    string          `json:"phase"`
	Backfill *BackfillReport `json:"backfill,omitempty"`
	LagSec   *float64        `json:"lag_seconds,omitempty"`
	Shards   []ShardReport   `json:"shards"`
	// DeadLetters counts the documents the live run dead-lettered.
	DeadLetters int              `json:"dead_letters"`
	DLQFile     string           `json:"dlq_file,omitempty"`
	Gap         string           `json:"gap,omitempty"`
	LastProblem *metrics.Problem `json:"last_problem,omitempty"`
}

// BackfillReport is a table's backfill: its kind, whether it finished, the
// partitions (export data files, scan segments) done and started, and the
// live item counts.
type BackfillReport struct {
	Kind       string  `json:"kind"`
	Done       bool    `json:"done"`
	PartsDone  int     `json:"partitions_done"`
	PartsSeen  int     `json:"partitions_started"`
	ItemsDone  int64   `json:"items_done,omitempty"`
	ItemsTotal int64   `json:"items_total,omitempty"`
	ItemsPerS  float64 `json:"items_per_second,omitempty"`
	// Open lists the partitions not done yet with their leases (a shared
	// state table only): which node loads what.
	Open []PartitionReport `json:"open,omitempty"`
}

// PartitionReport is one backfill partition that is not done yet.
type PartitionReport struct {
	Partition string       `json:"partition"` // e.g. "export/<data file>", "scan/0-of-4"
	Lease     *LeaseReport `json:"lease,omitempty"`
}

// ShardReport is one stream shard.
type ShardReport struct {
	Shard    string   `json:"shard"`
	Parent   string   `json:"parent,omitempty"`
	Sequence string   `json:"sequence,omitempty"` // last acknowledged
	Done     bool     `json:"done"`
	LagSec   *float64 `json:"lag_seconds,omitempty"` // live only
	Reading  bool     `json:"reading"`               // a live reader holds it
	// Owner is the node holding the shard's lease in a shared state table
	// (a live lease only; Lease has the rest).
	Owner string `json:"owner,omitempty"`
	// Lease is the shard's lease in a shared state table (nil otherwise).
	Lease *LeaseReport `json:"lease,omitempty"`
}

// LeaseReport is a partition's lease in a shared state table.
type LeaseReport struct {
	// Node holds, or last held, the lease ("" once released or done).
	Node string `json:"node,omitempty"`
	// Held: the lease is live (not expired) as of the status read.
	Held    bool       `json:"held"`
	Expires *time.Time `json:"expires,omitempty"`
	// AppliedUpTo (stream shards), as the shard's reader last published
	// it: every record written before it is applied and checkpointed.
	AppliedUpTo *time.Time `json:"applied_up_to,omitempty"`
}

// SetLeases records each shard's and open backfill partition's lease from
// the records of a shared state table, read at now.
func (r *Report) SetLeases(parts []checkpoint.Partition, now time.Time) {
	byKey := make(map[string]checkpoint.Partition, len(parts))
	for _, p := range parts {
		byKey[p.Key] = p
	}
	for i := range r.Tables {
		t := &r.Tables[i]
		for j := range t.Shards {
			s := &t.Shards[j]
			p, ok := byKey["stream/"+t.Table+"/shard/"+s.Shard]
			if !ok {
				continue
			}
			s.Lease = leaseOf(p, now)
			if s.Lease.Held {
				s.Owner = p.Owner
			}
		}
		if t.Backfill == nil {
			continue
		}
		prefix := "backfill/" + t.Table + "/"
		for _, p := range parts {
			rest, ok := strings.CutPrefix(p.Key, prefix)
			if ok && rest != "meta" && !p.Progress.Done {
				t.Backfill.Open = append(t.Backfill.Open, PartitionReport{Partition: rest, Lease: leaseOf(p, now)})
			}
		}
	}
}

func leaseOf(p checkpoint.Partition, now time.Time) *LeaseReport {
	l := &LeaseReport{Node: p.Owner, Held: p.Held(now)}
	if !p.Expires.IsZero() {
		e := p.Expires
		l.Expires = &e
	}
	if !p.Applied.IsZero() {
		a := p.Applied
		l.AppliedUpTo = &a
	}
	return l
}

// TableRef names a table of the pipeline file.
type TableRef struct{ Pipeline, Table string }

// Build merges the state (checkpoint key → progress) and the live answer
// (nil when no run answered) for the given tables.
func Build(tables []TableRef, state map[string]checkpoint.Progress, live *metrics.StatusBody) Report {
	r := Report{Tables: []TableReport{}}
	liveTables := map[string]metrics.TableStatus{}
	if live != nil {
		r.Live, r.PID = true, live.PID
		started := live.Started
		r.Started = &started
		for _, t := range live.Tables {
			liveTables[t.Table] = t
		}
	}
	for _, ref := range tables {
		tr := fromState(ref, state)
		if lt, ok := liveTables[ref.Table]; ok {
			overlay(&tr, lt)
		}
		r.Tables = append(r.Tables, tr)
	}
	return r
}

func fromState(ref TableRef, state map[string]checkpoint.Progress) TableReport {
	tr := TableReport{Pipeline: ref.Pipeline, Table: ref.Table, Phase: "not started", Shards: []ShardReport{}}
	shardPrefix := "stream/" + ref.Table + "/shard/"
	bfPrefix := "backfill/" + ref.Table + "/"
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := state[k]
		switch {
		case strings.HasPrefix(k, shardPrefix):
			tr.Shards = append(tr.Shards, ShardReport{Shard: strings.TrimPrefix(k, shardPrefix), Parent: p.Parent, Sequence: p.Sequence, Done: p.Done})
		case k == bfPrefix+"meta":
			if tr.Backfill == nil {
				tr.Backfill = &BackfillReport{}
			}
			tr.Backfill.Kind, tr.Backfill.Done = p.Meta["kind"], p.Done
		case strings.HasPrefix(k, bfPrefix+"export/"), strings.HasPrefix(k, bfPrefix+"scan/"):
			if tr.Backfill == nil {
				tr.Backfill = &BackfillReport{}
			}
			tr.Backfill.PartsSeen++
			if p.Done {
				tr.Backfill.PartsDone++
			}
		}
	}
	_, streamStarted := state["stream/"+ref.Table+"/meta"]
	switch {
	case tr.Backfill != nil && !tr.Backfill.Done:
		tr.Phase = "backfill"
	case streamStarted || len(tr.Shards) > 0:
		tr.Phase = "stream"
	case tr.Backfill != nil:
		tr.Phase = "backfill done"
	}
	return tr
}

func overlay(tr *TableReport, lt metrics.TableStatus) {
	tr.Phase, tr.LagSec = lt.Phase, lt.LagSec
	tr.DeadLetters, tr.DLQFile, tr.Gap, tr.LastProblem = lt.DeadLetters, lt.DLQFile, lt.Gap, lt.LastProblem
	if b := lt.Backfill; b != nil {
		if tr.Backfill == nil {
			tr.Backfill = &BackfillReport{Kind: b.Kind}
		}
		tr.Backfill.ItemsDone, tr.Backfill.ItemsTotal = b.Done, b.Total
		if d := b.UpdatedAt.Sub(b.Started).Seconds(); d > 0 {
			tr.Backfill.ItemsPerS = float64(b.Done) / d
		}
	}
	idx := map[string]int{}
	for i, s := range tr.Shards {
		idx[s.Shard] = i
	}
	for _, ls := range lt.Shards {
		i, ok := idx[ls.Shard]
		if !ok {
			tr.Shards = append(tr.Shards, ShardReport{Shard: ls.Shard})
			i = len(tr.Shards) - 1
		}
		tr.Shards[i].Reading = !ls.Done
		tr.Shards[i].LagSec = ls.LagSec
		if ls.Done {
			tr.Shards[i].Done = true
		}
	}
	sort.Slice(tr.Shards, func(i, j int) bool { return tr.Shards[i].Shard < tr.Shards[j].Shard })
}
