package opensearch

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/<name>, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestClassify(t *testing.T) {
	const vc = "version_conflict_engine_exception"
	tests := []struct {
		name      string
		act       bulk.Action
		versioned bool
		status    int
		typ       string
		reason    string
		want      outcome
	}{
		{"index created", bulk.ActionIndex, true, 201, "", "", outcomeDone},
		{"index updated", bulk.ActionIndex, true, 200, "", "", outcomeDone},
		{"delete deleted", bulk.ActionDelete, true, 200, "", "", outcomeDone},
		{"delete not found", bulk.ActionDelete, true, 404, "", "", outcomeDone},
		{"delete index missing", bulk.ActionDelete, false, 404, "index_not_found_exception", "", outcomeDone},
		{"index 404 index missing", bulk.ActionIndex, true, 404, "index_not_found_exception", "", outcomeDeadLetter},
		{"older external version", bulk.ActionIndex, true, 409, vc, "", outcomeSuperseded},
		// OpenSearch rejects an equal external version with the same 409;
		// versions are unique per change, so equal means already applied.
		{"equal external version", bulk.ActionIndex, true, 409, vc, "", outcomeSuperseded},
		{"delete older version", bulk.ActionDelete, true, 409, vc, "", outcomeSuperseded},
		{"create exists", bulk.ActionCreate, false, 409, vc, "", outcomeSuperseded},
		{"409 under internal", bulk.ActionIndex, false, 409, vc, "", outcomeDeadLetter},
		{"409 other type", bulk.ActionIndex, true, 409, "other_exception", "", outcomeDeadLetter},
		{"429", bulk.ActionIndex, true, 429, "es_rejected_execution_exception", "", outcomeRetry},
		{"429 circuit breaker", bulk.ActionIndex, true, 429, "circuit_breaking_exception", "", outcomeRetry},
		{"500", bulk.ActionIndex, true, 500, "exception", "", outcomeRetry},
		{"503", bulk.ActionDelete, true, 503, "unavailable_shards_exception", "", outcomeRetry},
		{"408", bulk.ActionIndex, true, 408, "", "", outcomeRetry},
		{"read-only block", bulk.ActionIndex, true, 403, "cluster_block_exception", "", outcomeRetry},
		{"mapping", bulk.ActionIndex, true, 400, "mapper_parsing_exception", "", outcomeDeadLetter},
		{"strict mapping", bulk.ActionIndex, true, 400, "strict_dynamic_mapping_exception", "", outcomeDeadLetter},
		{"illegal argument", bulk.ActionIndex, true, 400, "illegal_argument_exception", "", outcomeDeadLetter},
		{"document too large", bulk.ActionIndex, true, 413, "", "", outcomeDeadLetter},
		{"forbidden", bulk.ActionIndex, true, 403, "security_exception", "", outcomeDeadLetter},
		// Refusals of the cluster or the configuration, never of the document:
		// the write fails (the responses of OpenSearch 2.19/3.x, Elasticsearch 7.10).
		{"missing ingest pipeline", bulk.ActionIndex, true, 400, "illegal_argument_exception", "pipeline with id [p1] does not exist", outcomeFatal},
		{"missing ingest pipeline on delete", bulk.ActionDelete, true, 400, "illegal_argument_exception", "pipeline with id [p1] does not exist", outcomeFatal},
		{"no ingest nodes", bulk.ActionIndex, true, 500, "illegal_state_exception", "There are no ingest nodes in this cluster, unable to forward request to an ingest node.", outcomeFatal},
		{"closed index", bulk.ActionIndex, true, 400, "index_closed_exception", "closed", outcomeFatal},
		{"closed index on delete", bulk.ActionDelete, true, 400, "index_closed_exception", "closed", outcomeFatal},
		{"other illegal argument", bulk.ActionIndex, true, 400, "illegal_argument_exception", "pipeline processor failed", outcomeDeadLetter},
		{"other illegal state 500", bulk.ActionIndex, true, 500, "illegal_state_exception", "something transient", outcomeRetry},
		// An ingest `fail` processor refuses one document, with a 500.
		{"fail processor", bulk.ActionIndex, true, 500, "fail_processor_exception", "nope", outcomeDeadLetter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.act, tc.versioned, tc.status, tc.typ, tc.reason); got != tc.want {
				t.Errorf("classify(%s, %v, %d, %q, %q) = %s, want %s", tc.act, tc.versioned, tc.status, tc.typ, tc.reason, got, tc.want)
			}
		})
	}
}

