//go:build integration

package faults

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/test/e2e"
)

// osDo sends a JSON request to OpenSearch at base+path; status 0 means no answer.
func osDo(ctx context.Context, base, method, path string, body []byte) (int, []byte) {
	return e2e.Do(ctx, base, method, path, body)
}

// itemsOf scans the scenario's whole table.
func itemsOf(s *scenario) ([]map[string]types.AttributeValue, error) {
	return e2e.Items(s.ctx, s.ddb, s.table)
}

// diff is the harness's every-item / every-document comparison.
type diff = e2e.Diff

// awaitEqual waits (writes must have stopped) until the index equals the table and returns
// the comparison; after timeout it records the scenario's row and fails with the whole
// difference, every problem with its key.
func (s *scenario) awaitEqual(timeout time.Duration) diff {
	s.t.Helper()
	d, ok, err := s.AwaitEqual(timeout)
	if ok {
		return d
	}
	if err != nil {
		s.record(d, "FAILED: "+err.Error())
		s.t.Fatalf("%s: comparison failed: %v", s.name, err)
	}
	s.record(d, "FAILED: did not converge")
	s.t.Fatalf("%s: index %s did not converge to table %s in %s: %s", s.name, s.index, s.table, timeout, d)
	return d
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
	results.add(row{scenario: s.name, written: s.writtenNow(), checked: d.Docs, items: d.Items,
		missing: len(d.Missing), extra: len(d.Extra), stale: len(d.Stale), note: note})
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
