package metrics

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Health tracks what /readyz reports: gaps, and partitions whose pending
// batch has not been acknowledged for too long.
type Health struct {
	mu      sync.Mutex
	now     func() time.Time
	stall   time.Duration
	started bool
	gaps    map[string]string    // key → description
	dead    map[string]deadCount // table → documents dead-lettered by this process
	pending map[string]time.Time // partition → when its current batch was handed to the sink
	blocked map[string]string    // table → why it cannot go on now (waiting for a stream, stopped)
}

// NewHealth returns a Health that reports a partition as stalled when its
// batch has waited longer than stall.
func NewHealth(stall time.Duration, now func() time.Time) *Health {
	return &Health{stall: stall, now: now, pending: map[string]time.Time{}}
}

// Started marks start-up done (config valid, sink reachable).
func (h *Health) Started() {
	h.mu.Lock()
	h.started = true
	h.mu.Unlock()
}

// Gap records a gap under key; readiness stays false until ClearGap(key)
// (a recovery finished) or the process restarts.
func (h *Health) Gap(key, what string) {
	h.mu.Lock()
	if h.gaps == nil {
		h.gaps = map[string]string{}
	}
	h.gaps[key] = what
	h.mu.Unlock()
}

// ClearGap marks the gap under key as recovered.
func (h *Health) ClearGap(key string) {
	h.mu.Lock()
	delete(h.gaps, key)
	h.mu.Unlock()
}

// Block records why a table cannot go on (it waits for a stream to be
// enabled, or it stopped); readiness stays false until Unblock.
func (h *Health) Block(table, why string) {
	h.mu.Lock()
	if h.blocked == nil {
		h.blocked = map[string]string{}
	}
	h.blocked[table] = why
	h.mu.Unlock()
}

// Unblock clears what Block recorded for table.
func (h *Health) Unblock(table string) {
	h.mu.Lock()
	delete(h.blocked, table)
	h.mu.Unlock()
}

// Pending marks a partition's batch as handed to the sink.
func (h *Health) Pending(partition string) {
	h.mu.Lock()
	if _, ok := h.pending[partition]; !ok {
		h.pending[partition] = h.now()
	}
	h.mu.Unlock()
}

// Acked marks a partition's batch as acknowledged.
func (h *Health) Acked(partition string) {
	h.mu.Lock()
	delete(h.pending, partition)
	h.mu.Unlock()
}

// Ready reports whether the process is ready, and why not.
func (h *Health) Ready() (bool, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var why []string
	if !h.started {
		why = append(why, "starting")
	}
	for _, g := range h.gaps {
		why = append(why, "gap: "+g)
	}
	for table, b := range h.blocked {
		why = append(why, fmt.Sprintf("table %s: %s", table, b))
	}
	for table, d := range h.dead {
		why = append(why, fmt.Sprintf("degraded: %d document(s) of table %s dead-lettered to %s (fix them, then replay with ddbsync redrive)", d.n, table, d.file))
	}
	now := h.now()
	for p, since := range h.pending {
		if d := now.Sub(since); d > h.stall {
			why = append(why, fmt.Sprintf("stalled: %s has waited %s for the sink", p, d.Round(time.Second)))
		}
	}
	sort.Strings(why)
	return len(why) == 0, why
}

// deadCount is what /readyz says about one table's dead letters.
type deadCount struct {
	n    int
	file string
}

// DeadLettered records that n documents of table went to the dead-letter
// file: readiness reports the process degraded (the index lacks them) until
// it restarts. The count and the file are in the reason, so an operator
// knows what to fix and replay with 'ddbsync redrive'.
func (h *Health) DeadLettered(table, file string, n int) {
	h.mu.Lock()
	if h.dead == nil {
		h.dead = map[string]deadCount{}
	}
	d := h.dead[table]
	d.n += n
	d.file = file
	h.dead[table] = d
	h.mu.Unlock()
}
