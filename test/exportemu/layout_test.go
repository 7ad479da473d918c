package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ddbsync/ddbsync/internal/ddbion"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// memStore is the in-memory objectStore: objects by bucket/key, in first-write order.
type memStore struct {
	mu    sync.Mutex
	order []string
	m     map[string][]byte
}

func newMemStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) Put(_ context.Context, bucket, key string, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := bucket + "/" + key
	if _, ok := s.m[k]; !ok {
		s.order = append(s.order, k)
	}
	s.m[k] = append([]byte{}, body...)
	return nil
}

func (s *memStore) Get(_ context.Context, bucket, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("no such key %s/%s", bucket, key)
	}
	return b, nil
}

var (
	start = time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)
	end   = start.Add(2*time.Second + 456*time.Millisecond)
)

// items cover every attribute type, exact numbers, HTML characters and unicode; the last one
// has insignificant spaces, which the export drops.
var items = []string{
	`{"pk":{"S":"user#1"},"sk":{"N":"1"},"name":{"S":"Ada <&> Lovelace"},"big":{"N":"123456789012345678901234567890.000001"}}`,
	`{"pk":{"S":"user#2"},"sk":{"N":"-0.5"},"bin":{"B":"AAEC/w=="},"tags":{"SS":["b","a"]}}`,
	`{"pk":{"S":"user#3"},"sk":{"N":"3"},"nested":{"M":{"l":{"L":[{"NULL":true},{"BOOL":false},{"NS":["1","2.50"]}]}}}}`,
	`{"pk":{"S":"ünï\"codé"},"sk":{"N":"4"},"bs":{"BS":["AA==","AQ=="]}}`,
	"{ \"pk\" : {\"S\":\"user#5\"},\n \"sk\": {\"N\":\"5000\"} }",
}

func fullMeta(prefix string, rnd *rand.Rand) exportMeta {
	id := exportIDAt(start, rnd)
	return exportMeta{
		ExportID: id, ExportArn: "arn:aws:dynamodb:us-east-1:000000000000:table/people/export/" + id,
		TableArn: "arn:aws:dynamodb:us-east-1:000000000000:table/people", TableID: "0b6a2c6e-9a1e-4b1c-8d43-5d9f6f0e1a2b",
		Bucket: "bucket", Prefix: prefix, SseAlgorithm: "AES256", Type: fullExport, StartTime: start, ExportTime: start,
	}
}

// fillItems deals the items to the files in turn (the emulator fills file i from Scan segment i).
func fillItems(items []string) func(context.Context, *layout) error {
	return func(_ context.Context, l *layout) error {
		for i, it := range items {
			if err := l.addItemTo(i%len(l.files), json.RawMessage(it)); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestExportGolden(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		files  int
		incr   string // incremental view, "" for a full export
		format string // "" for DYNAMODB_JSON
		fill   func(context.Context, *layout) error
	}{
		{name: "full", prefix: "exports/run-1", files: 4, fill: fillItems(items)},
		{name: "full-sparse", prefix: "p/", files: 4, fill: fillItems(items[:2])},
		{name: "full-empty-table", files: 2, fill: fillItems(nil)},
		{name: "incremental", prefix: "incr", files: 2, incr: "NEW_AND_OLD_IMAGES", fill: fillChanges("NEW_AND_OLD_IMAGES")},
		{name: "incremental-new-image", prefix: "incr", files: 1, incr: "NEW_IMAGE", fill: fillChanges("NEW_IMAGE")},
		{name: "full-ion", prefix: "exports/run-1", files: 4, format: formatION, fill: fillItems(items)},
		{name: "incremental-ion", prefix: "incr", files: 2, incr: "NEW_AND_OLD_IMAGES", format: formatION, fill: fillChanges("NEW_AND_OLD_IMAGES")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(1, 2))
			meta := fullMeta(tt.prefix, rnd)
			meta.Format = tt.format
			if tt.incr != "" {
				meta.Type, meta.ExportTime = incrementalExport, time.Time{}
				meta.FromTime, meta.ToTime, meta.OutputView = windowFrom, windowTo, tt.incr
			}
			store := newMemStore()
			sum, _, err := writeExport(t.Context(), store, newLayout(meta, tt.files, rnd), tt.fill, func() time.Time { return end }, "")
			if err != nil {
				t.Fatal(err)
			}
			got := dumpExport(t, store, meta)
			if n := strings.Count(got, "\n  {") + strings.Count(got, "\n  $ion_1_0 {"); int64(n) != sum.ItemCount {
				t.Errorf("summary itemCount %d, data lines %d", sum.ItemCount, n)
			}
			golden(t, filepath.Join("testdata", tt.name, "export.golden"), got)
		})
	}
}

