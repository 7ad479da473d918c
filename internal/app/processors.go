package app

import (
	"context"
	"log/slog"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/processor"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// eventDeadLetterer is a sink with a dead-letter queue for events that
// never reached it (*opensearch.Sink).
type eventDeadLetterer interface {
	DeadLetterEvents(ctx context.Context, failed []opensearch.FailedEvent) error
}

// processing runs a pipeline's processors on every batch between the
// source and the sinks. An event a processor fails on goes to the
// dead-letter queue of every sink that has one, with the reason, its
// item's earlier document is deleted, and the rest of the batch goes on; an event a processor drops reaches the sinks
// as a delete of its document (processor.Chain.Apply).
type processing struct {
	chain *processor.Chain
	next  Sink
	dead  []eventDeadLetterer
	log   *slog.Logger
}

// withProcessors wraps next with the pipeline's processors; next itself
// when there are none. sinks are the pipeline's sinks (for their
// dead-letter queues).
func withProcessors(chain *processor.Chain, next Sink, sinks fanout, log *slog.Logger) Sink {
	if chain.Len() == 0 {
		return next
	}
	p := &processing{chain: chain, next: next, log: log}
	for _, s := range sinks {
		if d, ok := s.(eventDeadLetterer); ok {
			p.dead = append(p.dead, d)
		}
	}
	return p
}

// Write processes copies of the events (a batch written again after a
// failure is processed afresh), dead-letters the failures and writes the
// rest.
func (p *processing) Write(ctx context.Context, events []change.Event) error {
	out := make([]change.Event, 0, len(events))
	var failed []opensearch.FailedEvent
	for i := range events {
		ev := events[i]
		if _, err := p.chain.Apply(&ev); err != nil {
			orig := events[i]
			failed = append(failed, opensearch.FailedEvent{Event: &orig, Reason: err.Error()})
			// The item has no processed document: the index must not keep
			// the one an earlier change gave it (verify expects none), so the
			// event also deletes it, under the same version rules.
			ev.Op = change.OpDelete
			out = append(out, ev)
			continue
		}
		out = append(out, ev)
	}
	if len(failed) > 0 {
		if err := p.deadLetter(ctx, failed); err != nil {
			return err
		}
	}
	if len(out) == 0 {
		return nil
	}
	return p.next.Write(ctx, out)
}

func (p *processing) deadLetter(ctx context.Context, failed []opensearch.FailedEvent) error {
	for _, d := range p.dead {
		if err := d.DeadLetterEvents(ctx, failed); err != nil {
			return err
		}
	}
	if len(p.dead) == 0 { // stdout / file sinks only: say so loudly
		for _, f := range failed {
			p.log.LogAttrs(ctx, slog.LevelError, "a processor failed on the document; no sink has a dead-letter queue",
				slog.String("table", f.Event.Table), slog.String("id", f.Event.ID), slog.String("reason", f.Reason))
		}
	}
	return nil
}

// Close does nothing: the wrapped sinks are closed by their owner.
func (p *processing) Close() error { return nil }
