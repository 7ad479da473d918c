// Package backfill holds what the export and scan backfills share: turning
// a whole item into an index event with the backfill version, and the
// table-level record of a backfill's time and completion.
package backfill

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// Handler applies one batch of events; progress is saved when it returns nil.
type Handler func(ctx context.Context, events []change.Event) error

// Table is what a backfill needs to know about a table.
type Table struct {
	Name    string
	Key     ddbjson.Key
	Overlap time.Duration
	// Generation is the table's version generation (change.InGeneration).
	Generation int64
}

// Prefix is the prefix of every checkpoint key of a table's backfill.
func Prefix(table string) string { return "backfill/" + table + "/" }

// MetaKey is the checkpoint key of a table's backfill record.
func MetaKey(table string) string { return Prefix(table) + "meta" }

// Meta keys inside the backfill record.
const (
	MetaKind      = "kind"       // export | scan
	MetaTime      = "time"       // backfill time, unix seconds (AWS export time, or scan start)
	MetaExportARN = "export_arn" // the export being loaded
	MetaToken     = "client_token"
)

// Event builds the index event of one backfilled item.
func (t Table) Event(item map[string]types.AttributeValue, at time.Time) (change.Event, error) {
	ids, err := t.Key.KeyIDs(item)
	if err != nil {
		return change.Event{}, err
	}
	doc, err := ddbjson.Item(item)
	if err != nil {
		return change.Event{}, err
	}
	return change.Event{
		Table: t.Name, Op: change.OpIndex, ID: ids.ID, PartitionKey: ids.Partition, SortKey: ids.Sort,
		Doc: doc, Version: change.InGeneration(change.BackfillVersion(at, t.Overlap), t.Generation), Timestamp: at.UTC(),
	}, nil
}

// Cutoff is the first stream second to replay after a backfill taken at at.
func (t Table) Cutoff(at time.Time) int64 { return change.StreamCutoff(at, t.Overlap) }

// TimeOf reads the backfill time from a backfill record.
func TimeOf(p checkpoint.Progress) (time.Time, error) {
	s, err := strconv.ParseInt(p.Meta[MetaTime], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("backfill record has no valid time %q", p.Meta[MetaTime])
	}
	return time.Unix(s, 0), nil
}
