package opensearch

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/expr"
)

// TestReferenceFirstIndexCreatedBeforeWrite: an index that starts with a
// ${...} reference gets no template (none could match only its indices),
// so each index it resolves to is created with the number mapping before
// the first write to it — once, not before every batch — instead of by the
// bulk write with OpenSearch's dynamic mapping.
func TestReferenceFirstIndexCreatedBeforeWrite(t *testing.T) {
	f, srv := newFake(t, func(_ int, ops []op) (int, []res) { return http.StatusOK, each(ops, res{status: 201}) })
	var mu sync.Mutex
	var admin []string
	exists := map[string]bool{}
	f.handle = func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		admin = append(admin, r.Method+" "+r.URL.Path)
		switch {
		case r.Method == http.MethodHead && !exists[r.URL.Path]:
			w.WriteHeader(http.StatusNotFound)
		case r.Method == http.MethodPut:
			if !strings.Contains(string(body), "ddbsync_integers") {
				t.Errorf("%s created without the number mapping: %s", r.URL.Path, body)
			}
			exists[r.URL.Path] = true
			_, _ = io.WriteString(w, `{"acknowledged":true}`)
		default:
			_, _ = io.WriteString(w, `{"version":{"number":"2.19.1","distribution":"opensearch"}}`)
		}
	}
	cfg := testConfig(srv.URL)
	cfg.Index = expr.MustParse(`${getMetadata("table_name")}`)
	s := newTestSink(t, cfg, nil)
	if err := s.Prepare(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	admin = nil
	mu.Unlock()
	batch := func(table string) []change.Event {
		a, b := ev(change.OpIndex, "a", 1_700_000_000_000_001), ev(change.OpIndex, "b", 1_700_000_000_000_002)
		a.Table, b.Table = table, table
		return []change.Event{a, b}
	}
	for _, table := range []string{"orders", "orders", "users"} {
		if err := s.Write(t.Context(), batch(table)); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := "HEAD /orders, PUT /orders, HEAD /users, PUT /users"
	if got := strings.Join(admin, ", "); got != want {
		t.Fatalf("admin requests around three batches:\n got %s\nwant %s", got, want)
	}
	if len(f.requests()) != 3 {
		t.Fatalf("%d bulk requests, want 3", len(f.requests()))
	}
}
