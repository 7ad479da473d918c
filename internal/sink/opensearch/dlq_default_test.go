package opensearch

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ddbsync/ddbsync/internal/change"
)

func TestDefaultDLQPath(t *testing.T) {
	tests := []struct {
		pipeline string
		n        int
		want     string
	}{
		{"orders-pipeline", 0, filepath.Join("state", "dlq", "orders-pipeline.jsonl")},
		{"orders-pipeline", 2, filepath.Join("state", "dlq", "orders-pipeline.2.jsonl")},
		{"a/b c", 0, filepath.Join("state", "dlq", "a_b_c.jsonl")},
		{"", 0, filepath.Join("state", "dlq", "pipeline.jsonl")},
	}
	for _, tc := range tests {
		if got := DefaultDLQPath("state", tc.pipeline, tc.n); got != tc.want {
			t.Errorf("DefaultDLQPath(%q, %d) = %q, want %q", tc.pipeline, tc.n, got, tc.want)
		}
	}
}

type deadReport struct {
	table, file string
	n           int
}

type fakeHealth struct{ reports []deadReport }

func (h *fakeHealth) DeadLettered(table, file string, n int) {
	h.reports = append(h.reports, deadReport{table, file, n})
}

// TestWriteDefaultDLQ: without dlq_file a rejected document goes to the
// default file (its directory created), the rest of the batch is applied,
// Write returns nil, and health hears of it.
func TestWriteDefaultDLQ(t *testing.T) {
	_, srv := newFake(t, func(n int, ops []op) (int, []res) {
		out := each(ops, res{status: 201})
		out[1] = res{status: 400, typ: "mapper_parsing_exception", reason: "object mapping for [h] tried to parse field [h] as object, but found a concrete value"}
		return http.StatusOK, out
	})
	path := DefaultDLQPath(filepath.Join(t.TempDir(), "state"), "p", 0)
	h := &fakeHealth{}
	s, err := New(testConfig(srv.URL), Options{Registerer: prometheus.NewRegistry(), DefaultDLQFile: path, Health: h})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.DLQPath() != path {
		t.Errorf("DLQPath = %q, want %q", s.DLQPath(), path)
	}
	if err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2), ev(change.OpIndex, "c", 3)}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s.met.indexed); got != 2 {
		t.Errorf("indexed = %d, want 2", got)
	}
	if got := count(t, s.met.deadLettered); got != 1 {
		t.Errorf("dead-lettered = %d, want 1", got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e dlqEntry
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("dead-letter line %q: %v", data, err)
	}
	if e.ID != "b" || e.Version == nil || *e.Version != 2 || e.VersionType != "external" || e.Action != "index" ||
		e.Key.PartitionKey != "b" || e.Status != 400 || string(e.Document) != `{"pk":"b","v":2}` {
		t.Errorf("dead-letter entry = %+v", e)
	}
	if len(h.reports) != 1 || h.reports[0] != (deadReport{"orders", path, 1}) {
		t.Errorf("health reports = %+v", h.reports)
	}
}
