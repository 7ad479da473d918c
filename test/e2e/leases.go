//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
)

// LeaseRecord is one partition's record in a shared state table, as a
// test reads it (the layout the README's "State table" describes).
type LeaseRecord struct {
	Owner    string // node holding the lease; "" when free
	Lease    int64  // lease counter, bumped by every take
	Done     bool
	Progress string              // the checkpoint as JSON
	Saved    checkpoint.Progress // Progress decoded
}

// LeaseRecords reads the records of one kind ("stream", "backfill") and
// sub-kind ("shard", "export", "scan") of pipeline's table from the state
// table, keyed by what follows "<kind>/<table>/<sub>/" in their sort key.
// A state table that does not exist yet has none.
func LeaseRecords(ctx context.Context, ddb *dynamodb.Client, stateTable, pipeline, kind, table, sub string) (map[string]LeaseRecord, error) {
	out := map[string]LeaseRecord{}
	prefix := kind + "/" + table + "/" + sub + "/"
	var start map[string]types.AttributeValue
	for {
		resp, err := ddb.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(stateTable), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk":     &types.AttributeValueMemberS{Value: pipeline + "|" + kind + "/" + table},
				":prefix": &types.AttributeValueMemberS{Value: prefix},
			},
		})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("query state table %s for %s*: %w", stateTable, prefix, err)
		}
		for _, it := range resp.Items {
			sk, _ := it["sk"].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			r, err := decodeLeaseRecord(it)
			if err != nil {
				return nil, fmt.Errorf("state table %s record %s: %w", stateTable, sk.Value, err)
			}
			out[strings.TrimPrefix(sk.Value, prefix)] = r
		}
		if len(resp.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = resp.LastEvaluatedKey
	}
}

func decodeLeaseRecord(it map[string]types.AttributeValue) (LeaseRecord, error) {
	var r LeaseRecord
	if o, ok := it["owner"].(*types.AttributeValueMemberS); ok {
		r.Owner = o.Value
	}
	if n, ok := it["lease"].(*types.AttributeValueMemberN); ok {
		v, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return r, fmt.Errorf("lease %q: %w", n.Value, err)
		}
		r.Lease = v
	}
	if d, ok := it["done"].(*types.AttributeValueMemberBOOL); ok {
		r.Done = d.Value
	}
	if p, ok := it["progress"].(*types.AttributeValueMemberS); ok {
		r.Progress = p.Value
		if p.Value != "" {
			if err := json.Unmarshal([]byte(p.Value), &r.Saved); err != nil {
				return r, fmt.Errorf("progress %s: %w", p.Value, err)
			}
		}
	}
	return r, nil
}
