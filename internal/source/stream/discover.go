package stream

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// maxDescribePages bounds one listing, against an endpoint that keeps
// returning the same LastEvaluatedShardId.
const maxDescribePages = 10_000

// shardInfo is one shard of a listing.
type shardInfo struct {
	ID     string
	Parent string
	Closed bool   // has an EndingSequenceNumber
	Start  string // StartingSequenceNumber ("" when not given)
}

// listShards returns every shard of the stream, paging DescribeStream.
func (s *Source) listShards(ctx context.Context) ([]shardInfo, error) {
	shards, _, err := s.listStream(ctx)
	return shards, err
}

// listStream returns every shard of the stream and whether the stream is
// disabled (DISABLING or DISABLED: the stream was turned off or its table
// deleted). A disabled stream's shards are closed and stay readable for
// 24 hours: they are drained like any others.
func (s *Source) listStream(ctx context.Context) ([]shardInfo, bool, error) {
	var out []shardInfo
	disabled := false
	var start *string
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page == maxDescribePages {
			return nil, false, fmt.Errorf("describe stream %s: more than %d pages", s.table.StreamARN, maxDescribePages)
		}
		resp, err := retryCall(ctx, s, "describe stream", func() (*dynamodbstreams.DescribeStreamOutput, error) {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			return s.api.DescribeStream(cctx, &dynamodbstreams.DescribeStreamInput{
				StreamArn: aws.String(s.table.StreamARN), ExclusiveStartShardId: start,
			})
		})
		if err != nil {
			if classify(err) == classMissing {
				s.m.Gaps.WithLabelValues(s.table.Name, "stream_missing").Inc()
				return nil, false, &GapError{Table: s.table.Name, Shard: "-", Reason: "the stream " + s.table.StreamARN + " no longer exists", Err: err, StreamGone: true}
			}
			return nil, false, fmt.Errorf("describe stream %s: %w", s.table.StreamARN, err)
		}
		d := resp.StreamDescription
		if d == nil {
			return nil, false, fmt.Errorf("describe stream %s: empty description", s.table.StreamARN)
		}
		if d.StreamStatus == types.StreamStatusDisabled || d.StreamStatus == types.StreamStatusDisabling {
			disabled = true
		}
		for _, sh := range d.Shards {
			id := aws.ToString(sh.ShardId)
			if seen[id] {
				continue
			}
			seen[id] = true
			info := shardInfo{ID: id, Parent: aws.ToString(sh.ParentShardId)}
			if r := sh.SequenceNumberRange; r != nil {
				info.Closed = r.EndingSequenceNumber != nil
				info.Start = aws.ToString(r.StartingSequenceNumber)
			}
			out = append(out, info)
		}
		next := d.LastEvaluatedShardId
		if next == nil || (start != nil && *next == *start) {
			return out, disabled, nil
		}
		start = next
	}
}
