package verify

import (
	"context"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
	sinkos "github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// lineage stands for the table's one shard lineage in run: its version
// clock, raised by the floor like stream.Floor raises the readers' clocks.
type lineage struct {
	clock  change.Clock
	gen    int64
	raised []int64
}

func (l *lineage) RaiseFloor(_ context.Context, _ string, gen, v int64) (int64, error) {
	if in, ok := change.WithinGeneration(v, l.gen); ok && gen == l.gen {
		l.clock.Raise(in)
	}
	l.raised = append(l.raised, v)
	return v, nil
}

// next is the version of the lineage's next record, created at second sec.
func (l *lineage) next(sec int64) int64 {
	return change.InGeneration(l.clock.Next(time.Unix(sec, 0)), l.gen)
}

func (f *fakeTable) remove(pk string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.items, pk)
}

// streamWrite writes one stream change as the sink would and returns its
// outcome.
func streamWrite(t *testing.T, idx *fakeIndex, pk, v string, version int64, del bool) sinkos.ItemOutcome {
	t.Helper()
	it := bulk.Item{Action: bulk.ActionIndex, Index: "t", ID: pk, Version: version, VersionType: bulk.VersionExternal,
		Event: &change.Event{Doc: []byte(docOf(t, item(pk, v)))}}
	if del {
		it.Action = bulk.ActionDelete
	}
	r, err := idx.WriteItems(context.Background(), "t", []bulk.Item{it}, sinkos.ItemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r[0].Outcome
}

// TestRepairStreamOrdering pins the repair/stream version ordering for
// documents changed out of band: the repair fixes each one, a stream change
// made before the repair but applied after it never leaves the document
// behind its item, and a stream change made after the repair in the same
// second as the corrupted document's version is applied, not lost.
func TestRepairStreamOrdering(t *testing.T) {
	sec := now.Unix() - 5 // recent: the classic repair version is below it
	tests := []struct {
		name string
		// corrupt changes the index out of band; v is the version the
		// stream gave the document.
		corrupt func(idx *fakeIndex, v int64)
		extra   bool // the item is gone; the document should be deleted
		// before: a stream change made before the repair reads the item
		// and applied after the repair.
		before bool
		// noFloor: without a floor publisher the document stays wrong (the
		// defect this pins).
		noFloor bool
	}{
		{name: "_update bumps the version by one", corrupt: func(idx *fakeIndex, v int64) { idx.set("t", "a", `{"pk":"a","v":"x"}`, v+1) }},
		{name: "five out-of-band updates", corrupt: func(idx *fakeIndex, v int64) { idx.set("t", "a", `{"pk":"a","v":"y"}`, v+5) }},
		{name: "unversioned DELETE leaves a newer tombstone", corrupt: func(idx *fakeIndex, v int64) {
			delete(idx.docs, DocKey{"t", "a"})
			idx.tombstones[DocKey{"t", "a"}] = v + 1
		}},
		{name: "unversioned index of a deleted item's document", extra: true, corrupt: func(idx *fakeIndex, v int64) {
			idx.set("t", "a", `{"pk":"a","v":"ghost"}`, v+2)
		}},
		{name: "stream change before the repair, applied after it", before: true, corrupt: func(idx *fakeIndex, v int64) {
			idx.set("t", "a", `{"pk":"a","v":"x"}`, v+1)
		}},
		{name: "no floor publisher: skipped, stays wrong", noFloor: true, corrupt: func(idx *fakeIndex, v int64) {
			idx.set("t", "a", `{"pk":"a","v":"x"}`, v+1)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := newFakeTable(item("a", "1"), item("b", "1"))
			idx := &fakeIndex{tombstones: map[DocKey]int64{}}
			l := &lineage{}
			// The stream applied "a" (and "b") in second sec.
			va := l.next(sec)
			idx.set("t", "a", docOf(t, item("a", "1")), va)
			idx.set("t", "b", docOf(t, item("b", "1")), l.next(sec))
			if tc.extra {
				tab.remove("a")
				if got := streamWrite(t, idx, "a", "1", l.next(sec), true); got != sinkos.ItemApplied {
					t.Fatalf("stream delete: %v", got)
				}
				va = idx.tombstones[DocKey{"t", "a"}]
			}
			tc.corrupt(idx, va)
			var pending int64
			if tc.before {
				// Made in DynamoDB before the repair reads; its stream write
				// (same second, just above the corrupted version) is still in
				// flight.
				tab.put(item("a", "2"))
				pending = l.next(sec)
			}

			o := repairOpts(idx)
			if !tc.noFloor {
				o.Floor = l
			}
			rep, err := Check(context.Background(), tab, idx, target(), o)
			if err != nil {
				t.Fatal(err)
			}
			if tc.noFloor {
				if rep.Remaining != 1 || rep.Repair.Skipped != 1 {
					t.Fatalf("without a floor: report %+v repair %+v", rep, rep.Repair)
				}
				return
			}
			if rep.Remaining != 0 || rep.Repair.Floor == 0 || len(l.raised) != 1 || l.raised[0] != rep.Repair.Floor {
				t.Fatalf("report %+v repair %+v raised %v", rep, rep.Repair, l.raised)
			}
			if tc.before {
				if got := streamWrite(t, idx, "a", "2", pending, false); got != sinkos.ItemSuperseded {
					t.Fatalf("the earlier change's late write: %v, want superseded by the repair", got)
				}
			}
			assertEqual(t, tab, idx)

			// A change after the repair, in the same second as the corrupted
			// version: above the floor, so it is applied.
			tab.put(item("a", "9"))
			v := l.next(sec)
			if v <= rep.Repair.Floor {
				t.Fatalf("stream version %d not above the floor %d", v, rep.Repair.Floor)
			}
			if got := streamWrite(t, idx, "a", "9", v, false); got != sinkos.ItemApplied {
				t.Fatalf("stream change after the repair: %v, want applied", got)
			}
			assertEqual(t, tab, idx)
		})
	}
}

// assertEqual checks every item against every document.
func assertEqual(t *testing.T, tab *fakeTable, idx *fakeIndex) {
	t.Helper()
	tab.mu.Lock()
	defer tab.mu.Unlock()
	idx.mu.Lock()
	defer idx.mu.Unlock()
	for pk, it := range tab.items {
		d, ok := idx.docs[DocKey{"t", pk}]
		if !ok || d.src != docOf(t, it) {
			t.Errorf("document %s = %+v (found %v), want %s", pk, d, ok, docOf(t, it))
		}
	}
	for k := range idx.docs {
		if _, ok := tab.items[k.ID]; !ok {
			t.Errorf("extra document %s", k.ID)
		}
	}
}