// dumpExport renders every object in write order: data files decompressed, manifest-files
// lines with their checksums verified against the objects and then masked (gzip bytes may
// change with the Go version; the decompressed lines may not).
func dumpExport(t *testing.T, s *memStore, meta exportMeta) string {
	t.Helper()
	var b strings.Builder
	for _, k := range s.order {
		body := s.m[k]
		fmt.Fprintf(&b, "== %s\n", k)
		switch {
		case strings.HasSuffix(k, ".json.gz"), strings.HasSuffix(k, ".ion.gz"):
			lines := gunzipLines(t, k, body)
			fmt.Fprintf(&b, "gzip, %d lines\n", len(lines))
			for _, l := range lines {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		case strings.HasSuffix(k, "/manifest-files.json"):
			for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
				var m manifestFile
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				data, ok := s.m[meta.Bucket+"/"+m.DataFileS3Key]
				if !ok {
					t.Fatalf("%s names %s, which was not written", k, m.DataFileS3Key)
				}
				sum := md5.Sum(data)
				if m.MD5Checksum != base64.StdEncoding.EncodeToString(sum[:]) || m.ETag != hex.EncodeToString(sum[:]) {
					t.Errorf("%s: checksums of %s do not match the object", k, m.DataFileS3Key)
				}
				if n := len(gunzipLines(t, m.DataFileS3Key, data)); int64(n) != m.ItemCount {
					t.Errorf("%s: itemCount %d, file has %d lines", m.DataFileS3Key, m.ItemCount, n)
				}
				line = strings.Replace(line, m.MD5Checksum, "<md5 ok>", 1)
				line = strings.Replace(line, m.ETag, "<etag ok>", 1)
				fmt.Fprintf(&b, "%s\n", line)
			}
		default:
			fmt.Fprintf(&b, "%s\n", body)
		}
	}
	return b.String()
}

