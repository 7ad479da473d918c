package opensearch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/expr"
)

// op is one bulk operation as the fake server received it.
type op struct {
	Action  string
	Index   string
	ID      string
	Version int64
	Doc     string
}

// res is the fake's answer for one item.
type res struct {
	status int
	typ    string
	reason string // "" = "reason for <id>"
}

// fakeOS is a hand-written OpenSearch: it records _bulk requests and answers
// them with respond; other paths go to handle.
type fakeOS struct {
	t       *testing.T
	mu      sync.Mutex
	bulks   [][]op
	sizes   []int
	respond func(n int, ops []op) (status int, items []res)
	handle  func(w http.ResponseWriter, r *http.Request)
}

func newFake(t *testing.T, respond func(n int, ops []op) (int, []res)) (*fakeOS, *httptest.Server) {
	f := &fakeOS{t: t, respond: respond}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeOS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/_bulk" {
		if f.handle != nil {
			f.handle(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"version":{"number":"2.19.1","distribution":"opensearch"}}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	ops := parseOps(f.t, body)
	f.mu.Lock()
	n := len(f.bulks)
	f.bulks = append(f.bulks, ops)
	f.sizes = append(f.sizes, len(body))
	f.mu.Unlock()
	status, items := f.respond(n, ops)
	w.Header().Set("Content-Type", "application/json")
	if status != http.StatusOK {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"type":"x","reason":"status %d"},"status":%d}`, status, status)
		return
	}
	var b strings.Builder
	b.WriteString(`{"errors":true,"items":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{%q:{"status":%d`, ops[i].Action, it.status)
		if it.typ != "" {
			reason := it.reason
			if reason == "" {
				reason = "reason for " + ops[i].ID
			}
			fmt.Fprintf(&b, `,"error":{"type":%q,"reason":%q}`, it.typ, reason)
		}
		b.WriteString("}}")
	}
	b.WriteString("]}")
	_, _ = io.WriteString(w, b.String())
}

func parseOps(t *testing.T, body []byte) []op {
	var ops []op
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var meta map[string]struct {
			Index   string `json:"_index"`
			ID      string `json:"_id"`
			Version int64  `json:"version"`
		}
		if err := json.Unmarshal(sc.Bytes(), &meta); err != nil {
			t.Errorf("bad action line %q: %v", sc.Text(), err)
			return ops
		}
		for action, m := range meta {
			o := op{Action: action, Index: m.Index, ID: m.ID, Version: m.Version}
			if action != "delete" && sc.Scan() {
				o.Doc = sc.Text()
			}
			ops = append(ops, o)
		}
	}
	return ops
}

func (f *fakeOS) requests() [][]op {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]op(nil), f.bulks...)
}

// all answers every item with the same status.
func all(status int) []res { return []res{{status: status}} }

// each repeats r for every op.
func each(ops []op, r res) []res {
	out := make([]res, len(ops))
	for i := range out {
		out[i] = r
	}
	return out
}

func testConfig(hosts ...string) *config.OpenSearch {
	return &config.OpenSearch{
		Hosts:               hosts,
		Index:               expr.MustParse("orders"),
		IndexType:           "custom",
		DocumentID:          expr.MustParse(`${getMetadata("primary_key")}`),
		Action:              expr.MustParse(`${getMetadata("opensearch_action")}`),
		DocumentVersion:     expr.MustParse(`${getMetadata("document_version")}`),
		DocumentVersionType: "external",
		BulkSizeMiB:         5,
		ConnectTimeout:      2 * time.Second,
		SocketTimeout:       5 * time.Second,
		NumberOfReplicas:    -1,
	}
}

func newTestSink(t *testing.T, cfg *config.OpenSearch, reg prometheus.Registerer) *Sink {
	t.Helper()
	s, err := New(cfg, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	s.backoff = backoff{base: time.Millisecond, max: 5 * time.Millisecond}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ev(op change.Op, id string, version int64) change.Event {
	return change.Event{Table: "orders", Op: op, ID: id, PartitionKey: id, Version: version,
		Doc: []byte(fmt.Sprintf(`{"pk":%q,"v":%d}`, id, version)), Timestamp: time.Unix(1710000000, 0)}
}
