// Package bulk turns change events into OpenSearch _bulk operations: it
// evaluates the sink's templates per event, coalesces operations on the same
// document, and encodes the NDJSON action and document lines. Every sink that
// prints or sends bulk actions (opensearch, stdout, file) uses it, so they all
// produce the same bytes.
package bulk

import (
	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
)

// Action is a bulk action name.
type Action string

// The bulk actions ddbsync writes.
const (
	ActionIndex  Action = "index"
	ActionCreate Action = "create"
	ActionDelete Action = "delete"
)

// Version types (config document_version_type).
const (
	VersionExternal    = config.VersionTypeExternal
	VersionExternalGTE = config.VersionTypeExternalGTE
	VersionInternal    = config.VersionTypeInternal
)

// Item is one resolved bulk operation: where the event goes and how.
type Item struct {
	Action   Action
	Index    string
	ID       string
	Routing  string // "" when unset
	Pipeline string // ingest pipeline; "" when unset
	// Version is sent only when VersionType is not "" (external or
	// external_gte); it is 0 otherwise.
	Version     int64
	VersionType string
	// Event is the change the item was made from (for the dead-letter queue).
	Event *change.Event
}

// Versioned reports whether the item carries an external version.
func (it *Item) Versioned() bool { return it.VersionType != "" }
