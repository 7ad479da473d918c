package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/metrics"
	"github.com/ddbsync/ddbsync/internal/retry"
)

// DefaultLeaseTimeout is how long a lease lives without renewal: a crashed
// node's partitions are taken over this long after its last heartbeat.
const DefaultLeaseTimeout = 10 * time.Second

// DefaultDoneTTL is how long a finished shard, data file or segment record
// stays in the table (well past the stream's 24 h retention, so a child
// shard always finds its parent's final clock).
const DefaultDoneTTL = 7 * 24 * time.Hour

// DynamoOptions configure a DynamoStore.
type DynamoOptions struct {
	Table        string        // the state table
	Pipeline     string        // the pipeline's name: the first part of every partition key
	Node         string        // this node's id, unique among the nodes sharing the table
	LeaseTimeout time.Duration // default DefaultLeaseTimeout
	DoneTTL      time.Duration // default DefaultDoneTTL
	EventPoll    time.Duration // how often the other nodes' announced events are read; default 1s
	Now          func() time.Time
	Log          *slog.Logger
	Metrics      *metrics.Leases // nil: not counted
}

// DynamoStore keeps progress and leases in a DynamoDB table, so that
// several nodes share one pipeline's partitions and a node needs no disk.
// Every write on a held lease is conditional on owner and lease counter
// (fencing); Run renews the held leases and the node's heartbeat.
type DynamoStore struct {
	api      DynamoAPI
	table    string
	pipeline string
	node     string
	timeout  time.Duration
	doneTTL  time.Duration
	// eventPoll is how often the pipeline's event counters are read.
	eventPoll time.Duration
	now       func() time.Time
	log       *slog.Logger
	m         *metrics.Leases

	mu   sync.Mutex
	held map[string]*lease
	// gone holds the partitions whose leases this node lost and has not
	// taken again: their checkpoints are refused (ErrLeaseLost), never
	// written as a record without a lease.
	gone  map[string]bool
	live  map[string]int64 // node → its record's expiry (Unix ms), as the last heartbeat read them
	loads map[string]int   // the other live nodes' stream shard counts at the last heartbeat

	slowWarned time.Time // the last slow-renewal warning (heartbeat.go)

	// Events announced to and by the other nodes (dynamo_events.go).
	released, tableChanged *counter
}

// lease is one lease this node holds.
type lease struct {
	counter int64
	renewed time.Time // last successful renewal or fenced write
	cancel  context.CancelCauseFunc
	// applied is what the partition's reader reported through
	// PublishApplied; written with the lease's next fenced write.
	applied time.Time
}

// NewDynamoStore returns a store on an existing table (see EnsureTable).
// Nothing runs until Run.
func NewDynamoStore(api DynamoAPI, o DynamoOptions) *DynamoStore {
	if o.LeaseTimeout <= 0 {
		o.LeaseTimeout = DefaultLeaseTimeout
	}
	if o.DoneTTL <= 0 {
		o.DoneTTL = DefaultDoneTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.EventPoll <= 0 {
		o.EventPoll = defaultEventPoll
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewLeases(nil)
	}
	return &DynamoStore{api: newCountedAPI(api, o.Metrics.Requests, o.Node), table: o.Table, pipeline: o.Pipeline, node: o.Node, timeout: o.LeaseTimeout,
		doneTTL: o.DoneTTL, eventPoll: o.EventPoll, now: o.Now, log: o.Log.With("node", o.Node, "state_table", o.Table), m: o.Metrics,
		held: map[string]*lease{}, gone: map[string]bool{},
		released: newCounter(attrReleased), tableChanged: newCounter(attrTableChange)}
}

// Node is this node's id.
func (s *DynamoStore) Node() string { return s.node }

// LiveNodes is how many nodes share the pipeline: this one and those whose
// heartbeat, as the last heartbeat read them, has not expired yet.
func (s *DynamoStore) LiveNodes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return 1 + len(s.liveLocked())
}

// Held lists the keys whose leases this node holds.
func (s *DynamoStore) Held() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.held))
	for k := range s.held {
		out = append(out, k)
	}
	return out
}

