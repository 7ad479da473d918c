package opensearch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
)

// putCall is one PutObject the fake received.
type putCall struct {
	bucket, key, contentType string
	body                     []byte
}

// fakeS3 is a hand-written ObjectPutter: it records every call and answers
// with fail (nil: success). gate, when set, is waited on before answering.
type fakeS3 struct {
	mu    sync.Mutex
	calls []putCall
	fail  func(n int) error
	gate  chan struct{}
}

func (f *fakeS3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	body, _ := io.ReadAll(in.Body)
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, putCall{bucket: *in.Bucket, key: *in.Key, contentType: *in.ContentType, body: body})
	f.mu.Unlock()
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.fail != nil {
		if err := f.fail(n); err != nil {
			return nil, err
		}
	}
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) puts() []putCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]putCall(nil), f.calls...)
}

// rejectB answers 201 for every item but those with _id "b" or "c" (400).
func rejectB(n int, ops []op) (int, []res) {
	out := each(ops, res{status: 201})
	for i, o := range ops {
		if o.ID == "b" || o.ID == "c" {
			out[i] = res{status: 400, typ: "mapper_parsing_exception", reason: "failed to parse field [v]"}
		}
	}
	return http.StatusOK, out
}

func s3Sink(t *testing.T, url string, client ObjectPutter, prefix string, h DeadLetterReporter) *Sink {
	t.Helper()
	cfg := testConfig(url)
	cfg.DLQS3 = &config.DLQS3{Bucket: "dlq-bucket", KeyPathPrefix: prefix}
	s, err := New(cfg, Options{Registerer: prometheus.NewRegistry(), DLQS3: client, Pipeline: "orders-pipeline", Health: h,
		DefaultDLQFile: t.TempDir() + "/never.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var dlqObjectKey = regexp.MustCompile(`^ddb/dlq/dlq-v1-orders-pipeline-opensearch-\d{8}T\d{6}\.\d{9}Z-[0-9a-f]{16}\.jsonl$`)

// TestWriteS3DLQ: the rejected documents of one batch land in one object of
// JSON lines under key_path_prefix, with the whole record; the rest is
// applied, Write returns nil, health hears the object's address.
func TestWriteS3DLQ(t *testing.T) {
	_, srv := newFake(t, rejectB)
	fs, h := &fakeS3{}, &fakeHealth{}
	s := s3Sink(t, srv.URL, fs, "ddb/dlq", h)
	if got := s.DLQPath(); got != "s3://dlq-bucket/ddb/dlq" {
		t.Errorf("DLQPath = %q", got)
	}
	batch := []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2), ev(change.OpIndex, "c", 3), ev(change.OpIndex, "d", 4)}
	if err := s.Write(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	puts := fs.puts()
	if len(puts) != 1 {
		t.Fatalf("%d PutObject calls, want 1 for the batch", len(puts))
	}
	p := puts[0]
	if p.bucket != "dlq-bucket" || !dlqObjectKey.MatchString(p.key) || p.contentType != "application/x-ndjson" {
		t.Errorf("put %s/%s (%s)", p.bucket, p.key, p.contentType)
	}
	letters, err := ReadDeadLetters(bytes.NewReader(p.body))
	if err != nil {
		t.Fatalf("object is not dead-letter lines: %v\n%s", err, p.body)
	}
	if len(letters) != 2 {
		t.Fatalf("%d letters, want 2", len(letters))
	}
	for i, want := range []struct {
		id string
		v  int64
	}{{"b", 2}, {"c", 3}} {
		l := letters[i]
		if l.ID != want.id || l.Version == nil || *l.Version != want.v || l.VersionType != "external" || l.Action != "index" ||
			l.Key.PartitionKey != want.id || l.Status != 400 || l.Error.Type != "mapper_parsing_exception" || l.Table != "orders" ||
			string(l.Document) != fmt.Sprintf(`{"pk":%q,"v":%d}`, want.id, want.v) {
			t.Errorf("letter %d = %+v", i, l)
		}
	}
	if got := count(t, s.met.deadLettered); got != 2 {
		t.Errorf("dead-lettered = %d, want 2", got)
	}
	if len(h.reports) != 1 || h.reports[0] != (deadReport{"orders", "s3://dlq-bucket/" + p.key, 2}) {
		t.Errorf("health reports = %+v", h.reports)
	}
	// A batch without rejects writes no object.
	if err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 5)}); err != nil {
		t.Fatal(err)
	}
	if n := len(fs.puts()); n != 1 {
		t.Errorf("%d PutObject calls after a clean batch, want still 1", n)
	}
}

// TestS3DLQAckAfterPut: Write (the acknowledgement) does not return before
// PutObject has succeeded.
func TestS3DLQAckAfterPut(t *testing.T) {
	_, srv := newFake(t, rejectB)
	fs := &fakeS3{gate: make(chan struct{})}
	s := s3Sink(t, srv.URL, fs, "", nil)
	done := make(chan error, 1)
	go func() {
		done <- s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2)})
	}()
	deadline := time.After(5 * time.Second)
	for len(fs.puts()) == 0 {
		select {
		case err := <-done:
			t.Fatalf("Write returned %v before PutObject was called", err)
		case <-deadline:
			t.Fatal("PutObject never called")
		case <-time.After(5 * time.Millisecond):
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Write returned %v while PutObject had not answered", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(fs.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if k := fs.puts()[0].key; !strings.HasPrefix(k, "dlq-v1-orders-pipeline-opensearch-") {
		t.Errorf("key without prefix = %q", k)
	}
}

