package checkpoint

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A table's clock floor across nodes. The floor itself is the table-level
// record FloorKey (raised with a conditional write, so never lowered); each
// node acknowledges the floor its shard readers all applied in its own node
// record (attribute floorAckAttr), so the node that raised it can wait
// until every node that may read the table's shards has.

// FloorAck is one node's acknowledgement of a table's clock floor.
type FloorAck struct {
	Node  string
	Floor int64 // the highest floor the node's readers all applied; 0 for none
}

// floorAckAttr is the node record's attribute holding the floor the node
// applied for table.
func floorAckAttr(table string) string { return "floor_ack/" + table }

// raiseFloor raises the floor record with a write conditional on the
// record as read, so of two nodes raising it at once neither lowers it.
func (s *DynamoStore) raiseFloor(ctx context.Context, table string, v int64) (int64, error) {
	key := FloorKey(table)
	for {
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: s.itemKey(key), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return 0, fmt.Errorf("read clock floor of table %s from %s: %w", table, s.table, err)
		}
		var cur int64
		if len(out.Item) > 0 {
			r, err := decodeRecord(key, out.Item)
			if err != nil {
				return 0, err
			}
			if cur, err = parseFloor(r.p); err != nil {
				return 0, fmt.Errorf("clock floor of table %s: %w", table, err)
			}
		}
		if cur >= v {
			return cur, nil
		}
		pv, err := progressValue(floorProgress(v))
		if err != nil {
			return 0, fmt.Errorf("save clock floor of table %s: %w", table, err)
		}
		in := &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: s.itemKey(key),
			UpdateExpression: aws.String("SET #progress = :p, #done = :done, #owner = if_not_exists(#owner, :free), " +
				"#lease = if_not_exists(#lease, :zero), #expires = if_not_exists(#expires, :zero)"),
			ExpressionAttributeNames: map[string]string{"#progress": attrProgress, "#done": attrDone, "#owner": attrOwner, "#lease": attrLease, "#expires": attrExpires},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":p": pv, ":done": &types.AttributeValueMemberBOOL{Value: false}, ":free": str(""), ":zero": num(0),
			},
		}
		seen, ok := out.Item[attrProgress]
		if ok {
			in.ConditionExpression = aws.String("#progress = :seen")
			in.ExpressionAttributeValues[":seen"] = seen
		} else {
			in.ConditionExpression = aws.String("attribute_not_exists(#progress)")
		}
		_, err = s.api.UpdateItem(ctx, in)
		switch {
		case err == nil:
			s.announce(ctx, s.tableChanged) // the other nodes follow it within a second
			return v, nil
		case conditionFailed(err): // another node raised it meanwhile: read again
			if err := ctx.Err(); err != nil {
				return 0, fmt.Errorf("raise clock floor of table %s: %w", table, err)
			}
		default:
			return 0, fmt.Errorf("save clock floor of table %s in %s: %w", table, s.table, err)
		}
	}
}

// AckFloor records in this node's record that every shard reader of table
// on this node applied floor v. It never lowers an acknowledgement and
// never recreates a node record that is gone (the node left).
func (s *DynamoStore) AckFloor(ctx context.Context, table string, v int64) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: s.nodeKey(s.node),
		UpdateExpression: aws.String("SET #ack = :v"),
		// AND binds tighter than OR: a live record, and the ack absent or lower.
		ConditionExpression:       aws.String("#expires > :zero AND attribute_not_exists(#ack) OR #expires > :zero AND #ack < :v"),
		ExpressionAttributeNames:  map[string]string{"#ack": floorAckAttr(table), "#expires": attrExpires},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(v), ":zero": num(0)},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("acknowledge clock floor %d of table %s in %s: %w", v, table, s.table, err)
	}
	return nil
}

// FloorAcks lists the nodes that must apply a clock floor of table before
// it is in effect everywhere, with the floor each acknowledged: every live
// node (its heartbeat has not expired), and every node recorded as the
// owner of one of the table's open shards, also after its lease expired,
// until another node took the shard over (then that one's checkpoint
// writes are fenced, and the new owner's reader read the saved floor before
// its first record). A node that is neither reads none of the table's
// shards, and a reader it starts later reads the saved floor first.
func (s *DynamoStore) FloorAcks(ctx context.Context, table string) ([]FloorAck, error) {
	now := s.now().UnixMilli()
	acked, need := map[string]int64{}, map[string]bool{}
	err := s.queryGroup(ctx, nodesGroup, func(it map[string]types.AttributeValue) error {
		sk, _ := it[attrSK].(*types.AttributeValueMemberS)
		if sk == nil {
			return nil
		}
		ack, err := number(it, floorAckAttr(table))
		if err != nil {
			return fmt.Errorf("node record %s: %w", sk.Value, err)
		}
		acked[sk.Value] = ack
		if exp, err := number(it, attrExpires); err == nil && exp > now {
			need[sk.Value] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.queryGroup(ctx, group("stream/"+table+"/x"), func(it map[string]types.AttributeValue) error {
		sk, _ := it[attrSK].(*types.AttributeValueMemberS)
		if sk == nil || !isPartition(sk.Value) {
			return nil
		}
		r, err := decodeRecord(sk.Value, it)
		if err != nil {
			return err
		}
		if r.owner != "" && !r.p.Done {
			need[r.owner] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]FloorAck, 0, len(need))
	for n := range need {
		out = append(out, FloorAck{Node: n, Floor: acked[n]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// queryGroup calls each for every record of one group ("nodes",
// "stream/<table>", …) of this pipeline, read consistently.
func (s *DynamoStore) queryGroup(ctx context.Context, g string, each func(map[string]types.AttributeValue) error) error {
	var start map[string]types.AttributeValue
	for {
		out, err := s.api.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.table), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(s.pipeline + "|" + g)},
		})
		if err != nil {
			return fmt.Errorf("read state %s from table %s: %w", g, s.table, err)
		}
		for _, it := range out.Items {
			if err := each(it); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		start = out.LastEvaluatedKey
	}
}
