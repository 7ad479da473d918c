package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/status"
)

func TestLeaseText(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	tests := []struct {
		name  string
		lease *status.LeaseReport
		done  bool
		want  string
	}{
		{"not shared", nil, false, "-"},
		{"done", &status.LeaseReport{Node: "n1", Held: true, Expires: at(time.Second)}, true, "-"},
		{"free", &status.LeaseReport{}, false, "free"},
		{"held", &status.LeaseReport{Node: "n1", Held: true, Expires: at(6200 * time.Millisecond)}, false, "node n1 until 2026-01-02T03:04:11Z (6.2s)"},
		{"expired", &status.LeaseReport{Node: "n2", Expires: at(-3 * time.Second)}, false, "node n2 EXPIRED 3s ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := leaseText(tt.lease, tt.done, now); got != tt.want {
				t.Errorf("leaseText = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPrintShardsShared: with leases the table gains the LEASE and
// APPLIED UP TO columns; without, it keeps the local form.
func TestPrintShardsShared(t *testing.T) {
	exp, applied := time.Now().Add(5*time.Second), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var b bytes.Buffer
	printShards(&b, []status.ShardReport{
		{Shard: "s1", Sequence: "100", Done: true, Lease: &status.LeaseReport{}},
		{Shard: "s2", Sequence: "200", Parent: "s1", Owner: "n1", Lease: &status.LeaseReport{Node: "n1", Held: true, Expires: &exp, AppliedUpTo: &applied}},
	})
	out := b.String()
	for _, want := range []string{"LEASE", "APPLIED UP TO", "reading (node n1)", "node n1 until", "2026-01-02T03:04:05Z", "200"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	printShards(&b, []status.ShardReport{{Shard: "s1", Sequence: "100"}})
	if strings.Contains(b.String(), "LEASE") || !strings.Contains(b.String(), "waiting") {
		t.Errorf("local state output:\n%s", b.String())
	}
}
