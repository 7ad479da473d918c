//go:build integration

package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
)

func rec(owner string, lease int64, seq string, second int64, done bool) LeaseRecord {
	p := checkpoint.Progress{Sequence: seq, Clock: change.Clock{Second: second}, Done: done}
	b, _ := json.Marshal(p)
	return LeaseRecord{Owner: owner, Lease: lease, Done: done, Progress: string(b), Saved: p}
}

func TestFencingWatch(t *testing.T) {
	// n1 was cut off; n2 took shard s1 over with lease 4.
	base := map[string]LeaseRecord{"s1": rec("n2", 4, "100", 10, false)}
	tests := []struct {
		name  string
		steps []map[string]LeaseRecord
		want  string // "" = no violation; else a part of the first one
	}{
		{"the new owner saves and completes", []map[string]LeaseRecord{
			{"s1": rec("n2", 4, "200", 11, false)},
			{"s1": rec("", 4, "300", 12, true)},
		}, ""},
		{"a child appears and the cut node takes it after reconnecting", []map[string]LeaseRecord{
			{"s1": rec("", 4, "300", 12, true), "s2": rec("", 0, "", 0, false)},
			{"s1": rec("", 4, "300", 12, true), "s2": rec("n1", 1, "400", 12, false)},
		}, ""},
		{"the cut node takes the shard again with a higher counter", []map[string]LeaseRecord{
			{"s1": rec("", 4, "200", 11, false)},
			{"s1": rec("n1", 5, "250", 11, false)},
		}, ""},
		{"the cut node overwrites under its lost lease", []map[string]LeaseRecord{
			{"s1": rec("n1", 3, "150", 10, false)},
		}, "lease counter went back"},
		{"the cut node's record keeps the new counter", []map[string]LeaseRecord{
			{"s1": rec("n1", 4, "150", 10, false)},
		}, "not above lease 4"},
		{"a late save undoes a completed shard", []map[string]LeaseRecord{
			{"s1": rec("", 4, "300", 12, true)},
			{"s1": rec("", 4, "150", 10, false)},
		}, "undone"},
		{"a late save rewinds the sequence", []map[string]LeaseRecord{
			{"s1": rec("n2", 4, "300", 12, false)},
			{"s1": rec("n2", 4, "99", 12, false)},
		}, "sequence went back"},
		{"sequences compare as numbers", []map[string]LeaseRecord{
			{"s1": rec("n2", 4, "99", 10, false)},
			{"s1": rec("n2", 4, "1000", 10, false)},
		}, "sequence went back from 100 to 99"},
		{"a late save rewinds the clock", []map[string]LeaseRecord{
			{"s1": rec("n2", 4, "100", 9, false)},
		}, "version clock went back"},
		{"a record disappears", []map[string]LeaseRecord{{}}, "disappeared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewFencingWatch("n1", base)
			for _, s := range tt.steps {
				w.Observe(s)
			}
			v := w.Violations()
			switch {
			case tt.want == "" && len(v) > 0:
				t.Fatalf("violations %q, want none", v)
			case tt.want != "" && len(v) == 0:
				t.Fatalf("no violation, want one with %q", tt.want)
			case tt.want != "" && !strings.Contains(v[0], tt.want):
				t.Fatalf("first violation %q, want one with %q", v[0], tt.want)
			}
		})
	}
}
