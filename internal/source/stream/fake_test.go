package stream

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
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
	calls   []string        // GetShardIterator calls: "shard type seq"
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
	seqCounter++
	r := types.Record{
		EventName: types.OperationType(op),
		Dynamodb: &types.StreamRecord{
			Keys:                        map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
			SequenceNumber:              aws.String(strconv.FormatInt(seqCounter, 10)),
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
	for _, s := range f.shards {
		sh := types.Shard{ShardId: aws.String(s.id), SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("1")}}
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
	if f.trimmed[id] {
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
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s@%d", id, pos))}, nil
}

func (f *fakeStreams) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, posText, _ := strings.Cut(aws.ToString(in.ShardIterator), "@")
	pos, _ := strconv.Atoi(posText)
	sh := f.shard(id)
	if f.trimmed[id] {
		return nil, &types.TrimmedDataAccessException{Message: aws.String("trimmed")}
	}
	end := min(len(sh.records), pos+2) // small pages exercise paging
	out := &dynamodbstreams.GetRecordsOutput{Records: append([]types.Record(nil), sh.records[pos:end]...)}
	if !(sh.closed && end == len(sh.records)) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s@%d", id, end))
	}
	return out, nil
}
