package checkpoint

import (
	"context"
)

// Snapshot reads every record of the given tables (stream, backfill and
// table-level), each with its lease, in key order per table and kind, for
// `ddbsync status`. It takes no lease.
func (s *DynamoStore) Snapshot(ctx context.Context, tables []string) ([]Partition, error) {
	var out []Partition
	for _, t := range tables {
		for _, kind := range []string{"stream", "backfill", "table"} {
			parts, err := s.Partitions(ctx, kind+"/"+t+"/")
			if err != nil {
				return nil, err
			}
			out = append(out, parts...)
		}
	}
	return out, nil
}
