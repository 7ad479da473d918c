package ndjson

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/expr"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func events() []change.Event {
	ts := time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC)
	return []change.Event{
		{Table: "orders", Op: change.OpIndex, ID: "a|1", Doc: []byte(`{"pk":"a","sk":1}`), Version: 10, Timestamp: ts},
		{Table: "orders", Op: change.OpIndex, ID: "b|1", Doc: []byte(`{"pk":"b","sk":1}`), Version: 11, Timestamp: ts},
		{Table: "orders", Op: change.OpDelete, ID: "a|1", Doc: []byte(`{"pk":"a","sk":1}`), Version: 12, Timestamp: ts},
	}
}

func TestWriteGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"defaults", Options{}},
		{"opensearch_format", Options{Format: &config.OpenSearch{Index: expr.MustParse("orders-%{yyyy.MM}"), Routing: expr.MustParse(`${/pk}`)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			s, err := New(&buf, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write(t.Context(), events()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.name+".ndjson")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("got:\n%s\nwant:\n%s", buf.Bytes(), want)
			}
		})
	}
}

func TestFileAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.ndjson")
	for range 2 {
		s, err := NewFile(&config.FileSink{Path: path}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(t.Context(), events()[:1]); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line := `{"index":{"_index":"orders","_id":"a|1","version":10,"version_type":"external"}}` + "\n" + `{"pk":"a","sk":1}` + "\n"
	if string(got) != line+line {
		t.Errorf("file holds:\n%s", got)
	}
}

func TestWriteErrors(t *testing.T) {
	s, err := New(&bytes.Buffer{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Write(ctx, events()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, err := New(&bytes.Buffer{}, Options{Format: &config.OpenSearch{Action: expr.MustParse("upsert")}}); err == nil {
		t.Error("New accepted action upsert")
	}
	if _, err := NewFile(&config.FileSink{Path: filepath.Join(t.TempDir(), "no", "dir")}, Options{}); err == nil {
		t.Error("NewFile accepted a path in a missing directory")
	}
}
