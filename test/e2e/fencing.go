//go:build integration

package e2e

import (
	"fmt"
	"sort"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
)

// FencingWatch checks a series of snapshots of a state table's partition
// records, taken from the moment a node's leases were taken over (it was
// cut off, paused or slow), for what fencing promises: that node never
// moves a checkpoint again under a lease it lost. Every change of a record
// must keep its lease counter, done flag, sequence and version clock from
// going back (a late write of a lost lease would rewind them), and the
// node may own a record again only with a counter above the one the record
// had at the take-over (a new, legitimate take).
type FencingWatch struct {
	node       string
	base       map[string]LeaseRecord // at the take-over
	last       map[string]LeaseRecord
	changes    int
	violations []string
}

// NewFencingWatch starts watching from takeOver, the records right after
// node's leases were taken over.
func NewFencingWatch(node string, takeOver map[string]LeaseRecord) *FencingWatch {
	w := &FencingWatch{node: node, base: map[string]LeaseRecord{}, last: map[string]LeaseRecord{}}
	for k, r := range takeOver {
		w.base[k], w.last[k] = r, r
	}
	return w
}

// Observe checks one snapshot against the one before.
func (w *FencingWatch) Observe(rows map[string]LeaseRecord) {
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cur := rows[k]
		prev, seen := w.last[k]
		w.last[k] = cur
		if seen && sameRecord(cur, prev) {
			continue
		}
		if !seen || cur.Progress != prev.Progress {
			w.changes++
		}
		if seen {
			w.checkForward(k, prev, cur)
		}
		if b, ok := w.base[k]; ok && cur.Owner == w.node && cur.Lease <= b.Lease {
			w.violate("%s: owned by %s with lease %d, which is not above lease %d of %s at the take-over (progress %s)",
				k, w.node, cur.Lease, b.Lease, b.Owner, cur.Progress)
		}
	}
	for k := range w.last {
		if _, ok := rows[k]; !ok {
			w.violate("%s: the record disappeared", k)
			delete(w.last, k)
		}
	}
}

// checkForward reports what went back between two states of one record.
func (w *FencingWatch) checkForward(k string, prev, cur LeaseRecord) {
	switch {
	case cur.Lease < prev.Lease:
		w.violate("%s: lease counter went back from %d to %d (owner %q → %q)", k, prev.Lease, cur.Lease, prev.Owner, cur.Owner)
	case prev.Done && !cur.Done:
		w.violate("%s: done again undone (owner %q lease %d, progress %s → %s)", k, cur.Owner, cur.Lease, prev.Progress, cur.Progress)
	case checkpoint.CompareSequence(cur.Saved.Sequence, prev.Saved.Sequence) < 0:
		w.violate("%s: sequence went back from %s to %s (owner %q lease %d)", k, prev.Saved.Sequence, cur.Saved.Sequence, cur.Owner, cur.Lease)
	case clockBefore(cur.Saved.Clock, prev.Saved.Clock):
		w.violate("%s: version clock went back from %+v to %+v (owner %q lease %d)", k, prev.Saved.Clock, cur.Saved.Clock, cur.Owner, cur.Lease)
	}
}

// sameRecord compares what the watch looks at (Saved is Progress decoded).
func sameRecord(a, b LeaseRecord) bool {
	return a.Owner == b.Owner && a.Lease == b.Lease && a.Done == b.Done && a.Progress == b.Progress
}

func clockBefore(a, b change.Clock) bool {
	return a.Second < b.Second || a.Second == b.Second && a.Count < b.Count
}

func (w *FencingWatch) violate(format string, a ...any) {
	w.violations = append(w.violations, fmt.Sprintf(format, a...))
}

// Violations lists what broke fencing, in the order seen.
func (w *FencingWatch) Violations() []string { return w.violations }

// Changes counts the records that appeared or whose progress changed
// since the take-over (the watch saw the other nodes at work).
func (w *FencingWatch) Changes() int { return w.changes }
