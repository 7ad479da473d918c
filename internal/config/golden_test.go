package config

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGolden parses every testdata/<case>/pipeline.yaml (with the variables
// of testdata/<case>/env, KEY=VALUE per line, when present). An invalid file
// must match errors.golden; a valid one summary.golden and unsupported.golden.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*/pipeline.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	for _, file := range files {
		dir := filepath.Dir(file)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse("pipeline.yaml", data, readEnv(t, filepath.Join(dir, "env")))
			if err != nil {
				var errs *Errors
				if !errors.As(err, &errs) {
					t.Fatalf("Parse error is %T, want *Errors: %v", err, err)
				}
				for _, p := range *errs {
					if p.Line <= 0 {
						t.Errorf("problem without a line: %s", p)
					}
				}
				golden(t, filepath.Join(dir, "errors.golden"), err.Error()+"\n")
				absent(t, filepath.Join(dir, "summary.golden"))
				return
			}
			golden(t, filepath.Join(dir, "summary.golden"), f.Summary())
			var b strings.Builder
			for _, p := range f.Unsupported() {
				b.WriteString(p.String() + "\n")
			}
			golden(t, filepath.Join(dir, "unsupported.golden"), b.String())
			absent(t, filepath.Join(dir, "errors.golden"))
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

func absent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		if *update {
			_ = os.Remove(path)
			return
		}
		t.Errorf("%s exists but does not apply to this case", path)
	}
}

// readEnv reads KEY=VALUE lines into a lookup function.
func readEnv(t *testing.T, path string) func(string) (string, bool) {
	t.Helper()
	vars := map[string]string{}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			vars[k] = v
		}
	}
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}
