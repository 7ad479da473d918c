package stream

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/metrics"
)

// Listing lists a table's stream shards now, each with whether its
// checkpoint says it was read to its end: the input of
// metrics.Progress.CaughtUp. Taken after a moment M, it holds every shard
// that could contain a record written before M. With a shared state table
// (several nodes) each shard also carries its lease and the moment its
// reader, on whichever node, published as applied; the records are read
// after the listing, so they are at least as new as it.
func Listing(ctx context.Context, api API, store checkpoint.Store, table Table, log *slog.Logger) ([]metrics.ListedShard, error) {
	s := New(api, store, table, log, nil, nil, Options{})
	shards, err := s.listShards(ctx)
	if err != nil {
		return nil, err
	}
	if shared, ok := store.(sharedState); ok {
		return s.sharedListing(ctx, shared, shards)
	}
	out := make([]metrics.ListedShard, 0, len(shards))
	for _, sh := range shards {
		p, _, err := store.Get(ctx, table.shardKey(sh.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, metrics.ListedShard{ID: sh.ID, Parent: sh.Parent, Complete: p.Done})
	}
	return out, nil
}

// sharedState is a state store several nodes share (the DynamoDB state
// table): it lists a table's shard records with their leases in one call.
type sharedState interface {
	Partitions(ctx context.Context, prefix string) ([]checkpoint.Partition, error)
}

// sharedListing adds each listed shard's record of the shared state table.
func (s *Source) sharedListing(ctx context.Context, shared sharedState, shards []shardInfo) ([]metrics.ListedShard, error) {
	parts, err := shared.Partitions(ctx, s.table.shardKey(""))
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]checkpoint.Partition, len(parts))
	for _, p := range parts {
		byKey[p.Key] = p
	}
	now := s.opts.Now()
	out := make([]metrics.ListedShard, 0, len(shards))
	for _, sh := range shards {
		p := byKey[s.table.shardKey(sh.ID)]
		out = append(out, metrics.ListedShard{ID: sh.ID, Parent: sh.Parent, Complete: p.Progress.Done,
			Owner: p.Owner, Held: p.Held(now), Expires: p.Expires, Applied: p.Applied})
	}
	return out, nil
}

// appliedUpTo is a shard's tip after an acknowledged GetRecords call that
// began at callStart: the call's start when it found no record (the reader
// was at the shard's end then), else the last record's creation time (the
// shard's records are in creation order).
func appliedUpTo(callStart time.Time, records []types.Record) time.Time {
	if len(records) == 0 {
		return callStart
	}
	return createdAt(records[len(records)-1])
}
