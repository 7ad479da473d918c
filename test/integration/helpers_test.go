//go:build integration

package integration

// Shared helpers for tests against the real local stack (test/stack, DESIGN.md §5): clients
// built from the environment that test/stack/env.sh exports, unique names, polling, DynamoDB
// Local's test-control actions and stream reading. A missing variable fails the test: these
// tests never skip.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	shared "github.com/ddbsync/ddbsync/test/e2e"
)

// stackHint tells how to get the environment the stack helpers need.
const stackHint = "run `make stack-up` and `. test/stack/env.sh` (or `make test`)"

// testControlTable is DynamoDB Local's test-control pseudo table (enabled by the stack's wrapper).
const testControlTable = "[TEST_CONTROL]"

// requireStack fails the test unless every variable test/stack/env.sh exports for the servers
// is set.
func requireStack(t *testing.T) {
	t.Helper()
	var missing []string
	for _, k := range []string{
		"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "AWS_ENDPOINT_URL_S3",
		"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "OPENSEARCH_URL", "DDBSYNC_EXPORT_BUCKET",
	} {
		if os.Getenv(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("local stack environment missing %s: %s", strings.Join(missing, ", "), stackHint)
	}
}

// stackEnv returns the variable k, failing the test when it is unset.
func stackEnv(t *testing.T, k string) string {
	t.Helper()
	return shared.Env(t, k)
}

// stackAWSConfig loads the SDK configuration for the stack; the endpoints come from the
// AWS_ENDPOINT_URL_* variables.
func stackAWSConfig(t *testing.T) aws.Config {
	t.Helper()
	requireStack(t)
	cfg, err := awsconfig.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return cfg
}

// isolatedAWSConfig is stackAWSConfig with an access key of the test's own. DynamoDB Local keeps
// one database per access key and region, and its test-control actions (ROLLOVER, DILATE_TIME)
// act on every table of that database: a test that uses them must not share it. Use the same
// config for the DynamoDB and the DynamoDB Streams client. Not for S3 (one fixed key there).
func isolatedAWSConfig(t *testing.T) aws.Config {
	t.Helper()
	cfg := stackAWSConfig(t)
	key := "ddbsynct" + randomHex(t, 8) // letters and digits only: DynamoDB Local's rule for keys
	cfg.Credentials = credentials.NewStaticCredentialsProvider(key, "ddbsynclocalsecret", "")
	return cfg
}

// dynamoDBClient, streamsClient and s3Client build the clients for cfg (S3 path-style: the
// stack's S3 server needs it).
func dynamoDBClient(cfg aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(cfg) }

func streamsClient(cfg aws.Config) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(cfg)
}

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// uniqueName returns "<prefix>-<test name>-<8 hex>", lower case with '-' separators: valid as a
// DynamoDB table name, an OpenSearch index name and an S3 key part.
func uniqueName(t *testing.T, prefix string) string {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			return r
		}
		return '-'
	}, strings.ToLower(t.Name()))
	if len(name) > 60 {
		name = name[:60]
	}
	return fmt.Sprintf("%s-%s-%s", prefix, name, randomHex(t, 8))
}

// poll calls check every interval until it reports done, returns an error, or timeout passes;
// the last error or "not done" fails the test with what (test/e2e's Poll).
func poll(t *testing.T, what string, timeout, interval time.Duration, check func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := shared.Poll(t.Context(), timeout, interval, check); err != nil {
		t.Fatalf("%s: not done after %v: %v", what, timeout, err)
	}
}

// createStreamTable creates table name (hash key "pk", type S) with a NEW_AND_OLD_IMAGES stream,
// waits until it is ACTIVE, deletes it when the test ends and returns the stream ARN.
func createStreamTable(t *testing.T, ddb *dynamodb.Client, name string) string {
	t.Helper()
	out, err := ddb.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification: &ddbtypes.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages,
		},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Logf("delete table %s: %v", name, err)
		}
	})
	waiter := dynamodb.NewTableExistsWaiter(ddb, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	if err := waiter.Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("table %s not active: %v", name, err)
	}
	if out.TableDescription.LatestStreamArn == nil {
		t.Fatalf("table %s has no stream ARN", name)
	}
	return *out.TableDescription.LatestStreamArn
}

// sendTestControl puts item into DynamoDB Local's [TEST_CONTROL] table: the stack's wrapper
// enables the actions. They act on every table of ddb's access key and region (see
// isolatedAWSConfig).
func sendTestControl(t *testing.T, ddb *dynamodb.Client, item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	if _, err := ddb.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(testControlTable), Item: item}); err != nil {
		t.Fatalf("test control %v: %v", item["ACTION"], err)
	}
}

