package stream

import (
	"context"
	"fmt"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
)

// Recorded returns the stream ARN whose state the store keeps for table:
// the stream the stream phase reads (its start record), else the one Follow
// recorded when the backfill began. found is false when neither exists
// (first start, or after a re-backfill forgot them). Shard checkpoints
// belong to that stream only: they are never applied to another.
func Recorded(ctx context.Context, store checkpoint.Store, table string) (arn string, found bool, err error) {
	t := Table{Name: table}
	for _, key := range []string{t.metaKey(), t.followKey()} {
		p, found, err := store.Get(ctx, key)
		if err != nil || found {
			return p.Meta["stream_arn"], found, err
		}
	}
	return "", false, nil
}

// Follow records, before the table's backfill begins, the stream that
// carries every change after it: the stream phase reads that stream first,
// even when the table has another one by then (the records between the
// backfill and the replacement are in it). The first record wins, across
// restarts and nodes; Follow returns it.
func Follow(ctx context.Context, store checkpoint.Store, table, arn string) (string, error) {
	t := Table{Name: table}
	p, _, err := store.Create(ctx, t.followKey(), checkpoint.Progress{Meta: map[string]string{"stream_arn": arn}})
	if err != nil {
		return "", err
	}
	return p.Meta["stream_arn"], nil
}

// Replaced is the gap of a table whose stream was replaced (disabled and
// enabled again, or the table deleted and created again): the changes
// made between the old stream's end and the new one's start were never
// streamed. Both ARNs are named.
func Replaced(table, old, current string) *GapError {
	return &GapError{Table: table, Shard: "-", Replaced: true, Reason: fmt.Sprintf(
		"stream replaced: the table's stream %s ended and the table now has the stream %s (the stream was disabled and enabled again, or the table deleted and created again); changes made in between were never streamed",
		old, current)}
}
