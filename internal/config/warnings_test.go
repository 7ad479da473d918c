package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWarningsGolden pins the warnings of testdata/warnings and checks
// that every testdata case that is valid and places documents by the key
// only has none.
func TestWarningsGolden(t *testing.T) {
	dir := filepath.Join("testdata", "warnings")
	data, err := os.ReadFile(filepath.Join(dir, "pipeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("pipeline.yaml", data, readEnv(t, filepath.Join(dir, "env")))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range f.Warnings() {
		if p.Line <= 0 {
			t.Errorf("warning without a line: %s", p)
		}
		b.WriteString(p.String() + "\n")
	}
	golden(t, filepath.Join(dir, "warnings.golden"), b.String())

	for _, name := range []string{"blueprint", "stream-only-local", "env-substitution"} {
		data, err := os.ReadFile(filepath.Join("testdata", name, "pipeline.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse("pipeline.yaml", data, readEnv(t, filepath.Join("testdata", name, "env")))
		if err != nil {
			t.Fatal(err)
		}
		if w := f.Warnings(); len(w) > 0 {
			t.Errorf("%s: unexpected warnings %v", name, w)
		}
	}
}

func TestPlacementPointers(t *testing.T) {
	f, err := Parse("p.yaml", []byte(`p:
  source: {dynamodb: {tables: [{table_arn: "arn:aws:dynamodb:us-east-1:000000000000:table/things", stream: {}}]}}
  sink: [{opensearch: {hosts: ["http://h:1"], index: "i-${/a~1b}", document_id: "${/pk}|${/m/x}", routing: "${/sk}"}}]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := f.Pipelines[0].Sinks[0].OpenSearch
	got := o.PlacementPointers("pk", "sk", "a/b")
	if len(got) != 1 || got[0] != (FieldPointer{"document_id", "/m/x"}) {
		t.Fatalf("with keys pk, sk, a/b: %v", got)
	}
	if got := o.PlacementPointers(); len(got) != 4 {
		t.Fatalf("without keys: %v", got)
	}
}
