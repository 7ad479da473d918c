//go:build integration

package faults

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ddbsync/ddbsync/test/e2e"
)

// osDo sends a JSON request to OpenSearch at base+path; status 0 means no answer.
func osDo(ctx context.Context, base, method, path string, body []byte) (int, []byte) {
	return e2e.Do(ctx, base, method, path, body)
}

// diff is the every-item / every-document comparison.
type diff struct {
	items, docs           int
	missing, extra, stale []string
}

func (d diff) ok() bool { return len(d.missing)+len(d.extra)+len(d.stale) == 0 }

func (d diff) String() string {
	first := func(s []string) []string {
		sort.Strings(s)
		if len(s) > 5 {
			return s[:5]
		}
		return s
	}
	return fmt.Sprintf("items=%d docs=%d missing=%d %q extra=%d %q stale=%d %q", d.items, d.docs,
		len(d.missing), first(d.missing), len(d.extra), first(d.extra), len(d.stale), first(d.stale))
}

func (s *scenario) compare() (diff, error) {
	items, err := e2e.TableDocs(s.ctx, s.ddb, s.table, s.key)
	if err != nil {
		return diff{}, err
	}
	docs, err := e2e.IndexDocs(s.ctx, s.os, s.index)
	if err != nil {
		return diff{}, err
	}
	d := diff{items: len(items), docs: len(docs)}
	for id, want := range items {
		got, ok := docs[id]
		switch {
		case !ok:
			d.missing = append(d.missing, id)
		case got.Source != want:
			d.stale = append(d.stale, fmt.Sprintf("%s (version %d) got %s want %s", id, got.Version, got.Source, want))
		}
	}
	for id, got := range docs {
		if _, ok := items[id]; !ok {
			d.extra = append(d.extra, fmt.Sprintf("%s (version %d)", id, got.Version))
		}
	}
	return d, nil
}

// awaitEqual waits (writes must have stopped) until the index equals the table and returns
// the comparison; after timeout it records the scenario's row and fails with the last diff.
func (s *scenario) awaitEqual(timeout time.Duration) diff {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	start := time.Now()
	for {
		d, err := s.compare()
		if err == nil && d.ok() {
			s.t.Logf("%s: equal after %s: %d items = %d documents", s.name, time.Since(start).Round(100*time.Millisecond), d.items, d.docs)
			return d
		}
		if time.Now().After(deadline) {
			if err != nil {
				s.record(d, "FAILED: "+err.Error())
				s.t.Fatalf("%s: comparison failed: %v", s.name, err)
			}
			s.record(d, "FAILED: did not converge")
			s.t.Fatalf("%s: index %s did not converge to table %s in %s: %s", s.name, s.index, s.table, timeout, d)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// converge is awaitEqual that records the scenario's row (note says what was injected).
func (s *scenario) converge(timeout time.Duration, note string) diff {
	s.t.Helper()
	d := s.awaitEqual(timeout)
	s.record(d, note)
	return d
}

func (s *scenario) record(d diff, note string) {
	s.recorded = true
	results.add(row{scenario: s.name, written: s.written.Load(), checked: d.docs, items: d.items,
		missing: len(d.missing), extra: len(d.extra), stale: len(d.stale), note: note})
}

// row is one line of the suite's table.
type row struct {
	scenario              string
	written               int64
	items, checked        int
	missing, extra, stale int
	note                  string
}

type resultTable struct {
	mu   sync.Mutex
	rows []row
}

func (r *resultTable) add(x row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, x)
	fmt.Printf("faults: %s\n", strings.Trim(formatRow(x), "| "))
}

func formatRow(x row) string {
	return fmt.Sprintf("| %-18s | %7d | %7d | %7d | %7d | %5d | %5d | %s |", x.scenario, x.written, x.items, x.checked, x.missing, x.extra, x.stale, x.note)
}

// String is the whole table (Markdown).
func (r *resultTable) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "\nfault-injection results (seed %d)\n", suiteSeed)
	fmt.Fprintf(&b, "| %-18s | %7s | %7s | %7s | %7s | %5s | %5s | %s |\n", "scenario", "changes", "items", "docs", "missing", "extra", "stale", "faults injected")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|%s|%s|---|\n", strings.Repeat("-", 20), strings.Repeat("-", 9), strings.Repeat("-", 9), strings.Repeat("-", 9), strings.Repeat("-", 9), strings.Repeat("-", 7), strings.Repeat("-", 7))
	for _, x := range r.rows {
		b.WriteString(formatRow(x) + "\n")
	}
	return b.String()
}
