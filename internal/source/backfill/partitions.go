package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ddbsync/ddbsync/internal/checkpoint"
	"github.com/ddbsync/ddbsync/internal/retry"
)

// EachPartition runs load on every partition (export data file, scan
// segment), at most parallel at once, until each one is done here or by
// another node: a partition whose lease another node holds (or took
// from this one) is tried again every recheck, so a crashed node's
// partitions are taken over and a backfill ends on every node only when
// all its partitions are done. Any other error stops the rest.
func EachPartition[P any](ctx context.Context, log *slog.Logger, parts []P, parallel int, recheck time.Duration, load func(context.Context, P) error) error {
	pending := parts
	for {
		var mu sync.Mutex
		var again []P
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(max(parallel, 1))
		for _, p := range pending {
			g.Go(func() error {
				err := load(gctx, p)
				if errors.Is(err, checkpoint.ErrLeaseHeld) || errors.Is(err, checkpoint.ErrLeaseLost) {
					log.Debug("backfill partition held by another node; trying again later", "err", err)
					mu.Lock()
					again = append(again, p)
					mu.Unlock()
					return nil
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if len(again) == 0 {
			return nil
		}
		pending = again
		if err := retry.Sleep(ctx, recheck); err != nil {
			return err
		}
	}
}

// Finish marks a table's backfill record done. Every node that saw all
// partitions done writes the same record, so a race is harmless; one that
// finds the record leased (a node preparing it, which cannot be after all
// partitions are done) re-reads it.
func Finish(ctx context.Context, store checkpoint.Store, key string, meta checkpoint.Progress) error {
	err := store.Complete(ctx, key, meta)
	if !errors.Is(err, checkpoint.ErrLeaseHeld) {
		return err
	}
	p, _, gerr := store.Get(ctx, key)
	if gerr != nil {
		return gerr
	}
	if !p.Done {
		return fmt.Errorf("complete backfill record %s: %w", key, err)
	}
	return nil
}
