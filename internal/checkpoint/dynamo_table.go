package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableAdminAPI is the DynamoDB subset that creates the state table.
type TableAdminAPI interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// tableWait bounds the wait for a new state table to become ACTIVE.
const tableWait = 2 * time.Minute

// EnsureTable makes sure the state table exists and is ACTIVE. When create
// is true a missing table is created (on-demand billing, pk/sk string
// keys, TTL on the ttl attribute); otherwise a missing table is an error.
func EnsureTable(ctx context.Context, api TableAdminAPI, name string, create bool, log *slog.Logger) error {
	_, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var nf *types.ResourceNotFoundException
	switch {
	case err == nil:
		return waitActive(ctx, api, name)
	case !errors.As(err, &nf):
		return fmt.Errorf("describe state table %s: %w", name, err)
	case !create:
		return fmt.Errorf("state table %s does not exist and skip_table_creation is set: create it (pk and sk string keys) or unset skip_table_creation", name)
	}
	_, err = api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) { // in use: another node created it first
		return fmt.Errorf("create state table %s: %w", name, err)
	}
	if err == nil {
		log.Info("created the state table", "state_table", name)
	}
	if err := waitActive(ctx, api, name); err != nil {
		return err
	}
	_, err = api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true)},
	})
	if err != nil {
		// Finished records then stay; nothing is wrong with the state.
		log.Warn("could not enable TTL on the state table; finished records will not expire", "state_table", name, "err", err)
	}
	return nil
}

func waitActive(ctx context.Context, api TableAdminAPI, name string) error {
	deadline := time.Now().Add(tableWait)
	for {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe state table %s: %w", name, err)
		}
		if out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("state table %s is not ACTIVE after %s", name, tableWait)
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
