package opensearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/expr"
)

func count(t *testing.T, c *prometheus.CounterVec) int {
	t.Helper()
	var m dto.Metric
	if err := c.WithLabelValues("orders").Write(&m); err != nil {
		t.Fatal(err)
	}
	return int(m.GetCounter().GetValue())
}

func TestWrite429ThenSuccess(t *testing.T) {
	f, srv := newFake(t, func(n int, ops []op) (int, []res) {
		if n == 0 {
			return http.StatusTooManyRequests, nil
		}
		return http.StatusOK, each(ops, res{status: 201})
	})
	s := newTestSink(t, testConfig(srv.URL), prometheus.NewRegistry())
	if err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2)}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 || len(reqs[1]) != 2 {
		t.Fatalf("requests = %v, want the same 2 operations twice", reqs)
	}
	if got := count(t, s.met.indexed); got != 2 {
		t.Errorf("indexed = %d, want 2", got)
	}
	if got := count(t, s.met.retries); got != 1 {
		t.Errorf("retries = %d, want 1", got)
	}
}

// TestWriteMixedItems: every outcome in one bulk; only the 503s are sent
// again, in their order; the mapping error lands in the DLQ before Write
// returns.
func TestWriteMixedItems(t *testing.T) {
	first := map[string]res{
		"a": {status: 201},
		"b": {status: 409, typ: "version_conflict_engine_exception"},
		"c": {status: 404},
		"d": {status: 400, typ: "mapper_parsing_exception"},
		"e": {status: 503, typ: "unavailable_shards_exception"},
		"f": {status: 200},
		"g": {status: 429, typ: "es_rejected_execution_exception"},
	}
	f, srv := newFake(t, func(n int, ops []op) (int, []res) {
		out := make([]res, len(ops))
		for i, o := range ops {
			out[i] = res{status: 201}
			if n == 0 {
				out[i] = first[o.ID]
			}
		}
		return http.StatusOK, out
	})
	cfg := testConfig(srv.URL)
	cfg.DLQFile = filepath.Join(t.TempDir(), "dlq.ndjson")
	s := newTestSink(t, cfg, prometheus.NewRegistry())
	events := []change.Event{
		ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2), ev(change.OpDelete, "c", 3),
		ev(change.OpIndex, "d", 4), ev(change.OpIndex, "e", 5), ev(change.OpIndex, "f", 6), ev(change.OpDelete, "g", 7),
	}
	events[3].SortKey = "s1"
	events[3].Sequence = "4000000000000000000004"
	if err := s.Write(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if got := ids(reqs[1]); got != "e,g" {
		t.Errorf("retried %s, want e,g", got)
	}
	for name, want := range map[string]struct {
		c *prometheus.CounterVec
		n int
	}{
		"indexed": {s.met.indexed, 3}, "deleted": {s.met.deleted, 2}, "superseded": {s.met.superseded, 1},
		"dead-lettered": {s.met.deadLettered, 1}, "retries": {s.met.retries, 1},
	} {
		if got := count(t, want.c); got != want.n {
			t.Errorf("%s = %d, want %d", name, got, want.n)
		}
	}
	data, err := os.ReadFile(cfg.DLQFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("DLQ has %d lines, want 1:\n%s", len(lines), data)
	}
	var e struct {
		Table, Index, ID, Action, VersionType string
		Version                               int64
		Status                                int
		Error                                 struct{ Type, Reason string }
		Document                              map[string]any
		Key                                   struct {
			PartitionKey string `json:"partition_key"`
			SortKey      string `json:"sort_key"`
		}
		Sequence string
	}
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatalf("DLQ line is not JSON: %v\n%s", err, lines[0])
	}
	if e.Table != "orders" || e.Index != "orders" || e.ID != "d" || e.Action != "index" || e.Version != 4 ||
		e.Status != 400 || e.Error.Type != "mapper_parsing_exception" || e.Error.Reason != "reason for d" ||
		e.Document["pk"] != "d" || e.Key.PartitionKey != "d" || e.Key.SortKey != "s1" || e.Sequence != "4000000000000000000004" {
		t.Errorf("DLQ entry = %+v", e)
	}
	if st, _ := os.Stat(cfg.DLQFile); st.Mode().Perm() != 0o600 {
		t.Errorf("DLQ mode %v, want 0600", st.Mode().Perm())
	}
}

func ids(ops []op) string {
	var s []string
	for _, o := range ops {
		s = append(s, o.ID)
	}
	return strings.Join(s, ",")
}

