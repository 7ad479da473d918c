package processor

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ddbsync/ddbsync/internal/change"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenCase is one testdata/<name>.yaml file: a processor list as a
// pipeline writes it and the events to run through it.
type goldenCase struct {
	Processor []map[string]map[string]any `yaml:"processor"`
	Events    []goldenEvent               `yaml:"events"`
}

type goldenEvent struct {
	Doc string `yaml:"doc"`
	Old string `yaml:"old"` // old image (stream MODIFY / REMOVE)
	Op  string `yaml:"op"`  // index (default) or delete
}

func specsOf(t *testing.T, list []map[string]map[string]any) []Spec {
	t.Helper()
	var out []Spec
	for _, m := range list {
		if len(m) != 1 {
			t.Fatalf("a processor entry needs exactly one name, got %v", m)
		}
		for name, o := range m {
			out = append(out, Spec{Name: name, Options: o})
		}
	}
	return out
}

// TestGolden runs every testdata/*.yaml case and compares what each event
// becomes with testdata/<name>.golden.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var gc goldenCase
			if err := yaml.Unmarshal(raw, &gc); err != nil {
				t.Fatal(err)
			}
			chain, probs := Compile(specsOf(t, gc.Processor))
			var b strings.Builder
			for _, p := range probs {
				fmt.Fprintf(&b, "problem: processor[%d] %s: %s\n", p.Index, p.Path, p.Msg)
			}
			for i, ge := range gc.Events {
				ev := change.Event{Table: "orders", Op: change.OpIndex, ID: fmt.Sprintf("k%d", i), PartitionKey: fmt.Sprintf("k%d", i),
					Doc: []byte(ge.Doc), Version: 1700000000000000 + int64(i), EventName: "INSERT",
					Timestamp: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
				if ge.Old != "" {
					ev.OldDoc, ev.EventName = []byte(ge.Old), "MODIFY"
				}
				if ge.Op == "delete" {
					ev.Op, ev.EventName = change.OpDelete, "REMOVE"
				}
				fmt.Fprintf(&b, "in:  %s %s\n", ev.Op, ge.Doc)
				dropped, err := chain.Apply(&ev)
				switch {
				case err != nil:
					fmt.Fprintf(&b, "err: %v\n", err)
				case dropped:
					fmt.Fprintf(&b, "out: %s (dropped) %s\n", ev.Op, ev.Doc)
				default:
					fmt.Fprintf(&b, "out: %s %s\n", ev.Op, ev.Doc)
				}
				if ev.OldDoc != nil || ge.Old != "" {
					fmt.Fprintf(&b, "old: %s\n", ev.OldDoc)
				}
			}
			golden(t, filepath.Join("testdata", name+".golden"), b.String())
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update to accept)\n--- got ---\n%s--- want ---\n%s", path, got, want)
	}
}
