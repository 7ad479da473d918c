package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// An incremental export is rebuilt from the table's DynamoDB Stream: for every key changed in
// [from, to) one line with the item before the window (OldImage) and at its end (NewImage).

// streamRecord is one record of GetRecords, as DynamoDB Streams sends it.
type streamRecord struct {
	EventName string
	Dynamodb  struct {
		ApproximateCreationDateTime epochTime
		Keys                        json.RawMessage
		NewImage                    json.RawMessage
		OldImage                    json.RawMessage
	}
}

// changeLine is one line of an incremental export's data file.
type changeLine struct {
	Metadata struct {
		WriteTimestampMicros struct {
			N string
		}
	}
	Keys     json.RawMessage
	NewImage json.RawMessage `json:",omitempty"`
	OldImage json.RawMessage `json:",omitempty"`
}

// changeSet keeps, per key, the first old image and the last new image inside the window.
// Records must arrive in stream order per key (one shard lineage, parents first).
type changeSet struct {
	from, to time.Time
	view     string // NEW_AND_OLD_IMAGES or NEW_IMAGE
	byKey    map[string]*changeLine
	order    []string
}

func newChangeSet(from, to time.Time, view string) *changeSet {
	return &changeSet{from: from, to: to, view: view, byKey: map[string]*changeLine{}}
}

func (c *changeSet) add(r streamRecord) error {
	t := r.Dynamodb.ApproximateCreationDateTime.Time
	if t.Before(c.from) || !t.Before(c.to) {
		return nil
	}
	key, err := canonicalKey(r.Dynamodb.Keys)
	if err != nil {
		return err
	}
	l, seen := c.byKey[key]
	if !seen {
		l = &changeLine{Keys: compact(r.Dynamodb.Keys)}
		if c.view == "NEW_AND_OLD_IMAGES" {
			l.OldImage = compact(r.Dynamodb.OldImage) // the item before the window
		}
		c.byKey[key] = l
		c.order = append(c.order, key)
	}
	l.Metadata.WriteTimestampMicros.N = fmt.Sprint(t.UnixMicro())
	l.NewImage = nil // a REMOVE leaves none
	if r.EventName != "REMOVE" {
		l.NewImage = compact(r.Dynamodb.NewImage)
	}
	return nil
}

// writeTo adds one line per changed key to l, in order of first change. A key created and
// deleted inside the window still gets a line (keys only): it reads as a delete.
func (c *changeSet) writeTo(l *layout) error {
	for _, k := range c.order {
		b, err := marshal(c.byKey[k])
		if err != nil {
			return err
		}
		if err := l.addLine(b); err != nil {
			return err
		}
	}
	return nil
}

// canonicalKey is a key's JSON with its attributes sorted, so the same key always maps to the
// same string whatever order DynamoDB sends the attributes in.
func canonicalKey(keys json.RawMessage) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(keys, &m); err != nil || len(m) == 0 {
		return "", fmt.Errorf("stream record without Keys: %s", keys)
	}
	for k, v := range m {
		m[k] = compact(v)
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func compact(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// readStream hands every record of the stream to fn, shard by shard, parents before children
// (all changes to one key stay in one lineage), from TRIM_HORIZON to the tip.
func (u *upstream) readStream(ctx context.Context, id identity, streamArn string, fn func(streamRecord) error) error {
	shards, err := u.listShards(ctx, id, streamArn)
	if err != nil {
		return err
	}
	for _, sh := range parentsFirst(shards) {
		var it struct{ ShardIterator string }
		in := map[string]string{"StreamArn": streamArn, "ShardId": sh.ShardId, "ShardIteratorType": "TRIM_HORIZON"}
		if err := u.call(ctx, id, "DynamoDBStreams_20120810.GetShardIterator", in, &it); err != nil {
			return fmt.Errorf("shard iterator %s: %w", sh.ShardId, err)
		}
		for iter := it.ShardIterator; iter != ""; {
			var out struct {
				Records           []streamRecord
				NextShardIterator string
			}
			in := map[string]any{"ShardIterator": iter, "Limit": 1000}
			if err := u.call(ctx, id, "DynamoDBStreams_20120810.GetRecords", in, &out); err != nil {
				return fmt.Errorf("get records %s: %w", sh.ShardId, err)
			}
			for _, r := range out.Records {
				if err := fn(r); err != nil {
					return err
				}
			}
			if len(out.Records) == 0 { // DynamoDB Local: an open shard's tip (a closed one ends with no iterator)
				break
			}
			iter = out.NextShardIterator
		}
	}
	return nil
}

type shard struct {
	ShardId       string
	ParentShardId string
}

func (u *upstream) listShards(ctx context.Context, id identity, streamArn string) ([]shard, error) {
	var shards []shard
	var start string
	for range 10000 { // a loop guard: a server that repeats its page cannot spin forever
		in := map[string]any{"StreamArn": streamArn}
		if start != "" {
			in["ExclusiveStartShardId"] = start
		}
		var out struct {
			StreamDescription struct {
				Shards               []shard
				LastEvaluatedShardId string
			}
		}
		if err := u.call(ctx, id, "DynamoDBStreams_20120810.DescribeStream", in, &out); err != nil {
			return nil, fmt.Errorf("describe stream %s: %w", streamArn, err)
		}
		shards = append(shards, out.StreamDescription.Shards...)
		start = out.StreamDescription.LastEvaluatedShardId
		if start == "" {
			return shards, nil
		}
	}
	return nil, fmt.Errorf("describe stream %s: too many pages", streamArn)
}

// parentsFirst orders shards so that every shard comes after its parent (when the parent is
// still listed).
func parentsFirst(shards []shard) []shard {
	listed := map[string]bool{}
	for _, s := range shards {
		listed[s.ShardId] = true
	}
	done := map[string]bool{}
	var out []shard
	for len(out) < len(shards) {
		progressed := false
		for _, s := range shards {
			if done[s.ShardId] || (listed[s.ParentShardId] && !done[s.ParentShardId]) {
				continue
			}
			done[s.ShardId] = true
			out = append(out, s)
			progressed = true
		}
		if !progressed { // a parent cycle cannot happen; keep the rest as listed
			for _, s := range shards {
				if !done[s.ShardId] {
					out = append(out, s)
				}
			}
			break
		}
	}
	return out
}
