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
	var out []shardInfo
	var start *string
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page == maxDescribePages {
			return nil, fmt.Errorf("describe stream %s: more than %d pages", s.table.StreamARN, maxDescribePages)
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
				return nil, &GapError{Table: s.table.Name, Shard: "-", Reason: "the stream no longer exists", Err: err}
			}
			return nil, fmt.Errorf("describe stream %s: %w", s.table.StreamARN, err)
		}
		d := resp.StreamDescription
		if d == nil {
			return nil, fmt.Errorf("describe stream %s: empty description", s.table.StreamARN)
		}
		if d.StreamStatus == types.StreamStatusDisabled || d.StreamStatus == types.StreamStatusDisabling {
			return nil, &GapError{Table: s.table.Name, Shard: "-", Reason: "the stream is " + string(d.StreamStatus)}
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
			return out, nil
		}
		start = next
	}
}
