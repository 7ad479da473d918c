package verify

import (
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
)

// wins reports whether OpenSearch keeps a write of version v over a
// document of version cur under external versioning (strictly greater).
func wins(v, cur int64) bool { return v > cur }

func TestRepairVersion(t *testing.T) {
	r := time.Unix(1_700_000_000, 0)
	rv := RepairVersion(r)
	if want := int64(1_699_999_940)*change.PerSecond - 1; rv != want {
		t.Fatalf("RepairVersion(%d) = %d, want %d", r.Unix(), rv, want)
	}
	tests := []struct {
		name string
		// stream records of one lineage, seconds relative to r
		records []int64
		// whether the last record's version beats the repair
		streamWins bool
	}{
		{name: "created at R-61 loses", records: []int64{-61}, streamWins: false},
		{name: "last of many same-second records at R-61 loses", records: []int64{-61, -61, -61, -61}, streamWins: false},
		{name: "created at R-60 wins", records: []int64{-60}, streamWins: true},
		{name: "created at R wins", records: []int64{0}, streamWins: true},
		{name: "created after R wins", records: []int64{5}, streamWins: true},
		{name: "minute-rounded timestamp of a change just after R wins", records: []int64{-(r.Unix() % 60)}, streamWins: true},
		{name: "clamped after an older record still wins", records: []int64{-100, -30}, streamWins: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c change.Clock
			var v int64
			for _, s := range tt.records {
				v = c.Next(r.Add(time.Duration(s) * time.Second))
			}
			if got := wins(v, rv); got != tt.streamWins {
				t.Fatalf("stream version %d vs repair %d: stream wins = %v, want %v", v, rv, got, tt.streamWins)
			}
			// The other order: the repair applied over the stream's document.
			if got := wins(rv, v); got == tt.streamWins {
				t.Fatalf("repair %d over stream version %d: repair wins = %v, want %v", rv, v, got, !tt.streamWins)
			}
		})
	}
}

func TestRepairVersionAboveBackfill(t *testing.T) {
	r := time.Unix(1_700_000_000, 0)
	// A scan backfill taken at r itself with the default 5 min overlap.
	if bv := change.BackfillVersion(r, 5*time.Minute); !wins(RepairVersion(r), bv) {
		t.Fatalf("repair %d does not beat a backfill document %d taken at R", RepairVersion(r), bv)
	}
	// The millionth record of second R-61 has the repair's own version:
	// OpenSearch rejects the equal version, so the repair is skipped (safe).
	if hi := (r.Unix()-61)*change.PerSecond + change.PerSecond - 1; hi != RepairVersion(r) || wins(RepairVersion(r), hi) {
		t.Fatalf("repair %d vs the last version of second R-61 %d", RepairVersion(r), hi)
	}
	if lo := (r.Unix()-61)*change.PerSecond + change.PerSecond - 2; !wins(RepairVersion(r), lo) {
		t.Fatalf("repair %d does not beat %d", RepairVersion(r), lo)
	}
}