// rolloverShards closes every open stream shard; each gets a child shard that takes new writes.
func rolloverShards(t *testing.T, ddb *dynamodb.Client) {
	t.Helper()
	sendTestControl(t, ddb, map[string]ddbtypes.AttributeValue{"ACTION": &ddbtypes.AttributeValueMemberS{Value: "ROLLOVER"}})
}

// dilateTime ages every stream record, shard and shard iterator by hours. Past 24 hours the
// records are trimmed; past 4 hours the open shards are rolled over (see stack_test.go).
func dilateTime(t *testing.T, ddb *dynamodb.Client, hours int) {
	t.Helper()
	sendTestControl(t, ddb, map[string]ddbtypes.AttributeValue{
		"ACTION": &ddbtypes.AttributeValueMemberS{Value: "DILATE_TIME"},
		"HOURS":  &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(hours)},
	})
}

// describeShards returns every shard of the stream, following DescribeStream's pages.
func describeShards(t *testing.T, streams *dynamodbstreams.Client, streamArn string) []streamtypes.Shard {
	t.Helper()
	var shards []streamtypes.Shard
	var start *string
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatalf("describe stream %s: more than 1000 pages", streamArn)
		}
		out, err := streams.DescribeStream(t.Context(), &dynamodbstreams.DescribeStreamInput{
			StreamArn: aws.String(streamArn), ExclusiveStartShardId: start,
		})
		if err != nil {
			t.Fatalf("describe stream %s: %v", streamArn, err)
		}
		shards = append(shards, out.StreamDescription.Shards...)
		start = out.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return shards
		}
	}
}

// shardIterator gets an iterator of type typ (seq only for the *_SEQUENCE_NUMBER types).
func shardIterator(ctx context.Context, streams *dynamodbstreams.Client, streamArn, shardID string, typ streamtypes.ShardIteratorType, seq string) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(streamArn), ShardId: aws.String(shardID), ShardIteratorType: typ}
	if seq != "" {
		in.SequenceNumber = aws.String(seq)
	}
	out, err := streams.GetShardIterator(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get shard iterator %s %s: %w", shardID, typ, err)
	}
	return out.ShardIterator, nil
}

// shardRead is what readShard saw.
type shardRead struct {
	Records []streamtypes.Record
	Closed  bool // GetRecords returned no NextShardIterator: the shard is closed and fully read
}

// readShard reads shardID from TRIM_HORIZON until it has at least want records or reaches the
// end of a closed shard; it fails the test on any error or after timeout.
func readShard(t *testing.T, streams *dynamodbstreams.Client, streamArn, shardID string, want int, timeout time.Duration) shardRead {
	t.Helper()
	it, err := shardIterator(t.Context(), streams, streamArn, shardID, streamtypes.ShardIteratorTypeTrimHorizon, "")
	if err != nil {
		t.Fatal(err)
	}
	var got shardRead
	poll(t, fmt.Sprintf("read %d records from %s", want, shardID), timeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
		if err != nil {
			return false, fmt.Errorf("get records %s: %w", shardID, err)
		}
		got.Records = append(got.Records, out.Records...)
		it = out.NextShardIterator
		got.Closed = it == nil
		return got.Closed || len(got.Records) >= want, nil
	})
	return got
}

// isErr reports whether err wraps an error of type E (e.g. *streamtypes.TrimmedDataAccessException).
func isErr[E error](err error) bool {
	var target E
	return errors.As(err, &target)
}

// openSearchDo sends a JSON request to $OPENSEARCH_URL+path and returns the status and body;
// no answer fails the test.
func openSearchDo(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	status, b := shared.Do(t.Context(), stackEnv(t, "OPENSEARCH_URL"), method, path, body)
	if status == 0 {
		t.Fatalf("%s %s: %s", method, path, b)
	}
	return status, b
}

// httpAnswer is the status and body of a GET.
type httpAnswer struct {
	status int
	body   string
}

// httpGet GETs http://addr+path (the metrics server's /metrics, /healthz,
// /readyz); no answer fails the test.
func httpGet(t *testing.T, addr, path string) httpAnswer {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpAnswer{resp.StatusCode, string(b)}
}

// grepLines is the lines of s that hold word (in any case), for a failure
// message: the last 4000 bytes of them.
func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(strings.ToLower(l), strings.ToLower(word)) {
			out = append(out, l)
		}
	}
	return shared.Tail(strings.Join(out, "\n"), 4000)
}
