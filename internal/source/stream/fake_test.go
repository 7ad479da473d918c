package stream

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// fakeStreams is an in-memory stream: shards with records, a parent
// relation, and switches for trimmed data.
type fakeStreams struct {
	mu      sync.Mutex
	shards  []*fakeShard
	trimmed map[string]bool // shard → every read hits TrimmedDataAccessException
	// trimIter counts GetShardIterator calls on a shard that still answer
	// TrimmedDataAccessException (AWS answers so for a trimmed checkpoint).
	trimIter map[string]int
	// trimReads counts GetRecords calls on a shard that still answer
	// TrimmedDataAccessException.
	trimReads map[string]int
	// start overrides a shard's StartingSequenceNumber in the listing.
	start map[string]string
	// localEmpty emulates DynamoDB Local: an iterator taken at TRIM_HORIZON
	// while the shard is empty answers TrimmedDataAccessException once the
	// shard holds records.
	localEmpty bool
	// emptyIter has, per shard, a channel closed when the first @empty
	// iterator was handed out: a test adds records only after it, so the
	// scenario does not depend on how fast the reader gets there.
	emptyIter map[string]chan struct{}
	// unlisted hides shards from DescribeStream (they still answer reads);
	// unlistOnTrim hides a shard at its first trimmed GetRecords answer.
	unlisted, unlistOnTrim map[string]bool
	calls                  []string // GetShardIterator calls: "shard type seq"
	disabled               bool     // DescribeStream answers DISABLED
	trimAnswers            int      // TrimmedDataAccessException answers given
}

type fakeShard struct {
	id, parent string
	closed     bool
	records    []types.Record
}

func (f *fakeStreams) shard(id string) *fakeShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

var seqCounter int64 = 100000000000000000

// put appends an INSERT/MODIFY/REMOVE record to a shard.
func (f *fakeStreams) put(shard, op, pk string, val string, created int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq := atomic.AddInt64(&seqCounter, 1)
	r := types.Record{
		EventName: types.OperationType(op),
		Dynamodb: &types.StreamRecord{
			Keys:                        map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
			SequenceNumber:              aws.String(strconv.FormatInt(seq, 10)),
			ApproximateCreationDateTime: aws.Time(time.Unix(created, 0)),
		},
	}
	if op != "REMOVE" {
		r.Dynamodb.NewImage = map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberS{Value: val},
		}
	}
	sh := f.shard(shard)
	sh.records = append(sh.records, r)
}

func (f *fakeStreams) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := &types.StreamDescription{StreamStatus: types.StreamStatusEnabled}
	if f.disabled {
		d.StreamStatus = types.StreamStatusDisabled
	}
	for _, s := range f.shards {
		if f.unlisted[s.id] {
			continue
		}
		start := "1"
		if v, ok := f.start[s.id]; ok {
			start = v
		}
		sh := types.Shard{ShardId: aws.String(s.id), SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String(start)}}
		if s.parent != "" {
			sh.ParentShardId = aws.String(s.parent)
		}
		if s.closed {
			sh.SequenceNumberRange.EndingSequenceNumber = aws.String("999999999999999999999")
		}
		d.Shards = append(d.Shards, sh)
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: d}, nil
}

func (f *fakeStreams) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.ShardId)
	f.calls = append(f.calls, fmt.Sprintf("%s %s %s", id, in.ShardIteratorType, aws.ToString(in.SequenceNumber)))
	sh := f.shard(id)
	if sh == nil {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no shard " + id)}
	}
	if f.trimmed[id] || f.trimIter[id] > 0 {
		if f.trimIter[id] > 0 {
			f.trimIter[id]--
		}
		f.trimAnswers++
		return nil, &types.TrimmedDataAccessException{Message: aws.String("trimmed")}
	}
	pos := 0
	if in.ShardIteratorType == types.ShardIteratorTypeAfterSequenceNumber {
		for i, r := range sh.records {
			if *r.Dynamodb.SequenceNumber == aws.ToString(in.SequenceNumber) {
				pos = i + 1
			}
		}
	}
	it := fmt.Sprintf("%s@%d", id, pos)
	if f.localEmpty && in.ShardIteratorType == types.ShardIteratorTypeTrimHorizon && len(sh.records) == 0 {
		it += "@empty"
		ch := f.emptyIterLocked(id)
		select {
		case <-ch:
		default:
			close(ch)
		}
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(it)}, nil
}

func (f *fakeStreams) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := strings.Split(aws.ToString(in.ShardIterator), "@")
	id := parts[0]
	pos, _ := strconv.Atoi(parts[1])
	emptyIter := len(parts) == 3
	sh := f.shard(id)
	if sh == nil {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Invalid ShardId in ShardIterator")}
	}
	if f.trimmed[id] || f.trimReads[id] > 0 || emptyIter && len(sh.records) > 0 {
		if f.unlistOnTrim[id] {
			f.unlisted = map[string]bool{id: true}
		}
		if f.trimReads[id] > 0 {
			f.trimReads[id]--
		}
		f.trimAnswers++
		return nil, &types.TrimmedDataAccessException{Message: aws.String("The operation attempted to read past the oldest stream record in a shard.")}
	}
	if emptyIter {
		next := aws.ToString(in.ShardIterator)
		if sh.closed {
			return &dynamodbstreams.GetRecordsOutput{}, nil
		}
		return &dynamodbstreams.GetRecordsOutput{NextShardIterator: aws.String(next)}, nil
	}
	end := min(len(sh.records), pos+2) // small pages exercise paging
	out := &dynamodbstreams.GetRecordsOutput{Records: append([]types.Record(nil), sh.records[pos:end]...)}
	if !(sh.closed && end == len(sh.records)) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s@%d", id, end))
	}
	return out, nil
}

// emptyIterTaken returns a channel closed once an iterator was taken on
// shard id while it was empty (localEmpty only).
func (f *fakeStreams) emptyIterTaken(id string) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.emptyIterLocked(id)
}

func (f *fakeStreams) emptyIterLocked(id string) chan struct{} {
	if f.emptyIter == nil {
		f.emptyIter = map[string]chan struct{}{}
	}
	ch := f.emptyIter[id]
	if ch == nil {
		ch = make(chan struct{})
		f.emptyIter[id] = ch
	}
	return ch
}

// trimmedAnswers is how many TrimmedDataAccessException answers were given.
func (f *fakeStreams) trimmedAnswers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.trimAnswers
}
