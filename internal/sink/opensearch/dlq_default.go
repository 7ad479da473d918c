package opensearch

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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

// DLQPath is the dead-letter file the sink writes to ("" when it has none).
func (s *Sink) DLQPath() string {
	if s.dlq == nil {
		return ""
	}
	return s.dlq.path
}

// reportDeadLetters logs a summary of n documents just written to the
// dead-letter file and tells the health reporter.
func (s *Sink) reportDeadLetters(ctx context.Context, table string, n int) {
	s.log.LogAttrs(ctx, slog.LevelError, "documents dead-lettered: the index lacks them until they are fixed and replayed with 'ddbsync redrive'",
		slog.String(keyTable, table), slog.Int("documents", n), slog.String("file", s.dlq.path))
	if s.health != nil {
		s.health.DeadLettered(table, s.dlq.path, n)
	}
}
