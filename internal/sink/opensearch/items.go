package opensearch

import (
	"context"
	"fmt"

	"github.com/opensearch-project/opensearch-go/v2"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// ItemOutcome is what became of one item given to WriteItems.
type ItemOutcome uint8

// The outcomes of WriteItems. Every one but ItemFailed is final and durable
// (DESIGN §2.1).
const (
	// ItemApplied: OpenSearch wrote it (2xx).
	ItemApplied ItemOutcome = iota
	// ItemSuperseded: OpenSearch holds this version or a newer one (409
	// version_conflict_engine_exception under external versions), or a
	// create found the document there. Nothing was changed.
	ItemSuperseded
	// ItemGone: a delete of a document that is not there (404).
	ItemGone
	// ItemDeadLettered: rejected for good and written, fsynced, to the
	// dead-letter queue.
	ItemDeadLettered
	// ItemFailed: rejected for good (mapping error, 413 alone, ...) and not
	// dead-lettered: the caller asked so (ItemOptions.NoDeadLetter) or the
	// sink has no dead-letter queue. Status, Type and Reason say why.
	ItemFailed
)

func (o ItemOutcome) String() string {
	switch o {
	case ItemApplied:
		return "applied"
	case ItemSuperseded:
		return "superseded"
	case ItemGone:
		return "gone"
	case ItemDeadLettered:
		return "dead-lettered"
	}
	return "failed"
}

// ItemResult is the outcome of one item and OpenSearch's answer for it
// (Type and Reason are empty on success).
type ItemResult struct {
	Outcome ItemOutcome
	Status  int
	Type    string
	Reason  string
}

// ItemOptions tune WriteItems.
type ItemOptions struct {
	// NoDeadLetter reports items OpenSearch refuses for good as ItemFailed
	// instead of writing them to the dead-letter queue: for callers whose
	// source of truth is still at hand (verify --repair reports them; the
	// item stays in the table).
	NoDeadLetter bool
}

// WriteItems is the one OpenSearch write path for already resolved bulk
// items: the sink's Write (stream, export and scan events), verify
// --repair, the orphan sweep after a re-backfill and redrive all send
// through it, so they share the client, the retry policy (capped
// exponential backoff with jitter, max_retries), the item classification
// and the dead-letter queue. Items are sent in order, split by bulk_size,
// one request at a time; they are not coalesced (give at most one item per
// document when order matters across requests). It returns one result per
// item, in order. The error is for what retrying could not fix (ctx ended,
// max_retries exhausted, a request OpenSearch refuses as a whole, a
// dead-letter write that failed); results are then partial and items
// without a final outcome are reported ItemFailed with Status 0.
func (s *Sink) WriteItems(ctx context.Context, table string, items []bulk.Item, o ItemOptions) ([]ItemResult, error) {
	if len(items) == 0 {
		return nil, nil
	}
	entries, err := bulk.Encode(items)
	if err != nil {
		return nil, fmt.Errorf("opensearch: table %s: %w", table, err)
	}
	results, err := s.writeEntries(ctx, table, entries)
	if err != nil {
		return markUnfinished(results), err
	}
	if o.NoDeadLetter || s.dlq == nil {
		return results, nil
	}
	var dead []deadItem
	var at []int
	for i, r := range results {
		if r.Outcome != ItemFailed {
			continue
		}
		e := entries[i]
		if e.Event == nil { // the dead-letter line names the table and key from the event
			e.Event = &change.Event{Table: table, ID: e.ID}
		}
		d := deadItem{entry: e, status: r.Status, typ: r.Type, reason: r.Reason}
		if err := s.reject(ctx, table, d); err != nil {
			return results, err
		}
		dead, at = append(dead, d), append(at, i)
	}
	if err := s.deadLetter(ctx, table, dead); err != nil {
		return results, err
	}
	for _, i := range at {
		results[i].Outcome = ItemDeadLettered
	}
	return results, nil
}

// markUnfinished turns the zero results (never answered) into ItemFailed.
func markUnfinished(results []ItemResult) []ItemResult {
	for i := range results {
		if results[i].Status == 0 && results[i].Outcome == ItemApplied {
			results[i].Outcome = ItemFailed
		}
	}
	return results
}

// NewWriter builds the write path for tools that write outside a pipeline
// run (verify --repair, redrive): the same client, transport, signing,
// retry policy and classification as New, but it never opens the sink's
// dead-letter queue, so WriteItems reports rejected items as ItemFailed. It
// does not contact OpenSearch.
func NewWriter(cfg *config.OpenSearch, opts Options) (*Sink, error) {
	c := *cfg
	c.DLQFile, c.DLQS3 = "", nil
	return New(&c, opts)
}

// Client is the sink's OpenSearch client, for reads that go with its
// writes (verify's scroll and real-time GET): same hosts, TLS, credentials
// and signing.
func (s *Sink) Client() *opensearch.Client { return s.client }
