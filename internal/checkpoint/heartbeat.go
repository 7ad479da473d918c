package checkpoint

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

// Run renews every held lease and this node's heartbeat item every third
// of the lease timeout until ctx ends, then deletes the node item. A lease
// whose renewal finds another owner, or that could not be renewed for ⅔
// of the timeout (this node is cut off, so another may take it once it
// expires), is lost: its partition's context ends with ErrLeaseLost.
func (s *DynamoStore) Run(ctx context.Context) error {
	var g errgroup.Group
	g.Go(func() error { s.pollEvents(ctx); return nil })
	g.Go(func() error {
		s.Beat(ctx)
		t := time.NewTicker(s.timeout / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				s.leave(context.WithoutCancel(ctx))
				return nil
			case <-t.C:
				s.Beat(ctx)
			}
		}
	})
	return g.Wait()
}

// Beat is one heartbeat: renew the held leases, refresh the node item and
// count the live nodes.
func (s *DynamoStore) Beat(ctx context.Context) {
	held := s.renewalOrder()
	// Renewals run side by side: one at a time, a node with 1,000 leases
	// and 5 ms per call would need 5 s per round, longer than the round
	// (a third of the timeout), and drop leases it could have kept.
	var g errgroup.Group
	g.SetLimit(renewParallel)
	start := s.now()
	for _, h := range held {
		g.Go(func() error { s.renew(ctx, h.key, h.l); return nil })
	}
	_ = g.Wait()
	s.slowRenewals(len(held), s.now().Sub(start))
	hctx, cancel := context.WithTimeout(ctx, s.timeout/3) // an unanswered call must not delay the next renewals
	defer cancel()
	if err := s.heartbeat(hctx); err != nil && ctx.Err() == nil {
		s.log.Warn("node heartbeat failed", "err", err)
	}
}

// slowRenewals warns (at most once a minute) when renewing the held
// leases took longer than a heartbeat's period: the state table answers
// fewer writes than 3 × leases / lease_timeout per second, and leases
// not renewed for ⅔ of the timeout are dropped and taken again.
func (s *DynamoStore) slowRenewals(n int, took time.Duration) {
	if took <= s.timeout/3 || warnedRecently(s.now(), s.slowWarned) {
		return
	}
	s.slowWarned = s.now()
	s.log.Warn("renewing the held leases takes longer than a third of lease_timeout; leases will be lost and taken again: raise lease_timeout or the state table's write capacity",
		"leases", n, "took", took.Round(time.Millisecond), "lease_timeout", s.timeout,
		"writes_per_s_needed", fmt.Sprintf("%.0f", 3*float64(n)/s.timeout.Seconds()),
		"writes_per_s_achieved", fmt.Sprintf("%.0f", float64(n)/max(took.Seconds(), 0.001)))
}

// warnedRecently reports whether the last slow-renewal warning was less than a
// minute before now.
func warnedRecently(now, last time.Time) bool { return !last.IsZero() && now.Sub(last) < time.Minute }

// heldLease is a held lease as a heartbeat found it.
type heldLease struct {
	key     string
	l       *lease
	renewed time.Time
}

// renewalOrder lists the held leases longest unrenewed first: when the
// table answers slower than a round needs, every lease still gets one
// renewal per round (in a random order one could wait two rounds, past
// the give-up point, and be dropped although the table kept up with
// ⅔ of the round's pace).
func (s *DynamoStore) renewalOrder() []heldLease {
	s.mu.Lock()
	held := make([]heldLease, 0, len(s.held))
	for k, l := range s.held {
		held = append(held, heldLease{k, l, l.renewed})
	}
	s.mu.Unlock()
	slices.SortFunc(held, func(a, b heldLease) int { return a.renewed.Compare(b.renewed) })
	return held
}

// renewParallel is how many renewals a heartbeat has in flight at once.
const renewParallel = 16

