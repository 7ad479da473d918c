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

// ErrLeaseLost means another node owns the partition now: the caller
// stops that partition and never writes its checkpoint again.
var ErrLeaseLost = errors.New("lease lost")

// ErrLeaseHeld means another live node holds the lease: the caller skips
// the partition and tries again later.
var ErrLeaseHeld = errors.New("lease held by another node")

// Progress is what is saved for one partition. Only the fields that apply
// to the partition's kind are set.
type Progress struct {
	// Stream shards.
	Sequence string       `json:"sequence,omitempty"` // last acknowledged sequence number
	Clock    change.Clock `json:"clock"`              // version clock after Sequence
	Parent   string       `json:"parent,omitempty"`   // parent shard id
	// Generation is the table's version generation the shard record was
	// written in: a record of an earlier one (written by a node that had not
	// yet seen a re-backfill move the generation) is not this generation's.
	Generation int64 `json:"generation,omitempty"`
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
	// (zero Progress and found=false when there is none) and lctx, a child
	// of ctx that ends (cause ErrLeaseLost) when the lease is lost. It
	// fails with ErrLeaseHeld while another live node holds the lease. A
	// partition already done is returned without taking its lease.
	// Release (or Complete) ends lctx.
	Acquire(ctx context.Context, key string) (lctx context.Context, p Progress, found bool, err error)
	// Save durably records progress. For a held lease the write is fenced
	// (ErrLeaseLost when another node took it); for a key without a lease
	// (a table-level record) it fails with ErrLeaseHeld while another live
	// node holds one.
	Save(ctx context.Context, key string, p Progress) error
	// Complete records final progress (Done=true) and ends the lease, with
	// the same conditions as Save.
	Complete(ctx context.Context, key string, p Progress) error
	// Release ends the lease without completing the partition.
	Release(ctx context.Context, key string) error
	// Create saves p only when key has no record yet (a one-time step
	// across nodes) and returns the record in effect: p and created=true,
	// or the one saved before.
	Create(ctx context.Context, key string, p Progress) (stored Progress, created bool, err error)
	// Get reads progress without taking a lease.
	Get(ctx context.Context, key string) (p Progress, found bool, err error)
	// Forget deletes every key with the prefix (a table's state before a
	// re-backfill).
	Forget(ctx context.Context, prefix string) error
}

// LiveNodes is how many nodes share the store's partitions (1 for a
// store that is not shared); sources aim for a fair share of them.
func LiveNodes(s Store) int {
	if m, ok := s.(interface{ LiveNodes() int }); ok {
		return max(m.LiveNodes(), 1)
	}
	return 1
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
