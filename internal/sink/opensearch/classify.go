package opensearch

import (
	"encoding/json"
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
	// outcomeFatal: refused because of the sink's configuration or the
	// cluster, not the document (a missing ingest pipeline, no ingest node, a
	// closed index): every document sent there is refused alike, so retrying
	// never ends and dead-lettering would drain the table into the queue.
	// The write fails with what to fix; its checkpoint stays behind.
	outcomeFatal
)

func (o outcome) String() string {
	switch o {
	case outcomeDone:
		return "done"
	case outcomeSuperseded:
		return "superseded"
	case outcomeRetry:
		return "retry"
	case outcomeFatal:
		return "fatal"
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

// Error types that refuse one document for good whatever their status says:
// an ingest pipeline's `fail` processor answers 500.
var deadLetterTypes = map[string]bool{
	"fail_processor_exception": true,
}

// classify decides one item's outcome from its action, whether it carried an
// external version, and OpenSearch's status, error type and reason. It is
// the whole policy of DESIGN §2.1 for bulk items.
func classify(act bulk.Action, versioned bool, status int, errType, reason string) outcome {
	switch {
	case status >= 200 && status < 300:
		return outcomeDone
	case status == 404 && act == bulk.ActionDelete:
		return outcomeDone
	case status == 409 && errType == "version_conflict_engine_exception" && (versioned || act == bulk.ActionCreate):
		return outcomeSuperseded
	case refusalHint(errType, reason) != "":
		return outcomeFatal
	case deadLetterTypes[errType]:
		return outcomeDeadLetter
	case status == 429 || status == 408 || status >= 500 || status < 200:
		return outcomeRetry
	case retryableTypes[errType]:
		return outcomeRetry
	}
	return outcomeDeadLetter
}

// classifyRequest decides the outcome of a whole _bulk request that did not
// answer 200 (413 is split by the caller): fatal when its error is one of
// the cluster's or configuration's (refusalHint), a retry when the status is
// transient, otherwise a refusal of the request (outcomeDeadLetter: the
// caller fails, as nothing in it can be applied).
func classifyRequest(status int, body []byte) outcome {
	typ, reason := requestError(body)
	switch {
	case refusalHint(typ, reason) != "":
		return outcomeFatal
	case retryableStatus(status):
		return outcomeRetry
	}
	return outcomeDeadLetter
}

// requestError is the type and reason of an error response's "error".
func requestError(body []byte) (typ, reason string) {
	var r struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil {
		return "", ""
	}
	return decodeError(r.Error)
}

// refusalHint says what to fix when OpenSearch refuses a write because of
// the cluster or the sink's configuration rather than the document (the
// outcomeFatal cases), and is "" otherwise. Each case has been seen on
// OpenSearch 2.19 and 3.x and Elasticsearch 7.10.
func refusalHint(errType, reason string) string {
	switch {
	case errType == "illegal_state_exception" && strings.Contains(reason, "no ingest nodes"):
		// 500 for the whole request when a bulk names a pipeline.
		return "the cluster has no node with the ingest role, which the sink's pipeline option needs: give a node the ingest role (node.roles) or remove the pipeline option"
	case errType == "illegal_argument_exception" && strings.HasPrefix(reason, "pipeline with id [") && strings.Contains(reason, "] does not exist"):
		return "create the ingest pipeline (PUT _ingest/pipeline/<id>) or correct the sink's pipeline option"
	case errType == "index_closed_exception":
		return "the index is closed: open it (POST <index>/_open)"
	}
	return ""
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

// retryMappingRace reports whether an item refused on the request's attempt
// (0-based), after it had already lost lost mapping races, is sent again as
// a possible mapping race: within mappingRaceAttempts of its own, and within
// max_retries when that is set.
func (s *Sink) retryMappingRace(lost, attempt int, r itemResult) bool {
	if !isMappingRace(r.Status, r.Type, r.Reason) || lost+1 >= mappingRaceAttempts {
		return false
	}
	return s.cfg.MaxRetries == 0 || attempt < s.cfg.MaxRetries
}
