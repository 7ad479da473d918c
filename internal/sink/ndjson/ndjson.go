// Package ndjson is the stdout and file sinks: they print each batch as the
// exact NDJSON _bulk body the opensearch sink would send (same templates,
// same coalescing, same bytes), for debugging and for piping into curl.
package ndjson

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/ddbsync/ddbsync/internal/change"
	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/bulk"
)

// Options configure how events become bulk actions.
type Options struct {
	// Format holds the templates (index, document_id, action, versions,
	// routing, pipeline) to evaluate, e.g. the pipeline's opensearch sink to
	// print what it would send. Nil uses the defaults: index = table name,
	// _id = primary_key, action = opensearch_action, external versions.
	Format *config.OpenSearch
}

// Sink writes bulk NDJSON lines to a writer. Safe for concurrent use; each
// Write's lines stay together.
type Sink struct {
	res   *bulk.Resolver
	mu    sync.Mutex
	w     io.Writer
	sync  func() error // after each Write; nil when the writer cannot sync
	close func() error
}

// New returns a sink writing to w (not synced, not closed).
func New(w io.Writer, opts Options) (*Sink, error) {
	res, err := bulk.NewResolver(opts.Format)
	if err != nil {
		return nil, err
	}
	return &Sink{res: res, w: w}, nil
}

// NewStdout returns the `stdout` sink.
func NewStdout(opts Options) (*Sink, error) { return New(os.Stdout, opts) }

// NewFile returns the `file` sink: it appends to cfg.Path (created 0600, as
// it holds whole documents) and fsyncs after every Write, so a batch is on
// disk before the caller's checkpoint moves past it.
func NewFile(cfg *config.FileSink, opts Options) (*Sink, error) {
	f, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("file sink: %w", err)
	}
	s, err := New(f, opts)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	s.sync, s.close = f.Sync, f.Close
	return s, nil
}

// Prepare does nothing; it is there so every sink starts the same way.
func (s *Sink) Prepare(context.Context) error { return nil }

// Write prints the batch's bulk body and returns nil once it is written
// (and, for a file, fsynced).
func (s *Sink) Write(ctx context.Context, events []change.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	b, err := s.res.Prepare(events)
	if err != nil {
		return err
	}
	if len(b.Unresolved) > 0 {
		return b.Unresolved[0].Err
	}
	body := bulk.Body(b.Entries)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(body); err != nil {
		return fmt.Errorf("write bulk lines: %w", err)
	}
	if s.sync != nil {
		if err := s.sync(); err != nil {
			return fmt.Errorf("fsync bulk lines: %w", err)
		}
	}
	return nil
}

// Close closes the file of a file sink.
func (s *Sink) Close() error {
	if s.close != nil {
		return s.close()
	}
	return nil
}
