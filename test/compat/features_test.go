//go:build integration

package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/test/e2e"
)

// do sends a request to the server under test and fails unless it answers
// one of ok.
func do(t *testing.T, h *e2e.Harness, method, path, body string, ok ...int) []byte {
	t.Helper()
	st, b := e2e.Do(h.Ctx, h.OpenSearch, method, path, []byte(body))
	for _, c := range ok {
		if st == c {
			return b
		}
	}
	t.Fatalf("%s %s: %d %s", method, path, st, b)
	return nil
}

// TestCompatIngestPipeline: the sink's `pipeline` option sends every
// document through an ingest pipeline (the server counts them). The
// pipeline changes no field, but the server re-serializes _source (key
// order, number spelling, fractions beyond a double's digits rounded), so
// every item is compared with every document as JSON values, on items whose
// numbers a double holds.
func TestCompatIngestPipeline(t *testing.T) {
	h := newHarness(t, "pipeline", e2e.Namespace{})
	h.SameSource = e2e.SameJSON
	id := createPipeline(t, h)
	h.WritePipeline(e2e.Pipeline{SinkExtra: "pipeline: " + id})
	h.Start()
	plainItems(t, h, "p", 20)
	put(t, h, map[string]types.AttributeValue{"pk": s("nested"), "u": s("héllo \"q\" \u2028 🎉"), "f": n("-0.125"),
		"m":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"z": n("1"), "a": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x"), n("2.5")}}}},
		"ss": &types.AttributeValueMemberSS{Value: []string{"b", "a"}}, "nul": &types.AttributeValueMemberNULL{Value: true}})
	del(t, h, "p3")
	put(t, h, map[string]types.AttributeValue{"pk": s("p4"), "n": n("44"), "tag": s("changed")})
	h.Converge(60 * time.Second)
	if got := pipelineCount(t, h, id); got < 20 {
		t.Fatalf("ingest pipeline %s ran %d times, want at least 20", id, got)
	}
	// The hostile numbers too: 38 significant digits and the extremes. They
	// must be indexed (not dead-lettered, not missing); behind a pipeline
	// the server may round them to a double (README: ingest pipelines), so
	// that is what is asserted, not the exact digits.
	hostile := map[string]string{"big": "12345678901234567890.123456789012345678", "tiny": "1E-130", "huge": "-9.99E+125"}
	item := map[string]types.AttributeValue{"pk": s("hostile")}
	for k, v := range hostile {
		item[k] = n(v)
	}
	put(t, h, item)
	var doc struct {
		Found  bool                       `json:"found"`
		Source map[string]json.RawMessage `json:"_source"`
	}
	err := e2e.Poll(h.Ctx, 30*time.Second, 300*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, b := e2e.Do(ctx, h.OpenSearch, "GET", "/"+h.Index+"/_doc/hostile", nil)
		return json.Unmarshal(b, &doc) == nil && doc.Found, nil
	})
	if err != nil {
		t.Fatalf("the item with hostile numbers is not indexed behind the pipeline: %v", err)
	}
	for k, v := range hostile {
		want, _ := strconv.ParseFloat(v, 64)
		if got, err := strconv.ParseFloat(string(doc.Source[k]), 64); err != nil || got != want {
			t.Errorf("%s = %s behind the pipeline, want %s (at least to a double's precision)", k, doc.Source[k], v)
		}
	}
}

// createPipeline creates an ingest pipeline that changes no field (removed
// by the cleanup) and returns its id.
func createPipeline(t *testing.T, h *e2e.Harness) string {
	t.Helper()
	id := "compat-" + e2e.RandomHex(t, 8)
	createPipelineID(t, h, id)
	t.Cleanup(func() { e2e.Do(h.Ctx, h.OpenSearch, "DELETE", "/_ingest/pipeline/"+id, nil) })
	return id
}

