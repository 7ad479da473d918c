package change

import "time"

// PerSecond is how many versions one second of stream time holds.
const PerSecond = 1_000_000

// Clock assigns external versions along one shard lineage (DESIGN §2.3):
// version = second × 10⁶ + k, where second is the record's
// ApproximateCreationDateTime clamped to be non-decreasing and k counts
// earlier records of the lineage with the same effective second, carrying
// into the next second at 10⁶. A Clock is saved with every shard checkpoint
// and handed from a parent shard to its children, so that replaying after a
// crash, or continuing in a child shard, computes the same versions. A
// table's clock floor (raised by verify --repair, see Raise and
// RepairFloor) lifts every lineage clock past a repair's version; the
// raised clock is saved before it is used, so replays agree.
type Clock struct {
	// Second is the effective second of the last record (0 before any).
	Second int64 `json:"second"`
	// Count is how many records already used Second.
	Count int64 `json:"count"`
}

// Next returns the version of the next record of the lineage, created at
// the given time, and advances the clock.
func (c *Clock) Next(created time.Time) int64 {
	s := created.Unix()
	if s > c.Second {
		c.Second, c.Count = s, 0
	}
	v := c.Second*PerSecond + c.Count
	c.Count++
	if c.Count == PerSecond {
		c.Second, c.Count = c.Second+1, 0
	}
	return v
}

// GenerationSpan is the width of one version generation. A table starts in
// generation 0; every re-backfill after a stream gap moves it to the next,
// so the new backfill outranks every document written before the gap, and
// the new stream outranks the new backfill. second × 10⁶ stays below it
// until the year 2286; int64 holds 922 generations.
const GenerationSpan int64 = 10_000_000_000_000_000

// InGeneration places a version computed by Clock, BackfillVersion or a
// repair in generation gen.
func InGeneration(v, gen int64) int64 { return gen*GenerationSpan + v }

// BackfillVersion is the version of every item loaded by a backfill taken at
// time t (export time from AWS, or scan start on the host) with the given
// overlap: it is below the version of every stream record that is not older
// than t − overlap, so any replayed stream change wins.
func BackfillVersion(t time.Time, overlap time.Duration) int64 {
	return StreamCutoff(t, overlap)*PerSecond - 1
}

// StreamCutoff is the first stream second that is replayed after a backfill
// taken at t: records created before it are already in the backfill.
func StreamCutoff(t time.Time, overlap time.Duration) int64 {
	return t.Add(-overlap).Unix()
}
