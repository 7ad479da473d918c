package stream

import (
	"github.com/ddbsync/ddbsync/internal/ddbjson"
)

// Table is what the source needs to know about one table's stream.
type Table struct {
	Name      string
	StreamARN string
	Key       ddbjson.Key
	// StartPosition is LATEST or TRIM_HORIZON and only matters on the very
	// first start; later starts always continue from the checkpoints.
	StartPosition string
	// ViewOnRemove is NEW_IMAGE (document = keys) or OLD_IMAGE.
	ViewOnRemove string
	// KeepTTLDeletes skips REMOVE records issued by DynamoDB's TTL process.
	KeepTTLDeletes bool
	// SkipOldImages drops the records' old images (change.Event.OldDoc)
	// when no sink places documents by non-key attributes; the zero value
	// keeps them.
	SkipOldImages bool
	// Cutoff, when non-zero, is the first second of stream records to apply
	// (records created before it are part of a backfill). It is fixed on the
	// first start and saved with the checkpoints.
	Cutoff int64
	// Generation is the table's version generation (change.InGeneration).
	Generation int64
	// Floor, when set, is the table's clock floor (raised by verify
	// --repair through run); nil means none.
	Floor *Floor
}

// storeKey prefixes.
func (t *Table) metaKey() string              { return "stream/" + t.Name + "/meta" }
func (t *Table) followKey() string            { return "stream/" + t.Name + "/follow" }
func (t *Table) shardKey(shard string) string { return "stream/" + t.Name + "/shard/" + shard }
