package stream

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/retry"
)

// NodeAcks is what a floor shared by several nodes needs of the shared
// state store (checkpoint.DynamoStore): each node acknowledges the floor
// its readers applied, and the node that raised one lists who must.
type NodeAcks interface {
	AckFloor(ctx context.Context, table string, v int64) error
	FloorAcks(ctx context.Context, table string) ([]checkpoint.FloorAck, error)
}

// sharedFloor is where a floor shared by several nodes is saved and
// acknowledged.
type sharedFloor struct {
	table string
	store checkpoint.Store // holds the table's saved floor (checkpoint.Floor)
	acks  NodeAcks
}

// followSlice bounds one wait of Follow for this node's readers, so that a
// reader stuck in a batch does not keep it from reading the store again.
const followSlice = 10 * time.Second

// NewSharedFloor returns the floor of a table whose shards several nodes
// read through one shared state store, starting at v (the saved floor).
func NewSharedFloor(v int64, table string, store checkpoint.Store, acks NodeAcks) *Floor {
	f := NewFloor(v)
	f.shared = &sharedFloor{table: table, store: store, acks: acks}
	return f
}

// Follow keeps this node's readers at the floor saved in the state store
// (raised through another node): it reads the saved floor when another
// node announced a change (checkpoint.ChangeGate; every `every` while its
// readers have not applied the last one),
// raises the readers to it at their next batch boundary and, once all have
// applied it, acknowledges it in the store. It returns when ctx ends; for
// a floor that is not shared at once.
func (f *Floor) Follow(ctx context.Context, every time.Duration, log *slog.Logger) error {
	if f.shared == nil {
		return nil
	}
	acked := int64(-1)
	gate := checkpoint.NewChangeGate(f.shared.store, every)
	for {
		pending, err := f.followOnce(ctx, &acked)
		if err != nil && ctx.Err() == nil {
			log.Warn("clock floor: could not follow the saved floor; trying again", "table", f.shared.table, "err", err)
		}
		if !gate.Wait(ctx, pending || err != nil) {
			return nil
		}
	}
}

// followOnce reads the saved floor, raises the readers to it and, once
// they all applied it, acknowledges it; pending reports that they have
// not yet (read again soon).
func (f *Floor) followOnce(ctx context.Context, acked *int64) (pending bool, err error) {
	v, err := checkpoint.Floor(ctx, f.shared.store, f.shared.table)
	if err != nil {
		return true, fmt.Errorf("read clock floor of table %s: %w", f.shared.table, err)
	}
	rctx, cancel := context.WithTimeout(ctx, followSlice)
	_, err = f.Raise(rctx, v)
	cancel()
	if err != nil {
		return true, nil // readers still finishing a batch: read the store again
	}
	if v <= *acked {
		return false, nil
	}
	// The saved value, not the one in effect here: an acknowledgement is
	// never above a saved floor, so one left in the node record by an
	// earlier process with the same node id stays true for this one, whose
	// readers all start from the saved floor.
	if err := f.shared.acks.AckFloor(ctx, f.shared.table, v); err != nil {
		return true, err
	}
	*acked = v
	return false, nil
}

// AwaitNodes raises this node's readers to v, acknowledges it and waits
// until every node that must apply v (checkpoint.DynamoStore.FloorAcks:
// the live ones and those holding a shard lease) acknowledged it or a
// higher floor, polling every poll. Call it with a floor saved in the
// store (the other nodes follow the saved floor). When ctx ends first the error
// names the nodes behind and wraps ctx's error. For a floor that is not
// shared it only raises this node's readers.
func (f *Floor) AwaitNodes(ctx context.Context, v int64, poll time.Duration) error {
	if _, err := f.Raise(ctx, v); err != nil || f.shared == nil {
		return err
	}
	if err := f.shared.acks.AckFloor(ctx, f.shared.table, v); err != nil {
		return err
	}
	t := time.NewTimer(0)
	defer t.Stop()
	var behind []string
	var lastErr error
	for {
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("clock floor %d of table %s: listing the nodes failed (%v): %w", v, f.shared.table, lastErr, ctx.Err())
			}
			return fmt.Errorf("clock floor %d of table %s: not yet applied by node(s) %s: %w", v, f.shared.table, strings.Join(behind, ", "), ctx.Err())
		case <-t.C:
		}
		acks, err := f.shared.acks.FloorAcks(ctx, f.shared.table)
		lastErr = err
		if err == nil {
			behind = behind[:0]
			for _, a := range acks {
				if a.Floor < v {
					behind = append(behind, a.Node)
				}
			}
			if len(behind) == 0 {
				return nil
			}
		}
		t.Reset(poll)
	}
}

// catchUp brings a shared floor up to the saved one before a reader's
// first record (a reader that starts after a raise, on any node, starts
// above it); transient store errors are retried until ctx ends.
func (f *Floor) catchUp(ctx context.Context, key string, log *slog.Logger) error {
	if f.shared == nil || !f.starting(key) {
		return nil
	}
	for attempt := 0; ; attempt++ {
		v, err := checkpoint.Floor(ctx, f.shared.store, f.shared.table)
		if err == nil {
			f.lift(v)
			return nil
		}
		if !retry.Transient(err) || ctx.Err() != nil {
			return fmt.Errorf("read clock floor of table %s for %s: %w", f.shared.table, key, err)
		}
		d := retry.Backoff(attempt, 100*time.Millisecond, 5*time.Second)
		log.Warn("reading the clock floor failed; retrying", "shard", key, "wait", d, "err", err)
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// starting reports whether the reader of key has applied no floor yet.
func (f *Floor) starting(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied[key] < 0
}

// lift raises the floor in effect to at least v without waiting.
func (f *Floor) lift(v int64) {
	f.mu.Lock()
	if v > f.value {
		f.value = v
	}
	f.mu.Unlock()
}