func TestWriteRejectedWithoutDLQ(t *testing.T) {
	f, srv := newFake(t, func(n int, ops []op) (int, []res) {
		out := each(ops, res{status: 201})
		out[1] = res{status: 400, typ: "mapper_parsing_exception"}
		return http.StatusOK, out
	})
	s := newTestSink(t, testConfig(srv.URL), nil)
	err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b|x", 2)})
	if err == nil {
		t.Fatal("Write returned nil for a rejected document without dlq_file")
	}
	for _, want := range []string{"index orders", `_id "b|x"`, "400 Bad Request", "mapper_parsing_exception", "reason for b|x", "dlq_file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestWriteCancelDuringBackoff(t *testing.T) {
	_, srv := newFake(t, func(int, []op) (int, []res) { return http.StatusServiceUnavailable, nil })
	s := newTestSink(t, testConfig(srv.URL), nil)
	s.backoff = backoff{base: time.Hour, max: time.Hour}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := s.Write(ctx, []change.Event{ev(change.OpIndex, "a", 1)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Write took %v after cancel", d)
	}
}

func TestWriteMaxRetries(t *testing.T) {
	f, srv := newFake(t, func(n int, ops []op) (int, []res) {
		out := each(ops, res{status: 201})
		out[0] = res{status: 503, typ: "unavailable_shards_exception"}
		return http.StatusOK, out
	})
	cfg := testConfig(srv.URL)
	cfg.MaxRetries = 2
	s := newTestSink(t, cfg, nil)
	err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2)})
	if err == nil || !strings.Contains(err.Error(), "after 2 retries") || !strings.Contains(err.Error(), `_id "a"`) {
		t.Fatalf("err = %v, want a max_retries error naming a", err)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3 (1 + 2 retries)", n)
	}
}

func TestWriteCoalesces(t *testing.T) {
	f, srv := newFake(t, func(n int, ops []op) (int, []res) { return http.StatusOK, each(ops, res{status: 200}) })
	s := newTestSink(t, testConfig(srv.URL), prometheus.NewRegistry())
	err := s.Write(t.Context(), []change.Event{
		ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2), ev(change.OpIndex, "a", 3), ev(change.OpDelete, "a", 4),
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 || len(reqs[0]) != 2 {
		t.Fatalf("requests = %v, want one with 2 operations", reqs)
	}
	if o := reqs[0][1]; o.Action != "delete" || o.ID != "a" || o.Version != 4 {
		t.Errorf("last operation = %+v, want delete a version 4", o)
	}
	if got := count(t, s.met.coalesced); got != 2 {
		t.Errorf("coalesced = %d, want 2", got)
	}
}

func TestWriteSplitsBySize(t *testing.T) {
	f, srv := newFake(t, func(n int, ops []op) (int, []res) { return http.StatusOK, each(ops, res{status: 201}) })
	cfg := testConfig(srv.URL)
	cfg.BulkSizeMiB = 300.0 / (1 << 20) // 300 bytes: about 3 operations
	s := newTestSink(t, cfg, nil)
	var events []change.Event
	for i := range 20 {
		events = append(events, ev(change.OpIndex, string(rune('a'+i)), int64(i+1)))
	}
	if err := s.Write(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) < 5 {
		t.Fatalf("%d requests, want the 20 operations split in several", len(reqs))
	}
	var got []string
	for i, r := range reqs {
		if f.sizes[i] > 300 {
			t.Errorf("request %d has %d bytes, limit 300", i, f.sizes[i])
		}
		got = append(got, ids(r))
	}
	if all := strings.Join(got, ","); all != "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t" {
		t.Errorf("operations sent %s, want each once in order", all)
	}
}

// TestWrite413 splits a request OpenSearch finds too large in halves, and
// dead-letters a document that is too large on its own.
func TestWrite413(t *testing.T) {
	f, srv := newFake(t, func(n int, ops []op) (int, []res) {
		if len(ops) > 2 || strings.Contains(ids(ops), "huge") {
			return http.StatusRequestEntityTooLarge, nil
		}
		return http.StatusOK, each(ops, res{status: 201})
	})
	cfg := testConfig(srv.URL)
	cfg.DLQFile = filepath.Join(t.TempDir(), "dlq")
	s := newTestSink(t, cfg, prometheus.NewRegistry())
	events := []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2), ev(change.OpIndex, "huge", 3),
		ev(change.OpIndex, "c", 4), ev(change.OpIndex, "d", 5)}
	if err := s.Write(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s.met.indexed); got != 4 {
		t.Errorf("indexed = %d, want 4 (requests: %v)", got, f.requests())
	}
	data, _ := os.ReadFile(cfg.DLQFile)
	if !strings.Contains(string(data), `"id":"huge"`) || !strings.Contains(string(data), `"status":413`) {
		t.Errorf("DLQ = %s, want the huge document with status 413", data)
	}
}

