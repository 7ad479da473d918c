package opensearch

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddbsync/ddbsync/internal/change"
)

// TestWriteRefusedForGood: answers that no retry can fix and that concern
// the sink's configuration or the cluster, not the document, fail the write
// at once with what to fix, after one request, and dead-letter nothing
// (every other document would be refused alike).
func TestWriteRefusedForGood(t *testing.T) {
	tests := []struct {
		name       string
		item       res
		wantInText []string
	}{
		{"missing ingest pipeline", res{status: 400, typ: "illegal_argument_exception", reason: "pipeline with id [enrich] does not exist"},
			[]string{"pipeline with id [enrich] does not exist", "PUT _ingest/pipeline", `_id "b"`}},
		{"closed index", res{status: 400, typ: "index_closed_exception", reason: "closed"},
			[]string{"index_closed_exception", "_open", "index orders"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFake(t, func(n int, ops []op) (int, []res) {
				out := each(ops, res{status: 201})
				out[1] = tc.item
				return http.StatusOK, out
			})
			cfg := testConfig(srv.URL)
			cfg.DLQFile = filepath.Join(t.TempDir(), "dlq.jsonl")
			s := newTestSink(t, cfg, nil)
			err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2)})
			if !errors.Is(err, ErrRefusedForGood) {
				t.Fatalf("err = %v, want ErrRefusedForGood", err)
			}
			for _, want := range tc.wantInText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n)
			}
			if b, _ := os.ReadFile(cfg.DLQFile); len(b) != 0 {
				t.Errorf("dead-lettered %q; want nothing", b)
			}
		})
	}
}

// TestWriteNoIngestNodes: the whole-request 500 a cluster without an ingest
// node gives a bulk that names a pipeline fails the write at once; other
// 500s are still retried.
func TestWriteNoIngestNodes(t *testing.T) {
	const noIngest = `{"error":{"root_cause":[{"type":"illegal_state_exception","reason":"There are no ingest nodes in this cluster, unable to forward request to an ingest node."}],"type":"illegal_state_exception","reason":"There are no ingest nodes in this cluster, unable to forward request to an ingest node."},"status":500}`
	var requests int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path != "/_bulk" {
			_, _ = io.WriteString(w, `{"version":{"number":"2.19.1","distribution":"opensearch"}}`)
			return
		}
		requests++
		w.Header().Set("Content-Type", "application/json")
		if requests == 1 { // an ordinary 500 first: retried
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":{"type":"exception","reason":"boom"},"status":500}`)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, noIngest)
	}))
	t.Cleanup(srv.Close)
	s := newTestSink(t, testConfig(srv.URL), nil)
	err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1)})
	if !errors.Is(err, ErrRefusedForGood) || !strings.Contains(err.Error(), "ingest role") {
		t.Fatalf("err = %v, want ErrRefusedForGood naming the ingest role", err)
	}
	if requests != 2 {
		t.Errorf("%d requests, want 2 (the ordinary 500 retried once)", requests)
	}
}
