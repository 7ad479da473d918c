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
// that could contain a record written before M.
func Listing(ctx context.Context, api API, store checkpoint.Store, table Table, log *slog.Logger) ([]metrics.ListedShard, error) {
	s := New(api, store, table, log, nil, nil, Options{})
	shards, err := s.listShards(ctx)
	if err != nil {
		return nil, err
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
