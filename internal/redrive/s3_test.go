package redrive

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ddbsync/ddbsync/internal/config"
)

// fakeBucket is a hand-written ObjectReader over one bucket: pages of at
// most pageSize keys, in key order; getFails answers the first GetObject
// calls of a key with a transient error.
type fakeBucket struct {
	bucket   string
	objects  map[string]string
	pageSize int
	getFails map[string]int
	gets     []string
}

func (f *fakeBucket) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if aws.ToString(in.Bucket) != f.bucket {
		return nil, &smithy.GenericAPIError{Code: "NoSuchBucket"}
	}
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := &s3.ListObjectsV2Output{}
	if len(keys) > f.pageSize {
		keys = keys[:f.pageSize]
		out.IsTruncated, out.NextContinuationToken = aws.Bool(true), aws.String(keys[len(keys)-1])
	}
	for _, k := range keys {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k)})
	}
	return out, nil
}

func (f *fakeBucket) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	k := aws.ToString(in.Key)
	f.gets = append(f.gets, k)
	if f.getFails[k] > 0 {
		f.getFails[k]--
		return nil, &smithy.GenericAPIError{Code: "SlowDown"}
	}
	body, ok := f.objects[k]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey"}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(body))}, nil
}

func letter(id string, v int) string {
	return fmt.Sprintf(`{"table":"t","index":"i","id":%q,"action":"index","version":%d,"version_type":"external","document":{"pk":%q}}`+"\n", id, v, id)
}

// TestReadS3: every .jsonl object under the prefix, across pages, in key
// order, with transient failures retried; other objects are skipped; a
// broken object is an error naming it.
func TestReadS3(t *testing.T) {
	fb := &fakeBucket{bucket: "b", pageSize: 2, getFails: map[string]int{"dlq/2.jsonl": 1}, objects: map[string]string{
		"dlq/1.jsonl":     letter("a", 1) + letter("b", 2),
		"dlq/2.jsonl":     letter("c", 3),
		"dlq/3.jsonl":     letter("d", 4),
		"dlq/readme.txt":  "not letters",
		"other/9.jsonl":   letter("z", 9),
		"dlq/sub/4.jsonl": letter("e", 5),
	}}
	sink := &config.OpenSearch{DLQS3: &config.DLQS3{Bucket: "b", KeyPathPrefix: "dlq"}}
	read := NewReader(func(context.Context, *config.OpenSearch) (ObjectReader, error) { return fb, nil }, nil)
	tg := Target{Pipeline: "p", Sink: sink, S3: &S3Location{Bucket: "b", Prefix: "dlq/"}}
	letters, err := read(t.Context(), tg)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range letters {
		ids = append(ids, l.ID)
	}
	if got := strings.Join(ids, ","); got != "a,b,c,d,e" {
		t.Errorf("letters %s, want a,b,c,d,e", got)
	}
	if *letters[2].Version != 3 || string(letters[2].Document) != `{"pk":"c"}` {
		t.Errorf("letter c = %+v", letters[2])
	}

	fb.objects["dlq/5.jsonl"] = letter("f", 6) + "{cut short"
	_, err = read(t.Context(), tg)
	if err == nil || !strings.Contains(err.Error(), "s3://b/dlq/5.jsonl: line 2") {
		t.Errorf("broken object: err = %v, want it named with its line", err)
	}
	tg.S3.Bucket = "gone"
	if _, err := read(t.Context(), tg); err == nil || !strings.Contains(err.Error(), "list s3://gone/dlq/") || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("missing bucket: err = %v", err)
	}
}

func TestParseS3URL(t *testing.T) {
	tests := []struct {
		in      string
		want    S3Location
		ok, err bool
	}{
		{"s3://b/p/q/", S3Location{"b", "p/q/"}, true, false},
		{"s3://b", S3Location{"b", ""}, true, false},
		{"s3:///p", S3Location{}, true, true},
		{"dlq.jsonl", S3Location{}, false, false},
	}
	for _, tc := range tests {
		got, ok, err := ParseS3URL(tc.in)
		if got != tc.want || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("ParseS3URL(%q) = %+v, %v, %v", tc.in, got, ok, err)
		}
	}
}
