// Package checkpoint records how far each partition (a stream shard, an
// export data file, a scan segment) has been durably applied, so that a
// restart continues exactly there. A position is saved only after the sink
// acknowledged everything before it.
package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"

	"github.com/ddbsync/ddbsync/internal/change"
)

// ErrLeaseLost means another node owns the partition now.
var ErrLeaseLost = errors.New("lease lost")

// Progress is what is saved for one partition. Only the fields that apply
// to the partition's kind are set.
type Progress struct {
	// Stream shards.
	Sequence string       `json:"sequence,omitempty"` // last acknowledged sequence number
	Clock    change.Clock `json:"clock"`              // version clock after Sequence
	Parent   string       `json:"parent,omitempty"`   // parent shard id
	// Export data files: lines acknowledged so far.
	Lines int64 `json:"lines,omitempty"`
	// Scan segments: the LastEvaluatedKey to continue from (DynamoDB JSON).
	LastKey json.RawMessage `json:"last_key,omitempty"`
	// Table-level records (stream start, backfill state).
	Meta map[string]string `json:"meta,omitempty"`
	// Done marks a partition that is fully read and acknowledged.
	Done bool `json:"done,omitempty"`
}

// Store keeps progress per partition key. Its methods are lease-shaped so a
// shared store (a DynamoDB lease table) can let several nodes split the
// partitions; the local file store grants every lease to its one process.
type Store interface {
	// Acquire takes the lease on key and returns its saved progress
	// (zero Progress and found=false when there is none).
	Acquire(ctx context.Context, key string) (p Progress, found bool, err error)
	// Save durably records progress for a held lease.
	Save(ctx context.Context, key string, p Progress) error
	// Complete records final progress (Done=true) and ends the lease.
	Complete(ctx context.Context, key string, p Progress) error
	// Release ends the lease without completing the partition.
	Release(ctx context.Context, key string) error
	// Get reads progress without taking a lease.
	Get(ctx context.Context, key string) (p Progress, found bool, err error)
	// Forget deletes every key with the prefix (a table's state before a
	// re-backfill).
	Forget(ctx context.Context, prefix string) error
}

// CompareSequence compares two DynamoDB Streams sequence numbers as big
// integers (they are decimal strings of varying length, so comparing them
// as strings is wrong). An empty sequence sorts first.
func CompareSequence(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	x, okx := new(big.Int).SetString(a, 10)
	y, oky := new(big.Int).SetString(b, 10)
	if !okx || !oky {
		// Not numbers: fall back to length-then-lexical, which matches big
		// integer order for digit strings without leading zeros.
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
		if a < b {
			return -1
		}
		return 1
	}
	return x.Cmp(y)
}
