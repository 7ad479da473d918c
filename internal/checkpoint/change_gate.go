package checkpoint

import (
	"context"
	"time"
)

// ChangeGate paces a node that follows a table-level record another node
// may change (the clock floor, the version generation): with a shared
// store it lets the next read through as soon as a change was announced
// (TableChanges), and otherwise only every TableRecheck; with a store
// that announces none, every `every`.
type ChangeGate struct {
	store Store
	every time.Duration
	seen  int64
}

// NewChangeGate returns a gate on s. Call it before the first read, so a
// change announced during that read lets the next one through at once.
func NewChangeGate(s Store, every time.Duration) *ChangeGate {
	seen, _, _ := TableChanges(s)
	return &ChangeGate{store: s, every: every, seen: seen}
}

// Wait blocks until the record should be read again and reports false
// when ctx ended first. soon asks for the next read within `every` even
// without an announced change (the last read left work pending).
func (g *ChangeGate) Wait(ctx context.Context, soon bool) bool {
	d := g.every
	seen, changed, ok := TableChanges(g.store)
	if ok && !soon {
		d = TableRecheck
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		if ok && seen != g.seen {
			g.seen = seen
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			g.seen = seen
			return true
		case <-changed:
			seen, changed, _ = TableChanges(g.store)
		}
	}
}
