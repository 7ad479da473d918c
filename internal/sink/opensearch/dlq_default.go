package opensearch

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/ddbsync/ddbsync/internal/config"
)

// Log attribute keys of a dead letter's DynamoDB key.
const (
	keyPartitionKey = "partition_key"
	keySortKey      = "sort_key"
)

// DeadLetterReporter is told how many documents of a table went to a
// dead-letter file (metrics.Health: /readyz reports the pipeline degraded).
type DeadLetterReporter interface {
	DeadLettered(table, file string, n int)
}

// DefaultDLQPath is where a pipeline's opensearch sink dead-letters when
// dlq_file is not set: <state-dir>/dlq/<pipeline>.jsonl for the pipeline's
// first opensearch sink, <pipeline>.<n>.jsonl for its n-th (0-based) after
// that. Characters other than letters, digits, '.', '_' and '-' in the
// pipeline name become '_'.
func DefaultDLQPath(stateDir, pipeline string, n int) string {
	name := safeFileName(pipeline)
	if n > 0 {
		name += fmt.Sprintf(".%d", n)
	}
	return filepath.Join(stateDir, "dlq", name+".jsonl")
}

func safeFileName(s string) string {
	if s == "" {
		return "pipeline"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// openDeadLetterQueue opens the sink's dead-letter queue: dlq.s3 when set,
// else dlq_file or the default file; nil when there is none.
func openDeadLetterQueue(cfg *config.OpenSearch, opts Options, log *slog.Logger) (deadLetterQueue, error) {
	if cfg.DLQS3 != nil {
		return newS3DLQ(cfg.DLQS3, opts.DLQS3, opts.Pipeline, log)
	}
	f, err := openConfiguredDLQ(cfg.DLQFile, opts.DefaultDLQFile)
	if f == nil || err != nil { // never a typed nil in the interface
		return nil, err
	}
	return f, nil
}

// openConfiguredDLQ opens dlq_file, or else the default file (creating its
// directory); nil when neither is set.
func openConfiguredDLQ(configured, fallback string) (*dlqFile, error) {
	path := configured
	if path == "" {
		path = fallback
		if path == "" {
			return nil, nil
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("default dead-letter directory: %w", err)
		}
	}
	return openDLQ(path)
}

// DLQPath is where the sink dead-letters: its dead-letter file, or
// s3://bucket/key_path_prefix with dlq.s3 ("" when it has none).
func (s *Sink) DLQPath() string {
	if s.dlq == nil {
		return ""
	}
	return s.dlq.where()
}

// reportDeadLetters logs a summary of n documents just written to at (the
// dead-letter file or S3 object) and tells the health reporter.
func (s *Sink) reportDeadLetters(ctx context.Context, table, at string, n int) {
	s.log.LogAttrs(ctx, slog.LevelError, "documents dead-lettered: the index lacks them until they are fixed and replayed with 'ddbsync redrive'",
		slog.String(keyTable, table), slog.Int("documents", n), slog.String("file", at))
	if s.health != nil {
		s.health.DeadLettered(table, at, n)
	}
}