// TestS3DLQErrors: transient failures are retried (same key: a retry never
// leaves two objects of one batch behind under different names); permanent
// ones fail the batch at once, naming bucket and key, with a hint.
func TestS3DLQErrors(t *testing.T) {
	tests := []struct {
		name    string
		fail    func(n int) error
		puts    int
		wantErr []string // substrings; nil = success
	}{
		{"transient then ok", func(n int) error {
			if n < 2 {
				return &smithy.GenericAPIError{Code: "SlowDown", Message: "reduce your request rate"}
			}
			return nil
		}, 3, nil},
		{"access denied", func(int) error {
			return &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
		}, 1, []string{"not dead-lettered", "put dead letters s3://dlq-bucket/dlq/dlq-v1-", "AccessDenied", "grant s3:PutObject"}},
		{"no such bucket", func(int) error {
			return &smithy.GenericAPIError{Code: "NoSuchBucket", Message: "The specified bucket does not exist"}
		}, 1, []string{"s3://dlq-bucket/dlq/", "NoSuchBucket", "create the bucket"}},
		{"other permanent", func(int) error { return errors.New("invalid argument") }, 1, []string{"s3://dlq-bucket/dlq/", "invalid argument"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newFake(t, rejectB)
			fs, h := &fakeS3{fail: tc.fail}, &fakeHealth{}
			s := s3Sink(t, srv.URL, fs, "dlq/", h)
			err := s.Write(t.Context(), []change.Event{ev(change.OpIndex, "a", 1), ev(change.OpIndex, "b", 2)})
			puts := fs.puts()
			if len(puts) != tc.puts {
				t.Errorf("%d PutObject calls, want %d", len(puts), tc.puts)
			}
			for _, p := range puts[1:] {
				if p.key != puts[0].key {
					t.Errorf("retry used key %s, first %s", p.key, puts[0].key)
				}
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if len(h.reports) != 1 {
					t.Errorf("health reports = %+v", h.reports)
				}
				return
			}
			if err == nil {
				t.Fatal("Write returned nil: the batch would be acknowledged without its dead letters")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(h.reports) != 0 || count(t, s.met.deadLettered) != 0 {
				t.Errorf("a failed put was counted as dead-lettered: %+v", h.reports)
			}
		})
	}
}

// TestS3DLQCanceled: a batch whose put keeps failing transiently is not
// acknowledged when ctx ends.
func TestS3DLQCanceled(t *testing.T) {
	_, srv := newFake(t, rejectB)
	fs := &fakeS3{fail: func(int) error { return &smithy.GenericAPIError{Code: "ServiceUnavailable"} }}
	s := s3Sink(t, srv.URL, fs, "", nil)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := s.Write(ctx, []change.Event{ev(change.OpIndex, "b", 2)}); err == nil {
		t.Fatal("Write returned nil")
	}
	if len(fs.puts()) < 2 {
		t.Errorf("%d puts: the transient failure was not retried", len(fs.puts()))
	}
}

// TestS3DLQObjectKey: key_path_prefix is a folder, with date patterns.
func TestS3DLQObjectKey(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 890, time.FixedZone("x", 3600))
	tests := []struct{ prefix, want, list string }{
		{"", "dlq-v1-p_1-opensearch-20250304T040607.000000890Z-0102030405060708.jsonl", ""},
		{"a/b", "a/b/dlq-v1-p_1-opensearch-20250304T040607.000000890Z-0102030405060708.jsonl", "a/b/"},
		{"a/b/", "a/b/dlq-v1-p_1-opensearch-20250304T040607.000000890Z-0102030405060708.jsonl", "a/b/"},
		{"dlq/%{yyyy}/%{MM}/%{dd}", "dlq/2025/03/04/dlq-v1-p_1-opensearch-20250304T040607.000000890Z-0102030405060708.jsonl", "dlq/"},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			cfg := &config.DLQS3{Bucket: "b", KeyPathPrefix: tc.prefix}
			d, err := newS3DLQ(cfg, &fakeS3{}, "p 1", nil)
			if err != nil {
				t.Fatal(err)
			}
			d.random = func(b []byte) (int, error) {
				for i := range b {
					b[i] = byte(i + 1)
				}
				return len(b), nil
			}
			got, err := d.objectKey(now)
			if err != nil || got != tc.want {
				t.Errorf("objectKey = %q, %v; want %q", got, err, tc.want)
			}
			if l := DLQListPrefix(cfg); l != tc.list {
				t.Errorf("DLQListPrefix = %q, want %q", l, tc.list)
			}
		})
	}
}

// TestS3DLQNeedsClient: a dlq.s3 block without an S3 client is a start-up
// error, not a silent fall-back to a local file.
func TestS3DLQNeedsClient(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.DLQS3 = &config.DLQS3{Bucket: "b", KeyPathPrefix: "x"}
	if _, err := New(cfg, Options{Registerer: prometheus.NewRegistry()}); err == nil || !strings.Contains(err.Error(), "no S3 client") {
		t.Errorf("New = %v", err)
	}
}
