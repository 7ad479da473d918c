package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
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

// MoveGeneration moves a table's version generation from `from` to the next,
// once across every node sharing the store: under the lease of the
// generation record, and only if the generation is still `from`, it calls
// forget (which drops the table's stream and backfill state) and then saves
// the new generation. It reports whether this call moved it; false means
// another node already did (the caller just starts over in the new
// generation). A crash between forget and the save leaves the generation
// at `from`: the next gap moves it again.
func MoveGeneration(ctx context.Context, s Store, table string, from int64, forget func(ctx context.Context) error) (bool, error) {
	key := GenerationKey(table)
	for {
		lctx, p, _, err := s.Acquire(ctx, key)
		if errors.Is(err, ErrLeaseHeld) {
			// Another node is moving it: wait, then read what it did.
			t := time.NewTimer(generationRetry)
			select {
			case <-ctx.Done():
				t.Stop()
				return false, ctx.Err()
			case <-t.C:
			}
			continue
		}
		if err != nil {
			return false, fmt.Errorf("lease %s: %w", key, err)
		}
		moved, err := func() (bool, error) {
			defer s.Release(context.WithoutCancel(ctx), key)
			gen, err := parseGeneration(p)
			if err != nil || gen != from {
				return false, err
			}
			if err := forget(lctx); err != nil {
				return false, err
			}
			if err := s.Save(lctx, key, Progress{Meta: map[string]string{"generation": strconv.FormatInt(from+1, 10)}}); err != nil {
				return true, err
			}
			if a, ok := s.(tableChangeAnnouncer); ok {
				a.AnnounceTableChange(lctx) // the other nodes stop the old generation within a second
			}
			return true, nil
		}()
		return moved, err
	}
}

// tableChangeAnnouncer is a shared store that tells the other nodes of a
// table-level change (DynamoStore).
type tableChangeAnnouncer interface {
	AnnounceTableChange(ctx context.Context)
}

// TableChanges returns a shared store's count of announced table-level
// changes (clock floors raised, generations moved) and a channel closed
// at the next one; ok is false for a store that announces none (one
// node: nothing changes behind its back).
func TableChanges(s Store) (seen int64, changed <-chan struct{}, ok bool) {
	w, ok := s.(interface {
		TableChanges() (int64, <-chan struct{})
	})
	if !ok {
		return 0, nil, false
	}
	seen, changed = w.TableChanges()
	return seen, changed, true
}

// generationRetry is how long MoveGeneration waits while another node holds
// the generation's lease.
const generationRetry = time.Second
