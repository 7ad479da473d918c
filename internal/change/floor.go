package change

import "time"

// FloorMargin is how far past the host clock a repair floor lies: it
// absorbs skew between this host and AWS, whose clock stamps stream
// records, as RepairMargin does for the classic repair version.
const FloorMargin = 60 * time.Second

// MaxFloorAhead bounds how far past the host clock a floor may lie: a
// floor far in the future would spend the version space of the
// generation (and one past its end would reach the next).
const MaxFloorAhead = 24 * time.Hour

// FloorAllowed reports whether v may be a clock floor of generation gen at
// host time now: inside gen and at most MaxFloorAhead past now.
func FloorAllowed(now time.Time, v, gen int64) bool {
	in, ok := WithinGeneration(v, gen)
	return ok && in/PerSecond <= now.Add(MaxFloorAhead).Unix()
}

// Raise lifts the clock so that every version it gives from now on is
// strictly above floor (a version without its generation, as Next returns
// them). It reports whether the clock moved. A clock already past floor
// is left alone, so raising never lowers a version.
//
// Next then keeps its rules: a record of a later second starts that second
// at k = 0, which is above floor because floor's second is below it; a
// record of the same or an earlier second takes the next k after floor.
func (c *Clock) Raise(floor int64) bool {
	if floor < 0 {
		return false
	}
	sec, k := floor/PerSecond, floor%PerSecond+1
	if k == PerSecond {
		sec, k = sec+1, 0
	}
	if sec > c.Second || sec == c.Second && k > c.Count {
		c.Second, c.Count = sec, k
		return true
	}
	return false
}

// WithinGeneration is the part of a full version v (as written to
// OpenSearch) that a clock of generation gen counts in, and whether v
// belongs to gen at all: a version of an older generation is below every
// version of gen (nothing to raise); one of a later generation cannot be
// reached by gen's clocks.
func WithinGeneration(v, gen int64) (int64, bool) {
	base := gen * GenerationSpan
	if v < base || v-base >= GenerationSpan {
		return 0, false
	}
	return v - base, true
}

// RepairFloor is the version of a repair that must outrank a document
// changed out of band (an unversioned index, update, update_by_query or
// DELETE bumps the version OpenSearch holds by one or more): above
// highest, the largest _version seen among the documents to fix, and
// above every version a lineage clock can have given by host time now
// (second now + FloorMargin), which also covers the tombstone of a
// document deleted out of band, whose version cannot be read. It is in
// generation gen, and never below the floor already in effect (current),
// whose clocks may have run ahead of now. ok is false when the result is
// not FloorAllowed (an external writer used a version beyond gen, or far
// in the future).
func RepairFloor(now time.Time, highest, current, gen int64) (v int64, ok bool) {
	v = InGeneration(now.Add(FloorMargin).Unix()*PerSecond, gen)
	if highest >= v {
		v = highest + 1
	}
	if current >= v {
		v = current + 1
	}
	if !FloorAllowed(now, v, gen) {
		return 0, false
	}
	return v, true
}
