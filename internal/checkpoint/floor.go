package checkpoint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// FloorKey is the key of a table's clock floor: the version every stream
// version of the table must exceed from now on (verify --repair raises it
// before it writes repairs above the versions of documents changed out of
// band). Like the generation it survives a re-backfill; a floor of an older
// generation is simply below every version of the new one.
func FloorKey(table string) string { return "table/" + table + "/clock-floor" }

// Floor reads a table's clock floor (0 when never raised).
func Floor(ctx context.Context, s Store, table string) (int64, error) {
	p, _, err := s.Get(ctx, FloorKey(table))
	if err != nil {
		return 0, err
	}
	return parseFloor(p)
}

// RaiseFloor durably raises a table's clock floor to at least v and returns
// the floor in effect (v, or a higher one saved before). It never lowers
// it, also when several nodes raise it at once: a shared store raises it
// with a conditional write on the record it read (floorRaiser).
func RaiseFloor(ctx context.Context, s Store, table string, v int64) (int64, error) {
	if r, ok := s.(floorRaiser); ok {
		return r.raiseFloor(ctx, table, v)
	}
	cur, err := Floor(ctx, s, table)
	if err != nil {
		return 0, err
	}
	if cur >= v {
		return cur, nil
	}
	if err := s.Save(ctx, FloorKey(table), floorProgress(v)); err != nil {
		return 0, err
	}
	return v, nil
}

// floorRaiser is a store that raises a floor atomically.
type floorRaiser interface {
	raiseFloor(ctx context.Context, table string, v int64) (int64, error)
}

func floorProgress(v int64) Progress {
	return Progress{Meta: map[string]string{"floor": strconv.FormatInt(v, 10)}}
}

func parseFloor(p Progress) (int64, error) {
	f := p.Meta["floor"]
	if f == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(f, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad clock floor %q", f)
	}
	return n, nil
}

// HasFileState reports whether a state directory holds a checkpoint file,
// that is, whether some run has used it.
func HasFileState(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, stateFile))
	return err == nil
}
