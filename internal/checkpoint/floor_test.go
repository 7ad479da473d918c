package checkpoint

import (
	"context"
	"testing"
)

func TestRaiseFloorNeverLowersAndSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := Floor(ctx, s, "t"); err != nil || f != 0 {
		t.Fatalf("fresh floor %d %v", f, err)
	}
	steps := []struct{ raise, want int64 }{{100, 100}, {50, 100}, {101, 101}}
	for _, st := range steps {
		if got, err := RaiseFloor(ctx, s, "t", st.raise); err != nil || got != st.want {
			t.Fatalf("RaiseFloor(%d) = %d %v, want %d", st.raise, got, err, st.want)
		}
	}
	if err := s.Forget(ctx, "stream/t/"); err != nil { // a re-backfill keeps it
		t.Fatal(err)
	}
	s.Close()
	s2, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if f, err := Floor(ctx, s2, "t"); err != nil || f != 101 {
		t.Fatalf("reopened floor %d %v", f, err)
	}
	if f, _ := Floor(ctx, s2, "other"); f != 0 {
		t.Fatalf("another table's floor %d", f)
	}
}
