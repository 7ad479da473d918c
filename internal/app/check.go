package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ddbsync/ddbsync/internal/config"
	"github.com/ddbsync/ddbsync/internal/sink/opensearch"
)

// ErrConfig wraps a configuration problem found before anything runs that
// the loader does not see (a sink's template or certificate file).
var ErrConfig = errors.New("invalid configuration")

// Check returns the error Run would refuse f with before contacting any
// server: options not supported yet (ErrUnsupported) and sink settings
// that cannot work (ErrConfig). `validate` and `run` share it, so they
// agree, word for word.
func Check(f *config.File) error {
	if probs := f.Unsupported(); len(probs) > 0 {
		var b strings.Builder
		for _, p := range probs {
			fmt.Fprintf(&b, "\n  line %d: %s: %s", p.Line, p.Path, p.Msg)
		}
		return fmt.Errorf("%w:%s", ErrUnsupported, b.String())
	}
	var errs []error
	for _, p := range f.Pipelines {
		for i, sc := range p.Sinks {
			if sc.OpenSearch == nil {
				continue
			}
			if err := opensearch.Check(sc.OpenSearch); err != nil {
				errs = append(errs, fmt.Errorf("pipeline %s: sink %d (line %d): %w", p.Name, i, sc.Line, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return nil
}
