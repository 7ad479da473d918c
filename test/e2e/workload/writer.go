package workload

import (
	"context"
	"math/rand/v2"

	"github.com/ddbsync/ddbsync/internal/retry"
)

// writer is one of the concurrent writers: its own RNG (so its sequence of
// changes is a function of the seed), its own sequence numbers.
type writer struct {
	w   *Workload
	id  int
	rng *rand.Rand
	seq int64
}

func (wr *writer) nextSeq() int64 { wr.seq++; return wr.seq }

// run opens with the first-mapping race and this writer's share of the
// special keys, then takes steps until ctx ends or Steps are done.
func (wr *writer) run(ctx context.Context) error {
	w := wr.w
	integral := (wr.id + 1) % 2 // even writers integral, odd fractional
	for i := 0; i < 3; i++ {
		k := w.schema.Ordinary(wr.rng.IntN(w.cfg.Keys))
		if err := w.Put(ctx, w.Item(wr.rng, k, wr.nextSeq(), integral)); err != nil {
			return err
		}
	}
	for i, k := range w.special {
		if i%w.cfg.Writers != wr.id {
			continue
		}
		item := w.Item(wr.rng, k, wr.nextSeq(), integral)
		if i == 0 {
			item = w.deepest(wr.rng, k, wr.nextSeq())
		}
		if err := w.Put(ctx, item); err != nil {
			return err
		}
	}
	for step := 0; w.cfg.Steps == 0 || step < w.cfg.Steps; step++ {
		if ctx.Err() != nil {
			return nil
		}
		if err := wr.step(ctx); err != nil {
			return err
		}
		if retry.Sleep(ctx, w.cfg.Pace) != nil {
			return nil
		}
	}
	return nil
}

// key draws a key: mostly ordinary (a fifth of them beyond Keys, so new
// items keep arriving), sometimes special.
func (wr *writer) key() Key {
	w := wr.w
	if len(w.special) > 0 && wr.rng.IntN(10) == 0 {
		return w.special[wr.rng.IntN(len(w.special))]
	}
	return w.schema.Ordinary(wr.rng.IntN(w.cfg.Keys + w.cfg.Keys/5 + 1))
}

// step is one change, or a group of changes of one key.
func (wr *writer) step(ctx context.Context) error {
	w, rng := wr.w, wr.rng
	k := wr.key()
	switch p := rng.Float64(); {
	case p < 0.30:
		return w.Put(ctx, w.Item(rng, k, wr.nextSeq(), -1))
	case p < 0.50:
		return w.update(ctx, rng, k, wr.nextSeq())
	case p < 0.62:
		return w.Delete(ctx, k)
	case p < 0.75: // delete and re-insert at once
		if err := w.Delete(ctx, k); err != nil {
			return err
		}
		return w.Put(ctx, w.Item(rng, k, wr.nextSeq(), -1))
	default: // a hot key: many back-to-back changes within one second, from every writer
		k = w.schema.Ordinary(rng.IntN(hotKeys))
		n := 10 + rng.IntN(21)
		for i := 0; i < n; i++ {
			var err error
			switch q := rng.Float64(); {
			case q < 0.1 || i == n-1 && q < 0.3:
				err = w.Delete(ctx, k)
			case q < 0.55:
				err = w.update(ctx, rng, k, wr.nextSeq())
			default:
				err = w.Put(ctx, w.Item(rng, k, wr.nextSeq(), -1))
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}