func (s *DynamoStore) read(ctx context.Context, key string) (record, bool, error) {
	out, err := retry.Do(ctx, s.log, "read state "+key, func() (*dynamodb.GetItemOutput, error) {
		return s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: s.itemKey(key), ConsistentRead: aws.Bool(true)})
	})
	if err != nil {
		return record{}, false, fmt.Errorf("read state %s from table %s: %w", key, s.table, err)
	}
	if len(out.Item) == 0 {
		return record{}, false, nil
	}
	r, err := decodeRecord(key, out.Item)
	return r, true, err
}

// Get implements Store.
func (s *DynamoStore) Get(ctx context.Context, key string) (Progress, bool, error) {
	r, found, err := s.read(ctx, key)
	return r.p, found, err
}

// Acquire implements Store. The take is one conditional write on the
// counter and expiry just read, so of two racing takers exactly one wins.
func (s *DynamoStore) Acquire(ctx context.Context, key string) (context.Context, Progress, bool, error) {
	r, found, err := s.read(ctx, key)
	if err != nil {
		return nil, Progress{}, false, err
	}
	if r.p.Done {
		return ctx, r.p, true, nil
	}
	now := s.now()
	if r.owner != "" && r.owner != s.node && r.expires > now.UnixMilli() {
		return nil, Progress{}, false, &HeldError{Key: key, Owner: r.owner, Until: time.UnixMilli(r.expires)}
	}
	in := &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              s.itemKey(key),
		UpdateExpression: aws.String("SET #owner = :me, #lease = :next, #expires = :exp"),
		ExpressionAttributeNames: map[string]string{
			"#owner": attrOwner, "#lease": attrLease, "#expires": attrExpires,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":me": str(s.node), ":next": num(r.lease + 1), ":exp": num(now.Add(s.timeout).UnixMilli()),
		},
	}
	if found {
		in.ConditionExpression = aws.String("#lease = :seen AND #expires = :seenexp")
		in.ExpressionAttributeValues[":seen"] = num(r.lease)
		in.ExpressionAttributeValues[":seenexp"] = num(r.expires)
	} else {
		in.ConditionExpression = aws.String("attribute_not_exists(" + attrPK + ")")
	}
	if err := s.update(ctx, "take lease "+key, in); err != nil {
		if conditionFailed(err) {
			return nil, Progress{}, false, &HeldError{Key: key}
		}
		return nil, Progress{}, false, fmt.Errorf("take lease %s in table %s: %w", key, s.table, err)
	}
	lctx, cancel := context.WithCancelCause(ctx)
	s.mu.Lock()
	if old := s.held[key]; old != nil {
		old.cancel(ErrLeaseLost) // a second take by this node supersedes the first
	}
	s.held[key] = &lease{counter: r.lease + 1, renewed: now, cancel: cancel}
	delete(s.gone, key)
	s.mu.Unlock()
	k := kind(key)
	s.m.Taken.WithLabelValues(s.node, k).Inc()
	s.m.Held.WithLabelValues(s.node, k).Inc()
	if r.owner != "" && r.owner != s.node {
		s.m.TakeOver.WithLabelValues(s.node, k).Inc()
		s.log.Info("lease taken over", "key", key, "from_node", r.owner, "expired_ago", now.Sub(time.UnixMilli(r.expires)).Round(time.Millisecond), "lease", r.lease+1)
	} else {
		s.log.Debug("lease taken", "key", key, "lease", r.lease+1)
	}
	return lctx, r.p, found, nil
}

// update makes a conditional write, again after transient failures
// (throttling, 5xx, a broken connection) until ctx ends: one throttled
// call must not stop a node with a thousand shards (write retries the
// same way while the lease is held). A retry after a write that did land
// but whose answer was lost finds its own write: harmless for each caller
// (a save is rewritten, a take or a completion looks refused and is
// judged again from the record at the next look).
func (s *DynamoStore) update(ctx context.Context, what string, in *dynamodb.UpdateItemInput) error {
	_, err := retry.Do(ctx, s.log, what, func() (*dynamodb.UpdateItemOutput, error) { return s.api.UpdateItem(ctx, in) })
	return err
}

// Save implements Store.
func (s *DynamoStore) Save(ctx context.Context, key string, p Progress) error {
	return s.write(ctx, key, p, false)
}

