package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoAPI is the DynamoDB subset the shared state store uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// The state table's attributes. pk is "<pipeline>|<group>", where the
// group is a key's first two segments ("stream/<table>",
// "backfill/<table>", "table/<table>") or "nodes"; sk is the full key (or
// the node id). One table holds any number of pipelines, and a table's
// records of one kind can be listed (and forgotten) with one Query.
const (
	attrPK       = "pk"
	attrSK       = "sk"
	attrOwner    = "owner"    // node holding the lease; "" when free
	attrLease    = "lease"    // lease counter, bumped by every take
	attrExpires  = "expires"  // lease expiry, Unix milliseconds; 0 when free
	attrProgress = "progress" // Progress as JSON
	attrDone     = "done"     // the partition is complete
	attrTTL      = "ttl"      // DynamoDB TTL (Unix seconds) on finished records
	// attrApplied (stream shards, Unix milliseconds): every record of the
	// shard written before it is applied and checkpointed, as the lease's
	// owner last published it (see PublishApplied).
	attrApplied = "applied"
	// attrShards (node records): how many stream shard leases the node
	// held at its last heartbeat, for the balance of the nodes' shares.
	attrShards = "shards"
)

// nodesGroup is the group of the node heartbeat items.
const nodesGroup = "nodes"

// group is the part of a key that goes into the partition key: its first
// two segments. Table names cannot hold a "/".
func group(key string) string {
	i := strings.IndexByte(key, '/')
	if i < 0 {
		return key
	}
	j := strings.IndexByte(key[i+1:], '/')
	if j < 0 {
		return key
	}
	return key[:i+1+j]
}

// kind is a key's first segment (a metric label).
func kind(key string) string {
	k, _, _ := strings.Cut(key, "/")
	return k
}

// expiresWhenDone reports whether a finished record may expire by TTL: a
// partition's. Table-level records (a backfill that is done, the stream
// start, generation, floor) never do.
func expiresWhenDone(key string) bool { return isPartition(key) }

// isPartition reports whether key names a partition — a shard, an export
// data file or a scan segment — rather than a table-level record.
func isPartition(key string) bool {
	parts := strings.SplitN(key, "/", 4)
	return len(parts) == 4 && (parts[2] == "shard" || parts[2] == "export" || parts[2] == "scan")
}

// record is one partition item as read.
type record struct {
	owner   string
	lease   int64
	expires int64
	applied int64
	p       Progress
}

func (s *DynamoStore) itemKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: s.pipeline + "|" + group(key)},
		attrSK: &types.AttributeValueMemberS{Value: key},
	}
}

func decodeRecord(key string, item map[string]types.AttributeValue) (record, error) {
	var r record
	if v, ok := item[attrOwner].(*types.AttributeValueMemberS); ok {
		r.owner = v.Value
	}
	var err error
	if r.lease, err = number(item, attrLease); err != nil {
		return r, fmt.Errorf("state record %s: %w", key, err)
	}
	if r.expires, err = number(item, attrExpires); err != nil {
		return r, fmt.Errorf("state record %s: %w", key, err)
	}
	if r.applied, err = number(item, attrApplied); err != nil {
		return r, fmt.Errorf("state record %s: %w", key, err)
	}
	if v, ok := item[attrProgress].(*types.AttributeValueMemberS); ok && v.Value != "" {
		if err := json.Unmarshal([]byte(v.Value), &r.p); err != nil {
			return r, fmt.Errorf("state record %s: progress: %w", key, err)
		}
	}
	if v, ok := item[attrDone].(*types.AttributeValueMemberBOOL); ok && v.Value {
		r.p.Done = true
	}
	return r, nil
}

func number(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: bad number %q", name, v.Value)
	}
	return n, nil
}

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func progressValue(p Progress) (types.AttributeValue, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return str(string(b)), nil
}

// conditionFailed reports a failed condition expression.
func conditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// placeholder matches an expression's #name and :value placeholders.
var placeholder = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

// prune deletes the names and values no expression uses.
func prune(names map[string]string, vals map[string]types.AttributeValue, exprs ...string) {
	used := map[string]bool{}
	for _, e := range exprs {
		for _, m := range placeholder.FindAllString(e, -1) {
			used[m] = true
		}
	}
	for k := range names {
		if !used[k] {
			delete(names, k)
		}
	}
	for k := range vals {
		if !used[k] {
			delete(vals, k)
		}
	}
}
