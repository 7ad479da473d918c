package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/ndjson"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// Sink is what a source writes to.
type Sink interface {
	Write(ctx context.Context, events []change.Event) error
	Close() error
}

// preparer is a sink with start-up work (connectivity, templates, index).
type preparer interface {
	Prepare(ctx context.Context) error
}

// fanout writes every batch to each sink in turn; the batch is acknowledged
// only when all of them accepted it.
type fanout []Sink

func (f fanout) Write(ctx context.Context, events []change.Event) error {
	for i, s := range f {
		if err := s.Write(ctx, events); err != nil {
			if len(f) == 1 {
				return err
			}
			return fmt.Errorf("sink %d: %w", i, err)
		}
	}
	return nil
}

func (f fanout) Close() error {
	var errs []error
	for _, s := range f {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

func (f fanout) Prepare(ctx context.Context) error {
	for i, s := range f {
		if p, ok := s.(preparer); ok {
			if err := p.Prepare(ctx); err != nil {
				return fmt.Errorf("sink %d: %w", i, err)
			}
		}
	}
	return nil
}

// buildSinks creates the pipeline's sinks in file order. An opensearch sink
// dead-letters to dlq.s3 or dlq_file, else to opensearch.DefaultDLQPath
// under the state directory, and tells health about every dead letter.
func buildSinks(ctx context.Context, p *config.Pipeline, o Options, health opensearch.DeadLetterReporter) (fanout, error) {
	var out fanout
	nOS := 0 // opensearch sinks so far: the default dead-letter file's ordinal
	for i, sc := range p.Sinks {
		var s Sink
		var err error
		switch {
		case sc.OpenSearch != nil:
			so := opensearch.Options{Logger: o.Logger.With("sink", "opensearch"), Registerer: o.Registry, Health: health,
				DefaultDLQFile: opensearch.DefaultDLQPath(o.StateDir, p.Name, nOS), Pipeline: p.Name}
			nOS++
			if sc.OpenSearch.DLQS3 != nil { // dead letters to S3 with the block's region and role
				c, cerr := DLQS3Client(ctx, sc.OpenSearch, o.Getenv)
				if cerr != nil {
					out.Close()
					return nil, fmt.Errorf("sink %d (line %d): dlq.s3: %w", i, sc.Line, cerr)
				}
				so.DLQS3 = c
			}
			if sc.OpenSearch.AWS != nil { // SigV4 signing with the sink's own region and role
				cfg, cerr := awsConfig(ctx, *sc.OpenSearch.AWS)
				if cerr != nil {
					return nil, cerr
				}
				so.AWSConfig = &cfg
			}
			s, err = opensearch.New(sc.OpenSearch, so)
		case sc.Stdout != nil:
			s, err = ndjson.New(o.Stdout, ndjson.Options{Format: debugFormat(p)})
		case sc.File != nil:
			s, err = ndjson.NewFile(sc.File, ndjson.Options{Format: debugFormat(p)})
		default:
			err = fmt.Errorf("sink %d has no type", i)
		}
		if err != nil {
			out.Close()
			return nil, fmt.Errorf("sink %d (line %d): %w", i, sc.Line, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// debugFormat is what the stdout and file sinks print: the bulk actions the
// pipeline's opensearch sink would send, or the defaults without one.
func debugFormat(p *config.Pipeline) *config.OpenSearch {
	for _, sc := range p.Sinks {
		if sc.OpenSearch != nil {
			return sc.OpenSearch
		}
	}
	return nil
}
