package stream

import (
	"context"
	"fmt"
	"sync"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
)

// Floor is a table's clock floor while `run` is alive: a version that every
// stream version of the table must exceed from now on. verify --repair
// raises it (through run's admin endpoint) before it writes repairs above
// documents changed out of band; each shard reader applies it between two
// batches; Raise answers once every reader has.
//
// Why a repair written with version F after Raise(F) returned, from an item
// read (GetItem, consistent) after that, never overwrites a later stream
// change, and why replays keep their versions:
//
//   - A reader applies the floor only at a batch boundary: the batch before
//     is acknowledged and its checkpoint saved. It then saves the raised
//     clock with that same sequence number before any further record gets a
//     version from it. Every record after the saved sequence therefore gets
//     a version above F, now and on every replay (the replay starts from
//     that checkpoint and its raised clock); every record before it kept
//     its version and is never replayed.
//   - Raise returns only after every active reader has applied F, and
//     readers started later (children) apply it before their first record;
//     run then saves the floor in the state store (checkpoint.RaiseFloor)
//     before it answers, so a restart starts above it too.
//   - With several nodes (a shared store, NewSharedFloor), the run that
//     saved F also waits until every other node that may read the table's
//     shards acknowledged F (AwaitNodes; each node follows the saved floor,
//     Follow), and a reader that starts later on any node (a take-over of
//     a dead node's shard) reads the saved floor before its first record.
//   - So a change made in DynamoDB after the repair's GetItem is read from
//     the stream after Raise returned, by a reader that has applied F: its
//     version is above F and it wins over the repair, in whichever order
//     the two writes reach OpenSearch (including a change in the same
//     second as the corrupted document's version).
//   - A change made before the GetItem is contained in what the repair read
//     (a consistent read sees every earlier write), so when its own write
//     loses to F (409), or overwrites F with an older state that later
//     records of the same lineage bring forward again, the document still
//     converges to the item.
type Floor struct {
	mu      sync.Mutex
	value   int64            // full version, generation included
	applied map[string]int64 // active reader (shard key) → floor it has applied
	changed chan struct{}    // closed and replaced when a reader applies a floor
	shared  *sharedFloor     // nil: this process alone reads the table's shards
}

// NewFloor returns a floor starting at v (the value saved in the state
// store; 0 for none).
func NewFloor(v int64) *Floor {
	return &Floor{value: v, applied: map[string]int64{}, changed: make(chan struct{})}
}

// Value is the floor in effect.
func (f *Floor) Value() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.value
}

// Raise lifts the floor to at least v and waits until every active shard
// reader has applied it (or ctx ends). It returns the floor in effect.
func (f *Floor) Raise(ctx context.Context, v int64) (int64, error) {
	f.lift(v)
	v = f.Value()
	for {
		f.mu.Lock()
		behind := 0
		for _, a := range f.applied {
			if a < v {
				behind++
			}
		}
		wait := f.changed
		f.mu.Unlock()
		if behind == 0 {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("clock floor %d: %d shard reader(s) still finishing a batch: %w", v, behind, ctx.Err())
		case <-wait:
		}
	}
}

// enter registers an active reader; it has applied nothing yet.
func (f *Floor) enter(key string) {
	f.mu.Lock()
	f.applied[key] = -1
	f.mu.Unlock()
}

// leave unregisters a reader (its shard is done, or it stopped).
func (f *Floor) leave(key string) {
	f.mu.Lock()
	delete(f.applied, key)
	f.signal()
	f.mu.Unlock()
}

// mark records that the reader applied floor v.
func (f *Floor) mark(key string, v int64) {
	f.mu.Lock()
	if f.applied[key] != v {
		f.applied[key] = v
		f.signal()
	}
	f.mu.Unlock()
}

// signal wakes the waiters; the caller holds mu.
func (f *Floor) signal() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// trackFloor registers the reader of key with the table's floor for the
// time it reads; call the result when it stops.
func (s *Source) trackFloor(key string) func() {
	f := s.table.Floor
	if f == nil {
		return func() {}
	}
	f.enter(key)
	return func() { f.leave(key) }
}

// applyFloor raises the lineage clock to the table's floor at a batch
// boundary: p holds the last acknowledged sequence and clock equals
// p.Clock. A clock that moves is saved with the same sequence before any
// record gets a version from it, so a replay computes the same versions.
//
// Before a reader's first record, a shared floor is first brought up to the
// one saved in the state store (ctx: the reader's context; the raised
// clock is saved with work, its work context).
func (s *Source) applyFloor(ctx, work context.Context, key string, p *checkpoint.Progress, clock *change.Clock) error {
	f := s.table.Floor
	if f == nil {
		return nil
	}
	if err := f.catchUp(ctx, key, s.log); err != nil {
		return err
	}
	v := f.Value()
	if in, ok := change.WithinGeneration(v, s.table.Generation); ok {
		raised := *clock
		if raised.Raise(in) {
			q := *p
			q.Clock = raised
			if err := s.store.Save(work, key, q); err != nil {
				return fmt.Errorf("save raised clock of %s: %w", key, err)
			}
			*p, *clock = q, raised
			s.log.Info("version clock raised to the table's floor", "shard", key, "floor", v, "clock_second", raised.Second, "clock_count", raised.Count)
		}
	}
	f.mark(key, v)
	return nil
}
