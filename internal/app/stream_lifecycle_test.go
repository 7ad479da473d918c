package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
	"github.com/ddbsync/ddbsync/internal/metrics"
)

// tableStates is a fake DescribeTable answering one state per call (the
// last state repeats); nil means the table does not exist.
type tableStates struct {
	mu     sync.Mutex
	states []*types.TableDescription
	calls  int
}

func (f *tableStates) DescribeTable(_ context.Context, _ *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.states[min(f.calls, len(f.states)-1)]
	f.calls++
	if d == nil {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Cannot do operations on a non-existent table")}
	}
	return &dynamodb.DescribeTableOutput{Table: d}, nil
}

// described is a table with key pk and the given stream ("" arn: none).
func described(arn string, view types.StreamViewType, key ...string) *types.TableDescription {
	if len(key) == 0 {
		key = []string{"pk"}
	}
	d := &types.TableDescription{KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(key[0]), KeyType: types.KeyTypeHash}}}
	if arn != "" {
		d.LatestStreamArn = aws.String(arn)
		d.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(view != ""), StreamViewType: view}
	}
	return d
}

func TestAwaitStream(t *testing.T) {
	const old, next = "arn:old", "arn:new"
	full := types.StreamViewTypeNewAndOldImages
	tests := []struct {
		name    string
		states  []*types.TableDescription
		want    string   // the stream returned
		stopped []string // in the TableStoppedError; nil: none
		blocked string   // a readiness reason seen while waiting
	}{
		{"disabled, then enabled again", []*types.TableDescription{described(old, ""), described(old, ""), described(next, full)}, next, nil, "stream is disabled"},
		{"deleted, then created again", []*types.TableDescription{nil, nil, described(next, full)}, next, nil, "table was deleted"},
		{"deleted for good", []*types.TableDescription{nil}, "", []string{"was not created again", "table_deleted_wait", old}, "table was deleted"},
		{"new stream KEYS_ONLY", []*types.TableDescription{described(old, ""), described(next, types.StreamViewTypeKeysOnly)}, "", []string{next, "KEYS_ONLY", "NEW_AND_OLD_IMAGES"}, ""},
		{"created again with another key", []*types.TableDescription{nil, described(next, full, "id")}, "", []string{"another key schema", "id", "pk"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			health := metrics.NewHealth(time.Minute, time.Now)
			health.Started()
			var seen []string
			var mu sync.Mutex
			fake := &tableStates{states: tt.states}
			r := &tableRun{
				cfg:      config.Table{TableName: "orders", Stream: &config.Stream{TableDeletedWait: 30 * time.Millisecond}},
				info:     tableInfo{Name: "orders", Key: ddbjson.Key{Partition: "pk"}},
				pipeline: &config.Pipeline{Name: "p"},
				tables:   fake, health: health, recheck: 5 * time.Millisecond,
				log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			done := make(chan struct{})
			go func() { // what /readyz says meanwhile
				defer close(done)
				for ctx.Err() == nil {
					if ok, why := health.Ready(); !ok {
						mu.Lock()
						seen = append(seen, why...)
						mu.Unlock()
					}
					time.Sleep(time.Millisecond)
				}
			}()
			got, err := r.awaitStream(ctx, old)
			if ok, why := health.Ready(); !ok {
				t.Errorf("still not ready after the wait: %v", why)
			}
			cancel()
			<-done
			var ts *TableStoppedError
			switch {
			case tt.stopped == nil && err != nil:
				t.Fatalf("err %v", err)
			case tt.stopped != nil && !errors.As(err, &ts):
				t.Fatalf("got %q, %v; want a TableStoppedError", got, err)
			}
			for _, w := range tt.stopped {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if got != tt.want {
				t.Errorf("stream %q, want %q", got, tt.want)
			}
			if tt.blocked != "" && !strings.Contains(strings.Join(seen, "\n"), tt.blocked) {
				t.Errorf("/readyz never said %q while waiting: %v", tt.blocked, seen)
			}
		})
	}
}
