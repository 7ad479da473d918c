// Package change holds the unit of data that flows from a source to a sink:
// one Event per DynamoDB item change (stream record, export line or scan item),
// already converted to its OpenSearch document, with Data-Prepper-compatible
// metadata and a deterministic external version.
package change

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Op is what the sink does with the document.
type Op uint8

const (
	// OpIndex writes the document (insert or update).
	OpIndex Op = iota
	// OpDelete removes the document.
	OpDelete
)

// String returns the OpenSearch bulk action name ("index" or "delete").
func (o Op) String() string {
	if o == OpDelete {
		return "delete"
	}
	return "index"
}

// Metadata keys, named as Data Prepper names them so that pipeline files
// written for Data Prepper / OpenSearch Ingestion evaluate the same way.
const (
	MetaPrimaryKey       = "primary_key"
	MetaPartitionKey     = "partition_key"
	MetaSortKey          = "sort_key"
	MetaAction           = "opensearch_action"
	MetaDocumentVersion  = "document_version"
	MetaEventName        = "dynamodb_event_name"
	MetaEventTimestamp   = "dynamodb_timestamp"
	MetaTableName        = "table_name"
	MetaTTLDelete        = "ttl_delete"
	MetaStreamSequenceNo = "stream_sequence_number"
)

// Event is one change of one item, ready to be written.
type Event struct {
	Table        string
	Op           Op
	ID           string // primary_key: "pk" or "pk|sk", escaped or hashed when ambiguous or long (ddbjson.DocumentID)
	PartitionKey string // canonical text of the partition key value
	SortKey      string // canonical text of the sort key value ("" when the table has none)
	// Doc is the item as a JSON object (DESIGN §2.5). For a delete it is the
	// old image when the stream has one, else the keys only.
	Doc       []byte
	Version   int64
	EventName string    // INSERT, MODIFY, REMOVE; "" for backfill items
	Timestamp time.Time // ApproximateCreationDateTime, or the backfill time
	TTLDelete bool      // a REMOVE issued by DynamoDB's TTL process
	// Sequence is the stream sequence number ("" for backfill items).
	Sequence string
	// OldDoc is the item before the change as a JSON object, when the stream
	// record carries an old image (stream view NEW_AND_OLD_IMAGES or
	// OLD_IMAGE) on a MODIFY or REMOVE; nil otherwise. The sink resolves the
	// old copy's _id, routing and index from it (DESIGN §2.11).
	OldDoc []byte

	parsed map[string]any // lazily decoded Doc, for JSON pointer lookups
}

// Metadata returns the Data-Prepper metadata value for key.
func (e *Event) Metadata(key string) (string, bool) {
	switch key {
	case MetaPrimaryKey:
		return e.ID, true
	case MetaPartitionKey:
		return e.PartitionKey, true
	case MetaSortKey:
		return e.SortKey, e.SortKey != ""
	case MetaAction:
		return e.Op.String(), true
	case MetaDocumentVersion:
		return strconv.FormatInt(e.Version, 10), true
	case MetaEventName:
		return e.EventName, e.EventName != ""
	case MetaEventTimestamp:
		return strconv.FormatInt(e.Timestamp.UnixMilli(), 10), true
	case MetaTableName:
		return e.Table, true
	case MetaTTLDelete:
		return strconv.FormatBool(e.TTLDelete), true
	case MetaStreamSequenceNo:
		return e.Sequence, e.Sequence != ""
	}
	return "", false
}

// Pointer resolves an RFC 6901 JSON pointer against the document and returns
// the value as text (strings unquoted, everything else as JSON).
func (e *Event) Pointer(ptr string) (string, bool) {
	if e.parsed == nil {
		d := json.NewDecoder(strings.NewReader(string(e.Doc)))
		d.UseNumber()
		if err := d.Decode(&e.parsed); err != nil {
			return "", false
		}
	}
	var cur any = e.parsed
	if ptr == "" || ptr == "/" {
		return "", false
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return "", false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return "", false
			}
			cur = v[i]
		default:
			return "", false
		}
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case nil:
		return "", false
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
}

// Old returns a view of the event whose JSON pointers resolve against the
// old image (metadata and time are the event's); nil when there is none.
func (e *Event) Old() *Event {
	if e.OldDoc == nil {
		return nil
	}
	return &Event{
		Table: e.Table, Op: e.Op, ID: e.ID, PartitionKey: e.PartitionKey, SortKey: e.SortKey,
		Doc: e.OldDoc, Version: e.Version, EventName: e.EventName, Timestamp: e.Timestamp,
		TTLDelete: e.TTLDelete, Sequence: e.Sequence,
	}
}

// Time is the event time used by %{...} date patterns.
func (e *Event) Time() time.Time { return e.Timestamp }