// pipelineCount is how many documents the ingest pipeline id processed, on
// every node (_nodes/stats/ingest).
func pipelineCount(t *testing.T, h *e2e.Harness, id string) int64 {
	t.Helper()
	b := do(t, h, "GET", "/_nodes/stats/ingest", "", 200)
	var r struct {
		Nodes map[string]struct {
			Ingest struct {
				Pipelines map[string]struct {
					Count int64 `json:"count"`
				} `json:"pipelines"`
			} `json:"ingest"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("_nodes/stats/ingest: %v", err)
	}
	var total int64
	for _, node := range r.Nodes {
		total += node.Ingest.Pipelines[id].Count
	}
	return total
}

// TestCompatMissingPipelineFails: a sink pipeline the server does not
// have refuses every document alike, so run fails saying so (exit 1) and
// dead-letters nothing: at start-up, and when the pipeline is deleted under
// a running pipeline (the bulk items' "pipeline with id [x] does not
// exist"). Once the pipeline is back, a restart continues from the
// checkpoints and loses nothing.
func TestCompatMissingPipelineFails(t *testing.T) {
	h := newHarness(t, "nopipeline", e2e.Namespace{})
	missing := "compat-missing-" + e2e.RandomHex(t, 8)
	h.WritePipeline(e2e.Pipeline{SinkExtra: "pipeline: " + missing})
	h.Start()
	mustFail(t, h, missing, "does not exist")

	id := createPipeline(t, h)
	h.WritePipeline(e2e.Pipeline{SinkExtra: "pipeline: " + id})
	h.SameSource = e2e.SameJSON
	h.Start()
	plainItems(t, h, "m", 5)
	h.Converge(30 * time.Second)
	do(t, h, "DELETE", "/_ingest/pipeline/"+id, "", 200)
	plainItems(t, h, "after", 3)
	mustFail(t, h, "pipeline with id ["+id+"] does not exist", "PUT _ingest/pipeline")
	if d, err := h.Compare(); err != nil || len(d.Missing) != 3 {
		t.Fatalf("want the 3 later items missing: %v %s", err, d)
	}

	createPipelineID(t, h, id)
	h.Start()
	h.Converge(30 * time.Second)
}

// createPipelineID is createPipeline with a given id.
func createPipelineID(t *testing.T, h *e2e.Harness, id string) {
	t.Helper()
	do(t, h, "PUT", "/_ingest/pipeline/"+id,
		`{"description":"ddbsync compat: changes no field","processors":[{"remove":{"field":"ddbsync_compat_absent","ignore_missing":true}}]}`, 200)
}

// mustFail waits for the run to exit 1 with every one of says in its log,
// having dead-lettered nothing.
func mustFail(t *testing.T, h *e2e.Harness, says ...string) {
	t.Helper()
	code, ok := h.WaitExit(60 * time.Second)
	if !ok {
		t.Fatalf("run still going after 60 s; want it to fail with %q; log:\n%s", says, e2e.Tail(h.Log(), 4000))
	}
	log := h.Log()
	for _, want := range says {
		if code != 1 || !strings.Contains(log, want) {
			t.Fatalf("exit %d; want 1 with %q in the log:\n%s", code, want, e2e.Tail(log, 4000))
		}
	}
	if dead := dlqEntries(t, filepath.Join(h.StateDir(), "dlq", "e2e.jsonl")); len(dead) != 0 {
		t.Fatalf("%d documents dead-lettered, want none", len(dead))
	}
}

// TestCompatIndexTemplate: template_file with template_type v1 (legacy
// _template) and index-template (composable _index_template) is installed
// at start-up and shapes the index ddbsync creates; every item equals
// every document.
func TestCompatIndexTemplate(t *testing.T) {
	for _, tc := range []struct{ kind, body string }{
		{"v1", `{"settings":{"number_of_shards":2},"mappings":{"properties":{"tag":{"type":"keyword"},"n":{"type":"double"}}}}`},
		{"index-template", `{"template":{"settings":{"number_of_shards":2},"mappings":{"properties":{"tag":{"type":"keyword"},"n":{"type":"double"}}}}}`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			h := newHarness(t, "tmpl-"+tc.kind, e2e.Namespace{})
			file := h.Dir + "/template.json"
			writeFile(t, file, tc.body)
			h.WritePipeline(e2e.Pipeline{SinkExtra: fmt.Sprintf("template_type: %s\ntemplate_file: %s", tc.kind, file)})
			name := h.Index + "-index-template"
			path := "/_template/" + name
			if tc.kind == "index-template" {
				path = "/_index_template/" + name
			}
			t.Cleanup(func() { e2e.Do(h.Ctx, h.OpenSearch, "DELETE", path, nil) })
			h.Start()
			plainItems(t, h, "t", 20)
			del(t, h, "t0")
			put(t, h, map[string]types.AttributeValue{"pk": s("t1"), "n": n("1.5"), "tag": s("changed")})
			h.Converge(60 * time.Second)
			do(t, h, "GET", path, "", 200)
			var m map[string]struct {
				Mappings struct {
					Properties map[string]struct {
						Type string `json:"type"`
					} `json:"properties"`
				} `json:"mappings"`
			}
			if err := json.Unmarshal(do(t, h, "GET", "/"+h.Index+"/_mapping", "", 200), &m); err != nil {
				t.Fatal(err)
			}
			if got := m[h.Index].Mappings.Properties["tag"].Type; got != "keyword" {
				t.Fatalf("index %s maps tag as %q, want keyword from the %s template", h.Index, got, tc.kind)
			}
			var st map[string]struct {
				Settings struct {
					Index struct {
						Shards string `json:"number_of_shards"`
					} `json:"index"`
				} `json:"settings"`
			}
			if err := json.Unmarshal(do(t, h, "GET", "/"+h.Index+"/_settings", "", 200), &st); err != nil {
				t.Fatal(err)
			}
			if got := st[h.Index].Settings.Index.Shards; got != "2" {
				t.Fatalf("index %s has %s shards, want 2 from the %s template", h.Index, got, tc.kind)
			}
		})
	}
}

// TestCompatVerify: `ddbsync verify` finds a converged index equal, then a
// missing, a stale and an extra document, and --repair makes the index
// equal again.
func TestCompatVerify(t *testing.T) {
	h := newHarness(t, "verify", e2e.Namespace{})
	plainItems(t, h, "v", 20)
	load(t, h, 200)
	// Backfilled documents carry version (T − overlap)·10⁶ − 1: with a 2 h
	// overlap a corruption written an hour ago is accepted over them. No
	// stream: run ends after the backfill.
	h.WritePipeline(e2e.Pipeline{TableBlock: "scan:\n  segments: 2\noverlap: 2h"})
	h.Start()
	if code, ok := h.WaitExit(2 * time.Minute); !ok || code != 0 {
		t.Fatalf("backfill run: exit %d (exited: %v); log:\n%s", code, ok, e2e.Tail(h.Log(), 4000))
	}
	h.Converge(30 * time.Second)
	if code, r := verify(t, h); code != 0 || !r.Equal {
		t.Fatalf("a converged index: exit %d, report %+v", code, r)
	}
	hourAgo := (time.Now().Unix() - 3600) * 1_000_000
	do(t, h, "DELETE", "/"+h.Index+"/_doc/v1?refresh=true", "", 200)
	do(t, h, "PUT", fmt.Sprintf("/%s/_doc/v2?version=%d&version_type=external&refresh=true", h.Index, hourAgo), `{"pk":"v2","n":"corrupted"}`, 200, 201)
	do(t, h, "PUT", fmt.Sprintf("/%s/_doc/ghost?version=%d&version_type=external&refresh=true", h.Index, hourAgo), `{"pk":"ghost"}`, 200, 201)
	code, r := verify(t, h)
	if tr := r.Tables; code != 4 || r.Equal || len(tr) != 1 || tr[0].Missing != 1 || tr[0].Stale != 1 || tr[0].Extra != 1 {
		t.Fatalf("verify of a corrupted index: exit %d, report %+v", code, r)
	}
	if code, r := verify(t, h, "--repair"); code != 0 || !r.Equal {
		t.Fatalf("verify --repair: exit %d, report %+v", code, r)
	}
	if d, err := h.Compare(); err != nil || !d.OK() {
		t.Fatalf("after the repair: %v %s", err, d)
	}
}

// verifyReport is the part of `ddbsync verify --json` the suite reads.
type verifyReport struct {
	Equal  bool `json:"equal"`
	Tables []struct {
		Items, Docs, Missing, Extra, Stale int
	} `json:"tables"`
}

// verify runs `ddbsync verify --json` on the scenario's pipeline and state.
func verify(t *testing.T, h *e2e.Harness, args ...string) (int, verifyReport) {
	t.Helper()
	args = append([]string{"verify", "-f", h.PipelinePath, "--json", "--state-dir", h.StateDir(), "--metrics-addr", "", "--recheck-after", "0s"}, args...)
	code, stdout, stderr := h.Command(args...)
	t.Logf("verify %v: exit %d\n%s%s", args[1:], code, stdout, stderr)
	var r verifyReport
	if code == 0 || code == 4 {
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("verify exit %d: report %v:\n%s", code, err, stdout)
		}
	}
	return code, r
}

// TestCompatClosedIndexFails: an index closed under a running pipeline
// refuses every write alike (index_closed_exception), so run fails saying
// how to open it and dead-letters nothing; once it is open again a restart
// continues from the checkpoints and loses nothing.
func TestCompatClosedIndexFails(t *testing.T) {
	h := newHarness(t, "closed", e2e.Namespace{})
	h.WritePipeline(e2e.Pipeline{})
	h.Start()
	plainItems(t, h, "c", 5)
	h.Converge(30 * time.Second)
	do(t, h, "POST", "/"+h.Index+"/_close", "", 200)
	plainItems(t, h, "later", 3)
	mustFail(t, h, "index_closed_exception", "_open")
	do(t, h, "POST", "/"+h.Index+"/_open?wait_for_active_shards=1", "", 200)
	h.Start()
	h.Converge(30 * time.Second)
}
