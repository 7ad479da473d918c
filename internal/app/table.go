package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// TableAPI is the DynamoDB call start-up needs.
type TableAPI interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// tableInfo is what DescribeTable tells about a configured table.
type tableInfo struct {
	Name      string
	Key       ddbjson.Key
	StreamARN string
	ViewType  types.StreamViewType
	ItemCount int64
}

// describeTable reads the key schema and stream of a table. With a stream
// block, a missing stream or a KEYS_ONLY/OLD_IMAGE view is an error that
// says how to fix it.
func describeTable(ctx context.Context, api TableAPI, t config.Table, needStream bool, local bool) (tableInfo, error) {
	// DynamoDB Local knows tables by name only; AWS accepts the ARN, which
	// is what cross-account tables need.
	name := t.TableARN
	if local || name == "" {
		name = t.TableName
	}
	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return tableInfo{}, fmt.Errorf("table %s (from %s) does not exist in this account/region: %w", t.TableName, t.TableARN, err)
		}
		return tableInfo{}, fmt.Errorf("describe table %s: %w", t.TableName, err)
	}
	d := out.Table
	info := tableInfo{Name: t.TableName, StreamARN: aws.ToString(d.LatestStreamArn), ItemCount: aws.ToInt64(d.ItemCount)}
	for _, k := range d.KeySchema {
		switch k.KeyType {
		case types.KeyTypeHash:
			info.Key.Partition = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			info.Key.Sort = aws.ToString(k.AttributeName)
		}
	}
	if info.Key.Partition == "" {
		return tableInfo{}, fmt.Errorf("describe table %s: no partition key in the key schema", t.TableName)
	}
	if !needStream {
		return info, nil
	}
	spec := d.StreamSpecification
	if spec == nil || !aws.ToBool(spec.StreamEnabled) || info.StreamARN == "" {
		return tableInfo{}, fmt.Errorf("table %s has no stream enabled: enable DynamoDB Streams with view type NEW_AND_OLD_IMAGES (aws dynamodb update-table --table-name %s --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES)", t.TableName, t.TableName)
	}
	info.ViewType = spec.StreamViewType
	if info.ViewType != types.StreamViewTypeNewImage && info.ViewType != types.StreamViewTypeNewAndOldImages {
		return tableInfo{}, fmt.Errorf("table %s has stream view type %s, which carries no new item images: the stream view type must be NEW_IMAGE or NEW_AND_OLD_IMAGES (a stream's view type cannot be changed: disable the stream and enable it again with NEW_AND_OLD_IMAGES)", t.TableName, info.ViewType)
	}
	return info, nil
}
