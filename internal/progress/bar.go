package progress

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Bar draws one status line per running backfill at the bottom of a
// terminal and is the io.Writer the logger writes to: a log line clears
// the bars, is written, and the bars are drawn again below it.
type Bar struct {
	mu    sync.Mutex
	out   io.Writer
	now   func() time.Time
	width int
	items map[string]*barItem // table/kind → state
	drawn int                 // lines of bars currently on screen
	last  time.Time
}

type barItem struct {
	table, kind string
	done, total int64
	est         Estimate
	finished    bool
}

// NewBar returns a Bar drawing on out (a terminal) with now as the clock.
func NewBar(out io.Writer, now func() time.Time) *Bar {
	return &Bar{out: out, now: now, width: 30, items: map[string]*barItem{}}
}

// Write implements io.Writer for the logger.
func (b *Bar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.clear()
	n, err := b.out.Write(p)
	b.draw()
	return n, err
}

// Backfill records a backfill's progress and redraws (at most 5 times a
// second, and always at the end).
func (b *Bar) Backfill(table, kind string, done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := table + "/" + kind
	it := b.items[key]
	if it == nil {
		it = &barItem{table: table, kind: kind}
		b.items[key] = it
	}
	now := b.now()
	it.done, it.total = done, total
	it.est.Observe(done, now)
	end := total > 0 && done >= total
	if end == it.finished && now.Sub(b.last) < 200*time.Millisecond {
		return
	}
	b.last = now
	b.clear()
	if end && !it.finished {
		it.finished = true
		fmt.Fprintln(b.out, it.line(b.width))
		delete(b.items, key)
	}
	b.draw()
}

func (b *Bar) clear() {
	for ; b.drawn > 0; b.drawn-- {
		fmt.Fprint(b.out, "\x1b[1A\x1b[2K") // up one line, erase it
	}
}

func (b *Bar) draw() {
	keys := make([]string, 0, len(b.items))
	for k := range b.items {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintln(b.out, b.items[k].line(b.width))
		b.drawn++
	}
}

// line renders "orders export [#####     ] 45%  12,345/27,000 items  2,300/s  ETA 6s".
func (it *barItem) line(width int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s %s ", it.table, it.kind)
	if it.total > 0 {
		frac := min(float64(it.done)/float64(it.total), 1)
		fill := int(frac * float64(width))
		fmt.Fprintf(&s, "[%s%s] %3.0f%%  %d/%d items", strings.Repeat("#", fill), strings.Repeat(" ", width-fill), frac*100, it.done, it.total)
	} else {
		fmt.Fprintf(&s, "%d items", it.done)
	}
	if rate, ok := it.est.Rate(); ok {
		fmt.Fprintf(&s, "  %.0f/s", rate)
	}
	switch eta, ok := it.est.ETA(it.total); {
	case it.total > 0 && it.done >= it.total:
		s.WriteString("  done")
	case ok:
		fmt.Fprintf(&s, "  ETA %s", eta)
	default:
		s.WriteString("  ETA …")
	}
	return s.String()
}
