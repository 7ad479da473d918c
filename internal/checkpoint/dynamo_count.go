package checkpoint

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/prometheus/client_golang/prometheus"
)

// countedAPI counts every call to the state table by operation
// (ddbsync_state_requests_total): renewals, takes and the rechecks of
// partitions other nodes hold are what a node costs the table.
type countedAPI struct {
	api                          DynamoAPI
	get, put, update, del, query prometheus.Counter
}

func newCountedAPI(api DynamoAPI, c *prometheus.CounterVec, node string) *countedAPI {
	return &countedAPI{api: api,
		get: c.WithLabelValues(node, "GetItem"), put: c.WithLabelValues(node, "PutItem"),
		update: c.WithLabelValues(node, "UpdateItem"), del: c.WithLabelValues(node, "DeleteItem"),
		query: c.WithLabelValues(node, "Query")}
}

func (c *countedAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.get.Inc()
	return c.api.GetItem(ctx, in, opts...)
}

func (c *countedAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.put.Inc()
	return c.api.PutItem(ctx, in, opts...)
}

func (c *countedAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.update.Inc()
	return c.api.UpdateItem(ctx, in, opts...)
}

func (c *countedAPI) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.del.Inc()
	return c.api.DeleteItem(ctx, in, opts...)
}

func (c *countedAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.query.Inc()
	return c.api.Query(ctx, in, opts...)
}
