package redrive

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

func file(sinks ...config.Sink) *config.File {
	return &config.File{Name: "pipeline.yaml", Pipelines: []*config.Pipeline{
		{Name: "p", Sinks: sinks},
	}}
}

func TestTargets(t *testing.T) {
	a := &config.OpenSearch{}
	b := &config.OpenSearch{DLQFile: "custom.jsonl"}
	two := file(config.Sink{OpenSearch: a}, config.Sink{Stdout: &config.Stdout{}}, config.Sink{OpenSearch: b})
	c := &config.OpenSearch{DLQS3: &config.DLQS3{Bucket: "dlq", KeyPathPrefix: "p/%{yyyy}/%{MM}"}}
	withS3 := file(config.Sink{OpenSearch: a}, config.Sink{OpenSearch: c})
	tests := []struct {
		name    string
		f       *config.File
		dlq     string
		want    []string
		wantErr string
	}{
		{"every sink", two, "", []string{filepath.Join("st", "dlq", "p.jsonl"), "custom.jsonl"}, ""},
		{"one by its file", two, "custom.jsonl", []string{"custom.jsonl"}, ""},
		{"default file named", two, filepath.Join("st", "dlq", "p.jsonl"), []string{filepath.Join("st", "dlq", "p.jsonl")}, ""},
		{"unknown file, two sinks", two, "elsewhere.jsonl", nil, "not the dead-letter queue of any opensearch sink"},
		{"unknown file, one sink", file(config.Sink{OpenSearch: a}), "moved.jsonl", []string{"moved.jsonl"}, ""},
		{"no opensearch sink", file(config.Sink{Stdout: &config.Stdout{}}), "", nil, "no opensearch sink"},
		{"dlq.s3: its prefix up to the date", withS3, "", []string{filepath.Join("st", "dlq", "p.jsonl"), "s3://dlq/p/"}, ""},
		{"dlq.s3 by its prefix", withS3, "s3://dlq/p", []string{"s3://dlq/p"}, ""},
		{"dlq.s3, one month", withS3, "s3://dlq/p/2025/03/", []string{"s3://dlq/p/2025/03/"}, ""},
		{"s3 elsewhere, two sinks", withS3, "s3://other/p/", nil, "not the dead-letter queue"},
		{"s3 elsewhere, one sink", file(config.Sink{OpenSearch: a}), "s3://copied/x/", []string{"s3://copied/x/"}, ""},
		{"s3 without bucket", withS3, "s3:///x", nil, "no bucket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := Targets(tc.f, "st", tc.dlq)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range ts {
				got = append(got, x.File)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("files = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	letters := []opensearch.DeadLetter{{ID: "a"}, {ID: "b"}, {ID: "a"}, {ID: "c"}}
	kept, missing := Select(letters, []string{"a", "z", "c", "z"})
	var ids []string
	for _, d := range kept {
		ids = append(ids, d.ID)
	}
	if !reflect.DeepEqual(ids, []string{"a", "a", "c"}) || !reflect.DeepEqual(missing, []string{"z"}) {
		t.Errorf("Select = %v, missing %v", ids, missing)
	}
	if all, _ := Select(letters, nil); len(all) != 4 {
		t.Errorf("Select without ids kept %d, want 4", len(all))
	}
}

func TestOutputPath(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 2, 3, 4e6, time.UTC)
	if got, want := OutputPath(filepath.Join("st", "dlq", "p.jsonl"), now), filepath.Join("st", "dlq", "p.redrive-20261201T100203.004Z.jsonl"); got != want {
		t.Errorf("OutputPath = %q, want %q", got, want)
	}
	if got, want := OutputPath("dead", now), "dead.redrive-20261201T100203.004Z.jsonl"; got != want {
		t.Errorf("OutputPath = %q, want %q", got, want)
	}
}

type fakeReplayer struct {
	got []opensearch.DeadLetter
}

func (f *fakeReplayer) Replay(_ context.Context, l []opensearch.DeadLetter) (opensearch.ReplayResult, error) {
	f.got = l
	return opensearch.ReplayResult{Applied: len(l)}, nil
}
func (f *fakeReplayer) Close() error { return nil }

// TestRun: --id selects, --dry-run sends nothing, an empty output file is
// removed, and the original file is never changed.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "p.jsonl")
	lines := `{"index":"i","id":"a","action":"index","version":5,"version_type":"external","document":{"n":1E+2}}
{"index":"i","id":"b","action":"delete","version":6,"version_type":"external","document":null}
`
	if err := os.WriteFile(src, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := Target{Pipeline: "p", Sink: &config.OpenSearch{}, File: src}
	out := filepath.Join(dir, "out.jsonl")
	fr := &fakeReplayer{}
	open := func(_ *config.OpenSearch, output string) (Replayer, error) {
		if err := os.WriteFile(output, nil, 0o600); err != nil { // as the sink opens it
			return nil, err
		}
		return fr, nil
	}
	read := NewReader(nil, nil)
	rep, err := Run(t.Context(), tg, []string{"b", "q"}, true, out, read, open)
	if err != nil || rep.Letters != 2 || rep.Selected != 1 || fr.got != nil || !reflect.DeepEqual(rep.Missing, []string{"q"}) {
		t.Fatalf("dry run: %+v, %v, sent %v", rep, err, fr.got)
	}
	rep, err = Run(t.Context(), tg, []string{"a"}, false, out, read, open)
	if err != nil || rep.Selected != 1 || len(fr.got) != 1 || fr.got[0].ID != "a" || *fr.got[0].Version != 5 {
		t.Fatalf("run: %+v, %v, sent %+v", rep, err, fr.got)
	}
	if string(fr.got[0].Document) != `{"n":1E+2}` {
		t.Errorf("document = %s, want the bytes of the file", fr.got[0].Document)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) || rep.Output != "" {
		t.Errorf("empty output kept: %v, %q", err, rep.Output)
	}
	if data, _ := os.ReadFile(src); string(data) != lines {
		t.Errorf("original file changed:\n%s", data)
	}
}

func TestOutputFor(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 2, 3, 4e6, time.UTC)
	s3t := Target{Pipeline: "p", S3: &S3Location{Bucket: "b", Prefix: "x/"}, File: "s3://b/x/"}
	if got, want := OutputFor(s3t, "st", now), filepath.Join("st", "dlq", "p.s3-b.redrive-20261201T100203.004Z.jsonl"); got != want {
		t.Errorf("OutputFor(s3) = %q, want %q", got, want)
	}
	s3t.n = 2
	if got, want := OutputFor(s3t, "st", now), filepath.Join("st", "dlq", "p.2.s3-b.redrive-20261201T100203.004Z.jsonl"); got != want {
		t.Errorf("OutputFor(s3, 3rd sink) = %q, want %q", got, want)
	}
	if got, want := OutputFor(Target{File: "d.jsonl"}, "st", now), "d.redrive-20261201T100203.004Z.jsonl"; got != want {
		t.Errorf("OutputFor(file) = %q, want %q", got, want)
	}
}

// TestRunSkipsProcessorFailures: a letter of an event a processor failed on
// holds the unprocessed document; it is listed, never sent.
func TestRunSkipsProcessorFailures(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "p.jsonl")
	lines := `{"index":"i","id":"a","action":"index","version":5,"version_type":"external","status":0,"error":{"type":"processor_failure","reason":"processor[0] date: ..."},"document":{"d":"x"}}
{"index":"i","id":"b","action":"index","version":6,"version_type":"external","status":400,"error":{"type":"mapper_parsing_exception","reason":"..."},"document":{"n":1}}
`
	if err := os.WriteFile(src, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	fr := &fakeReplayer{}
	open := func(_ *config.OpenSearch, output string) (Replayer, error) { return fr, nil }
	rep, err := Run(t.Context(), Target{Pipeline: "p", Sink: &config.OpenSearch{}, File: src}, nil, false, filepath.Join(dir, "out.jsonl"), NewReader(nil, nil), open)
	if err != nil || !reflect.DeepEqual(rep.NotReplayable, []string{"a"}) || len(fr.got) != 1 || fr.got[0].ID != "b" {
		t.Fatalf("run: %+v, %v, sent %+v", rep, err, fr.got)
	}
}