func gunzipLines(t *testing.T, key string, body []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if strings.HasSuffix(key, ".ion.gz") {
			if _, err := ddbion.NewDecoder(bytes.NewReader(sc.Bytes())).Next(); err != nil {
				t.Errorf("%s: line is not an Ion export record: %s: %v", key, sc.Bytes(), err)
			}
		} else if !json.Valid(sc.Bytes()) {
			t.Errorf("%s: line is not JSON: %s", key, sc.Bytes())
		}
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return lines
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
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
		t.Errorf("%s differs (go test -update rewrites it after review):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestExportIDShape(t *testing.T) {
	id := exportIDAt(time.UnixMilli(1604468915678), rand.New(rand.NewPCG(3, 4)))
	if len(id) != 23 || id[:15] != "01604468915678-" || strings.Trim(id[15:], "0123456789abcdef") != "" {
		t.Errorf("ExportId %q, want 14-digit ms, dash, 8 hex digits", id)
	}
}

func TestFileNames(t *testing.T) {
	l := newLayout(fullMeta("", rand.New(rand.NewPCG(5, 6))), 8, rand.New(rand.NewPCG(7, 8)))
	for _, f := range l.files {
		name := strings.TrimSuffix(filepath.Base(f.key), ".json.gz")
		if len(name) != 26 || strings.Trim(name, fileNameChars) != "" {
			t.Errorf("data file name %q, want 26 lowercase alphanumerics", name)
		}
	}
}

func TestCorruptObjects(t *testing.T) {
	tests := []struct {
		fault   string
		md5Bad  bool
		gzipBad bool
	}{
		{fault: faultMD5, md5Bad: true},
		{fault: faultGzip, gzipBad: true},
		{fault: faultTruncate, gzipBad: true},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(1, 2))
			meta := fullMeta("x", rnd)
			store := newMemStore()
			_, key, err := writeExport(t.Context(), store, newLayout(meta, 4, rnd), fillItems(items[:2]), func() time.Time { return end }, tt.fault)
			if err != nil {
				t.Fatal(err)
			}
			if key == "" {
				t.Fatal("no file corrupted")
			}
			var m manifestFile
			for _, line := range strings.Split(strings.TrimSpace(string(store.m["bucket/"+meta.manifestFilesKey()])), "\n") {
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatal(err)
				}
				if m.DataFileS3Key == key {
					break
				}
			}
			data := store.m["bucket/"+key]
			sum := md5.Sum(data)
			if got := m.MD5Checksum != base64.StdEncoding.EncodeToString(sum[:]); got != tt.md5Bad {
				t.Errorf("md5 mismatch = %v, want %v", got, tt.md5Bad)
			}
			if got := gunzipErr(data) != nil; got != tt.gzipBad {
				t.Errorf("gzip error = %v, want %v", got, tt.gzipBad)
			}
		})
	}

	empty := []object{{Key: "a/manifest-files.json", Body: []byte(`{"itemCount":0,"md5Checksum":"x","etag":"y","dataFileS3Key":"a/data/f.json.gz"}` + "\n")}, {Key: "a/data/f.json.gz"}}
	if _, err := corruptObjects(faultGzip, empty); err == nil {
		t.Error("corrupting an export without items: want an error")
	}
}

func gunzipErr(b []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, zr)
	return err
}

func TestEpochTime(t *testing.T) {
	b, _ := json.Marshal(newEpochTime(time.UnixMilli(1604468914028)))
	if string(b) != "1604468914.028" {
		t.Errorf("marshal: %s", b)
	}
	var e epochTime
	for in, want := range map[string]int64{"1604468914.028": 1604468914028, "1604468914": 1604468914000, "1.604468914028E9": 1604468914028} {
		if err := json.Unmarshal([]byte(in), &e); err != nil || e.UnixMilli() != want {
			t.Errorf("unmarshal %s: %v %v", in, e.UnixMilli(), err)
		}
	}
}

func TestTableNameOf(t *testing.T) {
	tests := []struct{ arn, want string }{
		{"arn:aws:dynamodb:ddblocal:000000000000:table/people", "people"},
		{"arn:aws:dynamodb:us-east-1:123456789012:table/people/stream/2024", "people"},
		{"people", ""},
		{"arn:aws:dynamodb:us-east-1:1:table/", ""},
	}
	for _, tt := range tests {
		got, err := tableNameOf(tt.arn)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("tableNameOf(%q) = %q, %v", tt.arn, got, err)
		}
	}
}

func TestParentsFirst(t *testing.T) {
	got := parentsFirst([]shard{{"c", "b"}, {"b", "a"}, {"d", "gone"}, {"a", ""}})
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ShardId)
	}
	if strings.Join(ids, ",") != "d,a,b,c" {
		t.Errorf("order %v, want d,a,b,c", ids)
	}
}

func TestErrorBody(t *testing.T) {
	got := string(errorBody("TableNotFoundException", "Table not found: x"))
	want := `{"__type":"com.amazonaws.dynamodb.v20120810#TableNotFoundException","message":"Table not found: x"}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