func TestWriteRequestErrorNotRetried(t *testing.T) {
	f, srv := newFake(t, func(int, []op) (int, []res) { return http.StatusUnauthorized, nil })
	s := newTestSink(t, testConfig(srv.URL), nil)
	err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1)})
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized: check username/password") {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestWriteConnectionErrors: a dropped connection is retried, and with two
// hosts a dead one is skipped.
func TestWriteConnectionErrors(t *testing.T) {
	for _, withDeadHost := range []bool{false, true} {
		t.Run(fmt.Sprintf("dead host %v", withDeadHost), func(t *testing.T) {
			var dropped atomic.Bool
			f, srv := newFake(t, func(n int, ops []op) (int, []res) { return http.StatusOK, each(ops, res{status: 201}) })
			inner := srv.Config.Handler
			srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/_bulk" && dropped.CompareAndSwap(false, true) {
					c, _, _ := w.(http.Hijacker).Hijack()
					_ = c.Close()
					return
				}
				inner.ServeHTTP(w, r)
			})
			hosts := []string{srv.URL}
			if withDeadHost {
				hosts = []string{closedAddr(t), srv.URL}
			}
			s := newTestSink(t, testConfig(hosts...), nil)
			for i := range 3 {
				if err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", int64(i+1))}); err != nil {
					t.Fatal(err)
				}
			}
			if !dropped.Load() {
				t.Error("no connection was dropped")
			}
			if n := len(f.requests()); n != 3 {
				t.Errorf("%d requests reached the live host, want 3", n)
			}
		})
	}
}

// closedAddr is a URL on which nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

func TestWriteEmptyAndResolveError(t *testing.T) {
	f, srv := newFake(t, func(n int, ops []op) (int, []res) { return http.StatusOK, each(ops, res{status: 201}) })
	s := newTestSink(t, testConfig(srv.URL), nil)
	if err := s.Write(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	bad := ev(change.OpIndex, "a", 1)
	bad.Doc = nil
	if err := s.Write(t.Context(), []change.Event{bad}); err == nil {
		t.Error("Write accepted an index event without a document")
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
}

func TestMetricsShareRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, srv := newFake(t, func(n int, ops []op) (int, []res) { return http.StatusOK, each(ops, res{status: 201}) })
	a := newTestSink(t, testConfig(srv.URL), reg)
	b := newTestSink(t, testConfig(srv.URL), reg)
	if err := b.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1)}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, a.met.indexed); got != 1 {
		t.Errorf("the second sink's count is not in the shared collector: %d", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"ddbsync_documents_indexed_total", "ddbsync_bulk_request_duration_seconds"} {
		if !names[n] {
			t.Errorf("metric %s not gathered (have %v)", n, names)
		}
	}
}

// TestWriteUnformattableEventGoesToDLQ: an event whose templates cannot be
// evaluated (routing ${/tenant} on an item without tenant) is dead-lettered
// with dlq_file and the rest is written; without dlq_file Write fails.
func TestWriteUnformattableEventGoesToDLQ(t *testing.T) {
	f, srv := newFake(t, func(_ int, ops []op) (int, []res) { return http.StatusOK, each(ops, res{status: 201}) })
	cfg := testConfig(srv.URL)
	cfg.Routing = expr.MustParse("${/tenant}")
	good := ev(change.OpIndex, "good", 1)
	good.Doc = []byte(`{"pk":"good","tenant":"t1"}`)
	bad := ev(change.OpIndex, "bad", 2)

	noDLQ := newTestSink(t, cfg, nil)
	if err := noDLQ.Write(t.Context(), []change.Event{good, bad}); err == nil || !strings.Contains(err.Error(), "set dlq_file") {
		t.Fatalf("without dlq_file: %v", err)
	}

	cfg.DLQFile = filepath.Join(t.TempDir(), "dlq.jsonl")
	s := newTestSink(t, cfg, nil)
	if err := s.Write(t.Context(), []change.Event{good, bad}); err != nil {
		t.Fatal(err)
	}
	if reqs := f.requests(); len(reqs) != 1 || len(reqs[0]) != 1 {
		t.Fatalf("requests = %v, want only the good item sent", reqs)
	}
	b, err := os.ReadFile(cfg.DLQFile)
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(b, &line); err != nil {
		t.Fatalf("dlq line %q: %v", b, err)
	}
	if line["id"] != "bad" || !strings.Contains(fmt.Sprint(line["error"]), "format_error") {
		t.Fatalf("dlq line %v", line)
	}
}
