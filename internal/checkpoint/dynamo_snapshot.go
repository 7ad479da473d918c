package checkpoint

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Snapshot reads every record of the given tables (stream, backfill and
// table-level) with the node holding each live lease ("" when free or
// expired), for `ddbsync status`. It takes no lease.
func (s *DynamoStore) Snapshot(ctx context.Context, tables []string) (map[string]Progress, map[string]string, error) {
	state, owners := map[string]Progress{}, map[string]string{}
	now := s.now().UnixMilli()
	for _, t := range tables {
		for _, kind := range []string{"stream", "backfill", "table"} {
			g := kind + "/" + t
			var start map[string]types.AttributeValue
			for {
				out, err := s.api.Query(ctx, &dynamodb.QueryInput{
					TableName: aws.String(s.table), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
					KeyConditionExpression:    aws.String("#pk = :pk"),
					ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
					ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(s.pipeline + "|" + g)},
				})
				if err != nil {
					return nil, nil, fmt.Errorf("read state of table %s from %s: %w", t, s.table, err)
				}
				for _, it := range out.Items {
					sk, _ := it[attrSK].(*types.AttributeValueMemberS)
					if sk == nil {
						continue
					}
					r, err := decodeRecord(sk.Value, it)
					if err != nil {
						return nil, nil, err
					}
					state[sk.Value] = r.p
					if r.owner != "" && r.expires > now {
						owners[sk.Value] = r.owner
					}
				}
				if len(out.LastEvaluatedKey) == 0 {
					break
				}
				start = out.LastEvaluatedKey
			}
		}
	}
	return state, owners, nil
}
