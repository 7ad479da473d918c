package checkpoint

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Announced events. A node waiting for a partition another node holds
// knows from the record when that lease expires (HeldError.Until), so it
// need not read the record again before then — unless the holder gives
// the lease up early: a SIGTERM (rolling deploy) or a shed to balance the
// nodes. Likewise a node need not read every table's clock floor and
// version generation each second: they change only when verify --repair
// raises a floor or a re-backfill moves the generation. Each such event
// bumps a counter in one record of the pipeline, and each node reads that
// record every poll (1 s): a waiting shard costs one read per lease period
// instead of two per recheck, a table one read per TableRecheck instead of
// one and a half per second, and the node one read per second.

// defaultEventPoll is how often a node reads the pipeline's event counters.
const defaultEventPoll = time.Second

// TableRecheck is how often a table-level record that no event announced
// as changed is read anyway (an announcement that failed to be written).
const TableRecheck = 30 * time.Second

const (
	eventsGroup     = "events"
	attrReleased    = "released"
	attrTableChange = "table_changed"
)

// counter is one announced event: how many this node made and announced,
// and the pipeline's total as of the last poll.
type counter struct {
	attr      string
	wanted    atomic.Int64 // events made by this node
	annMu     sync.Mutex   // one announcement write at a time
	announced int64        // events counted by the last announcement
	mu        sync.Mutex
	seen      int64         // the pipeline's counter at the last poll
	changed   chan struct{} // closed when seen changes
}

func newCounter(attr string) *counter { return &counter{attr: attr, changed: make(chan struct{})} }

func (c *counter) state() (int64, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen, c.changed
}

func (c *counter) observe(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n != c.seen {
		c.seen = n
		close(c.changed)
		c.changed = make(chan struct{})
	}
}

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
func (s *DynamoStore) Releases() (int64, <-chan struct{}) { return s.released.state() }

// TableChanges is Releases for table-level changes: a clock floor raised,
// a version generation moved.
func (s *DynamoStore) TableChanges() (int64, <-chan struct{}) { return s.tableChanged.state() }

// AnnounceTableChange tells the other nodes that a table-level record
// changed (MoveGeneration; raiseFloor announces itself).
func (s *DynamoStore) AnnounceTableChange(ctx context.Context) { s.announce(ctx, s.tableChanged) }

func (s *DynamoStore) eventsKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(s.pipeline + "|" + eventsGroup), attrSK: str(eventsGroup)}
}

// announce bumps c once for every event made so far. Events at once (a
// stop releases every lease) share a write: who waits for the one in
// flight finds its event counted or counts all of those since.
func (s *DynamoStore) announce(ctx context.Context, c *counter) {
	ticket := c.wanted.Add(1)
	c.annMu.Lock()
	defer c.annMu.Unlock()
	if c.announced >= ticket {
		return
	}
	upto := c.wanted.Load()
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: s.eventsKey(),
		UpdateExpression:          aws.String("ADD #n :one"),
		ExpressionAttributeNames:  map[string]string{"#n": c.attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
	})
	if err != nil {
		// The other nodes see it at the lease's expiry or TableRecheck.
		s.log.Warn("could not announce an event to the other nodes", "event", c.attr, "err", err)
		return
	}
	c.announced = upto
}

// pollEvents reads the event counters every s.eventPoll until ctx ends.
func (s *DynamoStore) pollEvents(ctx context.Context) {
	t := time.NewTicker(s.eventPoll)
	defer t.Stop()
	for {
		s.readEvents(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *DynamoStore) readEvents(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, max(s.eventPoll, time.Second))
	defer cancel()
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: s.eventsKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Debug("read the event counters", "err", err)
		}
		return
	}
	for _, c := range []*counter{s.released, s.tableChanged} {
		n := int64(0)
		if v, ok := out.Item[c.attr].(*types.AttributeValueMemberN); ok {
			n, _ = strconv.ParseInt(v.Value, 10, 64)
		}
		if seen, _ := c.state(); c == s.released && n != seen {
			// A release or a node that left: read who is still live before
			// the waiting tables wake, so their shares count it.
			if err := s.readNodes(ctx); err != nil && ctx.Err() == nil {
				s.log.Debug("read the node records after a release", "err", err)
			}
		}
		c.observe(n)
	}
}
