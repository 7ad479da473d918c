package opensearch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/expr"
)

// fakeIndices answers GET <name>/_settings/index.uuid from a map.
type fakeIndices struct {
	mu    sync.Mutex
	names map[string]map[string]string // name → concrete → uuid
	fail  error
	asked []string
}

func (f *fakeIndices) get(_ context.Context, name string) (map[string]string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, name)
	if f.fail != nil {
		return nil, false, f.fail
	}
	m, ok := f.names[name]
	if !ok {
		return nil, false, nil
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out, true, nil
}

func (f *fakeIndices) set(name string, m map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m == nil {
		delete(f.names, name)
		return
	}
	f.names[name] = m
}

func identity(s string) string { return s }

// TestIndexWatch walks the life of a watched index: learned before any
// write, unchanged, recreated, deleted, alias growth, failures to ask.
func TestIndexWatch(t *testing.T) {
	tests := []struct {
		name    string
		before  map[string]map[string]string // at the first check
		after   map[string]map[string]string // at the second check
		fail    error                        // the second check cannot ask
		wantGap string                       // substring of the gap error; "" = no gap
	}{
		{name: "unchanged",
			before: map[string]map[string]string{"idx": {"idx": "u1"}},
			after:  map[string]map[string]string{"idx": {"idx": "u1"}}},
		{name: "recreated",
			before:  map[string]map[string]string{"idx": {"idx": "u1"}},
			after:   map[string]map[string]string{"idx": {"idx": "u2"}},
			wantGap: "index idx was recreated (uuid u1 is now u2)"},
		{name: "deleted",
			before:  map[string]map[string]string{"idx": {"idx": "u1"}},
			after:   map[string]map[string]string{},
			wantGap: "index idx was deleted"},
		{name: "alias gains a concrete index (rollover): learned, no gap",
			before: map[string]map[string]string{"idx": {"idx-1": "u1"}},
			after:  map[string]map[string]string{"idx": {"idx-1": "u1", "idx-2": "u2"}}},
		{name: "alias loses a concrete index",
			before:  map[string]map[string]string{"idx": {"idx-1": "u1", "idx-2": "u2"}},
			after:   map[string]map[string]string{"idx": {"idx-2": "u2"}},
			wantGap: "concrete index idx-1"},
		{name: "not there at the first check, created later: learned, no gap",
			before: map[string]map[string]string{},
			after:  map[string]map[string]string{"idx": {"idx": "u1"}}},
		{name: "OpenSearch unreachable: an error, never a gap",
			before: map[string]map[string]string{"idx": {"idx": "u1"}},
			fail:   errors.New("connection refused")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeIndices{names: tc.before}
			w := newIndexWatch(expr.MustParse("idx"), identity, f.get)
			ctx := context.Background()
			if err := w.Check(ctx, "t"); err != nil {
				t.Fatalf("first check: %v", err)
			}
			f.names, f.fail = tc.after, tc.fail
			err := w.Check(ctx, "t")
			var gap *IndexGapError
			switch {
			case tc.fail != nil:
				if err == nil || errors.As(err, &gap) {
					t.Fatalf("check while unreachable = %v, want a plain error", err)
				}
			case tc.wantGap == "":
				if err != nil {
					t.Fatalf("check = %v, want nil", err)
				}
			default:
				if !errors.As(err, &gap) || !strings.Contains(err.Error(), tc.wantGap) || !strings.Contains(err.Error(), "INDEX GAP") {
					t.Fatalf("check = %v, want an index gap saying %q", err, tc.wantGap)
				}
				// The view is forgotten: the recreated index is the new baseline.
				if err := w.Check(ctx, "t"); err != nil {
					t.Fatalf("check after the gap = %v, want nil", err)
				}
			}
		})
	}
}

// TestIndexWatchObservesResolvedNames: with an index expression, the names
// come from the events written; each table has its own baseline.
func TestIndexWatchObservesResolvedNames(t *testing.T) {
	f := &fakeIndices{names: map[string]map[string]string{"a": {"a": "ua"}, "b": {"b": "ub"}}}
	w := newIndexWatch(expr.MustParse(`${getMetadata("table_name")}`), identity, f.get)
	ctx := context.Background()
	if !w.Observe("a", []change.Event{{Table: "a"}}) {
		t.Fatal("a new index name was not reported unlearned")
	}
	w.Observe("b", []change.Event{{Table: "b"}})
	for _, table := range []string{"a", "b"} {
		if err := w.Check(ctx, table); err != nil {
			t.Fatal(err)
		}
	}
	if w.Observe("a", []change.Event{{Table: "a"}}) {
		t.Fatal("a learned index name was reported unlearned")
	}
	f.set("a", map[string]string{"a": "ua2"})
	var gap *IndexGapError
	if err := w.Check(ctx, "a"); !errors.As(err, &gap) || gap.Table != "a" || gap.NewUUID != "ua2" {
		t.Fatalf("check a = %v, want a gap", err)
	}
	if err := w.Check(ctx, "b"); err != nil {
		t.Fatalf("check b = %v: another table's index changed, not b's", err)
	}
}

// TestParseUUIDs reads OpenSearch's answers.
func TestParseUUIDs(t *testing.T) {
	got, found, err := parseUUIDs(200, []byte(`{"idx-1":{"settings":{"index":{"uuid":"U1"}}},"idx-2":{"settings":{"index":{"uuid":"U2"}}}}`))
	if err != nil || !found || got["idx-1"] != "U1" || got["idx-2"] != "U2" {
		t.Fatalf("200: %v %v %v", got, found, err)
	}
	_, found, err = parseUUIDs(404, []byte(`{"error":{"type":"index_not_found_exception","reason":"no such index [x]"},"status":404}`))
	if err != nil || found {
		t.Fatalf("404 index_not_found: %v %v", found, err)
	}
	if _, _, err = parseUUIDs(404, []byte(`<html>proxy</html>`)); err == nil {
		t.Fatal("a 404 that is not OpenSearch's must be an error, not a deletion")
	}
	if _, _, err = parseUUIDs(503, nil); err == nil {
		t.Fatal("503 must be an error")
	}
}

// TestIndexWatchLiteralLearnedAfterFirstWrite: a literal index that did not
// exist at the first check is reported unlearned after a write, until a
// check learns it.
func TestIndexWatchLiteralLearnedAfterFirstWrite(t *testing.T) {
	f := &fakeIndices{names: map[string]map[string]string{}}
	w := newIndexWatch(expr.MustParse("idx"), identity, f.get)
	ctx := context.Background()
	if err := w.Check(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	f.set("idx", map[string]string{"idx": "u1"}) // created by the first write
	if !w.Observe("t", []change.Event{{Table: "t"}}) {
		t.Fatal("an index never learned was not reported unlearned")
	}
	if err := w.Check(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if w.Observe("t", []change.Event{{Table: "t"}}) {
		t.Fatal("a learned index was reported unlearned")
	}
	f.set("idx", nil)
	var gap *IndexGapError
	if err := w.Check(ctx, "t"); !errors.As(err, &gap) {
		t.Fatalf("check after deletion = %v, want a gap", err)
	}
}