// Complete implements Store.
func (s *DynamoStore) Complete(ctx context.Context, key string, p Progress) error {
	p.Done = true
	return s.write(ctx, key, p, true)
}

// write saves p, fenced on the held lease, or (for a key without a lease)
// only while no other live node holds one. complete also frees the lease.
func (s *DynamoStore) write(ctx context.Context, key string, p Progress, complete bool) error {
	pv, err := progressValue(p)
	if err != nil {
		return fmt.Errorf("save state %s: %w", key, err)
	}
	now := s.now()
	s.mu.Lock()
	l, gone := s.held[key], s.gone[key]
	s.mu.Unlock()
	if l == nil && gone {
		// A batch acknowledged after the lease was lost (the reader was
		// still writing it to the sink): the new owner reads it again. As a
		// record without a lease it could be written over the new owner's
		// progress once that one completed or released the partition.
		return fmt.Errorf("save state %s: %w", key, ErrLeaseLost)
	}
	names := map[string]string{"#owner": attrOwner, "#lease": attrLease, "#expires": attrExpires, "#progress": attrProgress, "#done": attrDone}
	vals := map[string]types.AttributeValue{":p": pv, ":done": &types.AttributeValueMemberBOOL{Value: p.Done}, ":me": str(s.node)}
	set := []string{"#progress = :p", "#done = :done"}
	var cond string
	if l != nil {
		cond = "#owner = :me AND #lease = :counter"
		vals[":counter"] = num(l.counter)
		if a := s.appliedOf(l); a != nil {
			names["#applied"], vals[":applied"] = attrApplied, a
			set = append(set, "#applied = :applied")
		}
	} else {
		cond = "attribute_not_exists(" + attrPK + ") OR #owner = :free OR #owner = :me OR #expires < :now"
		vals[":now"] = num(now.UnixMilli())
		set = append(set, "#lease = if_not_exists(#lease, :zero)")
	}
	vals[":free"] = str("")
	vals[":zero"] = num(0)
	switch {
	case complete:
		set = append(set, "#owner = :free", "#expires = :zero")
		if expiresWhenDone(key) {
			names["#ttl"] = attrTTL
			vals[":ttl"] = num(now.Add(s.doneTTL).Unix())
			set = append(set, "#ttl = :ttl")
		}
	case l != nil:
		set = append(set, "#expires = :exp") // a fenced write renews the lease too
		vals[":exp"] = num(now.Add(s.timeout).UnixMilli())
	default:
		set = append(set, "#owner = if_not_exists(#owner, :free)", "#expires = if_not_exists(#expires, :zero)")
	}
	update := "SET " + strings.Join(set, ", ")
	prune(names, vals, update, cond) // DynamoDB refuses unused names and values
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: s.itemKey(key),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
	}
	_, err = retry.Do(ctx, s.log, "save state "+key, func() (*dynamodb.UpdateItemOutput, error) {
		s.mu.Lock()
		dropped := l != nil && s.held[key] != l
		s.mu.Unlock()
		if dropped {
			// Lost while retrying (renewals failed too): not written.
			return nil, fmt.Errorf("save state %s: %w", key, ErrLeaseLost)
		}
		return s.api.UpdateItem(ctx, in)
	})
	if errors.Is(err, ErrLeaseLost) {
		return err
	}
	switch {
	case err == nil:
		if l != nil {
			if complete {
				s.drop(key, l, nil)
			} else {
				s.mu.Lock()
				l.renewed = now
				s.mu.Unlock()
			}
		}
		return nil
	case conditionFailed(err) && l != nil:
		s.lost(key, l, "a checkpoint write found another owner")
		s.log.Debug("checkpoint write refused: the lease is no longer this node's", "key", key, "lease", l.counter, "seq", p.Sequence)
		return fmt.Errorf("save state %s: %w", key, ErrLeaseLost)
	case conditionFailed(err):
		return fmt.Errorf("save state %s: %w", key, ErrLeaseHeld)
	default:
		return fmt.Errorf("save state %s in table %s: %w", key, s.table, err)
	}
}