func TestClassifyRequest(t *testing.T) {
	noIngest := `{"error":{"root_cause":[{"type":"illegal_state_exception","reason":"There are no ingest nodes in this cluster, unable to forward request to an ingest node."}],"type":"illegal_state_exception","reason":"There are no ingest nodes in this cluster, unable to forward request to an ingest node."},"status":500}`
	tests := []struct {
		name   string
		status int
		body   string
		want   outcome
	}{
		{"no ingest nodes", 500, noIngest, outcomeFatal},
		{"other 500", 500, `{"error":{"type":"exception","reason":"boom"},"status":500}`, outcomeRetry},
		{"503 not JSON", 503, `Service Unavailable`, outcomeRetry},
		{"429", 429, `{"error":{"type":"es_rejected_execution_exception","reason":"queue full"},"status":429}`, outcomeRetry},
		{"400 parse", 400, `{"error":{"type":"parse_exception","reason":"bad"},"status":400}`, outcomeDeadLetter},
		{"401", 401, ``, outcomeDeadLetter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classifyRequest(tc.status, []byte(tc.body)); got != tc.want {
				t.Errorf("classifyRequest(%d, %s) = %s, want %s", tc.status, tc.body, got, tc.want)
			}
		})
	}
}

func TestParseBulkResponse(t *testing.T) {
	tests := []struct {
		file    string
		n       int
		want    []itemResult
		wantErr string
	}{
		{file: "all_ok.json", n: 3, want: []itemResult{{Status: 201}, {Status: 200}, {Status: 404}}},
		{file: "mixed.json", n: 4, want: []itemResult{
			{Status: 201},
			{Status: 409, Type: "version_conflict_engine_exception", Reason: "[k2]: version conflict, current version [7] is higher or equal to the one provided [7]"},
			{Status: 400, Type: "mapper_parsing_exception", Reason: "failed to parse field [n] of type [long] in document with id 'k3'. Preview of field's value: 'abc': illegal_argument_exception: For input string: \"abc\""},
			{Status: 429, Type: "es_rejected_execution_exception", Reason: "rejected execution"},
		}},
		{file: "string_error.json", n: 1, want: []itemResult{{Status: 400, Type: "error", Reason: "MapperParsingException[failed]"}}},
		{file: "all_ok.json", n: 2, wantErr: "3 items for 2 operations"},
		{file: "not_json.txt", n: 1, wantErr: "decode bulk response"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "responses", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseBulkResponse(body, tc.n)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d items, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("item %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{base: 100 * time.Millisecond, max: 30 * time.Second}
	want := map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 5: 1600 * time.Millisecond,
		9: 25600 * time.Millisecond, 10: 30 * time.Second, 1000: 30 * time.Second}
	for n, w := range want {
		for range 100 {
			if d := b.delay(n); d <= 0 || d > w {
				t.Fatalf("delay(%d) = %v, outside [0, %v]", n, d, w)
			}
		}
	}
}

func TestDLQLineGolden(t *testing.T) {
	now := time.Date(2024, 3, 9, 12, 0, 0, 123000000, time.UTC)
	ev := &change.Event{Table: "orders", Op: change.OpIndex, ID: "cust#1|2024-03-09", PartitionKey: "cust#1", SortKey: "2024-03-09",
		Doc: []byte(`{"pk":"cust#1","sk":"2024-03-09","n":123456789012345678901234567890.5,"html":"<b>&</b>"}`), Version: 1710000000000001,
		Sequence: "100000000000000000000001"}
	del := &change.Event{Table: "orders", Op: change.OpDelete, ID: "k", PartitionKey: "k"}
	bad := &change.Event{Table: "orders", Op: change.OpIndex, ID: "b", PartitionKey: "b", Doc: []byte(`{"broken":`)}
	tests := []struct {
		name string
		d    deadItem
	}{
		{"index_external", deadItem{entry: bulk.Entry{Item: bulk.Item{Action: bulk.ActionIndex, Index: "orders", ID: ev.ID, Routing: "cust#1",
			Pipeline: "enrich", Version: ev.Version, VersionType: "external", Event: ev}},
			status: 400, typ: "mapper_parsing_exception", reason: "failed to parse field [n] of type [long]"}},
		{"delete_internal_no_document", deadItem{entry: bulk.Entry{Item: bulk.Item{Action: bulk.ActionDelete, Index: "orders", ID: "k", Event: del}},
			status: 400, typ: "illegal_argument_exception", reason: "x"}},
		{"invalid_document_as_string", deadItem{entry: bulk.Entry{Item: bulk.Item{Action: bulk.ActionIndex, Index: "orders", ID: "b",
			Version: 3, VersionType: "external_gte", Event: bad}}, status: 413, typ: "request_entity_too_large", reason: "too big"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			line, err := appendDLQLine(nil, tc.d, now)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("dlq", tc.name+".golden"), line)
		})
	}
}

func TestBuildTemplateGolden(t *testing.T) {
	const v1 = `{"version": 3, "settings": {"refresh_interval": "1s"}, "mappings": {"properties": {"n": {"type": "long"}}}}`
	const composable = `{"template": {"mappings": {"properties": {"n": {"type": "long"}}}}, "priority": 5}`
	tests := []struct {
		name             string
		kind, content    string
		base             string
		literal          bool
		shards, replicas int
		wantName         string
		wantVersion      int64
	}{
		{"v1_literal", "", v1, "orders", true, 2, 1, "orders-index-template", 3},
		{"v1_dynamic", "v1", v1, "logs-", false, 0, -1, "logs-index-template", 3},
		{"v1_keeps_own_settings", "v1", `{"settings":{"index":{"number_of_shards":9},"index.number_of_replicas":4}}`, "orders", true, 2, 1, "orders-index-template", 0},
		{"composable", "index-template", composable, "orders", true, 1, 0, "orders-index-template", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := buildTemplate(tc.kind, []byte(tc.content), tc.base, tc.literal, tc.shards, tc.replicas)
			if err != nil {
				t.Fatal(err)
			}
			if tp.name != tc.wantName || tp.version != tc.wantVersion {
				t.Errorf("name %q version %d, want %q %d", tp.name, tp.version, tc.wantName, tc.wantVersion)
			}
			golden(t, filepath.Join("template", tc.name+".golden"), append(tp.body, '\n'))
		})
	}
}

