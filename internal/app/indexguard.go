package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/metrics"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
	"github.com/ddbsync/ddbsync/internal/source/stream"
)

// indexCheckEvery is how often a table's indices are checked for deletion
// or recreation: the longest time writes go on into a recreated index
// before the gap is handled.
const indexCheckEvery = 5 * time.Second

// indexWatcher is what the guard needs from an opensearch.IndexWatch.
type indexWatcher interface {
	Observe(table string, events []change.Event) bool
	Check(ctx context.Context, table string) error
	Forget(table string)
}

// indexGuard turns an index deleted or recreated under one table's running
// pipeline into a stream gap (DESIGN §2.12), so the table's on_gap policy
// handles it like lost stream records: stop (exit 3), or re-backfill.
type indexGuard struct {
	table   string
	watches []indexWatcher
	m       *metrics.Stream
	log     *slog.Logger
	every   time.Duration
}

// newIndexWatches builds one watch per opensearch sink of a pipeline; the
// pipeline's tables share them (each table has its own baseline).
func newIndexWatches(ctx context.Context, p *config.Pipeline) ([]indexWatcher, error) {
	var out []indexWatcher
	for _, sc := range p.Sinks {
		if sc.OpenSearch == nil {
			continue
		}
		var awsCfg *aws.Config
		if sc.OpenSearch.AWS != nil {
			cfg, err := awsConfig(ctx, *sc.OpenSearch.AWS)
			if err != nil {
				return nil, err
			}
			awsCfg = &cfg
		}
		w, err := opensearch.NewIndexWatch(sc.OpenSearch, awsCfg)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// guardSink returns sink with every acknowledged batch observed: when the
// table writes to an index whose UUID is not learned yet, it is learned at
// once, before the checkpoint moves past the batch.
func (g *indexGuard) guardSink(sink Sink) Sink {
	if g == nil || len(g.watches) == 0 {
		return sink
	}
	return guardedSink{Sink: sink, g: g}
}

type guardedSink struct {
	Sink
	g *indexGuard
}

func (s guardedSink) Write(ctx context.Context, events []change.Event) error {
	if err := s.Sink.Write(ctx, events); err != nil {
		return err
	}
	for _, w := range s.g.watches {
		if !w.Observe(s.g.table, events) {
			continue
		}
		err := w.Check(ctx, s.g.table)
		var lost *opensearch.IndexGapError
		switch {
		case errors.As(err, &lost):
			return s.g.gap(err)
		case err != nil:
			// The periodic check learns it later.
			s.g.log.Debug("index check failed; trying again later", "table", s.g.table, "err", err)
		}
	}
	return nil
}

// Prepare passes start-up work through to the wrapped sink.
func (s guardedSink) Prepare(ctx context.Context) error {
	if p, ok := s.Sink.(preparer); ok {
		return p.Prepare(ctx)
	}
	return nil
}

// around runs fn (one backfill-and-stream round of the table) while the
// table's indices are checked every g.every; a deleted or recreated index
// stops fn and is returned as a *stream.GapError.
func (g *indexGuard) around(ctx context.Context, fn func(context.Context) error) error {
	if g == nil || len(g.watches) == 0 {
		return fn(ctx)
	}
	eg, ectx := errgroup.WithContext(ctx)
	done := make(chan struct{})
	eg.Go(func() error {
		defer close(done)
		return fn(ectx)
	})
	eg.Go(func() error {
		t := time.NewTimer(0) // learn the literal index's UUID before the first write
		defer t.Stop()
		for {
			select {
			case <-done:
				return nil
			case <-ectx.Done():
				return nil
			case <-t.C:
			}
			for _, w := range g.watches {
				err := w.Check(ectx, g.table)
				var lost *opensearch.IndexGapError
				switch {
				case errors.As(err, &lost):
					return g.gap(err)
				case err != nil && ectx.Err() == nil:
					g.log.Debug("index check failed; trying again later", "table", g.table, "err", err)
				}
			}
			t.Reset(g.every)
		}
	})
	return eg.Wait()
}

// gap wraps an *opensearch.IndexGapError as the stream gap on_gap handles,
// counts it, and forgets the table's baselines so a re-backfill starts
// over. Other errors pass through.
func (g *indexGuard) gap(err error) error {
	var lost *opensearch.IndexGapError
	if !errors.As(err, &lost) {
		return err
	}
	for _, w := range g.watches {
		w.Forget(g.table)
	}
	g.m.Gaps.WithLabelValues(g.table, "index_recreated").Inc()
	return &stream.GapError{Table: g.table, Shard: "-", Reason: fmt.Sprintf("index %s changed under the running pipeline", lost.Index), Err: err}
}
