//go:build integration

package integration

// Proof that the local stack is the real thing, and a record of the DynamoDB Local behaviour the
// product relies on: stream records and their shape, shard rollover (ROLLOVER), trimming
// (DILATE_TIME), OpenSearch external versions and S3 path-style objects.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func ddbS(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
func ddbN(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberN{Value: v} }

// imageN returns the number attribute name of a stream image, or "" when absent.
func imageN(img map[string]streamtypes.AttributeValue, name string) string {
	if v, ok := img[name].(*streamtypes.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

func recordKey(r streamtypes.Record) string {
	if v, ok := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// TestStackDynamoDBStreams: INSERT/MODIFY/REMOVE records with both images, AWS-shaped sequence
// numbers and timestamps, then ROLLOVER: the shard closes, a child takes the next write.
func TestStackDynamoDBStreams(t *testing.T) {
	cfg := isolatedAWSConfig(t) // ROLLOVER acts on every table of the access key
	ddb, streams := dynamoDBClient(cfg), streamsClient(cfg)
	table := uniqueName(t, "stack")
	streamArn := createStreamTable(t, ddb, table)
	ctx := t.Context()

	key := map[string]ddbtypes.AttributeValue{"pk": ddbS("k1")}
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("k1"), "v": ddbN("1")}}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
		UpdateExpression:          aws.String("SET v = :v"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": ddbN("2")}}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if _, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key}); err != nil {
		t.Fatalf("delete: %v", err)
	}

	shards := describeShards(t, streams, streamArn)
	if len(shards) != 1 || shards[0].SequenceNumberRange.EndingSequenceNumber != nil {
		t.Fatalf("want one open shard, got %+v", shards)
	}
	parent := aws.ToString(shards[0].ShardId)
	got := readShard(t, streams, streamArn, parent, 3, 10*time.Second)
	if len(got.Records) != 3 {
		t.Fatalf("want 3 records, got %d", len(got.Records))
	}
	want := []struct {
		event    streamtypes.OperationType
		old, new string // image attribute v, "" when the image is absent
	}{
		{streamtypes.OperationTypeInsert, "", "1"},
		{streamtypes.OperationTypeModify, "1", "2"},
		{streamtypes.OperationTypeRemove, "2", ""},
	}
	prev := new(big.Int)
	for i, r := range got.Records {
		d := r.Dynamodb
		if r.EventName != want[i].event || recordKey(r) != "k1" ||
			imageN(d.OldImage, "v") != want[i].old || imageN(d.NewImage, "v") != want[i].new {
			t.Errorf("record %d: %s key=%q old.v=%q new.v=%q, want %s k1 %q %q", i, r.EventName, recordKey(r),
				imageN(d.OldImage, "v"), imageN(d.NewImage, "v"), want[i].event, want[i].old, want[i].new)
		}
		if d.StreamViewType != streamtypes.StreamViewTypeNewAndOldImages {
			t.Errorf("record %d: view type %s", i, d.StreamViewType)
		}
		seq := aws.ToString(d.SequenceNumber)
		n, ok := new(big.Int).SetString(seq, 10)
		if !ok || len(seq) != 21 || n.Cmp(prev) <= 0 {
			t.Errorf("record %d: sequence number %q: want 21 digits, increasing", i, seq)
		} else {
			prev = n
		}
		if ts := aws.ToTime(d.ApproximateCreationDateTime); ts.IsZero() || !ts.Equal(ts.Truncate(time.Second)) {
			t.Errorf("record %d: ApproximateCreationDateTime %v is not whole seconds", i, ts)
		}
	}

	rolloverShards(t, ddb)
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("k2"), "v": ddbN("3")}}); err != nil {
		t.Fatalf("put after rollover: %v", err)
	}
	var child string
	poll(t, "child shard after ROLLOVER", 10*time.Second, 100*time.Millisecond, func(context.Context) (bool, error) {
		for _, s := range describeShards(t, streams, streamArn) {
			switch {
			case aws.ToString(s.ShardId) == parent && s.SequenceNumberRange.EndingSequenceNumber == nil:
				return false, fmt.Errorf("shard %s is still open", parent)
			case aws.ToString(s.ParentShardId) == parent:
				child = aws.ToString(s.ShardId)
			}
		}
		return child != "", nil
	})

	// The closed parent reads to its end: the same 3 records, then no next iterator.
	if p := readShard(t, streams, streamArn, parent, 100, 10*time.Second); !p.Closed || len(p.Records) != 3 {
		t.Errorf("closed parent: %d records, closed=%v; want 3, closed", len(p.Records), p.Closed)
	}
	c := readShard(t, streams, streamArn, child, 1, 10*time.Second)
	if len(c.Records) != 1 || c.Records[0].EventName != streamtypes.OperationTypeInsert || recordKey(c.Records[0]) != "k2" {
		t.Fatalf("child shard %s: want the INSERT of k2, got %+v", child, c.Records)
	}
	t.Logf("ROLLOVER: shard %s closed, child %s has the next write", parent, child)
}

