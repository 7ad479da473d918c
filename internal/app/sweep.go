package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/processor"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
	"github.com/ddbsync/ddbsync/internal/verify"
)

// osSweeper runs the orphan sweep of a re-backfill against every opensearch
// sink of the table's pipeline, through the pipeline's own sinks: the sweep's
// deletes share the stream's write path (client, retries, classification,
// dead-letter queue).
type osSweeper struct {
	ddb     verify.DynamoDB
	ref     string // how DynamoDB calls address the table (name or ARN)
	configs []*config.OpenSearch
	sinks   []*opensearch.Sink
	proc    *processor.Chain // the pipeline's processors
	log     *slog.Logger
}

// newSweeper returns the sweeper for a table, or nil when the pipeline has
// no opensearch sink or the table keeps TTL-expired documents (those would
// look like orphans). sinks are the pipeline's sinks as built by
// buildSinks, in file order.
func newSweeper(ddb verify.DynamoDB, ref string, p *config.Pipeline, t config.Table, sinks fanout, log *slog.Logger) (Sweeper, error) {
	if t.Stream != nil && t.Stream.TTLDeletes == config.TTLKeep {
		return nil, nil
	}
	s := &osSweeper{ddb: ddb, ref: ref, log: log, proc: p.Processing}
	for i, sc := range p.Sinks {
		if sc.OpenSearch == nil {
			continue
		}
		if i >= len(sinks) {
			return nil, fmt.Errorf("sink %d: not built", i)
		}
		w, ok := sinks[i].(*opensearch.Sink)
		if !ok {
			return nil, fmt.Errorf("sink %d: not an opensearch sink (%T)", i, sinks[i])
		}
		s.configs = append(s.configs, sc.OpenSearch)
		s.sinks = append(s.sinks, w)
	}
	if len(s.sinks) == 0 {
		return nil, nil
	}
	return s, nil
}

// Sweep implements Sweeper.
func (s *osSweeper) Sweep(ctx context.Context, table string, generation int64) (int, error) {
	total := 0
	for i, sink := range s.configs {
		n, err := verify.Sweep(ctx, s.ddb, table, s.ref, sink, s.log, verify.SweepOptions{Writer: s.sinks[i], Generation: generation, Processing: s.proc})
		total += n
		if err != nil {
			return total, fmt.Errorf("sink %d: %w", i, err)
		}
	}
	return total, nil
}
