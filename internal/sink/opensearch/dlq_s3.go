package opensearch

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/expr"
	"github.com/ddbsync/ddbsync/internal/retry"
)

// ObjectPutter is the one S3 call the dlq.s3 dead-letter queue makes
// (*s3.Client implements it).
type ObjectPutter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// DLQObjectTimeLayout is the time in a dead-letter object's name: UTC,
// fixed width, so that names sort by time.
const DLQObjectTimeLayout = "20060102T150405.000000000Z"

// s3DLQ writes each batch of dead letters as one S3 object of JSON lines
// (the lines of the dead-letter file) under key_path_prefix:
//
//	<prefix>/dlq-v1-<pipeline>-opensearch-<UTC time>-<random hex>.jsonl
//
// v1 is the version of ddbsync's dead-letter line format. A batch counts as
// dead-lettered only once PutObject has succeeded.
type s3DLQ struct {
	client   ObjectPutter
	bucket   string
	prefix   *expr.Template // key_path_prefix, with %{...} date patterns
	owner    string         // expected bucket owner; "" checks nothing
	pipeline string
	log      *slog.Logger
	random   func([]byte) (int, error) // crypto/rand.Read; tests replace it
}

func newS3DLQ(cfg *config.DLQS3, client ObjectPutter, pipeline string, log *slog.Logger) (*s3DLQ, error) {
	if client == nil {
		return nil, errors.New("dlq.s3 is set but the sink was given no S3 client to write dead letters with")
	}
	prefix, err := expr.Parse(cfg.KeyPathPrefix)
	if err != nil {
		return nil, fmt.Errorf("dlq.s3.key_path_prefix: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &s3DLQ{client: client, bucket: cfg.Bucket, owner: cfg.BucketOwner, prefix: prefix, pipeline: safeFileName(pipeline), log: log, random: rand.Read}, nil
}

// where names the queue for logs and health: s3://bucket/prefix.
func (d *s3DLQ) where() string {
	return "s3://" + d.bucket + "/" + d.prefix.String()
}

// objectKey is the key of a batch written at now.
func (d *s3DLQ) objectKey(now time.Time) (string, error) {
	prefix, err := d.prefix.Eval(timeSource(now))
	if err != nil {
		return "", fmt.Errorf("dlq.s3.key_path_prefix %q: %w", d.prefix, err)
	}
	var r [8]byte
	if _, err := d.random(r[:]); err != nil {
		return "", fmt.Errorf("dead-letter object name: %w", err)
	}
	return DLQKeyPrefix(prefix) + "dlq-v1-" + d.pipeline + "-opensearch-" + now.UTC().Format(DLQObjectTimeLayout) +
		"-" + hex.EncodeToString(r[:]) + ".jsonl", nil
}

// DLQKeyPrefix is a key_path_prefix as a folder: "" stays "", anything else
// ends with exactly one '/'.
func DLQKeyPrefix(prefix string) string {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return prefix
	}
	return prefix + "/"
}

// DLQListPrefix is the S3 prefix under which every object of a dlq.s3
// block lies: key_path_prefix up to its first date pattern.
func DLQListPrefix(cfg *config.DLQS3) string {
	p := cfg.KeyPathPrefix
	if i := strings.Index(p, "%{"); i >= 0 {
		return p[:i]
	}
	return DLQKeyPrefix(p)
}

// write puts items as one object and returns its s3:// address. Transient
// S3 failures (throttling, 5xx, broken connections) are retried with
// backoff until ctx ends; others fail at once, naming bucket and key.
func (d *s3DLQ) write(ctx context.Context, items []deadItem, now time.Time) (string, error) {
	var buf []byte
	for _, it := range items {
		var err error
		if buf, err = appendDLQLine(buf, it, now); err != nil {
			return "", err
		}
	}
	key, err := d.objectKey(now)
	if err != nil {
		return "", err
	}
	at := "s3://" + d.bucket + "/" + key
	_, err = retry.Do(ctx, d.log, "put dead letters "+at, func() (*s3.PutObjectOutput, error) {
		in := &s3.PutObjectInput{
			Bucket:      aws.String(d.bucket),
			Key:         aws.String(key),
			Body:        bytes.NewReader(buf),
			ContentType: aws.String("application/x-ndjson"),
		}
		if d.owner != "" {
			in.ExpectedBucketOwner = aws.String(d.owner)
		}
		return d.client.PutObject(ctx, in)
	})
	if err != nil {
		return "", fmt.Errorf("put dead letters %s: %w%s", at, err, s3Hint(err))
	}
	return at, nil
}

// s3Hint says what to do about the permanent failures an operator can fix.
func s3Hint(err error) string {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return ""
	}
	switch api.ErrorCode() {
	case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		return " (grant s3:PutObject on the bucket to ddbsync's credentials, or set dlq.s3.sts_role_arn to a role that has it)"
	case "NoSuchBucket":
		return " (create the bucket, or fix dlq.s3.bucket and dlq.s3.region)"
	}
	return ""
}

func (d *s3DLQ) Close() error { return nil }

// timeSource evaluates the date patterns of key_path_prefix at one time.
type timeSource time.Time

func (t timeSource) Metadata(string) (string, bool) { return "", false }
func (t timeSource) Pointer(string) (string, bool)  { return "", false }
func (t timeSource) Time() time.Time                { return time.Time(t) }
