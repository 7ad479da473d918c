package opensearch

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

func item(act bulk.Action, id string, v int64) bulk.Item {
	e := ev(0, id, v)
	return bulk.Item{Action: act, Index: "orders", ID: id, Version: v, VersionType: bulk.VersionExternal, Event: &e}
}

// TestWriteItemsOutcomes: every outcome of the one write path, per item and
// in order; transient items are sent again; rejected items are dead-lettered
// unless the caller asks for them back.
func TestWriteItemsOutcomes(t *testing.T) {
	first := map[string]res{
		"a": {status: 201},
		"b": {status: 409, typ: "version_conflict_engine_exception"},
		"c": {status: 404},
		"d": {status: 400, typ: "mapper_parsing_exception"},
		"e": {status: 503, typ: "unavailable_shards_exception"},
	}
	respond := func(n int, ops []op) (int, []res) {
		out := make([]res, len(ops))
		for i, o := range ops {
			out[i] = res{status: 200}
			if r, ok := first[o.ID]; ok && (n == 0 || o.ID != "e") {
				out[i] = r
			}
		}
		return http.StatusOK, out
	}
	items := []bulk.Item{item(bulk.ActionIndex, "a", 1), item(bulk.ActionIndex, "b", 2), item(bulk.ActionDelete, "c", 3),
		item(bulk.ActionIndex, "d", 4), item(bulk.ActionIndex, "e", 5)}
	want := []ItemOutcome{ItemApplied, ItemSuperseded, ItemGone, ItemDeadLettered, ItemApplied}

	tests := []struct {
		name   string
		dlq    bool
		opts   ItemOptions
		wantD  ItemOutcome
		dlqLen int
	}{
		{"dlq", true, ItemOptions{}, ItemDeadLettered, 1},
		{"dlq but caller keeps rejects", true, ItemOptions{NoDeadLetter: true}, ItemFailed, 0},
		{"no dlq", false, ItemOptions{}, ItemFailed, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFake(t, respond)
			cfg := testConfig(srv.URL)
			if tc.dlq {
				cfg.DLQFile = filepath.Join(t.TempDir(), "dlq.ndjson")
			}
			s := newTestSink(t, cfg, prometheus.NewRegistry())
			got, err := s.WriteItems(t.Context(), "orders", items, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			want[3] = tc.wantD
			for i, r := range got {
				if r.Outcome != want[i] {
					t.Errorf("item %s: %v, want %v (%+v)", items[i].ID, r.Outcome, want[i], r)
				}
			}
			if got[3].Status != 400 || got[3].Type != "mapper_parsing_exception" {
				t.Errorf("rejected item result %+v", got[3])
			}
			if reqs := f.requests(); len(reqs) != 2 || ids(reqs[1]) != "e" {
				t.Errorf("requests %v, want the 503 item sent again alone", reqs)
			}
			n := 0
			if tc.dlq {
				b, _ := os.ReadFile(cfg.DLQFile)
				n = strings.Count(string(b), "\n")
			}
			if n != tc.dlqLen {
				t.Errorf("dead-letter lines %d, want %d", n, tc.dlqLen)
			}
		})
	}
}

// TestWriteItemsUnfinished: when retries run out, every item without a final
// answer is reported failed, never applied.
func TestWriteItemsUnfinished(t *testing.T) {
	_, srv := newFake(t, func(int, []op) (int, []res) { return http.StatusServiceUnavailable, nil })
	cfg := testConfig(srv.URL)
	cfg.MaxRetries = 2
	s := newTestSink(t, cfg, nil)
	got, err := s.WriteItems(t.Context(), "orders", []bulk.Item{item(bulk.ActionIndex, "a", 1)}, ItemOptions{})
	if err == nil || !strings.Contains(err.Error(), "max_retries") {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 1 || got[0].Outcome != ItemFailed {
		t.Fatalf("results %+v", got)
	}
}
