package opensearch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// writeEntries sends entries (split by bulk_size, at most one request in
// flight) until each one is applied, superseded, gone, or rejected for good,
// and returns one result per entry, in order. Rejected items come back as
// ItemFailed with OpenSearch's status and reason: dead-lettering them is the
// caller's choice. Transient failures (transport errors, 429, 408, 5xx,
// retryable error types) are retried with the sink's backoff until they
// succeed, max_retries is exhausted or ctx ends; those are the errors.
func (s *Sink) writeEntries(ctx context.Context, table string, entries []bulk.Entry) ([]ItemResult, error) {
	results := make([]ItemResult, len(entries))
	// Batches are sent one after the other. A batch split after a 413 goes
	// back to the front; positions index entries.
	var queue [][]int
	start := 0
	for _, part := range bulk.Split(entries, s.maxBody) { // consecutive, in order
		pos := make([]int, len(part))
		for i := range part {
			pos[i] = start + i
		}
		start += len(part)
		queue = append(queue, pos)
	}
	for len(queue) > 0 {
		batch := queue[0]
		queue = queue[1:]
		split, err := s.deliver(ctx, table, entries, batch, results)
		if err != nil {
			return results, err
		}
		if split != nil {
			queue = append(split, queue...)
		}
	}
	return results, nil
}

// deliver sends the entries at positions batch until every one has a final
// result in results, or returns halves to send instead (the request was too
// large). Only the items that failed transiently are sent again, in their
// original order.
func (s *Sink) deliver(ctx context.Context, table string, entries []bulk.Entry, batch []int, results []ItemResult) ([][]int, error) {
	pending := batch
	var last failure // why the previous attempt did not finish
	// races counts, per entry, the mapping races it lost: its own bound,
	// apart from the request's attempts (an outage's retries must not use
	// up the tries a race needs once OpenSearch is back).
	races := map[int]int{}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if s.cfg.MaxRetries > 0 && attempt > s.cfg.MaxRetries {
				return nil, fmt.Errorf("opensearch: table %s: %d operations still failing after %d retries (max_retries): %s", table, len(pending), s.cfg.MaxRetries, last)
			}
			d := s.backoff.delay(attempt)
			s.met.retries.WithLabelValues(table).Inc()
			s.log.LogAttrs(ctx, slog.LevelWarn, "bulk retry", slog.String(keyTable, table), slog.Int("attempt", attempt),
				slog.Int("operations", len(pending)), slog.Duration("delay", d), slog.String("cause", last.String()))
			if err := retry.Sleep(ctx, d); err != nil {
				return nil, fmt.Errorf("opensearch: table %s: %d operations not written: %w", table, len(pending), err)
			}
		}
		sub := make([]bulk.Entry, len(pending))
		for i, p := range pending {
			sub[i] = entries[p]
		}
		status, res, err := s.send(ctx, table, sub)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, fmt.Errorf("opensearch: table %s: %d operations not written: %w", table, len(pending), ctx.Err())
			}
			last = failure{err: err}
			continue
		case status == 413 && len(pending) > 1:
			h := len(pending) / 2
			return [][]int{pending[:h:h], pending[h:]}, nil
		case status == 413:
			results[pending[0]] = ItemResult{Outcome: ItemFailed, Status: status, Type: "request_entity_too_large",
				Reason: "OpenSearch refused a request holding only this document (http.max_content_length)"}
			return nil, nil
		case status != 200:
			switch classifyRequest(status, res.body) {
			case outcomeRetry:
				last = failure{status: status, reason: "whole request: " + excerpt(res.body)}
				continue
			case outcomeFatal:
				typ, reason := requestError(res.body)
				return nil, refused(table, "bulk request", status, typ, reason)
			}
			return nil, fmt.Errorf("opensearch: table %s: bulk request: %s", table, explainStatus(status, res.body))
		}

		var again []int
		for i, r := range res.items {
			p := pending[i]
			e := entries[p]
			out := ItemResult{Status: r.Status, Type: r.Type, Reason: r.Reason}
			switch classify(e.Action, e.Versioned(), r.Status, r.Type, r.Reason) {
			case outcomeDone:
				s.countDone(table, e.Action)
				out.Outcome = ItemApplied
				if r.Status == 404 {
					out.Outcome = ItemGone
				}
			case outcomeSuperseded:
				s.met.superseded.WithLabelValues(table).Inc()
				out.Outcome = ItemSuperseded
			case outcomeRetry:
				again = append(again, p)
				last = failure{status: r.Status, index: e.Index, id: e.ID, reason: r.Type + ": " + r.Reason}
				continue
			case outcomeDeadLetter:
				if s.retryMappingRace(races[p], attempt, r) {
					races[p]++
					// A first-mapping race: the field's mapping exists now,
					// so the same document is accepted on the next send.
					s.pinConflict(ctx, e.Index, r.Reason)
					again = append(again, p)
					last = failure{status: r.Status, index: e.Index, id: e.ID, reason: r.Type + ": " + r.Reason}
					continue
				}
				out.Outcome = ItemFailed
			case outcomeFatal:
				return nil, refused(table, fmt.Sprintf("index %s _id %q", e.Index, e.ID), r.Status, r.Type, r.Reason)
			}
			results[p] = out
		}
		if len(again) == 0 {
			return nil, nil
		}
		pending = again
	}
}

// ErrRefusedForGood marks a write OpenSearch refuses because of the cluster
// or the sink's configuration (refusalHint): retrying cannot help and every
// other document would be refused alike, so nothing is dead-lettered and the
// write fails; after the fix a restart continues from the checkpoints.
var ErrRefusedForGood = errors.New("refused for every document alike, so no retry or dead letter can help")

// refused is the error of an outcomeFatal answer: what was refused, how,
// and what to fix.
func refused(table, what string, status int, typ, reason string) error {
	return fmt.Errorf("opensearch: table %s: %s: %s %s: %s: %w; %s", table, what, statusText(status), typ, reason,
		ErrRefusedForGood, refusalHint(typ, reason))
}
