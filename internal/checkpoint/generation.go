package checkpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// GenerationKey is the key of a table's version generation, which survives
// the forgetting of its stream and backfill state at a re-backfill.
func GenerationKey(table string) string { return "table/" + table + "/generation" }

// Generation reads a table's version generation (0 when never moved).
func Generation(ctx context.Context, s Store, table string) (int64, error) {
	p, _, err := s.Get(ctx, GenerationKey(table))
	if err != nil {
		return 0, err
	}
	return parseGeneration(p)
}

// SetGeneration saves a table's version generation.
func SetGeneration(ctx context.Context, s Store, table string, gen int64) error {
	return s.Save(ctx, GenerationKey(table), Progress{Meta: map[string]string{"generation": strconv.FormatInt(gen, 10)}})
}

func parseGeneration(p Progress) (int64, error) {
	g := p.Meta["generation"]
	if g == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(g, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad version generation %q", g)
	}
	return n, nil
}

// ReadGeneration reads a table's generation from a state directory without
// locking it, so that `verify` can run next to `run`. A missing state file
// means generation 0.
func ReadGeneration(dir, table string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var data map[string]Progress
	if err := json.Unmarshal(b, &data); err != nil {
		return 0, fmt.Errorf("parse %s: %w", filepath.Join(dir, stateFile), err)
	}
	return parseGeneration(data[GenerationKey(table)])
}
