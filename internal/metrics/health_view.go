package metrics

import (
	"fmt"
	"sort"
	"time"
)

// GapFor returns the gap recorded under key (a table name), if any.
func (h *Health) GapFor(key string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	what, ok := h.gaps[key]
	return what, ok
}

// BlockedFor returns why the table cannot go on now (Block), if it cannot.
func (h *Health) BlockedFor(table string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	why, ok := h.blocked[table]
	return why, ok
}

// StalledLongerThan lists the partitions whose batch has waited for the
// sink longer than bound.
func (h *Health) StalledLongerThan(bound time.Duration) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	var out []string
	for p, since := range h.pending {
		if d := now.Sub(since); d > bound {
			out = append(out, fmt.Sprintf("%s has waited %s for the sink", p, d.Round(time.Second)))
		}
	}
	sort.Strings(out)
	return out
}

// IsPending reports whether partition has a batch waiting for the sink.
func (h *Health) IsPending(partition string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.pending[partition]
	return ok
}

// DeadLetters returns how many documents of table this process
// dead-lettered, and to which file.
func (h *Health) DeadLetters(table string) (n int, file string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.dead[table]
	return d.n, d.file
}
