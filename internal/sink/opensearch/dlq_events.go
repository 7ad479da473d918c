package opensearch

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// ErrorTypeProcessor is the dead-letter error type of an event a processor
// failed on (it never reached OpenSearch; Status is 0).
const ErrorTypeProcessor = "processor_failure"

// FailedEvent is an event that could not be turned into its document.
type FailedEvent struct {
	Event  *change.Event // as the source produced it (unprocessed document)
	Reason string
}

// DeadLetterEvents writes events that never reached OpenSearch (a processor
// failed on them) to the dead-letter queue, placed as the sink would place
// them, with type ErrorTypeProcessor and the reason; it logs each one, counts
// them and tells health. Without a dead-letter queue it is an error.
func (s *Sink) DeadLetterEvents(ctx context.Context, failed []FailedEvent) error {
	if len(failed) == 0 {
		return nil
	}
	table := failed[0].Event.Table
	dead := make([]deadItem, 0, len(failed))
	for _, f := range failed {
		ev := f.Event
		it, err := s.res.Resolve(ev)
		if err != nil { // placement needs the processed document: keep what is known
			act := bulk.ActionIndex
			if ev.Op == change.OpDelete {
				act = bulk.ActionDelete
			}
			it = bulk.Item{Action: act, ID: ev.ID, Version: ev.Version, VersionType: s.cfg.DocumentVersionType, Event: ev}
			if it.VersionType == bulk.VersionInternal {
				it.VersionType = ""
			}
		}
		if s.dlq == nil {
			return fmt.Errorf("opensearch: table %s: _id %q: %s (set dlq_file to keep such documents and continue)", table, it.ID, f.Reason)
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "a processor failed on the document; it goes to the dead-letter queue", slog.String(keyTable, table),
			slog.String(keyID, it.ID), slog.String(keyPartitionKey, ev.PartitionKey), slog.String(keySortKey, ev.SortKey),
			slog.String("reason", f.Reason))
		dead = append(dead, deadItem{entry: bulk.Entry{Item: it}, typ: ErrorTypeProcessor, reason: f.Reason})
	}
	return s.deadLetter(ctx, table, dead)
}
