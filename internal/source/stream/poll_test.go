package stream

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// fakeClock is the reader's clock in poll tests: Sleep advances it at once.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.advance(d)
	return ctx.Err()
}

// scriptedShard is one open shard whose GetRecords calls answer a script:
// script[i] records (or a throttling error when -1) for call i, then empty
// pages. It notes the clock at every call.
type scriptedShard struct {
	clock  *fakeClock
	script []int
	mu     sync.Mutex
	calls  []time.Time
	done   chan struct{} // closed at the first call past the script
	seq    int
}

func (f *scriptedShard) DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: &types.StreamDescription{
		StreamStatus: types.StreamStatusEnabled,
		Shards:       []types.Shard{{ShardId: aws.String("s1"), SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("1")}}},
	}}, nil
}

func (f *scriptedShard) GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String("it")}, nil
}

func (f *scriptedShard) GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	i := len(f.calls)
	f.calls = append(f.calls, now)
	n := 0
	if i < len(f.script) {
		n = f.script[i]
	} else if i == len(f.script) {
		close(f.done)
	}
	if n < 0 {
		return nil, &types.LimitExceededException{Message: aws.String("Rate exceeded for shard s1")}
	}
	out := &dynamodbstreams.GetRecordsOutput{NextShardIterator: aws.String("it")}
	for range n {
		f.seq++
		pk := &types.AttributeValueMemberS{Value: "k" + strconv.Itoa(f.seq)}
		out.Records = append(out.Records, types.Record{EventName: types.OperationTypeInsert, Dynamodb: &types.StreamRecord{
			Keys: map[string]types.AttributeValue{"pk": pk}, NewImage: map[string]types.AttributeValue{"pk": pk},
			SequenceNumber: aws.String(strconv.Itoa(100000 + f.seq)), ApproximateCreationDateTime: aws.Time(now),
		}})
	}
	return out, nil
}

// gaps returns the start-to-start gaps between the first n+1 calls.
func (f *scriptedShard) gaps(n int) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for i := 1; i <= n && i < len(f.calls); i++ {
		out = append(out, f.calls[i].Sub(f.calls[i-1]))
	}
	return out
}

// TestPollSchedule: a shard that returned records is read again after
// PollMin (at once when the sink took longer), an idle shard every
// poll_interval; the gaps are start to start.
func TestPollSchedule(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		pollMax   time.Duration // 0: the default
		sinkTakes time.Duration // fake time the handler spends on each batch
		script    []int
		want      []time.Duration
	}{
		{
			name:   "default: idle at 250ms, 200ms after records (and after the start)",
			script: []int{0, 0, 3, 1, 0, 0, 2, 0},
			want:   []time.Duration{200 * ms, 250 * ms, 200 * ms, 200 * ms, 250 * ms, 250 * ms, 200 * ms, 250 * ms},
		},
		{
			name:      "a slow sink is not waited for again",
			sinkTakes: 300 * ms,
			script:    []int{5, 5, 0, 0},
			want:      []time.Duration{300 * ms, 300 * ms, 250 * ms, 250 * ms},
		},
		{
			name:      "a sink faster than PollMin keeps 5 calls/s",
			sinkTakes: 50 * ms,
			script:    []int{5, 5, 0},
			want:      []time.Duration{200 * ms, 200 * ms, 250 * ms},
		},
		{
			name:    "poll_interval 1s: backs off 400, 800, 1000 after activity",
			pollMax: time.Second,
			script:  []int{1, 0, 0, 0, 0, 4, 0},
			want:    []time.Duration{200 * ms, 400 * ms, 800 * ms, 1000 * ms, 1000 * ms, 200 * ms, 400 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gaps := runScript(t, tt.script, tt.pollMax, tt.sinkTakes)
			if len(gaps) != len(tt.want) {
				t.Fatalf("gaps %v, want %v", gaps, tt.want)
			}
			for i := range gaps {
				if gaps[i] != tt.want[i] {
					t.Fatalf("gap %d after %d records: %v, want %v (all %v)", i, tt.script[i], gaps[i], tt.want[i], gaps)
				}
			}
		})
	}
}

// TestPollThrottledBacksOff: a throttled call keeps the throttling backoff
// (more than the idle interval on average, never over the 10s
// ceiling), and the idle interval resumes after it.
func TestPollThrottledBacksOff(t *testing.T) {
	script := []int{-1, -1, -1, -1, -1, -1, -1, -1, 0, 0}
	gaps := runScript(t, script, 0, 0)
	var sum time.Duration
	for i := 0; i < 8; i++ {
		if gaps[i] <= 0 || gaps[i] > 10*time.Second {
			t.Fatalf("gap %d after a throttle: %v", i, gaps[i])
		}
		sum += gaps[i]
	}
	// Backoff(3, 200ms, 10s) is uniform in (0, 1.6s]: a mean of 0.8s; eight
	// of them averaging under the idle interval would mean no backoff.
	if sum/8 <= defaultPollIdle {
		t.Fatalf("mean gap after throttling %v, want more than the idle interval %v (gaps %v)", sum/8, defaultPollIdle, gaps)
	}
	if gaps[9] != defaultPollIdle {
		t.Fatalf("idle gap after recovery %v, want %v (gaps %v)", gaps[9], defaultPollIdle, gaps)
	}
}

// runScript runs a source on a scripted shard with a fake clock until the
// script is played and returns the gaps between its calls.
func runScript(t *testing.T, script []int, pollMax, sinkTakes time.Duration) []time.Duration {
	t.Helper()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	api := &scriptedShard{clock: clock, script: script, done: make(chan struct{})}
	table := Table{Name: "t", StreamARN: "arn:stream", Key: ddbjson.Key{Partition: "pk"}, StartPosition: "TRIM_HORIZON", ViewOnRemove: "NEW_IMAGE"}
	s := New(api, memStore(t), table, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil,
		Options{PollMax: pollMax, Now: clock.Now, Sleep: clock.Sleep, ListEvery: time.Hour})
	h := func(_ context.Context, evs []change.Event) error {
		clock.advance(sinkTakes)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, h) }()
	select {
	case <-api.done:
	case err := <-errc:
		cancel()
		t.Fatalf("source stopped early: %v", err)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("script not played in 5s")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return api.gaps(len(script))
}
