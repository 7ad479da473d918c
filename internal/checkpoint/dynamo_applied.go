package checkpoint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Partition is one partition's record in a shared state table, with its
// lease: what a node needs to judge partitions other nodes read.
type Partition struct {
	Key      string
	Progress Progress
	// Owner is the node holding, or last holding, the lease ("" once it was
	// released or the partition completed); Expires is the lease's expiry
	// (zero when free). See Held.
	Owner   string
	Expires time.Time
	// Applied (stream shards) is what the lease's owner last published
	// (PublishApplied): every record of the shard written before it is
	// applied and checkpointed. Zero when nothing was published.
	Applied time.Time
}

// Held reports whether a live lease holds the partition at now.
func (p Partition) Held(now time.Time) bool {
	return p.Owner != "" && p.Expires.After(now)
}

// PublishApplied tells a shared store that every record of partition key
// written before t is applied (acknowledged by the sink) and checkpointed,
// so that any node can answer "caught up" for the partitions other nodes
// read. The store writes it with the lease's next fenced write (a save,
// the heartbeat's renewal, the release), never after the lease is lost:
// a published moment is always a true statement. Stores that are not
// shared ignore it.
func PublishApplied(s Store, key string, t time.Time) {
	if p, ok := s.(interface{ PublishApplied(string, time.Time) }); ok {
		p.PublishApplied(key, t)
	}
}

// PublishApplied implements the hook of the package-level PublishApplied
// for a lease this node holds (a later moment only; others are ignored).
func (s *DynamoStore) PublishApplied(key string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.held[key]; l != nil && t.After(l.applied) {
		l.applied = t
	}
}

// appliedOf is l's moment to publish (nil when none).
func (s *DynamoStore) appliedOf(l *lease) types.AttributeValue {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.applied.IsZero() {
		return nil
	}
	return num(l.applied.UnixMilli())
}

// withApplied adds "#applied = :applied" to a fenced lease update (a
// no-op for a nil moment).
func withApplied(in *dynamodb.UpdateItemInput, applied types.AttributeValue) {
	if applied == nil {
		return
	}
	in.UpdateExpression = aws.String(aws.ToString(in.UpdateExpression) + ", #applied = :applied")
	in.ExpressionAttributeNames["#applied"] = attrApplied
	in.ExpressionAttributeValues[":applied"] = applied
}

// Partitions reads every record whose key starts with prefix (which must
// name a kind and a table, e.g. "stream/Orders/shard/"), with its lease,
// in key order. It takes no lease.
func (s *DynamoStore) Partitions(ctx context.Context, prefix string) ([]Partition, error) {
	parts := strings.SplitN(prefix, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("read state %s*: the prefix must name a kind and a table (kind/table/...)", prefix)
	}
	g := parts[0] + "/" + parts[1]
	var out []Partition
	err := s.query(ctx, g, prefix, func(key string, r record) {
		p := Partition{Key: key, Progress: r.p, Owner: r.owner}
		if r.expires > 0 {
			p.Expires = time.UnixMilli(r.expires)
		}
		if r.applied > 0 {
			p.Applied = time.UnixMilli(r.applied)
		}
		out = append(out, p)
	})
	if err != nil {
		return nil, fmt.Errorf("read state %s* from table %s: %w", prefix, s.table, err)
	}
	return out, nil
}

// query calls each with every record of group g whose key starts with
// prefix ("" for all), consistently read, page by page.
func (s *DynamoStore) query(ctx context.Context, g, prefix string, each func(key string, r record)) error {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(s.pipeline + "|" + g)},
	}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :prefix)")
		in.ExpressionAttributeNames["#sk"] = attrSK
		in.ExpressionAttributeValues[":prefix"] = str(prefix)
	}
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, it := range out.Items {
			sk, _ := it[attrSK].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			r, err := decodeRecord(sk.Value, it)
			if err != nil {
				return err
			}
			each(sk.Value, r)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
