package opensearch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/retry"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// Write applies events (one partition's changes, in order) and returns nil
// only when every one is done: applied, superseded by a newer version,
// a delete of an absent document, or written and fsynced to dlq_file.
// Operations on the same (index, _id) are coalesced to the last. Transient
// failures are retried until they succeed, max_retries is exhausted (an
// error) or ctx is done (ctx's error). A rejected item without dlq_file is
// an error naming it; nothing is ever skipped.
func (s *Sink) Write(ctx context.Context, events []change.Event) error {
	if len(events) == 0 {
		return nil
	}
	table := events[0].Table
	b, err := s.res.Prepare(events)
	if err != nil {
		return fmt.Errorf("opensearch: %w", err)
	}
	s.met.coalesced.WithLabelValues(table).Add(float64(b.Coalesced))
	var dead []deadItem
	for _, u := range b.Unresolved {
		d := deadItem{entry: bulk.Entry{Item: u.Item}, typ: "format_error", reason: u.Err.Error()}
		if s.dlq == nil {
			return fmt.Errorf("opensearch: %w (set dlq_file to keep such documents and continue)", u.Err)
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "document cannot be formatted; it goes to the dead-letter queue", slog.String(keyTable, table),
			slog.String(keyID, u.Item.ID), slog.String(keyPartitionKey, u.Item.Event.PartitionKey), slog.String(keySortKey, u.Item.Event.SortKey),
			slog.String("reason", d.reason))
		dead = append(dead, d)
	}

	// Batches are sent one after the other: at most one request in flight
	// per caller. A batch split after a 413 goes back to the front.
	queue := bulk.Split(b.Entries, s.maxBody)
	for len(queue) > 0 {
		batch := queue[0]
		queue = queue[1:]
		r, err := s.deliver(ctx, table, batch)
		if err != nil {
			return err
		}
		dead = append(dead, r.dead...)
		if r.split != nil {
			queue = append(r.split, queue...)
		}
	}
	if len(dead) == 0 {
		return nil
	}
	if err := s.dlq.write(dead, time.Now()); err != nil {
		return fmt.Errorf("opensearch: %d rejected documents of table %s not dead-lettered: %w", len(dead), table, err)
	}
	s.met.deadLettered.WithLabelValues(table).Add(float64(len(dead)))
	s.reportDeadLetters(ctx, table, len(dead))
	return nil
}

// delivery is what became of one batch besides the items that are done.
type delivery struct {
	dead       []deadItem     // rejected for good, for the DLQ
	split      [][]bulk.Entry // halves to send instead (the request was too large)
	superseded []bulk.Entry   // refused because the index holds this version or a newer one
}

// deliver sends one batch until every item is done, dead or split off. Only
// the failed items are sent again, in their original order.
func (s *Sink) deliver(ctx context.Context, table string, batch []bulk.Entry) (delivery, error) {
	var out delivery
	pending := batch
	var last failure // why the previous attempt did not finish
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if s.cfg.MaxRetries > 0 && attempt > s.cfg.MaxRetries {
				return out, fmt.Errorf("opensearch: table %s: %d operations still failing after %d retries (max_retries): %s", table, len(pending), s.cfg.MaxRetries, last)
			}
			d := s.backoff.delay(attempt)
			s.met.retries.WithLabelValues(table).Inc()
			s.log.LogAttrs(ctx, slog.LevelWarn, "bulk retry", slog.String(keyTable, table), slog.Int("attempt", attempt),
				slog.Int("operations", len(pending)), slog.Duration("delay", d), slog.String("cause", last.String()))
			if err := retry.Sleep(ctx, d); err != nil {
				return out, fmt.Errorf("opensearch: table %s: %d operations not written: %w", table, len(pending), err)
			}
		}
		status, results, err := s.send(ctx, table, pending)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return out, fmt.Errorf("opensearch: table %s: %d operations not written: %w", table, len(pending), ctx.Err())
			}
			last = failure{err: err}
			continue
		case status == 413 && len(pending) > 1:
			h := len(pending) / 2
			out.split = [][]bulk.Entry{pending[:h:h], pending[h:]}
			return out, nil
		case status == 413:
			d := deadItem{entry: pending[0], status: status, typ: "request_entity_too_large",
				reason: "OpenSearch refused a request holding only this document (http.max_content_length)"}
			if err := s.reject(ctx, table, d); err != nil {
				return out, err
			}
			out.dead = append(out.dead, d)
			return out, nil
		case retryableStatus(status):
			last = failure{status: status, reason: "whole request: " + excerpt(results.body)}
			continue
		case status != 200:
			return out, fmt.Errorf("opensearch: table %s: bulk request: %s", table, explainStatus(status, results.body))
		}

		var again []bulk.Entry
		for i, r := range results.items {
			e := pending[i]
			switch classify(e.Action, e.Versioned(), r.Status, r.Type) {
			case outcomeDone:
				s.countDone(table, e.Action)
			case outcomeSuperseded:
				s.met.superseded.WithLabelValues(table).Inc()
				out.superseded = append(out.superseded, e)
			case outcomeRetry:
				again = append(again, e)
				last = failure{status: r.Status, index: e.Index, id: e.ID, reason: r.Type + ": " + r.Reason}
			case outcomeDeadLetter:
				if s.retryMappingRace(attempt, r) {
					s.pinConflict(ctx, e.Index, r.Reason)
					again = append(again, e)
					last = failure{status: r.Status, index: e.Index, id: e.ID, reason: r.Type + ": " + r.Reason}
					continue
				}
				d := deadItem{entry: e, status: r.Status, typ: r.Type, reason: r.Reason}
				if err := s.reject(ctx, table, d); err != nil {
					return out, err
				}
				out.dead = append(out.dead, d)
			}
		}
		if len(again) == 0 {
			return out, nil
		}
		pending = again
	}
}

// reject handles an item OpenSearch will not accept: without a dead-letter
// queue it is an error naming the item; with one it is logged and kept.
func (s *Sink) reject(ctx context.Context, table string, d deadItem) error {
	if s.dlq == nil {
		return fmt.Errorf("opensearch: table %s: index %s _id %q: %s %s: %s (set dlq_file to keep rejected documents and continue)",
			table, d.entry.Index, d.entry.ID, statusText(d.status), d.typ, d.reason)
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "document rejected; it goes to the dead-letter queue", slog.String(keyTable, table),
		slog.String(keyIndex, d.entry.Index), slog.String(keyID, d.entry.ID), slog.String(keyPartitionKey, d.entry.Event.PartitionKey),
		slog.String(keySortKey, d.entry.Event.SortKey), slog.String("action", string(d.entry.Action)), slog.Int(keyStatus, d.status),
		slog.String("error_type", d.typ), slog.String("reason", d.reason))
	return nil
}

func (s *Sink) countDone(table string, a bulk.Action) {
	if a == bulk.ActionDelete {
		s.met.deleted.WithLabelValues(table).Inc()
		return
	}
	s.met.indexed.WithLabelValues(table).Inc()
}

// failure describes why an attempt did not finish, for logs and errors.
type failure struct {
	err       error
	status    int
	index, id string
	reason    string
}

func (f failure) String() string {
	switch {
	case f.err != nil:
		return f.err.Error()
	case f.id != "":
		return fmt.Sprintf("index %s _id %q: %s %s", f.index, f.id, statusText(f.status), f.reason)
	}
	return fmt.Sprintf("%s (%s)", statusText(f.status), f.reason)
}