// TestStackDilateTime records what DILATE_TIME 25 (hours) does to a stream, as DynamoDB Local
// 1.25.1 behaves:
//   - an iterator taken before it answers ExpiredIteratorException (iterators age too) or
//     TrimmedDataAccessException (its records are gone too; Local answers either);
//   - the open shard, now older than 4 h, is closed and gets a child shard;
//   - GetShardIterator still succeeds on the old shard, for TRIM_HORIZON and for
//     AFTER_SEQUENCE_NUMBER of a record that was read before, but GetRecords on those iterators
//     answers TrimmedDataAccessException (unlike AWS, where TRIM_HORIZON would silently start at
//     the oldest record left);
//   - the child shard reads normally and takes new writes.
func TestStackDilateTime(t *testing.T) {
	cfg := isolatedAWSConfig(t) // DILATE_TIME acts on every table of the access key
	ddb, streams := dynamoDBClient(cfg), streamsClient(cfg)
	table := uniqueName(t, "stack")
	streamArn := createStreamTable(t, ddb, table)
	ctx := t.Context()

	put := func(pk string) {
		t.Helper()
		if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: map[string]ddbtypes.AttributeValue{"pk": ddbS(pk)}}); err != nil {
			t.Fatalf("put %s: %v", pk, err)
		}
	}
	put("a")
	shards := describeShards(t, streams, streamArn)
	if len(shards) != 1 {
		t.Fatalf("want one shard, got %d", len(shards))
	}
	shard := aws.ToString(shards[0].ShardId)
	before := readShard(t, streams, streamArn, shard, 1, 10*time.Second)
	checkpoint := aws.ToString(before.Records[0].Dynamodb.SequenceNumber)
	oldIter, err := shardIterator(ctx, streams, streamArn, shard, streamtypes.ShardIteratorTypeTrimHorizon, "")
	if err != nil {
		t.Fatal(err)
	}

	dilateTime(t, ddb, 25)

	// The old iterator is both expired (older than 15 minutes) and points at
	// trimmed records; DynamoDB Local answers either, seen both ways in CI.
	// ddbsync takes a fresh iterator after either answer (classExpired,
	// onTrimmed), so either is what the product must handle.
	_, err = streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: oldIter})
	if !isErr[*streamtypes.ExpiredIteratorException](err) && !isErr[*streamtypes.TrimmedDataAccessException](err) {
		t.Errorf("GetRecords with an iterator from before DILATE_TIME: %v, want ExpiredIteratorException or TrimmedDataAccessException", err)
	}

	for _, typ := range []streamtypes.ShardIteratorType{streamtypes.ShardIteratorTypeTrimHorizon, streamtypes.ShardIteratorTypeAfterSequenceNumber} {
		seq := ""
		if typ == streamtypes.ShardIteratorTypeAfterSequenceNumber {
			seq = checkpoint
		}
		it, err := shardIterator(ctx, streams, streamArn, shard, typ, seq)
		if err != nil {
			t.Errorf("after DILATE_TIME: %v (want an iterator; the error comes from GetRecords)", err)
			continue
		}
		_, err = streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
		if !isErr[*streamtypes.TrimmedDataAccessException](err) {
			t.Errorf("GetRecords(%s) on the aged shard: %v, want TrimmedDataAccessException", typ, err)
		} else {
			t.Logf("GetRecords(%s) after DILATE_TIME 25: %v", typ, err)
		}
	}

	var child string
	for _, s := range describeShards(t, streams, streamArn) {
		if aws.ToString(s.ShardId) == shard && s.SequenceNumberRange.EndingSequenceNumber == nil {
			t.Errorf("shard %s is still open after DILATE_TIME 25", shard)
		}
		if aws.ToString(s.ParentShardId) == shard {
			child = aws.ToString(s.ShardId)
		}
	}
	if child == "" {
		t.Fatalf("no child of %s after DILATE_TIME 25", shard)
	}
	put("b")
	c := readShard(t, streams, streamArn, child, 1, 10*time.Second)
	if len(c.Records) != 1 || recordKey(c.Records[0]) != "b" {
		t.Fatalf("child shard %s: want the write of b, got %+v", child, c.Records)
	}
}

// TestStackOpenSearchExternalVersions: external versioning rejects equal and lower versions.
func TestStackOpenSearchExternalVersions(t *testing.T) {
	requireStack(t)
	index := uniqueName(t, "stack")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // t.Context() is done
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, stackEnv(t, "OPENSEARCH_URL")+"/"+index, nil)
		if err != nil {
			return
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	doc := []byte(`{"pk":"k1","v":1}`)
	for _, step := range []struct {
		version int
		want    []int
	}{
		{5, []int{201}},
		{5, []int{409}}, // equal
		{4, []int{409}}, // lower
		{6, []int{200, 201}},
	} {
		code, body := openSearchDo(t, "PUT", fmt.Sprintf("/%s/_doc/k1?version_type=external&version=%d", index, step.version), doc)
		ok := false
		for _, w := range step.want {
			ok = ok || code == w
		}
		if !ok {
			t.Fatalf("index version %d: HTTP %d %s, want %v", step.version, code, body, step.want)
		}
	}
	code, body := openSearchDo(t, "GET", "/"+index+"/_doc/k1", nil)
	var got struct {
		Version int `json:"_version"`
	}
	if code != 200 || json.Unmarshal(body, &got) != nil || got.Version != 6 {
		t.Fatalf("get: HTTP %d %s, want _version 6", code, body)
	}
}

// TestStackS3: put and get an object in $DDBSYNC_EXPORT_BUCKET with path-style addressing.
func TestStackS3(t *testing.T) {
	c := s3Client(stackAWSConfig(t))
	bucket := stackEnv(t, "DDBSYNC_EXPORT_BUCKET")
	key := "stack-test/" + uniqueName(t, "obj") + ".json"
	body := []byte(`{"hello":"s3"}`)
	ctx := t.Context()

	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("head bucket %s (stack-up creates it): %v", bucket, err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // t.Context() is done
		defer cancel()
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			t.Logf("delete s3://%s/%s: %v", bucket, key, err)
		}
	})
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("get s3://%s/%s: %q (%v), want %q", bucket, key, got, err, body)
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != key {
		t.Fatalf("list s3://%s/%s: %+v, %v", bucket, key, list, err)
	}
}
