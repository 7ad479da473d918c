package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/metrics"
	"github.com/ddbsync/ddbsync/internal/source/backfill"
)

// sharedState is a state store several nodes share (the DynamoDB state
// table): the caught-up check reads the other nodes' partitions from it.
type sharedState interface {
	Partitions(ctx context.Context, prefix string) ([]checkpoint.Partition, error)
}

// backfillBehind reads a table's backfill records from a shared state
// table: while its backfill record is not done, some node still loads
// export data files or scan segments, and the table is not caught up
// whatever this node's own phase says. The reasons name each open
// partition and the node holding it.
func backfillBehind(ctx context.Context, st sharedState, table string, now time.Time) ([]metrics.Behind, error) {
	parts, err := st.Partitions(ctx, backfill.Prefix(table))
	if err != nil {
		return nil, fmt.Errorf("read the backfill state of table %s: %w", table, err)
	}
	var meta *checkpoint.Partition
	for i := range parts {
		if parts[i].Key == backfill.MetaKey(table) {
			meta = &parts[i]
		}
	}
	if meta == nil || meta.Progress.Done {
		return nil, nil // no backfill, or it finished on every node
	}
	var behind []metrics.Behind
	for _, p := range parts {
		if p.Key == meta.Key || p.Progress.Done {
			continue
		}
		b := metrics.Behind{Table: table, Why: "backfill in progress: " + strings.TrimPrefix(p.Key, backfill.Prefix(table))}
		switch {
		case p.Held(now):
			b.Node, b.Why = p.Owner, b.Why+" is loaded by node "+p.Owner
		case p.Owner != "":
			b.Node, b.Why = p.Owner, b.Why+" waits for a node (the lease of node "+p.Owner+" expired)"
		default:
			b.Why += " waits for a node"
		}
		behind = append(behind, b)
	}
	if len(behind) == 0 {
		why := "backfill in progress: not every partition is started yet"
		if meta.Held(now) {
			why = "backfill in progress: node " + meta.Owner + " prepares it (starts the export and waits for it)"
		}
		behind = []metrics.Behind{{Table: table, Node: meta.Owner, Why: why}}
	}
	return behind, nil
}
