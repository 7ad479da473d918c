package stream

import (
	"context"
	"fmt"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
)

// Recorded returns the stream ARN whose state the store keeps for table
// (found is false when no stream phase ever started, or after a
// re-backfill forgot it). Shard checkpoints belong to that stream only:
// they are never applied to another.
func Recorded(ctx context.Context, store checkpoint.Store, table string) (arn string, found bool, err error) {
	t := Table{Name: table}
	p, found, err := store.Get(ctx, t.metaKey())
	if err != nil || !found {
		return "", false, err
	}
	return p.Meta["stream_arn"], true, nil
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
