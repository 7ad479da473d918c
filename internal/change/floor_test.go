package change

import (
	"testing"
	"time"
)

func TestClockRaise(t *testing.T) {
	const s = 1_700_000_000
	tests := []struct {
		name      string
		clock     Clock
		floor     int64
		moved     bool
		created   int64 // second of the next record
		wantAbove int64 // the next version must be above this
		want      int64
	}{
		{"fresh clock, same second", Clock{}, s*PerSecond + 7, true, s, s*PerSecond + 7, s*PerSecond + 8},
		{"fresh clock, earlier record", Clock{}, s*PerSecond + 7, true, s - 30, s*PerSecond + 7, s*PerSecond + 8},
		{"later record starts its second", Clock{}, s*PerSecond + 7, true, s + 1, s*PerSecond + 7, (s+1)*PerSecond + 0},
		{"clock already past", Clock{Second: s, Count: 9}, s*PerSecond + 7, false, s, s*PerSecond + 8, s*PerSecond + 9},
		{"equal position is not past", Clock{Second: s, Count: 8}, s*PerSecond + 8, true, s, s*PerSecond + 8, s*PerSecond + 9},
		{"floor at the last k carries", Clock{Second: s, Count: 3}, s*PerSecond + PerSecond - 1, true, s, s*PerSecond + PerSecond - 1, (s+1)*PerSecond + 0},
		{"negative floor", Clock{Second: s}, -1, false, s, s*PerSecond - 1, s * PerSecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.clock
			if got := c.Raise(tc.floor); got != tc.moved {
				t.Errorf("Raise = %v, want %v", got, tc.moved)
			}
			v := c.Next(time.Unix(tc.created, 0))
			if v <= tc.wantAbove || v != tc.want {
				t.Errorf("next version %d, want %d (above %d)", v, tc.want, tc.wantAbove)
			}
		})
	}
}

func TestRepairFloor(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	base := (now.Unix() + 60) * PerSecond
	tests := []struct {
		name                  string
		highest, current, gen int64
		want                  int64
		ok                    bool
	}{
		{"above now", 5, 0, 0, base, true},
		{"above a bumped document", base + 4, 0, 0, base + 5, true},
		{"above the floor in effect", 0, base + 10, 0, base + 11, true},
		{"in the generation", 0, 0, 2, 2*GenerationSpan + base, true},
		{"document beyond the generation", GenerationSpan + 3, 0, 0, 0, false},
		{"document a year ahead", (now.Unix() + 365*24*3600) * PerSecond, 0, 0, 0, false},
		{"document an hour ahead", (now.Unix() + 3600) * PerSecond, 0, 0, (now.Unix()+3600)*PerSecond + 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := RepairFloor(now, tc.highest, tc.current, tc.gen)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("RepairFloor = %d %v, want %d %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestWithinGeneration(t *testing.T) {
	if v, ok := WithinGeneration(2*GenerationSpan+5, 2); !ok || v != 5 {
		t.Fatalf("in generation: %d %v", v, ok)
	}
	if _, ok := WithinGeneration(GenerationSpan+5, 2); ok {
		t.Fatal("an older generation's version counted")
	}
	if _, ok := WithinGeneration(3*GenerationSpan, 2); ok {
		t.Fatal("a later generation's version counted")
	}
}
