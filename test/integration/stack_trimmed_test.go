//go:build integration

package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// TestStackTrimmedEmptyShard records the DynamoDB Local 1.25.1 behaviour behind issue 8 class 1,
// which the stream reader's trimmed-data rule (internal/source/stream/trimmed.go) relies on:
//   - sequence numbers are shared by every table of a Local database;
//   - a TRIM_HORIZON iterator taken while its shard is empty answers
//     TrimmedDataAccessException once the shard's first record arrives with a higher sequence
//     number than the iterator's position (another table wrote in between), on a fresh table and
//     on a child shard after ROLLOVER alike;
//   - a fresh TRIM_HORIZON iterator taken after that first record reads normally, and so does one
//     taken after the shard was closed: the answer is not proof that anything was trimmed.
func TestStackTrimmedEmptyShard(t *testing.T) {
	cfg := isolatedAWSConfig(t) // ROLLOVER acts on every table of the access key
	ddb, streams := dynamoDBClient(cfg), streamsClient(cfg)
	ta, tb := uniqueName(t, "stacka"), uniqueName(t, "stackb")
	arnA := createStreamTable(t, ddb, ta)
	createStreamTable(t, ddb, tb)
	ctx := t.Context()
	put := func(table, pk string) {
		t.Helper()
		if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{"pk": ddbS(pk)}}); err != nil {
			t.Fatalf("put %s: %v", pk, err)
		}
	}
	openShard := func() string {
		t.Helper()
		for _, s := range describeShards(t, streams, arnA) {
			if s.SequenceNumberRange.EndingSequenceNumber == nil {
				return aws.ToString(s.ShardId)
			}
		}
		t.Fatal("no open shard")
		return ""
	}
	trimHorizon := func(shard string) *string {
		t.Helper()
		it, err := shardIterator(ctx, streams, arnA, shard, streamtypes.ShardIteratorTypeTrimHorizon, "")
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	firstRecord := func(it *string) (string, error) {
		out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
		if err != nil {
			return "", err
		}
		if len(out.Records) == 0 {
			return "", nil
		}
		return recordKey(out.Records[0]), nil
	}
	for round, want := range []string{"a1", "a2"} {
		if round > 0 {
			rolloverShards(t, ddb)
		}
		shard := openShard()
		early := trimHorizon(shard) // taken while the shard is empty
		put(tb, "b"+want)           // another table takes the next sequence number
		put(ta, want)
		if _, err := firstRecord(early); !isErr[*streamtypes.TrimmedDataAccessException](err) {
			t.Fatalf("round %d: GetRecords on an iterator taken while %s was empty: %v, want TrimmedDataAccessException (Local changed: revisit trimmed.go)", round, shard, err)
		}
		if got, err := firstRecord(trimHorizon(shard)); err != nil || got != want {
			t.Fatalf("round %d: fresh TRIM_HORIZON on %s: %q %v, want %s", round, shard, got, err, want)
		}
		rolloverShards(t, ddb)
		if got, err := firstRecord(trimHorizon(shard)); err != nil || got != want {
			t.Fatalf("round %d: fresh TRIM_HORIZON on closed %s: %q %v, want %s", round, shard, got, err, want)
		}
	}
}
