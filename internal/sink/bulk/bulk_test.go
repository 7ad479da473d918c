package bulk

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/expr"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2024, 3, 9, 23, 59, 58, 0, time.UTC)

func put(id, doc string, v int64) change.Event {
	return change.Event{Table: "orders", Op: change.OpIndex, ID: id, PartitionKey: id, Doc: []byte(doc), Version: v, EventName: "MODIFY", Timestamp: t0}
}

func del(id, doc string, v int64) change.Event {
	return change.Event{Table: "orders", Op: change.OpDelete, ID: id, PartitionKey: id, Doc: []byte(doc), Version: v, EventName: "REMOVE", Timestamp: t0}
}

func tpl(s string) *expr.Template { return expr.MustParse(s) }

// TestPrepareGolden pins the exact _bulk bytes for each case.
func TestPrepareGolden(t *testing.T) {
	tests := []struct {
		name   string
		cfg    *config.OpenSearch
		events []change.Event
	}{
		{name: "defaults", cfg: nil, events: []change.Event{
			put("a", `{"pk":"a","n":12345678901234567890123456789012345678}`, 1710028798000000),
			del("b", `{"pk":"b"}`, 1710028798000001),
		}},
		{name: "blueprint", cfg: &config.OpenSearch{
			Index: tpl("table-index"), DocumentID: tpl(`${getMetadata("primary_key")}`),
			Action: tpl(`${getMetadata("opensearch_action")}`), DocumentVersion: tpl(`${getMetadata("document_version")}`),
			DocumentVersionType: "external",
		}, events: []change.Event{
			put("a|1", `{"pk":"a","sk":1}`, 5),
			del("a|2", `{"pk":"a","sk":2}`, 6),
		}},
		{name: "routing_pipeline_gte", cfg: &config.OpenSearch{
			Index: tpl("logs-%{yyyy.MM.dd}"), Routing: tpl(`${/tenant}`), Pipeline: tpl("enrich"),
			DocumentVersionType: "external_gte",
		}, events: []change.Event{
			put("x", `{"pk":"x","tenant":"t1"}`, 10),
			del("y", `{"pk":"y","tenant":"t2"}`, 11),
		}},
		{name: "internal_versions", cfg: &config.OpenSearch{Index: tpl("docs"), DocumentVersionType: "internal"},
			events: []change.Event{put("a", `{"pk":"a"}`, 10), del("b", `{}`, 11)}},
		{name: "create_has_no_version", cfg: &config.OpenSearch{Index: tpl("docs"), Action: tpl("create")},
			events: []change.Event{put("a", `{"pk":"a"}`, 10)}},
		{name: "escaping", cfg: &config.OpenSearch{Index: tpl("docs")}, events: []change.Event{
			put("q\"u\\o|<&>|ünï|\x01\t", `{"pk":"q\"u\\o","s":"<&>"}`, 1),
		}},
		{name: "pretty_document_compacted", cfg: &config.OpenSearch{Index: tpl("docs")}, events: []change.Event{
			put("a", "{\n  \"pk\": \"a\",\r\n  \"s\": \"x y\"\n}", 1),
		}},
		{name: "coalesce_last_wins", cfg: &config.OpenSearch{Index: tpl("docs")}, events: []change.Event{
			put("a", `{"pk":"a","v":1}`, 1),
			put("b", `{"pk":"b","v":1}`, 2),
			put("a", `{"pk":"a","v":2}`, 3),
			del("a", `{"pk":"a","v":2}`, 4),
			put("c", `{"pk":"c","v":1}`, 5),
			put("b", `{"pk":"b","v":2}`, 6),
		}},
		{name: "normalize_index", cfg: &config.OpenSearch{Index: tpl(`_My Index#${getMetadata("table_name")}`), NormalizeIndex: true},
			events: []change.Event{put("a", `{"pk":"a"}`, 1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewResolver(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.Prepare(tc.events)
			if err != nil {
				t.Fatal(err)
			}
			got := Body(b.Entries)
			golden := filepath.Join("testdata", tc.name+".ndjson")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("body differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
			if Size(b.Entries) != len(got) {
				t.Errorf("Size = %d, body has %d bytes", Size(b.Entries), len(got))
			}
		})
	}
}

func TestCoalesceCounts(t *testing.T) {
	items := []Item{
		{Index: "i", ID: "a", Version: 1}, {Index: "j", ID: "a", Version: 2},
		{Index: "i", ID: "a", Version: 3}, {Index: "i", ID: "b", Version: 4},
	}
	kept, dropped := Coalesce(items)
	if dropped != 1 || len(kept) != 3 {
		t.Fatalf("kept %d dropped %d, want 3 and 1", len(kept), dropped)
	}
	want := []int64{2, 3, 4} // order of last occurrences
	for i, it := range kept {
		if it.Version != want[i] {
			t.Errorf("kept[%d].Version = %d, want %d", i, it.Version, want[i])
		}
	}
	if items[0].Version != 1 {
		t.Error("Coalesce modified its input")
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     *config.OpenSearch
		ev      change.Event
		wantErr string
	}{
		{"update action", &config.OpenSearch{Action: tpl(`${/act}`)}, put("a", `{"act":"update"}`, 1), `action "update" is not supported`},
		{"upsert action", &config.OpenSearch{Action: tpl(`${/act}`)}, put("a", `{"act":"upsert"}`, 1), `action "upsert" is not supported`},
		{"unknown action", &config.OpenSearch{Action: tpl(`${/act}`)}, put("a", `{"act":"merge"}`, 1), `unknown action "merge"`},
		{"version not a number", &config.OpenSearch{DocumentVersion: tpl(`${/v}`)}, put("a", `{"v":"x1"}`, 1), `document_version: "x1" is not a 64-bit integer`},
		{"missing pointer", &config.OpenSearch{DocumentID: tpl(`${/nope}`)}, put("a", `{"pk":"a"}`, 1), `document_id: document has no value at /nope`},
		{"empty id", &config.OpenSearch{DocumentID: tpl(`${/e}`)}, put("a", `{"e":""}`, 1), `evaluated to an empty _id`},
		{"index without document", nil, put("a", ``, 1), `index action without a document`},
		{"routing missing", &config.OpenSearch{Routing: tpl(`${/r}`)}, put("a", `{}`, 1), `routing: document has no value at /r`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewResolver(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Resolve(&tc.ev)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), "table orders item \"a\"") {
				t.Errorf("err %q does not name the table and item", err)
			}
		})
	}
}

func TestNewResolverRejects(t *testing.T) {
	tests := []struct {
		name    string
		cfg     *config.OpenSearch
		wantErr string
	}{
		{"literal update", &config.OpenSearch{Action: tpl("update")}, `action "update" is not supported`},
		{"bad version type", &config.OpenSearch{DocumentVersionType: "force"}, `document_version_type "force"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewResolver(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	mk := func(sizes ...int) []Entry {
		e := make([]Entry, len(sizes))
		for i, n := range sizes {
			e[i] = Entry{Item: Item{Version: int64(i)}, Lines: make([]byte, n)}
		}
		return e
	}
	tests := []struct {
		name  string
		sizes []int
		max   int
		want  [][]int64
	}{
		{"empty", nil, 10, nil},
		{"all fit", []int{3, 3, 3}, 10, [][]int64{{0, 1, 2}}},
		{"exact fit", []int{5, 5, 5}, 10, [][]int64{{0, 1}, {2}}},
		{"oversize alone", []int{3, 20, 3}, 10, [][]int64{{0}, {1}, {2}}},
		{"oversize first", []int{20, 3, 3}, 10, [][]int64{{0}, {1, 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Split(mk(tc.sizes...), tc.max)
			if len(got) != len(tc.want) {
				t.Fatalf("%d batches, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if len(got[i]) != len(tc.want[i]) {
					t.Fatalf("batch %d has %d entries, want %d", i, len(got[i]), len(tc.want[i]))
				}
				for j := range got[i] {
					if got[i][j].Version != tc.want[i][j] {
						t.Errorf("batch %d entry %d = %d, want %d", i, j, got[i][j].Version, tc.want[i][j])
					}
				}
			}
		})
	}
}
