package kit

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Stack is the local stack as the stream benchmarks use it: OpenSearch's
// URL, the AWS config from the environment (. test/stack/env.sh), and a
// DynamoDB client straight to DynamoDB Local ($DDB_PORT), not through the
// export emulator.
type Stack struct {
	OpenSearch string
	AWS        aws.Config
	DB         *dynamodb.Client
}

// OpenStack reads the stack's environment.
func OpenStack(ctx context.Context) (*Stack, error) {
	osURL := os.Getenv("OPENSEARCH_URL")
	if osURL == "" {
		return nil, fmt.Errorf("OPENSEARCH_URL must be set (. test/stack/env.sh)")
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(cfg)
	if p := os.Getenv("DDB_PORT"); p != "" {
		db = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:" + p) })
	}
	return &Stack{OpenSearch: osURL, AWS: cfg, DB: db}, nil
}

// CreateStreamTable creates an on-demand table keyed by pk (S) with a
// NEW_AND_OLD_IMAGES stream and returns its stream ARN.
func (s *Stack) CreateStreamTable(ctx context.Context, table string) (string, error) {
	out, err := s.DB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		return "", fmt.Errorf("create table %s: %w", table, err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn), nil
}

// DeleteTable deletes table, ignoring errors (a benchmark's clean-up).
func (s *Stack) DeleteTable(ctx context.Context, table string) {
	_, _ = s.DB.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
}
