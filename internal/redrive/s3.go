package redrive

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// ObjectReader is the S3 subset redrive reads dead-letter objects with
// (*s3.Client implements it).
type ObjectReader interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3Location is a bucket and a key prefix holding dead-letter objects.
type S3Location struct {
	Bucket, Prefix string
}

// String is the location as s3://bucket/prefix.
func (l S3Location) String() string { return "s3://" + l.Bucket + "/" + l.Prefix }

// ParseS3URL reads s3://bucket/prefix; ok is false for anything that does
// not start with s3:// (a file name).
func ParseS3URL(s string) (l S3Location, ok bool, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return S3Location{}, false, nil
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return S3Location{}, true, fmt.Errorf("%s: no bucket (want s3://bucket/prefix/)", s)
	}
	return S3Location{Bucket: bucket, Prefix: prefix}, true, nil
}

// sinkLocation is where a sink with dlq.s3 writes: every object lies under
// its bucket and opensearch.DLQListPrefix.
func sinkLocation(o *config.OpenSearch) S3Location {
	return S3Location{Bucket: o.DLQS3.Bucket, Prefix: opensearch.DLQListPrefix(o.DLQS3)}
}

// within reports whether l lies in the sink's location sink: the same
// bucket and a prefix inside the sink's (its final '/' optional), such as
// one day's folder of a dated key_path_prefix.
func within(l, sink S3Location) bool {
	return l.Bucket == sink.Bucket && strings.HasPrefix(opensearch.DLQKeyPrefix(l.Prefix), sink.Prefix)
}

// readS3 reads the dead letters of every object under l whose name ends in
// .jsonl, in key order (for ddbsync's object names: time order per
// pipeline). Transient S3 failures are retried; an object that is not
// dead-letter lines is an error naming it.
func readS3(ctx context.Context, c ObjectReader, l S3Location, log *slog.Logger) ([]opensearch.DeadLetter, error) {
	var out []opensearch.DeadLetter
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(l.Bucket), Prefix: aws.String(l.Prefix)})
	for p.HasMorePages() {
		page, err := retry.Do(ctx, log, "list "+l.String(), func() (*s3.ListObjectsV2Output, error) { return p.NextPage(ctx) })
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", l, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !strings.HasSuffix(key, ".jsonl") {
				continue
			}
			letters, err := readObject(ctx, c, l.Bucket, key, log)
			if err != nil {
				return nil, err
			}
			out = append(out, letters...)
		}
	}
	return out, nil
}

func readObject(ctx context.Context, c ObjectReader, bucket, key string, log *slog.Logger) ([]opensearch.DeadLetter, error) {
	at := "s3://" + bucket + "/" + key
	body, err := retry.Do(ctx, log, "get "+at, func() ([]byte, error) {
		r, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, err
		}
		defer r.Body.Close()
		return io.ReadAll(r.Body)
	})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", at, err)
	}
	letters, err := opensearch.ReadDeadLetters(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	return letters, nil
}
