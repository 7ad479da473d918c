package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/source/stream"
)

// TableAPI is the DynamoDB call start-up needs.
type TableAPI interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// tableInfo is what DescribeTable tells about a configured table.
type tableInfo struct {
	Name string
	Key  ddbjson.Key
	// StreamARN is the table's latest stream; StreamEnabled says whether
	// it is on (a disabled stream stays the latest until another is enabled).
	StreamARN     string
	StreamEnabled bool
	ViewType      types.StreamViewType
	ItemCount     int64
}

// errTableMissing: DescribeTable answered ResourceNotFoundException.
var errTableMissing = errors.New("table does not exist")

// describeTable reads the key schema and stream of a table.
func describeTable(ctx context.Context, api TableAPI, t config.Table, local bool) (tableInfo, error) {
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
			return tableInfo{}, fmt.Errorf("table %s (from %s) does not exist in this account/region: %w: %w", t.TableName, t.TableARN, errTableMissing, err)
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
	if spec := d.StreamSpecification; spec != nil && aws.ToBool(spec.StreamEnabled) && info.StreamARN != "" {
		info.StreamEnabled, info.ViewType = true, spec.StreamViewType
	}
	return info, nil
}

// errNoStream says how to enable a stream ddbsync can use.
func errNoStream(table string) error {
	return fmt.Errorf("table %s has no stream enabled: enable DynamoDB Streams with view type NEW_AND_OLD_IMAGES (aws dynamodb update-table --table-name %s --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES)", table, table)
}

// checkStartStream refuses, at start, a stream block the table cannot
// serve: no stream, or a view that cannot keep the index equal to the
// table. A table whose store records another stream is not judged here: the
// recorded stream is drained first, then the stream phase judges what the
// table has (stream_lifecycle.go).
func checkStartStream(ctx context.Context, store checkpoint.Store, p *config.Pipeline, t config.Table, info tableInfo) error {
	if t.Stream == nil {
		return nil
	}
	recorded, found, err := stream.Recorded(ctx, store, info.Name)
	switch {
	case err != nil:
		return err
	case found && (recorded != info.StreamARN || !info.StreamEnabled):
		return nil
	case !info.StreamEnabled:
		return errNoStream(info.Name)
	}
	return streamViewProblem(p, info)
}
