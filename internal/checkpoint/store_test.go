package checkpoint

import (
	"context"
	"strings"
	"testing"

	"github.com/ddbsync/ddbsync/internal/change"
)

func TestCompareSequence(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "1", -1},
		{"9", "10", -1}, // wrong as strings
		{"000000000000000000001", "000000000000000000002", -1},
		{"100000000000000000000", "99999999999999999999", 1},
		{"49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692538361571095921575989136588898", 0},
		{"49590338271490256608559692538361571095921575989136588899", "49590338271490256608559692538361571095921575989136588898", 1},
	}
	for _, tt := range tests {
		if got := CompareSequence(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareSequence(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestFileStoreSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Progress{Sequence: "000000000000000000123", Clock: change.Clock{Second: 10, Count: 3}}
	if err := s.Save(ctx, "t/shard-1", want); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "t/shard-0", Progress{Sequence: "1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFileStore(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open of a locked dir: %v", err)
	}
	s.Close()
	s2, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, found, _ := s2.Get(ctx, "t/shard-1")
	if !found || got.Sequence != want.Sequence || got.Clock != want.Clock {
		t.Fatalf("reopened: %+v %v", got, found)
	}
	done, _, _ := s2.Get(ctx, "t/shard-0")
	if !done.Done {
		t.Fatal("completed shard not done after reopen")
	}
	if err := s2.Save(ctx, "u/shard-9", want); err != nil {
		t.Fatal(err)
	}
	if err := s2.Forget(ctx, "t/"); err != nil {
		t.Fatal(err)
	}
	snap := s2.Snapshot()
	if _, ok := snap["u/shard-9"]; len(snap) != 1 || !ok {
		t.Fatalf("Forget(t/) left %v", snap)
	}
}
