package opensearch

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ddbsync/ddbsync/internal/change"
)

// TestReplay: dead letters written by Write are read back and sent with
// their original index, _id, version and version type; a 409 is reported as
// superseded, a refusal lands in the sink's (new) dead-letter file.
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "dlq.jsonl")
	// 1. Write dead-letters a, b, c.
	_, srv := newFake(t, func(n int, ops []op) (int, []res) {
		return http.StatusOK, each(ops, res{status: 400, typ: "mapper_parsing_exception", reason: "object mapping for [h] tried to parse field [h] as object, but found a concrete value"})
	})
	cfg := testConfig(srv.URL)
	cfg.DLQFile = first
	s := newTestSink(t, cfg, prometheus.NewRegistry())
	big := change.Event{Table: "orders", Op: change.OpIndex, ID: "c", PartitionKey: "c", Version: 30,
		Doc: []byte(`{"pk":"c","n":12345678901234567890123456789012345678,"t":0.0000000000000000000000000000000000000001}`), Timestamp: time.Unix(1710000000, 0)}
	if err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 10), ev(change.OpDelete, "b", 20), big}); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(first)
	if err != nil {
		t.Fatal(err)
	}
	letters, err := ReadDeadLetters(fh)
	fh.Close()
	if err != nil || len(letters) != 3 {
		t.Fatalf("ReadDeadLetters = %d letters, %v; want 3", len(letters), err)
	}

	// 2. Replay them: a applies, b is superseded (a newer change is in the
	// index), c is refused again.
	f2, srv2 := newFake(t, func(n int, ops []op) (int, []res) {
		out := make([]res, len(ops))
		for i, o := range ops {
			switch o.ID {
			case "a":
				out[i] = res{status: 201}
			case "b":
				out[i] = res{status: 409, typ: "version_conflict_engine_exception"}
			default:
				out[i] = res{status: 400, typ: "mapper_parsing_exception"}
			}
		}
		return http.StatusOK, out
	})
	second := filepath.Join(dir, "dlq.redrive.jsonl")
	r, err := New(testConfig(srv2.URL), Options{DefaultDLQFile: second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Replay(t.Context(), letters)
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 1 || len(res.Superseded) != 1 || res.Superseded[0].ID != "b" || len(res.Failed) != 1 || res.Failed[0].ID != "c" {
		t.Errorf("result = %+v", res)
	}
	sent := f2.requests()
	if len(sent) != 1 || len(sent[0]) != 3 {
		t.Fatalf("requests = %+v, want one bulk of 3", sent)
	}
	want := []op{
		{Action: "index", Index: "orders", ID: "a", Version: 10, Doc: `{"pk":"a","v":10}`},
		{Action: "delete", Index: "orders", ID: "b", Version: 20},
		{Action: "index", Index: "orders", ID: "c", Version: 30, Doc: string(big.Doc)},
	}
	for i, w := range want {
		if sent[0][i] != w {
			t.Errorf("op %d = %+v, want %+v (original version, exact digits)", i, sent[0][i], w)
		}
	}
	data, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), "\n") != 1 || !strings.Contains(string(data), `"id":"c"`) || !strings.Contains(string(data), string(big.Doc)) {
		t.Errorf("new dead-letter file:\n%s", data)
	}
}

func TestReadDeadLettersErrors(t *testing.T) {
	for _, in := range []string{"{\"index\":\"i\"}\n", "{\"index\":\"i\",\"id\":\"x\",\"action\":\"index\"}\n{\"index\":\"i\",\"id\":\"y\",\"act"} {
		if _, err := ReadDeadLetters(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "line ") {
			t.Errorf("ReadDeadLetters(%q) err = %v, want a line number", in, err)
		}
	}
}