// renew extends one lease. The call may last only until the lease's
// give-up point (⅔ of the timeout after its last renewal): a table that
// does not answer (a black-holed connection holds a call forever) must not
// keep this node believing in a lease that expires meanwhile and that
// another node then takes.
func (s *DynamoStore) renew(ctx context.Context, key string, l *lease) {
	now := s.now()
	s.mu.Lock()
	renewed := l.renewed
	s.mu.Unlock()
	left := renewed.Add(s.giveUp()).Sub(now)
	if left <= 0 {
		s.lost(key, l, fmt.Sprintf("not renewed for %s", now.Sub(renewed).Round(time.Millisecond)))
		return
	}
	cctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: s.itemKey(key),
		UpdateExpression:          aws.String("SET #expires = :exp"),
		ConditionExpression:       aws.String("#owner = :me AND #lease = :counter"),
		ExpressionAttributeNames:  map[string]string{"#owner": attrOwner, "#lease": attrLease, "#expires": attrExpires},
		ExpressionAttributeValues: map[string]types.AttributeValue{":exp": num(now.Add(s.timeout).UnixMilli()), ":me": str(s.node), ":counter": num(l.counter)},
	}
	withApplied(in, s.appliedOf(l)) // an idle shard's progress travels with the heartbeat
	_, err := s.api.UpdateItem(cctx, in)
	switch {
	case err == nil:
		s.mu.Lock()
		l.renewed = now
		s.mu.Unlock()
	case conditionFailed(err):
		s.lost(key, l, "the renewal found another owner")
	case ctx.Err() != nil:
	default:
		s.mu.Lock()
		since := s.now().Sub(l.renewed) // after the call: it may have waited until the give-up point
		s.mu.Unlock()
		if since >= s.giveUp() { // before it expires: another node may take it then
			s.lost(key, l, fmt.Sprintf("not renewed for %s: %v", since.Round(time.Millisecond), err))
			return
		}
		s.log.Warn("lease renewal failed; retrying", "key", key, "err", err)
	}
}

// giveUp is how long after its last renewal a lease that cannot be renewed
// is dropped: well before it expires, when another node may take it.
func (s *DynamoStore) giveUp() time.Duration { return s.timeout * 2 / 3 }

// heartbeat refreshes the node item (with how many stream shards this
// node holds) and counts the nodes whose heartbeat has not expired,
// noting the others' shard counts. It updates rather than replaces the
// item, so the floors the node acknowledged (AckFloor) stay in it.
func (s *DynamoStore) heartbeat(ctx context.Context) error {
	now := s.now()
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: s.nodeKey(s.node),
		UpdateExpression:         aws.String("SET #expires = :exp, #ttl = :ttl, #shards = :shards"),
		ExpressionAttributeNames: map[string]string{"#expires": attrExpires, "#ttl": attrTTL, "#shards": attrShards},
		ExpressionAttributeValues: map[string]types.AttributeValue{":exp": num(now.Add(s.timeout).UnixMilli()), ":ttl": num(now.Add(time.Hour).Unix()),
			":shards": num(int64(s.heldShards()))},
	})
	if err != nil {
		return fmt.Errorf("write node heartbeat to table %s: %w", s.table, err)
	}
	return s.readNodes(ctx)
}

// readNodes reads the node records: the live nodes (their records'
// expiries) and the others' shard counts.
func (s *DynamoStore) readNodes(ctx context.Context) error {
	now := s.now()
	live := map[string]int64{}
	loads := map[string]int{}
	err := s.queryGroup(ctx, nodesGroup, func(it map[string]types.AttributeValue) error {
		exp, err := number(it, attrExpires)
		sk, _ := it[attrSK].(*types.AttributeValueMemberS)
		if err != nil || exp <= now.UnixMilli() || sk == nil {
			return nil
		}
		live[sk.Value] = exp
		if n, err := number(it, attrShards); err == nil && sk.Value != s.node {
			loads[sk.Value] = int(n) // a node that does not say (an older version) is left out
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	s.mu.Lock()
	s.live = live
	s.loads = loads
	s.mu.Unlock()
	return nil
}

// liveLocked is the other nodes whose heartbeat, as last read, has not
// expired by now: a node that died drops out the moment its record
// expires, not only at this node's next heartbeat (the survivor's share
// grows, and it takes the dead node's shards, as soon as their leases
// expire). A live node's record read here expires no sooner than ⅔ of
// the timeout after the read, later than this node's next heartbeat.
func (s *DynamoStore) liveLocked() []string {
	now := s.now().UnixMilli()
	var out []string
	for node, exp := range s.live {
		if exp > now && node != s.node {
			out = append(out, node)
		}
	}
	return out
}

// heldShards is how many stream shard leases this node holds.
func (s *DynamoStore) heldShards() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for key := range s.held {
		if kind(key) == "stream" && isPartition(key) {
			n++
		}
	}
	return n
}

// Loads is how many stream shards each other live node held at its last
// heartbeat, as this node's last heartbeat read them (a node that does
// not publish its count is absent).
func (s *DynamoStore) Loads() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, node := range s.liveLocked() {
		if n, ok := s.loads[node]; ok {
			out[node] = n
		}
	}
	return out
}

// nodeKey is the key of a node's record.
func (s *DynamoStore) nodeKey(node string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(s.pipeline + "|" + nodesGroup), attrSK: str(node)}
}

// leave deletes the node item, so the others count one node less at once
// (within a second: see readEvents).
func (s *DynamoStore) leave(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if _, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: s.nodeKey(s.node)}); err != nil {
		s.log.Warn("could not delete the node item", "err", err)
		return
	}
	// Announced like a release: the other nodes read the node records
	// again at once, and their shares grow by what this node gave up.
	s.announce(ctx, s.released)
}
