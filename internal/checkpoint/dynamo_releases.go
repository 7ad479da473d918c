package checkpoint

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Released leases, announced. A node waiting for a partition another node
// holds knows from the record when that lease expires (HeldError.Until),
// so it need not read the record again before then — unless the holder
// gives the lease up early: a SIGTERM (rolling deploy) or a shed to
// balance the nodes. Every release therefore also bumps one counter
// record of the pipeline, and each node reads that one record every
// releasePoll: a waiting node costs the table one read per second plus
// one per partition and lease period, instead of two per partition every
// recheck, and still takes a released lease within about a second.

// releasePoll is how often a node reads the pipeline's release counter.
const releasePoll = time.Second

const (
	releasesGroup = "releases"
	attrReleases  = "released"
)

// HeldError is ErrLeaseHeld with what the taker read: the owner and when
// its lease expires (zero when unknown: the taker lost a race for it).
type HeldError struct {
	Key, Owner string
	Until      time.Time
}

func (e *HeldError) Error() string {
	if e.Until.IsZero() {
		return fmt.Sprintf("%s: %s was taken by another node first", ErrLeaseHeld, e.Key)
	}
	return fmt.Sprintf("%s: %s is held by %s until %s", ErrLeaseHeld, e.Key, e.Owner, e.Until.UTC().Format(time.RFC3339Nano))
}

// Is makes errors.Is(err, ErrLeaseHeld) hold.
func (e *HeldError) Is(target error) bool { return target == ErrLeaseHeld }

// Releases returns how many lease releases of this pipeline this node
// has seen (by any node, as of its last poll) and a channel closed at
// the next change.
func (s *DynamoStore) Releases() (int64, <-chan struct{}) {
	s.relMu.Lock()
	defer s.relMu.Unlock()
	return s.relSeen, s.relChanged
}

func (s *DynamoStore) releasesKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(s.pipeline + "|" + releasesGroup), attrSK: str(releasesGroup)}
}

// announceRelease bumps the release counter once for every release made
// so far. Releases at once (a stop releases every lease) share a write:
// who waits for the one in flight finds its release counted or counts
// all of those since.
func (s *DynamoStore) announceRelease(ctx context.Context) {
	ticket := s.relWanted.Add(1)
	s.annMu.Lock()
	defer s.annMu.Unlock()
	if s.relAnnounced >= ticket {
		return
	}
	upto := s.relWanted.Load()
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: s.releasesKey(),
		UpdateExpression:          aws.String("ADD #n :one"),
		ExpressionAttributeNames:  map[string]string{"#n": attrReleases},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
	})
	if err != nil {
		// The other nodes take the lease once it expires instead.
		s.log.Warn("could not announce a lease release", "err", err)
		return
	}
	s.relAnnounced = upto
}

// pollReleases reads the release counter every releasePoll until ctx ends.
func (s *DynamoStore) pollReleases(ctx context.Context) {
	t := time.NewTicker(releasePoll)
	defer t.Stop()
	for {
		s.readReleases(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *DynamoStore) readReleases(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, releasePoll)
	defer cancel()
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: s.releasesKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Debug("read the release counter", "err", err)
		}
		return
	}
	n := int64(0)
	if v, ok := out.Item[attrReleases].(*types.AttributeValueMemberN); ok {
		n, _ = strconv.ParseInt(v.Value, 10, 64)
	}
	s.relMu.Lock()
	defer s.relMu.Unlock()
	if n != s.relSeen {
		s.relSeen = n
		close(s.relChanged)
		s.relChanged = make(chan struct{})
	}
}
