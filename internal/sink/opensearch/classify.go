package opensearch

import (
	"strings"

	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

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

// mappingRaceAttempts bounds how often an item refused by a mapping race is
// sent: a race clears on the next attempt (the winner's mapping is then in
// place and the item parses against it), a genuine conflict does not and
// goes to the dead-letter queue after the last attempt.
const mappingRaceAttempts = 5

// mappingRacePhrases are the reasons OpenSearch gives when two dynamic
// mapping updates of one field disagree: parallel first writes of 1 and 1.5
// ("mapper [x] cannot be changed from type [long] to [float]"), of an
// object and a scalar, or one list holding both kinds.
var mappingRacePhrases = []string{
	"cannot be changed from type",
	"of different type",
	"can't merge a non object mapping",
	"can't merge a non-nested mapping",
}

// isMappingRace reports whether a refused item may be a mapping race: a 400
// whose reason is one of mappingRacePhrases. Such an item is sent again (at
// most mappingRaceAttempts times in all) before it is dead-lettered. A
// value that does not fit an established mapping ("failed to parse field")
// is not a race.
func isMappingRace(status int, errType, reason string) bool {
	if status != 400 || (errType != "illegal_argument_exception" && errType != "mapper_parsing_exception") {
		return false
	}
	for _, p := range mappingRacePhrases {
		if strings.Contains(reason, p) {
			return true
		}
	}
	return false
}

// retryMappingRace reports whether an item refused on attempt (0-based)
// is sent again as a possible mapping race: within mappingRaceAttempts, and
// within max_retries when that is set.
func (s *Sink) retryMappingRace(attempt int, r itemResult) bool {
	if !isMappingRace(r.Status, r.Type, r.Reason) || attempt+1 >= mappingRaceAttempts {
		return false
	}
	return s.cfg.MaxRetries == 0 || attempt < s.cfg.MaxRetries
}
