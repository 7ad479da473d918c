package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Problem is the latest warning or error logged about a table.
type Problem struct {
	At    time.Time `json:"at"`
	Level string    `json:"level"`
	Msg   string    `json:"msg"`
	Err   string    `json:"err,omitempty"`
}

// Problems remembers the last warning or error logged for each table, for
// `ddbsync status`. It sees them as a slog handler in front of the real one
// (Tap), so no code path has to report its errors twice.
type Problems struct {
	mu   sync.Mutex
	last map[string]Problem // table → last problem
}

// Last returns the last problem logged for table.
func (p *Problems) Last(table string) (Problem, bool) {
	if p == nil {
		return Problem{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pr, ok := p.last[table]
	return pr, ok
}

func (p *Problems) record(table string, pr Problem) {
	p.mu.Lock()
	if p.last == nil {
		p.last = map[string]Problem{}
	}
	p.last[table] = pr
	p.mu.Unlock()
}

// Tap returns a handler that passes every record to next and remembers
// warnings and errors that carry a "table" attribute.
func (p *Problems) Tap(next slog.Handler) slog.Handler { return &problemTap{next: next, p: p} }

type problemTap struct {
	next  slog.Handler
	p     *Problems
	table string // from WithAttrs
}

func (h *problemTap) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *problemTap) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		table, errText := h.table, ""
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "table":
				table = a.Value.String()
			case "err":
				errText = a.Value.String()
			}
			return true
		})
		if table != "" {
			h.p.record(table, Problem{At: r.Time, Level: r.Level.String(), Msg: r.Message, Err: errText})
		}
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *problemTap) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	for _, a := range as {
		if a.Key == "table" {
			c.table = a.Value.String()
		}
	}
	return &c
}

func (h *problemTap) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}
