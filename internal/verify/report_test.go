package verify

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

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
		t.Fatalf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func sampleReports() map[string]*Report {
	equal := TableReport{Pipeline: "orders-pipeline", Table: "orders", Index: "orders", Read: []string{"orders"}, Items: 1200, Docs: 1200, InFlight: 2}
	diff := TableReport{
		Pipeline: "orders-pipeline", Table: "customers", Sink: 1, Index: `customers-%{yyyy.MM}`, Read: []string{"customers-*"},
		Items: 50, Docs: 49, Missing: 12, Extra: 1, Stale: 1, Remaining: 14,
		Examples: Examples{Stale: []Example{{Index: "customers-2024.05", ID: "c|7", Reason: "document (version 1714000000000003) differs from the item"}},
			Extra: []Example{{Index: "customers-2024.05", ID: "gone", Reason: "document has no item"}}},
		Notes: []string{"ttl_deletes is keep: extra documents may be those of items expired by TTL"},
	}
	for i := range 10 {
		diff.Examples.Missing = append(diff.Examples.Missing, Example{Index: "customers-2024.05", ID: "m" + string(rune('0'+i)), Reason: "item has no document"})
	}
	repaired := diff
	repaired.Repair = &RepairReport{Indexed: 12, Skipped: 1, NotAttempted: 1, Examples: []Example{
		{Index: "customers-2024.05", ID: "c|7", Reason: "skipped: the document is newer than the repair (version conflict)"},
		{Index: "customers-2024.05", ID: "gone", Reason: "not repaired: ttl_deletes is keep: documents of expired items stay in the index"},
	}}
	repaired.Remaining = 2
	fixed := diff
	fixed.Notes = nil
	fixed.Repair = &RepairReport{Indexed: 13, Deleted: 1}
	fixed.Remaining = 0
	return map[string]*Report{
		"equal":         {Equal: true, Tables: []TableReport{equal}},
		"differences":   {Tables: []TableReport{equal, diff}},
		"repaired":      {Repair: true, Tables: []TableReport{equal, repaired}},
		"repaired_full": {Equal: true, Repair: true, Tables: []TableReport{fixed}},
	}
}

func TestReportGolden(t *testing.T) {
	for name, r := range sampleReports() {
		t.Run(name, func(t *testing.T) {
			var text, js bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".txt.golden", text.Bytes())
			golden(t, name+".json.golden", js.Bytes())
		})
	}
}
