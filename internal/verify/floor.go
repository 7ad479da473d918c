package verify

import (
	"context"
	"errors"
)

// ErrNoFloor means no clock floor can be raised for the table (no run to
// coordinate with, and no state store to raise it in): documents changed
// out of band are then reported as skipped, never forced.
var ErrNoFloor = errors.New("no clock floor can be raised")

// FloorPublisher raises a table's clock floor: it makes every stream
// change read from now on get a version above v, and returns once that
// holds, with the floor in effect (v, or a higher one raised before).
// Implementations: run's admin endpoint (POST /admin/clock-floor, which
// answers after every shard reader applied it at a batch boundary), or,
// with no run alive, the state store itself (checkpoint.RaiseFloor under
// the state directory's lock), which the next run starts above.
type FloorPublisher interface {
	RaiseFloor(ctx context.Context, table string, generation, v int64) (int64, error)
}
