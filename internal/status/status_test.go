package status

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/metrics"
)

func TestBuild(t *testing.T) {
	state := map[string]checkpoint.Progress{
		"backfill/a/meta":              {Meta: map[string]string{"kind": "export"}},
		"backfill/a/export/f1.json.gz": {Lines: 10, Done: true},
		"backfill/a/export/f2.json.gz": {Lines: 3},
		"stream/b/meta":                {Meta: map[string]string{"from": "0"}},
		"stream/b/shard/s1":            {Sequence: "100", Done: true},
		"stream/b/shard/s2":            {Sequence: "200", Parent: "s1"},
		"stream/other/shard/x":         {Sequence: "1"},
	}
	lag := 1.5
	live := &metrics.StatusBody{PID: 7, Started: time.Unix(0, 0), Tables: []metrics.TableStatus{{
		TableSnapshot: metrics.TableSnapshot{Table: "b", Phase: "stream", LagSec: &lag,
			Shards: []metrics.ShardSnapshot{{Shard: "s2", LagSec: &lag}, {Shard: "s3"}}},
		DeadLetters: 2, DLQFile: "dlq.jsonl",
		LastProblem: &metrics.Problem{Level: "WARN", Msg: "bulk retry"},
	}}}
	tests := []struct {
		name  string
		live  *metrics.StatusBody
		check func(t *testing.T, r Report)
	}{
		{"state only", nil, func(t *testing.T, r Report) {
			a, b, c := r.Tables[0], r.Tables[1], r.Tables[2]
			if r.Live || a.Phase != "backfill" || a.Backfill.Kind != "export" || a.Backfill.PartsDone != 1 || a.Backfill.PartsSeen != 2 {
				t.Errorf("table a: %+v %+v", a, a.Backfill)
			}
			if b.Phase != "stream" || len(b.Shards) != 2 || b.Shards[1].Parent != "s1" || !b.Shards[0].Done || b.Shards[1].Sequence != "200" {
				t.Errorf("table b: %+v", b)
			}
			if c.Phase != "not started" || len(c.Shards) != 0 {
				t.Errorf("table c: %+v", c)
			}
		}},
		{"with a live run", live, func(t *testing.T, r Report) {
			b := r.Tables[1]
			if !r.Live || r.PID != 7 || b.DeadLetters != 2 || b.LastProblem == nil || *b.LagSec != 1.5 {
				t.Errorf("live overlay missing: %+v", b)
			}
			if len(b.Shards) != 3 || !b.Shards[1].Reading || b.Shards[1].LagSec == nil || b.Shards[2].Shard != "s3" || b.Shards[0].Reading {
				t.Errorf("shards: %+v", b.Shards)
			}
		}},
	}
	refs := []TableRef{{"p", "a"}, {"p", "b"}, {"p", "c"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Build(refs, state, tt.live)
			tt.check(t, r)
			if _, err := json.Marshal(r); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSetLeases: with a shared state table every shard shows the node
// holding or last holding its lease, the expiry and how far it is
// applied; open backfill partitions show theirs.
func TestSetLeases(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	state := map[string]checkpoint.Progress{
		"backfill/a/meta":        {Meta: map[string]string{"kind": "scan"}},
		"backfill/a/scan/0-of-2": {Done: true},
		"backfill/a/scan/1-of-2": {},
		"stream/a/shard/s1":      {Sequence: "100", Done: true},
		"stream/a/shard/s2":      {Sequence: "200", Parent: "s1"},
		"stream/a/shard/s3":      {Sequence: "300"},
	}
	parts := []checkpoint.Partition{
		{Key: "backfill/a/scan/1-of-2", Owner: "n2", Expires: now.Add(4 * time.Second)},
		{Key: "stream/a/shard/s1", Progress: state["stream/a/shard/s1"]},
		{Key: "stream/a/shard/s2", Owner: "n1", Expires: now.Add(3 * time.Second), Applied: now.Add(-time.Second)},
		{Key: "stream/a/shard/s3", Owner: "n3", Expires: now.Add(-2 * time.Second), Applied: now.Add(-9 * time.Second)},
	}
	r := Build([]TableRef{{"p", "a"}}, state, nil)
	r.SetLeases(parts, now)
	tr := r.Tables[0]
	tests := []struct {
		shard string
		owner string // the live holder
		lease LeaseReport
	}{
		{"s1", "", LeaseReport{}},
		{"s2", "n1", LeaseReport{Node: "n1", Held: true}},
		{"s3", "", LeaseReport{Node: "n3", Held: false}},
	}
	for i, tt := range tests {
		s := tr.Shards[i]
		if s.Shard != tt.shard || s.Owner != tt.owner || s.Lease == nil || s.Lease.Node != tt.lease.Node || s.Lease.Held != tt.lease.Held {
			t.Errorf("shard %d = %+v (lease %+v), want %s owned by %q with %+v", i, s, s.Lease, tt.shard, tt.owner, tt.lease)
		}
	}
	if l := tr.Shards[1].Lease; l.Expires == nil || !l.Expires.Equal(now.Add(3*time.Second)) || l.AppliedUpTo == nil || !l.AppliedUpTo.Equal(now.Add(-time.Second)) {
		t.Errorf("s2 lease %+v", l)
	}
	if b := tr.Backfill; len(b.Open) != 1 || b.Open[0].Partition != "scan/1-of-2" || b.Open[0].Lease.Node != "n2" || !b.Open[0].Lease.Held {
		t.Errorf("open backfill partitions %+v", b.Open)
	}
}
