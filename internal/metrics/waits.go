package metrics

import (
	"sort"
	"sync"
)

// Waits holds what start-up is waiting for (a server not reachable yet),
// for /readyz. Safe on a nil *Waits.
type Waits struct {
	mu    sync.Mutex
	items map[string]string // what → last error
}

// Set records that start-up waits for what, failing with why.
func (w *Waits) Set(what, why string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.items == nil {
		w.items = map[string]string{}
	}
	w.items[what] = why
}

// Clear records that start-up no longer waits for what.
func (w *Waits) Clear(what string) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.items, what)
}

// List returns "what: why" for every wait, sorted.
func (w *Waits) List() []string {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.items))
	for what, why := range w.items {
		out = append(out, "waiting for "+what+": "+why)
	}
	sort.Strings(out)
	return out
}