func TestBuildTemplateErrors(t *testing.T) {
	tests := []struct {
		name, kind, content, base, wantErr string
	}{
		{"bad type", "v2", `{}`, "x", `template_type "v2"`},
		{"not an object", "v1", `[1]`, "x", "not a JSON object"},
		{"no prefix", "v1", `{}`, "", "cannot be derived"},
		{"version not integer", "v1", `{"version":1.5}`, "x", "not an integer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := buildTemplate(tc.kind, []byte(tc.content), tc.base, true, 0, -1)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestExistingTemplateVersion(t *testing.T) {
	tests := []struct {
		kind, body string
		want       int64
		ok         bool
	}{
		{templateV1, `{"t":{"version":4,"index_patterns":["x"]}}`, 4, true},
		{templateV1, `{"t":{"index_patterns":["x"]}}`, 0, false},
		{templateIndex, `{"index_templates":[{"name":"t","index_template":{"version":7}}]}`, 7, true},
		{templateIndex, `{"index_templates":[{"name":"t","index_template":{}}]}`, 0, false},
	}
	for _, tc := range tests {
		v, ok := existingTemplateVersion(tc.kind, "t", []byte(tc.body))
		if v != tc.want || ok != tc.ok {
			t.Errorf("%s %s: got %d %v, want %d %v", tc.kind, tc.body, v, ok, tc.want, tc.ok)
		}
	}
}

func TestIndexPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"logs-%{yyyy.MM.dd}":             "logs-",
		`t-${getMetadata("table_name")}`: "t-",
		"plain":                          "plain",
		`${/x}-%{yyyy}`:                  "",
	} {
		if got := indexPrefix(in); got != want {
			t.Errorf("indexPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
