package verify

import (
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
)

// RepairMargin is how far before the read time a repair's version lies.
const RepairMargin = 60 * time.Second

// RepairVersion is the external version of a repair write (index or
// delete) built from the table as read at host time r:
//
//	(r.Unix() − 60) × 10⁶ − 1
//
// Why it never overwrites a newer stream write: any change made to the item
// after r carries an ApproximateCreationDateTime of at least r − 60 s —
// AWS stamps whole seconds, DynamoDB Local rounds down to the minute, and
// the 60 s margin also absorbs skew between this host's clock and AWS's.
// Its stream version (second × 10⁶ + k, DESIGN §2.3) is therefore at least
// (r − 60) × 10⁶, strictly above the repair's, so it wins whether it is
// applied before the repair (the repair gets 409 and is skipped) or after.
//
// Why it fixes what it should: a stale or corrupted document written by a
// change older than r − 60 s has a version below the repair's (equal only
// for the millionth record of second r − 61, which then merely skips the
// repair), and a backfill document taken at time T ≤ r has
// (T − overlap) × 10⁶ − 1, lower still whenever overlap ≥ 60 s. A document
// newer than r − 60 s makes the repair answer 409: it is reported as
// skipped, never forced.
func RepairVersion(r time.Time) int64 {
	return change.BackfillVersion(r, RepairMargin)
}
