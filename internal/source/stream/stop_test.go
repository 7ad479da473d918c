package stream

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// failingListing answers the first listing, then fails every later
// DescribeStream with fail (a node cut off from DynamoDB Streams).
type failingListing struct {
	*fakeStreams
	calls, failed atomic.Int64
	fail          func(ctx context.Context) error
}

func (f *failingListing) DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	if f.calls.Add(1) == 1 {
		return f.fakeStreams.DescribeStream(ctx, in, opts...)
	}
	f.failed.Add(1)
	return nil, f.fail(ctx)
}

// TestStopWhileTheListingFails: a stop (SIGTERM) that comes while the
// shard listing cannot reach DynamoDB Streams is a clean stop, not a
// failure of the run.
func TestStopWhileTheListingFails(t *testing.T) {
	tests := []struct {
		name string
		fail func(ctx context.Context) error
	}{
		{"the call hangs until the stop cancels it", func(ctx context.Context) error {
			<-ctx.Done()
			return fmt.Errorf("operation error DynamoDB Streams: DescribeStream, request canceled: %w", ctx.Err())
		}},
		{"the call fails and is retried", func(context.Context) error {
			return &types.InternalServerError{Message: aws.String("connection refused")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &failingListing{fakeStreams: &fakeStreams{shards: []*fakeShard{{id: "s1"}}}, fail: tt.fail}
			s := newTestSource(t, api, memStore(t), "TRIM_HORIZON")
			rec := &recorder{}
			err := runUntil(t, s, rec.write, func() bool { return api.failed.Load() > 0 })
			if err != nil {
				t.Fatalf("stopped while the listing failed: %v, want a clean stop (nil)", err)
			}
		})
	}
}