// Release implements Store. A release that finds another owner is not an
// error: the lease was gone anyway.
func (s *DynamoStore) Release(ctx context.Context, key string) error {
	s.mu.Lock()
	l := s.held[key]
	s.mu.Unlock()
	if l == nil {
		return nil
	}
	s.drop(key, l, nil)
	ctx, cancel := context.WithTimeout(ctx, s.timeout) // a stop must not hang on an unreachable table
	defer cancel()
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: s.itemKey(key),
		UpdateExpression:          aws.String("SET #owner = :free, #expires = :zero"),
		ConditionExpression:       aws.String("#owner = :me AND #lease = :counter"),
		ExpressionAttributeNames:  map[string]string{"#owner": attrOwner, "#lease": attrLease, "#expires": attrExpires},
		ExpressionAttributeValues: map[string]types.AttributeValue{":free": str(""), ":zero": num(0), ":me": str(s.node), ":counter": num(l.counter)},
	}
	withApplied(in, s.appliedOf(l)) // the last word on the shard goes with it
	_, err := s.api.UpdateItem(ctx, in)
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("release lease %s in table %s: %w", key, s.table, err)
	}
	if err == nil {
		s.announce(ctx, s.released)
	}
	s.log.Debug("lease released", "key", key)
	return nil
}

// Create implements Store.
func (s *DynamoStore) Create(ctx context.Context, key string, p Progress) (Progress, bool, error) {
	pv, err := progressValue(p)
	if err != nil {
		return Progress{}, false, fmt.Errorf("create state %s: %w", key, err)
	}
	item := s.itemKey(key)
	item[attrOwner], item[attrLease], item[attrExpires] = str(""), num(0), num(0)
	item[attrProgress], item[attrDone] = pv, &types.AttributeValueMemberBOOL{Value: p.Done}
	_, err = retry.Do(ctx, s.log, "create state "+key, func() (*dynamodb.PutItemOutput, error) {
		return s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(" + attrPK + ")"),
		})
	})
	switch {
	case err == nil:
		return p, true, nil
	case conditionFailed(err):
		stored, _, err := s.Get(ctx, key)
		return stored, false, err
	default:
		return Progress{}, false, fmt.Errorf("create state %s in table %s: %w", key, s.table, err)
	}
}

// Forget implements Store. prefix must name at least a group
// ("stream/<table>/", "backfill/<table>/").
func (s *DynamoStore) Forget(ctx context.Context, prefix string) error {
	g := group(strings.TrimSuffix(prefix, "/") + "/x")
	if strings.Count(g, "/") != 1 {
		return fmt.Errorf("forget state %s*: the prefix must name a kind and a table", prefix)
	}
	var start map[string]types.AttributeValue
	for {
		out, err := s.api.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.table), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
			KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(s.pipeline + "|" + g), ":prefix": str(prefix)},
		})
		if err != nil {
			return fmt.Errorf("forget state %s* in table %s: %w", prefix, s.table, err)
		}
		for _, it := range out.Items {
			sk, _ := it[attrSK].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			if _, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: s.itemKey(sk.Value)}); err != nil {
				return fmt.Errorf("forget state %s in table %s: %w", sk.Value, s.table, err)
			}
			s.mu.Lock()
			l := s.held[sk.Value]
			s.mu.Unlock()
			if l != nil {
				s.drop(sk.Value, l, ErrLeaseLost)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		start = out.LastEvaluatedKey
	}
}

// drop forgets a held lease (if it is still l) and ends its context.
func (s *DynamoStore) drop(key string, l *lease, cause error) bool {
	s.mu.Lock()
	cur := s.held[key]
	if cur == l {
		delete(s.held, key)
	}
	s.mu.Unlock()
	l.cancel(cause)
	if cur == l {
		s.m.Held.WithLabelValues(s.node, kind(key)).Dec()
		return true
	}
	return false
}

// lost drops a lease another node took (or that could not be renewed in
// time): its partition's context ends with ErrLeaseLost.
func (s *DynamoStore) lost(key string, l *lease, why string) {
	if isPartition(key) {
		s.mu.Lock()
		if s.held[key] == l {
			s.gone[key] = true
		}
		s.mu.Unlock()
	}
	if s.drop(key, l, ErrLeaseLost) {
		s.m.Lost.WithLabelValues(s.node, kind(key)).Inc()
		s.log.Warn("lease lost; stopping the partition", "key", key, "reason", why)
	}
}
