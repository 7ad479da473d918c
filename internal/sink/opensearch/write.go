package opensearch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// Write applies events (one partition's changes, in order) and returns nil
// only when every one is done: applied, superseded by a newer version,
// a delete of an absent document, or dead-lettered (fsynced to the
// dead-letter file, or put to S3 with dlq.s3).
// Operations on the same (index, _id) are coalesced to the last. Transient
// failures are retried until they succeed, max_retries is exhausted (an
// error) or ctx is done (ctx's error). A rejected item without dlq_file is
// an error naming it; nothing is ever skipped.
func (s *Sink) Write(ctx context.Context, events []change.Event) error {
	if len(events) == 0 {
		return nil
	}
	table := events[0].Table
	b, err := s.res.PrepareContext(ctx, events, locator{s})
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
	if err := s.createIndices(ctx, b.Entries); err != nil {
		return err
	}
	results, err := s.writeEntries(ctx, table, b.Entries)
	if err != nil {
		return err
	}
	for i, r := range results {
		if r.Outcome != ItemFailed {
			continue
		}
		d := deadItem{entry: b.Entries[i], status: r.Status, typ: r.Type, reason: r.Reason}
		if err := s.reject(ctx, table, d); err != nil {
			return err
		}
		dead = append(dead, d)
	}
	return s.deadLetter(ctx, table, dead)
}

// deadLetter writes dead to the dead-letter queue (an fsynced append to
// the file, or one S3 object) and counts them; it returns nil only once
// they are durable, so the batch is acknowledged only then.
func (s *Sink) deadLetter(ctx context.Context, table string, dead []deadItem) error {
	if len(dead) == 0 {
		return nil
	}
	at, err := s.dlq.write(ctx, dead, time.Now())
	if err != nil {
		return fmt.Errorf("opensearch: %d rejected documents of table %s not dead-lettered: %w", len(dead), table, err)
	}
	s.met.deadLettered.WithLabelValues(table).Add(float64(len(dead)))
	s.reportDeadLetters(ctx, table, at, len(dead))
	return nil
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
