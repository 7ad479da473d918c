package change

import (
	"testing"
	"time"
)

func at(sec int64) time.Time { return time.Unix(sec, 0) }

func TestClockNext(t *testing.T) {
	tests := []struct {
		name  string
		start Clock
		times []int64
		want  []int64
		end   Clock
	}{
		{name: "increasing seconds", times: []int64{10, 11, 13}, want: []int64{10_000_000, 11_000_000, 13_000_000}, end: Clock{13, 1}},
		{name: "same second counts up", times: []int64{10, 10, 10}, want: []int64{10_000_000, 10_000_001, 10_000_002}, end: Clock{10, 3}},
		{name: "out of order clamps", times: []int64{10, 9, 8, 11}, want: []int64{10_000_000, 10_000_001, 10_000_002, 11_000_000}, end: Clock{11, 1}},
		{name: "restart mid second continues from checkpoint", start: Clock{10, 2}, times: []int64{10, 10}, want: []int64{10_000_002, 10_000_003}, end: Clock{10, 4}},
		{name: "child inherits parent clock", start: Clock{20, 5}, times: []int64{19, 20, 21}, want: []int64{20_000_005, 20_000_006, 21_000_000}, end: Clock{21, 1}},
		{name: "carry at one million", start: Clock{10, PerSecond - 1}, times: []int64{10, 10, 11}, want: []int64{10_999_999, 11_000_000, 11_000_001}, end: Clock{11, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.start
			prev := int64(-1)
			for i, s := range tt.times {
				got := c.Next(at(s))
				if got != tt.want[i] {
					t.Fatalf("record %d at %d: version %d, want %d", i, s, got, tt.want[i])
				}
				if got <= prev {
					t.Fatalf("version regressed: %d after %d", got, prev)
				}
				prev = got
			}
			if c != tt.end {
				t.Fatalf("end clock %+v, want %+v", c, tt.end)
			}
		})
	}
}

// TestReplayComputesSameVersions pins that a crash between two checkpoints
// replays the suffix with identical versions, so OpenSearch answers 409 for
// the already-applied ones (an equal external version is rejected) and
// accepts the rest.
func TestReplayComputesSameVersions(t *testing.T) {
	times := []int64{5, 5, 5, 6, 6, 6, 6}
	var first Clock
	var all []int64
	var saved Clock
	for i, s := range times {
		all = append(all, first.Next(at(s)))
		if i == 2 {
			saved = first // checkpoint after the third record
		}
	}
	replay := saved
	for i, s := range times[3:] {
		if got := replay.Next(at(s)); got != all[3+i] {
			t.Fatalf("replayed record %d: version %d, first run %d", 3+i, got, all[3+i])
		}
	}
}

func TestBackfillHandOff(t *testing.T) {
	exportTime := time.Unix(1_000_000, 0)
	overlap := 5 * time.Minute
	bv := BackfillVersion(exportTime, overlap)
	cut := StreamCutoff(exportTime, overlap)
	if cut != 1_000_000-300 {
		t.Fatalf("cutoff %d", cut)
	}
	// The oldest replayed stream record, even with k=0, beats the backfill.
	var c Clock
	if v := c.Next(time.Unix(cut, 0)); v <= bv {
		t.Fatalf("first replayed stream version %d not above backfill version %d", v, bv)
	}
	if bv != cut*PerSecond-1 {
		t.Fatalf("backfill version %d", bv)
	}
}

// TestGenerations pins the re-backfill order: a backfill of generation 1
// outranks every generation-0 version (stream, backfill or repair), and a
// generation-1 stream record outranks the generation-1 backfill.
func TestGenerations(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	oldest := InGeneration(Clock{Second: now.Unix() + 3600*24*365, Count: PerSecond - 1}.peek(), 0)
	backfill1 := InGeneration(BackfillVersion(now, 5*time.Minute), 1)
	if backfill1 <= oldest {
		t.Fatalf("generation-1 backfill %d does not outrank generation 0 (%d)", backfill1, oldest)
	}
	var c Clock
	stream1 := InGeneration(c.Next(time.Unix(StreamCutoff(now, 5*time.Minute), 0)), 1)
	if stream1 <= backfill1 {
		t.Fatalf("generation-1 stream %d does not outrank its backfill %d", stream1, backfill1)
	}
}

// peek is the version Next would return now, without advancing.
func (c Clock) peek() int64 { return c.Next(time.Unix(0, 0)) }
