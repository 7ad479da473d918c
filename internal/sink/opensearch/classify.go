package opensearch

import "github.com/ddbsync/ddbsync/internal/sink/bulk"

// outcome is what happens to one bulk item after OpenSearch answered.
type outcome uint8

const (
	// outcomeDone: applied (2xx), or a delete of a document that is not there.
	outcomeDone outcome = iota
	// outcomeSuperseded: OpenSearch already holds this version or a newer one
	// (409 under external versioning; equal versions count, DESIGN §2.3), or
	// a create found the document already there.
	outcomeSuperseded
	// outcomeRetry: transient (429, 408, 5xx, cluster blocks); send again.
	outcomeRetry
	// outcomeDeadLetter: OpenSearch will never accept this item as it is.
	outcomeDeadLetter
)

func (o outcome) String() string {
	switch o {
	case outcomeDone:
		return "done"
	case outcomeSuperseded:
		return "superseded"
	case outcomeRetry:
		return "retry"
	}
	return "dead-letter"
}

// Error types that are transient whatever their status says.
var retryableTypes = map[string]bool{
	// Write blocks (flood-stage disk watermark, index.blocks.write during
	// maintenance) clear without changing the document; dead-lettering every
	// write while the disk is full would empty the stream into the DLQ.
	"cluster_block_exception":             true,
	"es_rejected_execution_exception":     true,
	"circuit_breaking_exception":          true,
	"unavailable_shards_exception":        true,
	"no_shard_available_action_exception": true,
}

// classify decides one item's outcome from its action, whether it carried an
// external version, and OpenSearch's status and error type. It is the whole
// policy of DESIGN §2.1 for bulk items.
func classify(act bulk.Action, versioned bool, status int, errType string) outcome {
	switch {
	case status >= 200 && status < 300:
		return outcomeDone
	case status == 404 && act == bulk.ActionDelete:
		return outcomeDone
	case status == 409 && errType == "version_conflict_engine_exception" && (versioned || act == bulk.ActionCreate):
		return outcomeSuperseded
	case status == 429 || status == 408 || status >= 500 || status < 200:
		return outcomeRetry
	case retryableTypes[errType]:
		return outcomeRetry
	}
	return outcomeDeadLetter
}

// retryableStatus reports whether a whole-request status is transient.
func retryableStatus(status int) bool {
	return status == 429 || status == 408 || status >= 500
}
